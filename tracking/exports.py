"""Mail-merge exports: one row per prospect with what a merge column needs
(export_email_links). The command and the back office's admin action both write through here."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TextIO

from django.db.models import QuerySet
from openpyxl import Workbook

from prospects.models import Prospect
from tracking.tokens import email_links_for

COLUMNS = ("email", "name", "company", "ak", "pixel_url", "link_url")
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is run as a formula by Excel and Google Sheets (CSV injection).
# Only the free-text columns can start so; the tokens, URLs and addresses are ours or validated.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FREE_TEXT = ("name", "company")


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
        }


def write_csv(rows: Iterable[dict[str, str]], stream: TextIO) -> int:
    writer = csv.DictWriter(stream, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: _defused(v) if k in _FREE_TEXT else v for k, v in row.items()})
        count += 1
    return count


def xlsx_bytes(rows: Iterable[dict[str, str]]) -> tuple[bytes, int]:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "email links"
    sheet.append(COLUMNS)
    count = 0
    for row in rows:
        sheet.append([row[column] for column in COLUMNS])
        count += 1
        for cell in sheet[sheet.max_row]:
            # openpyxl stores a string starting with "=" as a formula; a name is text, always.
            cell.data_type = "s"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue(), count


def render(rows: Iterable[dict[str, str]], file_format: str) -> tuple[bytes, int]:
    """The file's bytes and how many prospects it holds."""
    if file_format == "xlsx":
        return xlsx_bytes(rows)
    text = io.StringIO()
    count = write_csv(rows, text)
    return text.getvalue().encode("utf-8"), count


def _defused(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
