"""Writes to the prospect list: upsert one prospect, import a file of them."""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from prospects.models import Prospect

# Import keys -> model fields. `name` may also come as first_name + last_name; `domains` is an alias
# list of extra company domains; `pain` is kept for the old script's files.
FIELD_ALIASES = {
    "name": "name",
    "email": "email",
    "company": "company",
    "title": "title",
    "sector": "sector",
    "pain_point": "pain_point",
    "pain": "pain_point",
    "phone": "phone",
    "website": "website",
    "domains": "extra_domains",
    "call_script": "call_script",
}


class ImportFileError(Exception):
    """The file as a whole cannot be read (not JSON/CSV, wrong shape); nothing was imported."""


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        text = _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(errors)d skipped") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }
        return text + (_(" (dry run: nothing saved)") if self.dry_run else "")


def _row_to_fields(row: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, raw in row.items():
        if key is None:
            continue
        target = FIELD_ALIASES.get(str(key).strip().lower().replace(" ", "_").replace("-", "_"))
        if target is None or raw is None:
            continue
        if isinstance(raw, list):
            raw = ", ".join(str(item) for item in raw)
        if isinstance(raw, dict | bool):
            raise ValidationError(_("“%(key)s” must be text.") % {"key": key})
        value = str(raw).strip()
        if value:
            values[target] = value
    if "name" not in values:
        lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        full = " ".join(str(lowered.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
        if full:
            values["name"] = full
    return values


def prospect_upsert(*, data: dict[str, Any]) -> tuple[Prospect, str]:
    """Create or update the prospect with this email. Returns (prospect, "created"|"updated"|"unchanged").

    Non-empty values overwrite; empty or absent ones leave what is stored, so a partial file never
    wipes a phone number or a call script. Raises ValidationError with readable messages.
    """
    values = _row_to_fields(data)
    email = values.get("email", "").lower()
    if not email:
        raise ValidationError(_("The email is missing."))
    prospect = Prospect.objects.filter(email=email).first()
    outcome = "updated"
    if prospect is None:
        prospect, outcome = Prospect(email=email), "created"
    before = {name: getattr(prospect, name) for name in set(FIELD_ALIASES.values())}
    for name, value in values.items():
        setattr(prospect, name, value)
    prospect.full_clean(validate_unique=False, validate_constraints=False)
    after = {name: getattr(prospect, name) for name in set(FIELD_ALIASES.values())}
    if outcome == "updated" and before == after:
        return prospect, "unchanged"
    prospect.save()
    return prospect, outcome


def _json_rows(text: str) -> list[tuple[int, Any]]:
    """Rows of a JSON list (or {"prospects": [...]}) with the line each row starts on."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            _("The file is not valid JSON (line %(line)d: %(msg)s).") % {"line": exc.lineno, "msg": exc.msg}
        ) from exc
    if isinstance(document, dict) and isinstance(document.get("prospects"), list):
        items = document["prospects"]
        match = re.search(r'"prospects"\s*:\s*\[', text)
        start = match.end() if match else None
        if start is None:  # unusual spacing or escapes: number the rows instead of lines
            return list(enumerate(items, start=1))
    elif isinstance(document, list):
        items = document
        start = text.index("[") + 1
    else:
        raise ImportFileError(_('The JSON must be a list of prospects or {"prospects": [...]}.'))
    # Walk the array once more with raw_decode to learn on which line each element starts.
    lines: list[int] = []
    decoder = json.JSONDecoder()
    position = start
    while len(lines) < len(items):
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        lines.append(text.count("\n", 0, position) + 1)
        _obj, position = decoder.raw_decode(text, position)
    return list(zip(lines, items, strict=True))


def _csv_rows(text: str) -> list[tuple[int, Any]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames or not any((h or "").strip().lower() == "email" for h in reader.fieldnames):
        raise ImportFileError(_("The CSV file needs a header row with an “email” column."))
    rows = []
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        rows.append((reader.line_num, row))
    return rows


def read_prospect_rows(content: bytes | str, filename: str) -> list[tuple[int, Any]]:
    if isinstance(content, bytes):
        raw = content
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("cp1252")  # Excel's CSV on French Windows
    if filename.lower().endswith(".json") or content.lstrip().startswith(("[", "{")):
        return _json_rows(content)
    if filename.lower().endswith((".csv", ".txt")) or "," in content or ";" in content:
        return _csv_rows(content)
    raise ImportFileError(_("Unknown file type: give a .json or a .csv file."))


def prospects_import(*, content: bytes | str, filename: str, dry_run: bool = False) -> ImportReport:
    """Upsert every good row; report each bad one with its line and skip it."""
    rows = read_prospect_rows(content, filename)
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        for line, row in rows:
            if not isinstance(row, dict):
                report.errors.append(RowError(line, _("Each prospect must be an object with keys.")))
                continue
            try:
                with transaction.atomic():
                    _prospect, outcome = prospect_upsert(data=row)
            except ValidationError as exc:
                report.errors.append(RowError(line, _format_validation_error(exc)))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _format_validation_error(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def prospects_set_status(*, prospect_ids: list[int], status: str) -> int:
    return Prospect.objects.filter(pk__in=prospect_ids).update(status=status)
