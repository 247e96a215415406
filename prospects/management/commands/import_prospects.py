from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from prospects.services import ImportFileError, prospects_import


class Command(ProductCommand):
    help = gettext_noop(
        "Import prospects from a JSON, CSV or Excel (.xlsx) file (upsert by email). "
        "Bad rows are reported with their line and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=_("file.json, file.csv or file.xlsx"))
        parser.add_argument("--dry-run", action="store_true", help=_("check and report, save nothing"))

    def handle(self, *args: Any, path: str, dry_run: bool, **options: Any) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from exc
        try:
            report = prospects_import(content=content, filename=file.name, dry_run=dry_run)
        except ImportFileError as exc:
            # CommandError: one line on stderr and exit status 1, no traceback.
            raise CommandError(f"{file.name}: {exc}") from exc
        for error in report.errors:
            self.stderr.write(f"{file.name}, {error.describe()}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
