"""The base of the product's management commands: their description in the product's one language."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext


class ProductCommand(BaseCommand):
    """`help` is marked with gettext_noop (a plain str, as BaseCommand types it) and translated here,
    when the parser is built, in LANGUAGE_CODE."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self.help:
            parser.description = gettext(self.help)
        return parser
