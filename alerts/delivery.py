"""Deliver an alert's SMS: one AlertDelivery row per recipient, the outbox.

At-most-once per (alert, recipient): each attempt first claims the delivery row with a conditional
UPDATE, and after an ambiguous failure (timeout, broken answer) the provider is asked whether the
tagged SMS already left before anything is sent again. When it cannot tell, the delivery is marked
failed rather than risking a second SMS; the admin and /healthz show it.
"""

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from alerts.models import Alert, AlertDelivery
from alerts.sms import BaseSmsBackend, SmsError, SmsMessage, get_sms_backend

logger = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(minutes=2)


def _claim_delivery(delivery_id: int, now: datetime) -> bool:
    return bool(
        AlertDelivery.objects.filter(
            pk=delivery_id, status__in=[AlertDelivery.Status.PENDING, AlertDelivery.Status.RETRY]
        )
        .filter(attempts__lt=settings.SMS_MAX_ATTEMPTS)
        .update(
            status=AlertDelivery.Status.SENDING,
            attempts=F("attempts") + 1,
            lease_until=now + DELIVERY_LEASE,
            updated_at=now,  # QuerySet.update() does not touch auto_now fields
        )
    )


def _finish(delivery: AlertDelivery, **fields: Any) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(lease_until=None, updated_at=timezone.now(), **fields)


def delivery_send(*, delivery_id: int, backend: BaseSmsBackend | None = None) -> str:
    """Send one SMS to one recipient, retrying temporary errors with backoff; returns the final status."""
    backend = backend or get_sms_backend()
    while True:
        if not _claim_delivery(delivery_id, timezone.now()):
            return AlertDelivery.objects.get(pk=delivery_id).status  # someone else has it, or it is done
        delivery = AlertDelivery.objects.select_related("alert").get(pk=delivery_id)
        message = SmsMessage(to=delivery.recipient, body=delivery.alert.message, tag=delivery.tag)
        try:
            if delivery.needs_check:
                already = backend.find_sent(message) if backend.can_check_sent else None
                if already:
                    _finish(
                        delivery,
                        status=AlertDelivery.Status.SENT,
                        provider_ids=already,
                        sent_at=timezone.now(),
                        needs_check=False,
                    )
                    return AlertDelivery.Status.SENT
                if already is None:
                    raise SmsError(
                        "an earlier attempt may have been sent and the provider cannot tell: "
                        "not re-sent, to avoid a duplicate SMS",
                        permanent=True,
                    )
            result = backend.send(message)
        except SmsError as exc:
            final = exc.permanent or delivery.attempts >= settings.SMS_MAX_ATTEMPTS
            status = AlertDelivery.Status.FAILED if final else AlertDelivery.Status.RETRY
            _finish(
                delivery, status=status, last_error=str(exc)[:2000], needs_check=exc.ambiguous or delivery.needs_check
            )
            logger.warning("SMS delivery %s attempt %s failed: %s", delivery_id, delivery.attempts, exc)
            if final:
                return status
            time.sleep(settings.SMS_RETRY_BACKOFF_SECONDS * 3 ** (delivery.attempts - 1))
            continue
        except Exception as exc:  # a bug or an unexpected library error: never leave the row SENDING
            _finish(
                delivery, status=AlertDelivery.Status.RETRY, last_error=f"unexpected: {exc!r}"[:2000], needs_check=True
            )
            raise
        _finish(
            delivery,
            status=AlertDelivery.Status.SENT,
            provider_ids=result.provider_ids,
            sent_at=timezone.now(),
            last_error="",
            needs_check=False,
        )
        return AlertDelivery.Status.SENT


def alert_refresh_status(alert_id: int) -> str:
    """An alert is sent when at least one recipient got it, failed when none can, queued meanwhile."""
    statuses = set(AlertDelivery.objects.filter(alert_id=alert_id).values_list("status", flat=True))
    if not statuses:
        return Alert.objects.get(pk=alert_id).status
    if statuses & {AlertDelivery.Status.PENDING, AlertDelivery.Status.RETRY, AlertDelivery.Status.SENDING}:
        status = Alert.Status.QUEUED
    elif AlertDelivery.Status.SENT in statuses:
        status = Alert.Status.SENT
    else:
        status = Alert.Status.FAILED
    Alert.objects.filter(pk=alert_id).update(status=status)
    return status


def alert_deliver(*, alert_id: int) -> str:
    backend: BaseSmsBackend | None = None
    for delivery_id in AlertDelivery.objects.filter(
        alert_id=alert_id, status__in=[AlertDelivery.Status.PENDING, AlertDelivery.Status.RETRY]
    ).values_list("pk", flat=True):
        try:
            backend = backend or get_sms_backend()
        except SmsError as exc:  # misconfigured backend: permanent for every recipient
            AlertDelivery.objects.filter(pk=delivery_id).update(status=AlertDelivery.Status.FAILED, last_error=str(exc))
            continue
        delivery_send(delivery_id=delivery_id, backend=backend)
    return alert_refresh_status(alert_id)


def deliveries_needing_relay(now: datetime | None = None) -> list[int]:
    """Alerts whose SMS were left behind: a worker died mid-send (lease expired), or a retry
    whose task was lost. The detection cycle hands them to delivery again."""
    now = now or timezone.now()
    expired = AlertDelivery.objects.filter(status=AlertDelivery.Status.SENDING, lease_until__lt=now)
    # The SMS may have left before the crash: check with the provider before any re-send. Dated in the
    # past so that the query below hands it over at once.
    expired.update(
        status=AlertDelivery.Status.RETRY, needs_check=True, lease_until=None, updated_at=now - timedelta(minutes=2)
    )
    forgotten = AlertDelivery.objects.filter(
        status__in=[AlertDelivery.Status.PENDING, AlertDelivery.Status.RETRY],
        updated_at__lt=now - timedelta(minutes=1),
        attempts__lt=settings.SMS_MAX_ATTEMPTS,
    )
    return sorted(set(forgotten.values_list("alert_id", flat=True)))


def enqueue_delivery(alert_id: int) -> None:
    """Hand the alert's deliveries to a worker. Never fails the caller: the next detection cycle
    relays deliveries whose task was lost (deliveries_needing_relay)."""
    try:
        async_task(alert_deliver, alert_id=alert_id, task_name=f"deliver:{alert_id}", group="delivery")
    except Exception:
        logger.exception("could not enqueue delivery of alert %s; the next cycle relays it", alert_id)


def relay_left_behind_deliveries() -> None:
    for alert_id in deliveries_needing_relay():
        enqueue_delivery(alert_id)
