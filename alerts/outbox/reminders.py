"""A lead nobody called (ALERT_REMIND_AFTER_MINUTES): one reminder SMS, never more.

Run every minute by the relay schedule. A lead is its prospect: the newest alert the founder was told
about that nobody acknowledged (no call recorded, no reply) gets the reminder once that long has passed
since the founder was told — its own SMS, or, for an alert quiet hours held, the morning digest that
listed it (the clock starts when the digest left, not at the night's detection). A prospect reminded in
the last day, a meeting booked ahead, or quiet hours (the digest speaks for them) send none. The outbox
claims the alert (alerts/outbox/delivery.py `reminder_deliveries_add`), so two workers never remind twice.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from alerts.outbox.delivery import reminder_deliveries_add
from alerts.outbox.models import Alert, AlertDelivery, SmsNotice
from alerts.outbox.notices import digest_alerts
from alerts.outbox.quiet import quiet_until
from alerts.signals.models import Signal
from prospects.models import Prospect
from tracking.models import silencing_meetings

# An alert told longer ago than this is history, not a lead to remind about.
REMIND_AT_MOST_AFTER = timedelta(hours=24)


def _told_in_a_digest(now: datetime, after: timedelta) -> list[tuple[Alert, datetime]]:
    """The alerts the morning digests listed, with when each digest first left (its first message
    sent), for the digests that left between a day and `after` ago."""
    told = (
        AlertDelivery.objects.filter(
            notice__kind=SmsNotice.Kind.DIGEST,
            status__in=[AlertDelivery.Status.SENT, AlertDelivery.Status.RECEIVED],
            sent_at__isnull=False,
        )
        .values("notice_id")
        .annotate(told_at=Min("sent_at"))
        .filter(told_at__lte=now - after, told_at__gte=now - REMIND_AT_MOST_AFTER)
    )
    leads = []
    for row in told:
        for alert in digest_alerts(SmsNotice.objects.get(pk=row["notice_id"])):
            if alert.call_id is None and alert.reminded_at is None and alert.signal != Signal.MEETING_BOOKED:
                leads.append((alert, row["told_at"]))
    return leads


def reminders_send(now: datetime | None = None) -> int:
    minutes = settings.ALERT_REMIND_AFTER_MINUTES
    if not minutes:
        return 0
    now = now or timezone.now()
    if quiet_until(now):
        return 0
    after = timedelta(minutes=minutes)
    texted = (
        Alert.objects.filter(
            status=Alert.Status.SENT,
            call__isnull=True,
            reminded_at__isnull=True,
            detected_at__lte=now - after,
            detected_at__gte=now - REMIND_AT_MOST_AFTER,
        )
        .exclude(signal=Signal.MEETING_BOOKED)
        # Said stop since the SMS (an unsubscribe): no reminder to call them.
        .exclude(prospect__status=Prospect.Status.DO_NOT_CONTACT)
        .order_by("prospect_id", "-detected_at")
    )
    leads = [(alert, alert.detected_at) for alert in texted] + _told_in_a_digest(now, after)
    reminded_lately = set(
        Alert.objects.filter(reminded_at__gte=now - REMIND_AT_MOST_AFTER).values_list("prospect_id", flat=True)
    )
    booked = set(silencing_meetings(now).values_list("prospect_id", flat=True))
    sent = 0
    # The newest told alert of each lead only.
    for alert, _told_at in sorted(leads, key=lambda lead: (lead[0].prospect_id, -lead[1].timestamp())):
        if alert.prospect_id in reminded_lately or alert.prospect_id in booked:
            continue
        reminded_lately.add(alert.prospect_id)
        sent += reminder_deliveries_add(alert, now)
    return sent
