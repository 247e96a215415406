"""Deliver an alert's SMS: one AlertDelivery row per recipient, the outbox.

At-most-once per (alert, recipient): each attempt first claims the delivery row with a conditional
UPDATE, and after an ambiguous failure (timeout, broken answer) the provider is asked whether the
tagged SMS already left before anything is sent again.

Never lost: a temporary failure (OVH unreachable, 5xx, 429), or a "was it sent?" check that cannot
reach OVH, is retried with a growing backoff until SMS_GIVE_UP_AFTER_MINUTES after the delivery was
created. The first tries happen inside the task; later ones are handed over by the relay schedule
(every minute), so a worker never sleeps through a long outage. Only a permanent error, a provider
that cannot tell whether an ambiguous send left, or the give-up time fails a delivery; /healthz then
answers 503 until someone acknowledges it or resends it from the back office.
"""

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from alerts.channels import send_to_channel
from alerts.composer import compose_alert_rich
from alerts.models import Alert, AlertDelivery
from alerts.notices import notice_text
from alerts.sms import BaseSmsBackend, SendResult, SmsError, SmsMessage, get_sms_backend

logger = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(minutes=2)
# Tries inside one delivery task, the first wait between two (× 3 each time) and the longest: a short
# outage is ridden out within the task; after that the one-minute relay schedule takes the row over.
MAX_ATTEMPTS_IN_TASK = 4
RETRY_BACKOFF_SECONDS = 2.0
RETRY_MAX_BACKOFF_SECONDS = 60.0
# Waits longer than this are left to the relay schedule rather than slept through in the worker.
LONGEST_SLEEP_IN_TASK = 20.0
WAITING = [AlertDelivery.Status.PENDING, AlertDelivery.Status.RETRY]


def _claim_delivery(delivery_id: int, now: datetime) -> bool:
    return bool(
        AlertDelivery.objects.filter(pk=delivery_id, status__in=WAITING)
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .update(
            status=AlertDelivery.Status.SENDING,
            attempts=F("attempts") + 1,
            lease_until=now + DELIVERY_LEASE,
            retry_at=None,
            updated_at=now,  # QuerySet.update() does not touch auto_now fields
        )
    )


def _finish(delivery: AlertDelivery, **fields: Any) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(lease_until=None, updated_at=timezone.now(), **fields)


def _backoff(attempts: int) -> float:
    return min(RETRY_BACKOFF_SECONDS * 3 ** max(attempts - 1, 0), RETRY_MAX_BACKOFF_SECONDS)


def _body(delivery: AlertDelivery) -> str:
    if delivery.alert is not None:
        return delivery.alert.message
    assert delivery.notice is not None  # the table's check constraint: an alert or a notice
    return notice_text(delivery.notice)


def _send_to_channel(delivery: AlertDelivery) -> SendResult:
    assert delivery.alert is not None  # channels carry alerts, not notices
    title, body = compose_alert_rich(
        alert=delivery.alert, sms_not_received=delivery.purpose == AlertDelivery.Purpose.SMS_NOT_RECEIVED
    )
    send_to_channel(key=delivery.recipient, title=title, body=body)
    return SendResult(provider_ids=[])


def _send_unless_already_sent(delivery: AlertDelivery, backend: BaseSmsBackend | None) -> SendResult:
    if delivery.channel == AlertDelivery.Channel.APPRISE:
        return _send_to_channel(delivery)
    backend = backend or get_sms_backend()  # a misconfigured backend raises a permanent SmsError
    message = SmsMessage(to=delivery.recipient, body=_body(delivery), tag=delivery.tag)
    if delivery.needs_check:
        # Raises a temporary SmsError when OVH cannot be reached: the check is retried, not skipped.
        already = backend.find_sent(message) if backend.can_check_sent else None
        if already:
            return SendResult(provider_ids=already)
        if already is None:
            raise SmsError(
                "an earlier attempt may have been sent and the provider cannot tell: "
                "not re-sent, to avoid a duplicate SMS",
                permanent=True,
            )
    return backend.send(message)


def delivery_send(*, delivery_id: int, backend: BaseSmsBackend | None = None) -> str:
    """Send one message to one recipient; returns the status it is left in (sent, retry, failed, …)."""
    while True:
        now = timezone.now()
        if not _claim_delivery(delivery_id, now):
            return AlertDelivery.objects.get(pk=delivery_id).status  # someone else has it, not due, or done
        delivery = AlertDelivery.objects.select_related("alert__prospect", "notice").get(pk=delivery_id)
        try:
            result = _send_unless_already_sent(delivery, backend)
        except SmsError as exc:
            needs_check = exc.ambiguous or delivery.needs_check
            give_up_at = delivery.created_at + timedelta(minutes=settings.SMS_GIVE_UP_AFTER_MINUTES)
            wait = _backoff(delivery.attempts)
            if exc.permanent or now + timedelta(seconds=wait) > give_up_at:
                reason = (
                    str(exc)
                    if exc.permanent
                    else _("gave up after %(minutes)d min: %(error)s")
                    % {"minutes": settings.SMS_GIVE_UP_AFTER_MINUTES, "error": exc}
                )
                _finish(delivery, status=AlertDelivery.Status.FAILED, last_error=reason[:2000], needs_check=needs_check)
                logger.error("SMS delivery %s failed for good: %s", delivery_id, reason)
                return AlertDelivery.Status.FAILED
            retry_at = now + timedelta(seconds=wait)
            _finish(
                delivery,
                status=AlertDelivery.Status.RETRY,
                last_error=str(exc)[:2000],
                needs_check=needs_check,
                retry_at=retry_at,
            )
            logger.warning("SMS delivery %s attempt %s failed: %s", delivery_id, delivery.attempts, exc)
            if wait > LONGEST_SLEEP_IN_TASK or delivery.attempts >= MAX_ATTEMPTS_IN_TASK:
                return AlertDelivery.Status.RETRY  # the relay schedule takes it from here
            time.sleep(wait)
            continue
        except Exception as exc:  # a bug or an unexpected library error: never leave the row SENDING
            _finish(
                delivery,
                status=AlertDelivery.Status.RETRY,
                last_error=f"unexpected: {exc!r}"[:2000],
                needs_check=True,
                retry_at=now + timedelta(seconds=_backoff(delivery.attempts)),
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
    elif statuses & {AlertDelivery.Status.SENT, AlertDelivery.Status.RECEIVED}:
        status = Alert.Status.SENT
    else:
        status = Alert.Status.FAILED
    Alert.objects.filter(pk=alert_id).exclude(status=status).update(status=status)
    return status


def _deliver_all(deliveries: "QuerySet[AlertDelivery]") -> None:
    backend: BaseSmsBackend | None = None
    for delivery_id, channel in deliveries.filter(status__in=WAITING).values_list("pk", "channel"):
        if channel == AlertDelivery.Channel.SMS and backend is None:
            try:
                backend = get_sms_backend()
            except SmsError:
                pass  # permanent: delivery_send records it on each SMS row
        delivery_send(delivery_id=delivery_id, backend=backend)


def alert_deliver(*, alert_id: int) -> str:
    _deliver_all(AlertDelivery.objects.filter(alert_id=alert_id))
    return alert_refresh_status(alert_id)


def notice_deliver(*, notice_id: int) -> None:
    _deliver_all(AlertDelivery.objects.filter(notice_id=notice_id))


def deliveries_needing_relay(now: datetime | None = None) -> list[tuple[int | None, int | None]]:
    """(alert id, notice id) of SMS waiting for a worker: a retry (or a notice) whose time has come, a
    worker that died mid-send (lease expired), or a queued delivery whose task was lost."""
    now = now or timezone.now()
    expired = AlertDelivery.objects.filter(status=AlertDelivery.Status.SENDING, lease_until__lt=now)
    # The SMS may have left before the crash: check with the provider before any re-send.
    expired.update(status=AlertDelivery.Status.RETRY, needs_check=True, lease_until=None, retry_at=now, updated_at=now)
    due = AlertDelivery.objects.filter(status__in=WAITING, retry_at__lte=now)
    lost = AlertDelivery.objects.filter(
        status__in=WAITING, retry_at__isnull=True, updated_at__lt=now - timedelta(minutes=1)
    )
    pairs = set(due.values_list("alert_id", "notice_id")) | set(lost.values_list("alert_id", "notice_id"))
    return sorted(pairs, key=lambda pair: (pair[0] or 0, pair[1] or 0))


def enqueue_delivery(alert_id: int) -> None:
    """Hand the alert's deliveries to a worker. Never fails the caller: the relay schedule hands
    over deliveries whose task was lost (deliveries_needing_relay)."""
    try:
        async_task(alert_deliver, alert_id=alert_id, task_name=f"deliver:{alert_id}", group="delivery")
    except Exception:
        logger.exception("could not enqueue delivery of alert %s; the relay schedule hands it over", alert_id)


def enqueue_notice_delivery(notice_id: int) -> None:
    try:
        async_task(notice_deliver, notice_id=notice_id, task_name=f"notice:{notice_id}", group="delivery")
    except Exception:
        logger.exception("could not enqueue notice %s; the relay schedule hands it over", notice_id)


def relay_left_behind_deliveries() -> int:
    pairs = deliveries_needing_relay()
    for alert_id, notice_id in pairs:
        if alert_id is not None:
            enqueue_delivery(alert_id)
        elif notice_id is not None:
            enqueue_notice_delivery(notice_id)
    return len(pairs)


def alert_resend(*, alert: Alert) -> bool:
    """Try a failed alert's SMS again (back office). Still never twice: a delivery whose last try may
    have left keeps `needs_check`, so the provider is asked by tag first. False when nothing failed."""
    now = timezone.now()
    resent = AlertDelivery.objects.filter(alert=alert, status=AlertDelivery.Status.FAILED).update(
        status=AlertDelivery.Status.RETRY, attempts=0, created_at=now, retry_at=None, updated_at=now
    )
    if not resent:
        return False
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.QUEUED, failure_acknowledged_at=None)
    enqueue_delivery(alert.pk)
    return True


def alert_failure_acknowledge(*, alert: Alert) -> bool:
    """Someone saw that this alert's SMS failed (back office): /healthz stops reporting it."""
    return bool(
        Alert.objects.filter(pk=alert.pk, status=Alert.Status.FAILED, failure_acknowledged_at__isnull=True).update(
            failure_acknowledged_at=timezone.now()
        )
    )


def unacknowledged_failures() -> "QuerySet[Alert]":
    """Alerts that reached nobody and that nobody has seen since: a call recorded for it counts."""
    return Alert.objects.filter(status=Alert.Status.FAILED, failure_acknowledged_at__isnull=True, call__isnull=True)
