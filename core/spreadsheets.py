"""Text that stays text in every spreadsheet a CSV export is opened with (CSV injection, CWE-1236).

Excel, LibreOffice and Google Sheets run a cell starting with `=`, `+`, `-` or `@` as a formula (a tab
or a carriage return first is dropped, then the rest is run). OWASP's defence is a leading `'`. A French
Excel splits a comma-separated line on `;` (the list separator there), so a cell holding
"Dupont;=1+1" becomes two cells, the second a formula: every piece after a `,`, `;` or line break is
neutralised too, whatever separator the reader chooses. Quotes around a piece are looked through."""

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The start of the cell, or of a piece after a separator, when (behind any quotes) a formula begins.
_UNSAFE_PIECE = re.compile(r'(^|[,;\n])(?="*[=+\-@\t\r])')


def safe_cell(value: Any) -> Any:
    """`value` with a `'` before every piece a spreadsheet would run; numbers and None unchanged."""
    if not isinstance(value, str):
        return value
    return _UNSAFE_PIECE.sub(lambda match: match.group(1) + "'", value)


# CSV shapes: a French Excel opens a double-clicked CSV right only as UTF-8 with a byte-order mark
# ("é" otherwise reads "Ã©") and `;` between cells (its list separator; a `,` file lands in one column).
# "standard" is RFC 4180 (comma, no BOM): Google Sheets, LibreOffice, scripts, CRM imports.
CSV_DIALECTS = {"excel-fr": ";", "standard": ","}
DEFAULT_CSV_DIALECT = "excel-fr"


def csv_bytes(text: str, dialect: str = DEFAULT_CSV_DIALECT) -> bytes:
    """A CSV's text as the bytes of its dialect: UTF-8, with a BOM for Excel."""
    return (("\ufeff" if dialect == "excel-fr" else "") + text).encode("utf-8")


def write_safe_csv(
    stream: TextIO,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    dialect: str = "standard",
) -> int:
    """The header and `rows` as CSV, every text cell made safe; how many rows were written."""
    writer = csv.DictWriter(stream, fieldnames=columns, delimiter=CSV_DIALECTS[dialect])
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({column: safe_cell(value) for column, value in row.items()})
        count += 1
    return count


def safe_xlsx_bytes(title: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    """An .xlsx of one sheet (a header row, then one row per mapping) and how many rows it holds. Every
    string cell is stored as text: openpyxl would store one starting with "=" as a formula."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = title
    sheet.append(list(columns))
    count = 0
    for row in rows:
        sheet.append([row[column] for column in columns])
        count += 1
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue(), count
