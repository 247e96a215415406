"""Mail-merge exports: one row per prospect with what a merge column needs
(export_email_links). The command and the back office's admin action both write through here."""

import io
from collections.abc import Iterable, Iterator
from typing import TextIO

from django.db.models import QuerySet

from core.spreadsheets import DEFAULT_CSV_DIALECT, csv_bytes, safe_xlsx_bytes, write_safe_csv
from prospects.models import Prospect
from tracking.tokens import email_links_for

# consent_url and optout_url: the two links every email carries (templates/consent/notice_email.*).
COLUMNS = ("email", "name", "company", "ak", "pixel_url", "link_url", "consent_url", "optout_url")
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def exportable_prospects(queryset: QuerySet[Prospect] | None = None) -> QuerySet[Prospect]:
    """Everyone but those marked "do not contact": a mail merge must not reach them by mistake."""
    queryset = Prospect.objects.all() if queryset is None else queryset
    return queryset.exclude(status=Prospect.Status.DO_NOT_CONTACT)


def email_link_rows(prospects: Iterable[Prospect], *, message_id: str, url: str | None) -> Iterator[dict[str, str]]:
    for prospect in prospects:
        links = email_links_for(prospect, message_id=message_id, url=url)
        yield {
            "email": prospect.email,
            "name": prospect.name,
            "company": prospect.company,
            "ak": links.ak,
            "pixel_url": links.pixel_url,
            "link_url": links.link_url or "",
            "consent_url": links.consent_url,
            "optout_url": links.optout_url,
        }


def write_csv(rows: Iterable[dict[str, str]], stream: TextIO, dialect: str = DEFAULT_CSV_DIALECT) -> int:
    # Every cell, emails included: "=1+1@x.example" is a valid address (core/spreadsheets.py).
    return write_safe_csv(stream, COLUMNS, rows, dialect=dialect)


def xlsx_bytes(rows: Iterable[dict[str, str]]) -> tuple[bytes, int]:
    return safe_xlsx_bytes("email links", COLUMNS, rows)


def render(rows: Iterable[dict[str, str]], file_format: str, dialect: str = DEFAULT_CSV_DIALECT) -> tuple[bytes, int]:
    """The file's bytes and how many prospects it holds. CSV: for a French Excel by default (UTF-8
    with BOM, `;`), or `dialect="standard"` (comma, no BOM)."""
    if file_format == "xlsx":
        return xlsx_bytes(rows)
    text = io.StringIO()
    count = write_csv(rows, text, dialect)
    return csv_bytes(text.getvalue(), dialect), count
