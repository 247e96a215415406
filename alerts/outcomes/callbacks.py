"""Call-backs the founder sets when recording a call ("rappeler jeudi 10:00").

A call-back is the `callback_at` of a prospect's latest call: a later call closes it. At its time the
prospect is back at the top of the hot-leads page (backoffice/hot_leads.py) and the founder gets one SMS
with the number and the link to the prospect's page, through the outbox (alerts/outbox/delivery.py), whoever
the worker. Run every minute by the relay schedule. Quiet hours do not hold it: the founder chose the
time. One past its time by more than CALLBACK_TEXT_WITHIN (a worker down all day) is shown, not texted.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from alerts.outbox.composer import compose_callback_sms
from alerts.outbox.delivery import notice_deliveries_add, reminder_recipients
from alerts.outbox.models import SmsNotice
from alerts.outcomes.models import Call

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
        sent += callback_sms_add(call_id=call.pk, callback_at=call.callback_at, text=text)
    return sent


def callback_sms_add(*, call_id: int, callback_at: datetime, text: str) -> bool:
    """The call-back's SMS, one per recipient: claimed on the call by a conditional UPDATE (the one
    worker that wins writes the notice and its rows, never two). False when another worker had it."""
    with transaction.atomic():
        notice = SmsNotice.objects.create(kind=SmsNotice.Kind.CALLBACK, period_start=callback_at, message=text)
        if not Call.objects.filter(pk=call_id, callback_notice__isnull=True).update(callback_notice=notice):
            transaction.set_rollback(True)
            return False
        recipients = reminder_recipients()
        notice_deliveries_add(notice, recipients)
    return bool(recipients)
