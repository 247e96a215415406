from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from core.commands import ProductCommand
from core.spreadsheets import CSV_DIALECTS, DEFAULT_CSV_DIALECT
from prospects.models import Prospect
from tracking.exports import FORMATS, email_link_rows, exportable_prospects, render
from tracking.tokens import destination_problem


class Command(ProductCommand):
    help = gettext_noop(
        "Write one row per prospect (email, name, company, ak, pixel_url, link_url) for a mail merge. "
        "Prospects marked 'do not contact' are left out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--message-id", required=True, help=_("the email's message id (1-200 characters)"))
        parser.add_argument("--url", help=_("destination of the tracked link (http or https)"))
        parser.add_argument("--format", choices=FORMATS, default="csv", help=_("csv (default) or xlsx"))
        parser.add_argument("--output", help=_("file to write (default: standard output; required for xlsx)"))
        parser.add_argument(
            "--dialect",
            choices=list(CSV_DIALECTS),
            default=DEFAULT_CSV_DIALECT,
            help=_(
                "CSV shape: excel-fr (default: UTF-8 with BOM, “;”, opens right in a French Excel) or standard (comma)"
            ),
        )

    def handle(
        self,
        *args: Any,
        message_id: str,
        url: str | None,
        format: str,
        output: str | None,
        dialect: str = DEFAULT_CSV_DIALECT,
        **options: Any,
    ) -> None:
        if not 1 <= len(message_id) <= 200:
            raise CommandError(_("--message-id must be 1 to 200 characters."))
        problem = destination_problem(url) if url is not None else None
        if problem:
            raise CommandError(_("--url refused: %(problem)s") % {"problem": problem})
        if format == "xlsx" and not output:
            raise CommandError(_("An xlsx file is binary: give --output FILE (for example --output links.xlsx)."))
        prospects = exportable_prospects()
        left_out = Prospect.objects.count() - prospects.count()
        if not prospects.exists():
            raise CommandError(_("No prospect to export. Import some first (import_prospects)."))
        content, count = render(email_link_rows(prospects, message_id=message_id, url=url), format, dialect)
        summary = ngettext("%(count)d prospect exported", "%(count)d prospects exported", count) % {"count": count}
        if left_out:
            summary += ngettext(
                "; %(count)d marked “do not contact” left out", "; %(count)d marked “do not contact” left out", left_out
            ) % {"count": left_out}
        if output is None:
            self.stdout.write(content.decode("utf-8-sig"), ending="")  # a terminal shows no BOM
            self.stderr.write(summary + ".")
            return
        try:
            Path(output).write_bytes(content)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s.") % {"path": output, "error": exc.strerror or exc}
            ) from None
        self.stdout.write(_("%(summary)s, to %(path)s.") % {"summary": summary, "path": output})
