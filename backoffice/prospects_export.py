"""The list, out: one row per prospect with its status, last signal, calls, meetings and call-back,
for the founder's own spreadsheet or a CRM import. XLSX, or CSV for a French Excel (UTF-8 with BOM,
`;`) or comma-separated. The admin action on selected prospects and `manage.py export_prospects`
both write through here. A few queries for the whole list, not a few per prospect."""

import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from alerts.outbox.models import Alert
from alerts.outcomes.callbacks import open_callbacks
from alerts.outcomes.models import Call
from core.spreadsheets import DEFAULT_CSV_DIALECT, csv_bytes, safe_cell, safe_xlsx_bytes, write_safe_csv
from prospects.models import Prospect
from tracking.models import Meeting, upcoming_meetings

COLUMNS = (
    "email",
    "name",
    "company",
    "title",
    "phone",
    "status",
    "last_signal",
    "last_signal_at",
    "calls",
    "last_call_outcome",
    "last_call_at",
    "meetings",
    "next_meeting_at",
    "callback_at",
)
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _when(moment: datetime | None) -> str:
    """A time a spreadsheet sorts and a person reads: "2026-12-10 10:00", in TIME_ZONE."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def prospect_rows(prospects: QuerySet[Prospect]) -> Iterator[dict[str, Any]]:
    ids = list(prospects.values_list("pk", flat=True))
    last_alert: dict[int, Alert] = {}
    for signal in Alert.objects.filter(prospect_id__in=ids).order_by("prospect_id", "-occurred_at"):
        last_alert.setdefault(signal.prospect_id, signal)
    calls = dict(
        Call.objects.filter(prospect_id__in=ids)
        .values_list("prospect_id")
        .annotate(n=Count("pk"))
        .values_list("prospect_id", "n")
    )
    last_call: dict[int, Call] = {}
    for made in Call.objects.filter(prospect_id__in=ids).order_by("prospect_id", "-called_at"):
        last_call.setdefault(made.prospect_id, made)
    meetings = dict(
        Meeting.objects.filter(prospect_id__in=ids)
        .exclude(status=Meeting.Status.RESCHEDULED)
        .values_list("prospect_id")
        .annotate(n=Count("pk"))
        .values_list("prospect_id", "n")
    )
    next_meeting: dict[int, datetime] = {}
    for meeting in upcoming_meetings(timezone.now()).filter(prospect_id__in=ids).order_by("starts_at"):
        next_meeting.setdefault(meeting.prospect_id, meeting.starts_at)
    callbacks = {c.prospect_id: c.callback_at for c in open_callbacks().filter(prospect_id__in=ids)}
    for prospect in prospects.order_by("company", "name", "email"):
        alert: Alert | None = last_alert.get(prospect.pk)
        call: Call | None = last_call.get(prospect.pk)
        yield {
            "email": prospect.email,
            "name": prospect.name,
            "company": prospect.company,
            "title": prospect.title,
            "phone": prospect.phone,
            "status": str(prospect.get_status_display()),
            "last_signal": alert.evidence_sentence if alert else "",
            "last_signal_at": _when(alert.occurred_at if alert else None),
            "calls": calls.get(prospect.pk, 0),
            "last_call_outcome": str(call.get_outcome_display()) if call else "",
            "last_call_at": _when(call.called_at if call else None),
            "meetings": meetings.get(prospect.pk, 0),
            "next_meeting_at": _when(next_meeting.get(prospect.pk)),
            "callback_at": _when(callbacks.get(prospect.pk)),
        }


def _xlsx(rows: Iterable[dict[str, Any]]) -> tuple[bytes, int]:
    return safe_xlsx_bytes("prospects", COLUMNS, ({c: safe_cell(row[c]) for c in COLUMNS} for row in rows))


def prospects_file(
    prospects: QuerySet[Prospect], file_format: str, dialect: str = DEFAULT_CSV_DIALECT
) -> tuple[bytes, int]:
    """The file's bytes and how many prospects it holds."""
    rows = prospect_rows(prospects)
    if file_format == "xlsx":
        return _xlsx(rows)
    text = io.StringIO()
    count = write_safe_csv(text, COLUMNS, rows, dialect=dialect)
    return csv_bytes(text.getvalue(), dialect), count
