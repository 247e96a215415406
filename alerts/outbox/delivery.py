"""The outbox: every AlertDelivery is created, queued, claimed and sent here.

One row per message and recipient: an alert's SMS to each of ALERT_SMS_RECIPIENTS and its message to
each channel of ALERT_CHANNELS (`alert_deliveries_add`), the held notice and the hourly summary
(`notice_schedule`), and the lead sent to the channels when an SMS got no handset receipt
(`fallback_deliveries_add`). Rows are created in the caller's transaction and handed to a worker once
it commits; the one-minute relay schedule hands over whatever a lost task or a dead worker left.

At-most-once per row: each attempt first claims its row with a conditional UPDATE (`_claim`, the one
place a delivery is claimed), and after an ambiguous failure (timeout, broken answer) the provider is
asked whether the tagged SMS already left before anything is sent again.

Never lost: a temporary failure (OVH unreachable, 5xx, 429), or a "was it sent?" check that cannot
reach OVH, is retried with a growing backoff until SMS_GIVE_UP_AFTER_MINUTES after the row was
created. The first tries happen inside the task; later ones are handed over by the relay schedule, so
a worker never sleeps through a long outage. Only a permanent error, a provider that cannot tell
whether an ambiguous send left, or the give-up time fails a row; /healthz then answers 503 until
someone acknowledges the alert or resends it (alerts/outbox/actions.py).
"""

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from alerts.outbox.channels import channel_label, configured_channels, send_to_channel
from alerts.outbox.composer import compose_alert_rich, reminder_text
from alerts.outbox.errors import DeliveryError
from alerts.outbox.models import Alert, AlertDelivery, SmsNotice
from alerts.outbox.notices import hour_of, notice_text, notice_title
from alerts.outbox.quiet import quiet_until
from alerts.outbox.sms import BaseSmsBackend, SendResult, SmsError, SmsMessage, get_sms_backend

logger = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(minutes=2)
# Tries inside one delivery task, the first wait between two (× 3 each time) and the longest: a short
# outage is ridden out within the task; after that the one-minute relay schedule takes the row over.
MAX_ATTEMPTS_IN_TASK = 4
RETRY_BACKOFF_SECONDS = 2.0
RETRY_MAX_BACKOFF_SECONDS = 60.0
# Waits longer than this are left to the relay schedule rather than slept through in the worker.
LONGEST_SLEEP_IN_TASK = 20.0
TO_SEND = [AlertDelivery.Status.PENDING, AlertDelivery.Status.RETRY]
# The held notice waits this long after the first hold, to count the whole burst.
HELD_NOTICE_DELAY = timedelta(seconds=60)


# --- Creating rows -----------------------------------------------------------------------------


def _sms_recipients() -> list[str]:
    return list(dict.fromkeys(settings.ALERT_SMS_RECIPIENTS))


def _channel_rows(alert: Alert, purpose: str) -> list[AlertDelivery]:
    return [
        AlertDelivery(
            alert=alert, recipient=key, channel=AlertDelivery.Channel.APPRISE, label=channel_label(url), purpose=purpose
        )
        for key, url in configured_channels().items()
    ]


def alert_deliveries_add(alert: Alert) -> None:
    """The alert's rows, one SMS per recipient and one message per channel, handed to a worker once the
    caller's transaction commits. With nobody to alert, the alert is marked failed (the caller saves it)."""
    rows = [AlertDelivery(alert=alert, recipient=r, label=r) for r in _sms_recipients()]
    rows += _channel_rows(alert, AlertDelivery.Purpose.ALERT)
    AlertDelivery.objects.bulk_create(rows)
    if not rows:
        alert.status = Alert.Status.FAILED
        alert.message += " [ALERT_SMS_RECIPIENTS and ALERT_CHANNELS are empty: nobody to alert]"
        return
    alert_id = alert.pk
    transaction.on_commit(lambda: delivery_enqueue(alert_id))


def fallback_deliveries_add(alert: Alert) -> int:
    """An SMS of this alert was not received: the lead goes to every channel, once (unique per purpose)."""
    rows = _channel_rows(alert, AlertDelivery.Purpose.SMS_NOT_RECEIVED)
    if not rows:
        return 0
    with transaction.atomic():
        created = AlertDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        alert_id = alert.pk
        transaction.on_commit(lambda: delivery_enqueue(alert_id))
    return len(created)


def sms_sent_directly_record(*, number: str, text: str, provider_ids: list[str], now: datetime) -> None:
    """An SMS that left without the outbox (`send_test_sms` checks the configuration itself) is still
    the last SMS the phone got: kept as a sent notice, so that a reply to it is not taken for the
    answer to an earlier alert (alerts/outcomes/replies.py)."""
    notice, _created = SmsNotice.objects.get_or_create(
        kind=SmsNotice.Kind.TEST, period_start=now, defaults={"message": text[:480]}
    )
    AlertDelivery.objects.get_or_create(
        notice=notice,
        recipient=number,
        defaults={
            "label": number,
            "status": AlertDelivery.Status.SENT,
            "attempts": 1,
            "provider_ids": provider_ids,
            "created_at": now,
            "sent_at": now,
        },
    )


def notice_schedule(*, kind: str, now: datetime) -> SmsNotice:
    """The notice of this kind for the current hour (alerts/outbox/notices.py writes its text), created with
    its rows by the first caller: one notice per kind and hour whatever the number of workers. Its rows
    wait for their time (a minute after the first hold; the summary at the end of the hour), when the
    relay schedule hands them over."""
    if kind == SmsNotice.Kind.DIGEST:
        # Named by the end of the quiet period, when it leaves: one digest per period.
        period = quiet_until(now) or now
        send_at = period
    else:
        period = hour_of(now)
        send_at = now + HELD_NOTICE_DELAY if kind == SmsNotice.Kind.HELD else period + timedelta(hours=1)
    notice, created = SmsNotice.objects.get_or_create(kind=kind, period_start=period)
    if created:
        rows = [
            AlertDelivery(notice=notice, recipient=r, retry_at=send_at, created_at=send_at) for r in _sms_recipients()
        ]
        if kind == SmsNotice.Kind.DIGEST:  # the digest goes to the other channels too
            rows += [
                AlertDelivery(
                    notice=notice,
                    recipient=key,
                    channel=AlertDelivery.Channel.APPRISE,
                    label=channel_label(url),
                    retry_at=send_at,
                    created_at=send_at,
                )
                for key, url in configured_channels().items()
            ]
        AlertDelivery.objects.bulk_create(rows)
    return notice


def reminder_recipients() -> list[str]:
    """Reminders and call-backs go to ALERT_REMIND_RECIPIENTS, or else to the alerts' own recipients."""
    return list(dict.fromkeys(settings.ALERT_REMIND_RECIPIENTS)) or _sms_recipients()


def reminder_deliveries_add(alert: Alert, now: datetime) -> bool:
    """One reminder for a lead nobody acknowledged: claimed on the alert by a conditional UPDATE (the
    one worker that wins writes the rows, never two), sent to ALERT_REMIND_RECIPIENTS or else to the
    alert's own recipients."""
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, reminded_at__isnull=True, call__isnull=True).update(reminded_at=now):
            return False
        recipients = reminder_recipients()
        AlertDelivery.objects.bulk_create(
            [
                AlertDelivery(alert=alert, recipient=r, label=r, purpose=AlertDelivery.Purpose.REMINDER)
                for r in recipients
            ],
            ignore_conflicts=True,
        )
        alert_id = alert.pk
        transaction.on_commit(lambda: delivery_enqueue(alert_id))
    return bool(recipients)


def notice_deliveries_add(notice: SmsNotice, recipients: list[str]) -> None:
    """A notice's SMS, one per recipient, handed to a worker once the caller's transaction commits."""
    AlertDelivery.objects.bulk_create([AlertDelivery(notice=notice, recipient=r, label=r) for r in recipients])
    notice_id = notice.pk
    transaction.on_commit(lambda: notice_delivery_enqueue(notice_id))


def failed_deliveries_retry(alert: Alert) -> bool:
    """Give the alert's failed rows a new give-up window and hand them over; False when none failed.
    A row whose last try may have left keeps `needs_check`: the provider is asked by tag first."""
    now = timezone.now()
    retried = AlertDelivery.objects.filter(alert=alert, status=AlertDelivery.Status.FAILED).update(
        status=AlertDelivery.Status.RETRY, attempts=0, created_at=now, retry_at=None, updated_at=now
    )
    if retried:
        alert_id = alert.pk
        transaction.on_commit(lambda: delivery_enqueue(alert_id))
    return bool(retried)


# --- Claiming and sending ----------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        AlertDelivery.objects.filter(pk=delivery_id, status__in=TO_SEND)
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
        if delivery.purpose == AlertDelivery.Purpose.REMINDER:
            return reminder_text(delivery.alert)
        return delivery.alert.message
    assert delivery.notice is not None  # the table's check constraint: an alert or a notice
    return notice_text(delivery.notice)


def _send_to_channel(delivery: AlertDelivery) -> SendResult:
    if delivery.alert is None:  # a notice (the digest): its SMS text, under a title
        assert delivery.notice is not None
        send_to_channel(key=delivery.recipient, title=notice_title(delivery.notice), body=_body(delivery))
        return SendResult(provider_ids=[])
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
        if not _claim(delivery_id, now):
            return AlertDelivery.objects.get(pk=delivery_id).status  # someone else has it, not due, or done
        delivery = AlertDelivery.objects.select_related("alert__prospect", "notice").get(pk=delivery_id)
        try:
            result = _send_unless_already_sent(delivery, backend)
        except DeliveryError as exc:
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
    for delivery_id, channel in deliveries.filter(status__in=TO_SEND).values_list("pk", "channel"):
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


# --- Handing rows to a worker ---------------------------------------------------------------


def deliveries_needing_relay(now: datetime | None = None) -> list[tuple[int | None, int | None]]:
    """(alert id, notice id) of SMS waiting for a worker: a retry (or a notice) whose time has come, a
    worker that died mid-send (lease expired), or a queued delivery whose task was lost."""
    now = now or timezone.now()
    expired = AlertDelivery.objects.filter(status=AlertDelivery.Status.SENDING, lease_until__lt=now)
    # The SMS may have left before the crash: check with the provider before any re-send.
    expired.update(status=AlertDelivery.Status.RETRY, needs_check=True, lease_until=None, retry_at=now, updated_at=now)
    due = AlertDelivery.objects.filter(status__in=TO_SEND, retry_at__lte=now)
    lost = AlertDelivery.objects.filter(
        status__in=TO_SEND, retry_at__isnull=True, updated_at__lt=now - timedelta(minutes=1)
    )
    pairs = set(due.values_list("alert_id", "notice_id")) | set(lost.values_list("alert_id", "notice_id"))
    return sorted(pairs, key=lambda pair: (pair[0] or 0, pair[1] or 0))


def delivery_enqueue(alert_id: int) -> None:
    """Hand the alert's deliveries to a worker. Never fails the caller: the relay schedule hands
    over deliveries whose task was lost (deliveries_needing_relay)."""
    try:
        async_task(alert_deliver, alert_id=alert_id, task_name=f"deliver:{alert_id}", group="delivery")
    except Exception:
        logger.exception("could not enqueue delivery of alert %s; the relay schedule hands it over", alert_id)


def notice_delivery_enqueue(notice_id: int) -> None:
    try:
        async_task(notice_deliver, notice_id=notice_id, task_name=f"notice:{notice_id}", group="delivery")
    except Exception:
        logger.exception("could not enqueue notice %s; the relay schedule hands it over", notice_id)


def deliveries_left_behind_relay() -> int:
    pairs = deliveries_needing_relay()
    for alert_id, notice_id in pairs:
        if alert_id is not None:
            delivery_enqueue(alert_id)
        elif notice_id is not None:
            notice_delivery_enqueue(notice_id)
    return len(pairs)
