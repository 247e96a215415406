import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from tracking.replies.imap import mailbox_poll


class Command(ProductCommand):
    help = gettext_noop("Read the replies that arrived in the mailbox (IMAP_URL) now, as the one-minute schedule does.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args: Any, json: bool = False, **options: Any) -> None:
        report = mailbox_poll()
        if json:
            self.stdout.write(_dumps(report.as_dict()))
        if report.error:
            raise CommandError(report.error)
        if not json:
            counts = report.outcome
            self.stdout.write(
                _(
                    "%(mailbox)s: %(fetched)d new messages, %(stored)d replies from prospects kept, "
                    "%(others)d about nobody known."
                )
                % {
                    "mailbox": report.mailbox,
                    "fetched": report.fetched,
                    "stored": counts.stored,
                    "others": counts.unknown,
                }
            )


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
