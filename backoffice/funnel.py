"""The funnel page: contacted -> visited -> signal -> SMS -> called -> meeting booked -> held over a period,
distinct prospects per step, by one EXISTS probe per prospect (the list is small; the events are not)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert, Call, CallOutcome
from prospects.models import Prospect
from tracking.models import EmailEvent, Meeting, VisitEvent


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int
    rate: float | None = None  # conversion from the previous step


@dataclass
class Funnel:
    start: date
    end: date
    steps: list[FunnelStep] = field(default_factory=list)


def funnel(start: date, end: date) -> Funnel:
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    prospects = Prospect.objects.all()

    def having(queryset: QuerySet[Any]) -> int:
        return prospects.filter(Exists(queryset.filter(prospect=OuterRef("pk")))).count()

    counts = [
        (
            "contacted",
            _("Contacted"),
            # Any email event says an email went out to them (a webhook may report "delivered" or an
            # open without a "sent" before it).
            having(EmailEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)),
        ),
        (
            "visited",
            _("Visited"),
            having(VisitEvent.objects.filter(received_at__gte=since, received_at__lt=until, is_bot=False)),
        ),
        ("signal", _("Signal"), having(Alert.objects.filter(occurred_at__gte=since, occurred_at__lt=until))),
        (
            "alert",
            _("SMS alert"),
            having(Alert.objects.filter(occurred_at__gte=since, occurred_at__lt=until, status=Alert.Status.SENT)),
        ),
        ("called", _("Called"), having(Call.objects.filter(called_at__gte=since, called_at__lt=until))),
        (
            "meeting",
            _("Meeting booked"),
            # Through the booking link (a booking tool's webhook) or on the phone (the call form, a reply "3").
            prospects.filter(
                Exists(Meeting.objects.filter(prospect=OuterRef("pk"), booked_at__gte=since, booked_at__lt=until))
                | Exists(
                    Call.objects.filter(
                        prospect=OuterRef("pk"),
                        called_at__gte=since,
                        called_at__lt=until,
                        outcome=CallOutcome.MEETING_BOOKED,
                    )
                )
            ).count(),
        ),
        (
            "held",
            _("Meeting held"),
            # The booking tool said it ended, or it was booked and is an hour past its start, not cancelled.
            having(
                Meeting.objects.filter(starts_at__gte=since, starts_at__lt=until).filter(
                    Q(status=Meeting.Status.HELD)
                    | Q(status=Meeting.Status.BOOKED, starts_at__lt=timezone.now() - timedelta(hours=1))
                )
            ),
        ),
    ]
    result = Funnel(start, end)
    previous = None
    for key, label, count in counts:
        rate = (count / previous) if previous else None
        result.steps.append(FunnelStep(key, label, count, rate))
        previous = count
    return result
