"""The funnel page's numbers: prospects per step over a period, each step a subset of the one before
(contacted → visited → signal → SMS alert → called → meeting booked → held), so no step exceeds the
one above it and each conversion is at most 100 %; and the same for the period just before, for the
trend. One EXISTS probe per step and prospect (the list is small; the events are not)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.outbox.models import Alert
from alerts.outcomes.models import Call, CallOutcome
from prospects.models import Prospect
from tracking.models import EmailEvent, Meeting, VisitEvent, meetings_held

# The dates a period may use: the funnel also reads the period just before, and a date a year past
# today or before 2000 is a typing slip, not a question about leads.
EARLIEST_DAY = date(2000, 1, 1)
DEFAULT_DAYS = 30


def funnel_period(start_text: str, end_text: str, *, today: date) -> tuple[date, date, str]:
    """(start, end, problem) from the page's `start` and `end` (YYYY-MM-DD, either may be empty): the
    last DEFAULT_DAYS days by default, and with a sentence saying why when a date is not one or is out
    of range (never a 500)."""
    latest = today + timedelta(days=366)
    default_end = today
    default = (default_end - timedelta(days=DEFAULT_DAYS - 1), default_end)
    days: list[date | None] = []
    for text in (start_text.strip(), end_text.strip()):
        if not text:
            days.append(None)
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return (
                *default,
                _("“%(text)s” is not a date (YYYY-MM-DD): showing the last %(days)d days.")
                % {"text": text[:40], "days": DEFAULT_DAYS},
            )
        if not EARLIEST_DAY <= day <= latest:
            return (
                *default,
                _("Dates run from %(first)s to %(last)s: showing the last %(days)d days.")
                % {"first": EARLIEST_DAY.isoformat(), "last": latest.isoformat(), "days": DEFAULT_DAYS},
            )
        days.append(day)
    end = days[1] or today
    start = days[0] or max(EARLIEST_DAY, end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        start, end = end, start
    return start, end, ""


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int
    rate: float | None = None  # share of the previous step's prospects who reached this one
    previous_rate: float | None = None  # the same over the period just before (the trend)

    @property
    def trend_points(self) -> int | None:
        """How many percentage points the conversion gained (or lost) since the period before."""
        if self.rate is None or self.previous_rate is None:
            return None
        return round(100 * (self.rate - self.previous_rate))


@dataclass
class Funnel:
    start: date
    end: date
    steps: list[FunnelStep] = field(default_factory=list)


def _steps(since: datetime, until: datetime) -> list[tuple[str, str, Any]]:
    """(key, label, condition on a prospect) per step, in order."""
    mine = {"prospect": OuterRef("pk")}
    within = {**mine, "occurred_at__gte": since, "occurred_at__lt": until}
    calls = Call.objects.filter(**mine, called_at__gte=since, called_at__lt=until)
    booked = Meeting.objects.filter(**mine, booked_at__gte=since, booked_at__lt=until)
    return [
        # Any email event says an email went out to them (a webhook may report "delivered" or an open
        # without a "sent" before it).
        ("contacted", _("Contacted"), Exists(EmailEvent.objects.filter(**within))),
        (
            "visited",
            _("Visited"),
            Exists(VisitEvent.objects.filter(**mine, received_at__gte=since, received_at__lt=until, is_bot=False)),
        ),
        ("signal", _("Signal"), Exists(Alert.objects.filter(**within))),
        ("alert", _("SMS alert"), Exists(Alert.objects.filter(**within, status=Alert.Status.SENT))),
        # A prospect who booked through the link reached the founder without a call: counted here too,
        # or the meeting step below could not hold them and stay a subset of this one.
        ("called", _("Called (or booked by themselves)"), Exists(calls) | Exists(booked)),
        (
            "meeting",
            _("Meeting booked"),
            # Through the booking link (a booking tool's webhook) or on the phone (the call form, a reply "3").
            Exists(booked) | Exists(calls.filter(outcome=CallOutcome.MEETING_BOOKED)),
        ),
        (
            "held",
            _("Meeting held"),
            # The ledger's definition (tracking.models.meetings_held): the tool said it was held, or it
            # was booked and its time is over, not cancelled.
            Exists(
                Meeting.objects.filter(**mine, starts_at__gte=since, starts_at__lt=until).filter(
                    meetings_held(timezone.now())
                )
            ),
        ),
    ]


def _nested_counts(start: date, end: date) -> list[tuple[str, str, int]]:
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    reached = Prospect.objects.all()
    counts = []
    for key, label, condition in _steps(since, until):
        # Each step keeps only the prospects of the step above who also did this: nested, never above it.
        reached = reached.filter(condition)
        counts.append((key, label, reached.count()))
    return counts


def _rates(counts: list[int]) -> list[float | None]:
    return [None] + [(count / above) if above else None for above, count in zip(counts, counts[1:], strict=False)]


def funnel(start: date, end: date) -> Funnel:
    length = end - start + timedelta(days=1)
    now = _nested_counts(start, end)
    before = _nested_counts(start - length, start - timedelta(days=1))
    rates, previous_rates = _rates([c for _k, _l, c in now]), _rates([c for _k, _l, c in before])
    result = Funnel(start, end)
    for (key, label, count), rate, previous_rate in zip(now, rates, previous_rates, strict=True):
        result.steps.append(FunnelStep(key, label, count, rate, previous_rate))
    return result
