"""Call-backs the founder sets when recording a call ("rappeler jeudi 10:00").

A call-back is the `callback_at` of a prospect's latest call: a later call closes it. At its time the
prospect is back at the top of the hot-leads page (backoffice/hot_leads.py) and the founder gets one SMS
with the number and the link to the prospect's page, through the outbox (alerts/delivery.py), whoever
the worker. Run every minute by the relay schedule. Quiet hours do not hold it: the founder chose the
time. One past its time by more than CALLBACK_TEXT_WITHIN (a worker down all day) is shown, not texted.
"""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from alerts.composer import compose_callback_sms
from alerts.delivery import callback_deliveries_add
from alerts.models import Call

CALLBACK_TEXT_WITHIN = timedelta(hours=12)


def open_callbacks() -> "QuerySet[Call]":
    """Calls whose call-back nobody has made yet: no later call to the same prospect."""
    later = Call.objects.filter(prospect=OuterRef("prospect"), called_at__gt=OuterRef("called_at"))
    return Call.objects.filter(callback_at__isnull=False).exclude(Exists(later))


def callbacks_send(now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = (
        open_callbacks()
        .filter(callback_notice__isnull=True, callback_at__lte=now, callback_at__gte=now - CALLBACK_TEXT_WITHIN)
        .select_related("prospect")
    )
    sent = 0
    for call in due:
        assert call.callback_at is not None  # the filter above
        text = compose_callback_sms(prospect=call.prospect, callback_at=call.callback_at, note=call.note)
        sent += callback_deliveries_add(call_id=call.pk, callback_at=call.callback_at, text=text)
    return sent
