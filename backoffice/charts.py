"""The dashboard's charts, drawn on the server as inline SVG (no script, no CDN): signals per day over
the campaign, stacked by signal type, and the ledger's headline from signal to meeting.

Only geometry is computed here; backoffice/templates/admin/backoffice/dashboard/charts.html draws it."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from alerts.outbox.models import Alert
from alerts.outcomes.ledger import ledger
from alerts.signals.models import Signal

# The campaign is drawn from CAMPAIGN_START, or from the first signal, at most this many days back.
LONGEST_CAMPAIGN_DAYS = 60
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 820, 190, 34, 24, 10
COLOURS = {
    Signal.CTA_CLICK: "#ba2121",
    Signal.PAGE_DWELL: "#417690",
    Signal.EMAIL_REOPEN: "#c7a200",
    Signal.MEETING_BOOKED: "#2e7d32",
    Signal.EMAIL_REPLY: "#7b1fa2",
}


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class DayChart:
    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)  # (x, "12/02")
    legend: list[tuple[str, str, int]] = field(default_factory=list)  # (colour, label, total)
    top: int = 0
    total: int = 0
    start: date | None = None
    end: date | None = None


def _campaign_days(today: date) -> tuple[date, date]:
    start = settings.CAMPAIGN_START
    if start is None:
        first = Alert.objects.aggregate(first=Min("occurred_at"))["first"]
        start = timezone.localdate(first) if first else today - timedelta(days=13)
    return max(start, today - timedelta(days=LONGEST_CAMPAIGN_DAYS - 1)), today


def signals_per_day(now: datetime | None = None) -> DayChart:
    today = timezone.localdate(now or timezone.now())
    start, end = _campaign_days(today)
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    rows = (
        Alert.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "signal")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple[date, str], int] = {(r["day"], r["signal"]): r["n"] for r in rows}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    chart = DayChart(start=start, end=end)
    per_day = {day: sum(counts.get((day, s), 0) for s in Signal) for day in days}
    chart.top = max([*per_day.values(), 1])
    chart.total = sum(per_day.values())
    slot = (WIDTH - LEFT) / len(days)
    scale = (HEIGHT - BOTTOM - TOP) / chart.top
    every = max(1, len(days) // 12)  # at most a dozen date labels
    for i, day in enumerate(days):
        x, base = LEFT + i * slot, float(HEIGHT - BOTTOM)
        for signal in Signal:
            n = counts.get((day, signal), 0)
            if not n:
                continue
            height = n * scale
            base -= height
            title = f"{formats.date_format(day, 'D j b')} · {signal.label} : {n}"
            chart.bars.append(
                Bar(
                    round(x + 1, 1),
                    round(base, 1),
                    round(max(slot - 2, 1), 1),
                    round(height, 1),
                    COLOURS[signal],
                    title,
                )
            )
        if i % every == 0:
            chart.labels.append((round(x + slot / 2, 1), formats.date_format(day, "d/m")))
    for signal in Signal:
        total = sum(counts.get((day, signal), 0) for day in days)
        chart.legend.append((COLOURS[signal], str(signal.label), total))
    return chart


@dataclass
class Step:
    label: str
    count: int
    width: int
    y: int


def ledger_headline(now: datetime | None = None) -> dict[str, Any]:
    """From signal to meeting, all signal types together, as bars; the campaign goal beside it."""
    result = ledger(now)
    total = result.total
    if total is None:
        return {"ledger_steps": [], "ledger_goal": result.goal}
    counts = [
        (_("Signals"), total.signals),
        (_("SMS sent"), total.sms_sent.k),
        (_("Called"), total.called.k),
        (_("Reached"), total.reached.k),
        (_("Meetings booked"), total.meetings_booked.k),
        (_("Meetings held"), total.meetings_held.k),
    ]
    top = max([n for _label, n in counts] + [1])
    steps = [Step(label, n, round(520 * n / top), 6 + i * 30) for i, (label, n) in enumerate(counts)]
    return {"ledger_steps": steps, "ledger_height": 12 + len(steps) * 30, "ledger_goal": result.goal}


def charts_context(request: HttpRequest) -> dict[str, Any]:
    return {"signals_chart": signals_per_day(), "chart_width": WIDTH, "chart_height": HEIGHT, **ledger_headline()}
