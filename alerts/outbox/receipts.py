"""Did the SMS reach the phone? After sending, the provider is asked for each SMS's handset receipt a
few times (every minute, by the retry schedule). An SMS without a receipt after
SMS_RECEIPT_TIMEOUT_MINUTES sends the whole lead to the other channels (ALERT_CHANNELS), saying so.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alerts.outbox.delivery import fallback_deliveries_add
from alerts.outbox.models import AlertDelivery
from alerts.outbox.sms import SmsError, get_sms_backend

logger = logging.getLogger(__name__)

OPEN = [AlertDelivery.Receipt.NONE, AlertDelivery.Receipt.ASKED]
# SMS sent before this much over the timeout are not asked about: a first deploy must not send every
# past alert to the channels.
LOOKBACK_MARGIN = timedelta(minutes=10)


def _close(delivery: AlertDelivery, **fields: object) -> bool:
    """Conditional UPDATE: only the first worker to close a receipt acts on it."""
    return bool(AlertDelivery.objects.filter(pk=delivery.pk, receipt__in=OPEN).update(**fields))


def receipts_check(now: datetime | None = None) -> int:
    """Ask for the receipts still open; returns how many SMS were closed (received or not)."""
    now = now or timezone.now()
    backend = get_sms_backend()
    if not backend.can_check_receipt:
        return 0
    timeout = timedelta(minutes=settings.SMS_RECEIPT_TIMEOUT_MINUTES)
    asking = AlertDelivery.objects.filter(
        channel=AlertDelivery.Channel.SMS,
        purpose=AlertDelivery.Purpose.ALERT,
        alert__isnull=False,
        status=AlertDelivery.Status.SENT,
        receipt__in=OPEN,
        sent_at__gte=now - timeout - LOOKBACK_MARGIN,
    ).select_related("alert")
    closed = 0
    for delivery in asking:
        received: bool | None = None
        for provider_id in delivery.provider_ids:
            try:
                received = backend.handset_receipt(str(provider_id))
            except SmsError as exc:
                logger.warning("receipt of SMS %s: %s", delivery.pk, exc)
            if received is not None:
                break
        if received:
            closed += _close(
                delivery, receipt=AlertDelivery.Receipt.RECEIVED, status=AlertDelivery.Status.RECEIVED, updated_at=now
            )
        elif received is False or (delivery.sent_at and now - delivery.sent_at >= timeout):
            if _close(delivery, receipt=AlertDelivery.Receipt.NOT_RECEIVED, updated_at=now):
                closed += 1
                assert delivery.alert is not None  # only alerts' SMS are asked about
                if not fallback_deliveries_add(delivery.alert):
                    logger.warning("SMS %s not received and no ALERT_CHANNELS to fall back on", delivery.pk)
        else:
            AlertDelivery.objects.filter(pk=delivery.pk, receipt=AlertDelivery.Receipt.NONE).update(
                receipt=AlertDelivery.Receipt.ASKED
            )
    return closed
