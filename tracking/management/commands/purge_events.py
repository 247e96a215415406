from typing import Any

from django.apps import apps
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from tracking.retention import events_purge


class Command(ProductCommand):
    help = gettext_noop("Delete tracking events older than N days (retention / GDPR).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help=_("count, delete nothing"))

    def handle(self, *args: Any, older_than: int, dry_run: bool, **options: Any) -> None:
        if older_than < 1:
            raise CommandError(_("--older-than must be at least 1 day."))
        counts = events_purge(older_than_days=older_than, dry_run=dry_run)
        named = ", ".join(f"{n} {_model_name(name, n)}" for name, n in counts.items())
        if dry_run:
            self.stdout.write(_("Would delete: %(counts)s (dry run).") % {"counts": named})
        else:
            self.stdout.write(_("Deleted: %(counts)s.") % {"counts": named})


def _model_name(name: str, count: int) -> str:
    meta = apps.get_model("tracking", name)._meta
    return str(meta.verbose_name if count == 1 else meta.verbose_name_plural)
