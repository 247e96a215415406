"""A lead nobody called (ALERT_REMIND_AFTER_MINUTES): one reminder SMS, never more.

Run every minute by the relay schedule. A lead is its prospect: the newest texted alert nobody
acknowledged (no call recorded, no reply) gets the reminder once that long has passed since it was
detected; a prospect reminded in the last day, a meeting booked ahead, or quiet hours (the digest
speaks for them) send none. The outbox claims the alert (alerts/delivery.py `reminder_deliveries_add`),
so two workers never remind twice.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alerts.delivery import reminder_deliveries_add
from alerts.models import Alert, Signal
from alerts.quiet import quiet_until
from tracking.models import upcoming_meetings

# An alert older than this is history, not a lead to remind about.
REMIND_AT_MOST_AFTER = timedelta(hours=24)


def reminders_send(now: datetime | None = None) -> int:
    minutes = settings.ALERT_REMIND_AFTER_MINUTES
    if not minutes:
        return 0
    now = now or timezone.now()
    if quiet_until(now):
        return 0
    due = (
        Alert.objects.filter(
            status=Alert.Status.SENT,
            call__isnull=True,
            reminded_at__isnull=True,
            detected_at__lte=now - timedelta(minutes=minutes),
            detected_at__gte=now - REMIND_AT_MOST_AFTER,
        )
        .exclude(signal=Signal.MEETING_BOOKED)
        .order_by("prospect_id", "-detected_at")
    )
    reminded_lately = set(
        Alert.objects.filter(reminded_at__gte=now - REMIND_AT_MOST_AFTER).values_list("prospect_id", flat=True)
    )
    booked = set(upcoming_meetings(now).values_list("prospect_id", flat=True))
    sent = 0
    for alert in due:
        if alert.prospect_id in reminded_lately or alert.prospect_id in booked:
            continue
        reminded_lately.add(alert.prospect_id)  # the newest alert of the lead only
        sent += reminder_deliveries_add(alert, now)
    return sent
