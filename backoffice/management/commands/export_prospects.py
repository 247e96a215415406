from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from backoffice.prospects_export import FORMATS, prospects_file
from core.commands import ProductCommand
from core.spreadsheets import CSV_DIALECTS, DEFAULT_CSV_DIALECT
from prospects.models import Prospect


class Command(ProductCommand):
    help = gettext_noop(
        "Write every prospect with its status, last signal, calls, meetings and call-back, for a spreadsheet "
        "or a CRM import (xlsx, or csv for a French Excel)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="xlsx", help=_("xlsx (default) or csv"))
        parser.add_argument(
            "--dialect",
            choices=list(CSV_DIALECTS),
            default=DEFAULT_CSV_DIALECT,
            help=_("CSV shape: excel-fr (default: UTF-8 with BOM, “;”) or standard (comma)"),
        )
        parser.add_argument("--output", help=_("file to write (default: prospects.xlsx or prospects.csv)"))

    def handle(self, *args: Any, format: str, dialect: str, output: str | None, **options: Any) -> None:
        prospects = Prospect.objects.all()
        if not prospects.exists():
            raise CommandError(_("No prospect to export. Import some first (import_prospects)."))
        target = Path(output or f"prospects.{format}")
        content, count = prospects_file(prospects, format, dialect)
        try:
            target.write_bytes(content)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s.") % {"path": target, "error": exc.strerror or exc}
            ) from None
        summary = ngettext("%(count)d prospect exported", "%(count)d prospects exported", count) % {"count": count}
        self.stdout.write(_("%(summary)s, to %(path)s.") % {"summary": summary, "path": target})
