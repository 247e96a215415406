"""Writes of the alerts app: record a signal (with its cooldown claim), deliver its SMS, record a call.

Delivery is at-most-once per (alert, recipient): each attempt first claims the delivery row with a
conditional UPDATE, and after an ambiguous failure (timeout, broken answer) the provider is asked
whether the tagged SMS already left before anything is sent again. When it cannot tell, the
delivery is marked failed rather than risking a second SMS; the admin and /healthz show it.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.composer import compose_alert_sms
from alerts.models import Alert, AlertDelivery, Call, CallOutcome, SignalCooldown
from alerts.sms import SmsError, SmsMessage, get_sms_backend
from prospects.models import Prospect

logger = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class DetectedSignal:
    prospect_id: int
    signal: str
    dedup_key: str
    occurred_at: datetime
    evidence: dict


def _claim_cooldown(*, prospect_id: int, signal: str, now: datetime) -> bool:
    """True for the one caller that may text now about (prospect, signal).

    One row per pair, taken by UPDATE … WHERE last_alerted_at is old: on PostgreSQL a concurrent
    claimer waits on the row lock and then re-checks the condition, so only one wins; SQLite
    serialises writers. No read-then-write in Python.
    """
    SignalCooldown.objects.get_or_create(prospect_id=prospect_id, signal=signal)
    cutoff = now - timedelta(hours=settings.ALERT_COOLDOWN_HOURS)
    return bool(
        SignalCooldown.objects.filter(prospect_id=prospect_id, signal=signal)
        .filter(Q(last_alerted_at__isnull=True) | Q(last_alerted_at__lt=cutoff))
        .update(last_alerted_at=now)
    )


def alert_record_signal(*, detected: DetectedSignal, now: datetime | None = None) -> Alert | None:
    """Record one detected signal as an Alert; claim the cooldown and queue its SMS when due.

    Returns None when this evidence was already recorded (by an earlier cycle or a parallel worker).
    """
    now = now or timezone.now()
    prospect = Prospect.objects.get(pk=detected.prospect_id)
    stale = now - detected.occurred_at > timedelta(minutes=settings.SIGNAL_MAX_AGE_MINUTES)
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    prospect=prospect,
                    signal=detected.signal,
                    dedup_key=detected.dedup_key[:300],
                    occurred_at=detected.occurred_at,
                    evidence=detected.evidence,
                    status=Alert.Status.QUEUED,
                )
        except IntegrityError:
            return None
        if stale:
            alert.status = Alert.Status.STALE
        elif prospect.status == Prospect.Status.DO_NOT_CONTACT:
            alert.status = Alert.Status.MUTED
        elif not _claim_cooldown(prospect_id=prospect.pk, signal=detected.signal, now=now):
            alert.status = Alert.Status.COOLDOWN
        else:
            alert.message = compose_alert_sms(
                signal=detected.signal,
                evidence=detected.evidence,
                name=prospect.name,
                company=prospect.company,
                phone=prospect.phone,
                pain_point=prospect.pain_point,
                alert_id=alert.pk,
            )
            recipients = list(dict.fromkeys(settings.ALERT_SMS_RECIPIENTS))
            AlertDelivery.objects.bulk_create([AlertDelivery(alert=alert, recipient=r) for r in recipients])
            if not recipients:
                alert.status = Alert.Status.FAILED
                alert.message += " [ALERT_SMS_RECIPIENTS is empty: nobody to text]"
        alert.save(update_fields=["status", "message"])
        if prospect.status in (Prospect.Status.NEW, Prospect.Status.CONTACTED):
            Prospect.objects.filter(pk=prospect.pk).update(status=Prospect.Status.HOT)
        if alert.status == Alert.Status.QUEUED:
            from alerts.tasks import enqueue_delivery

            transaction.on_commit(lambda: enqueue_delivery(alert.pk))
    return alert


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


def _finish(delivery: AlertDelivery, **fields) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(lease_until=None, updated_at=timezone.now(), **fields)


def delivery_send(*, delivery_id: int, backend=None) -> str:
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
    backend = None
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


# What a call's outcome says about the prospect's place in the pipeline.
OUTCOME_STATUS = {
    CallOutcome.REACHED: Prospect.Status.CALLED,
    CallOutcome.VOICEMAIL: Prospect.Status.CALLED,
    CallOutcome.MEETING_BOOKED: Prospect.Status.MEETING_BOOKED,
    CallOutcome.NOT_INTERESTED: Prospect.Status.LOST,
    CallOutcome.WRONG_PERSON: Prospect.Status.CALLED,
}


def call_record(*, prospect: Prospect, user, outcome: str, note: str = "") -> Call:
    """Record a call: who, when, what came of it. It acknowledges the prospect's open alerts and
    moves the prospect along the pipeline (never back from won/lost/do-not-contact)."""
    if outcome not in CallOutcome.values:
        raise ValueError(f"unknown call outcome {outcome!r}")
    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.create(prospect=prospect, called_by=user, outcome=outcome, note=note)
        Alert.objects.filter(prospect=prospect, acknowledged_at__isnull=True, occurred_at__lte=now).update(
            acknowledged_at=now, acknowledged_by=user, call_outcome=outcome, note=note
        )
        final = (Prospect.Status.WON, Prospect.Status.LOST, Prospect.Status.DO_NOT_CONTACT)
        if outcome == CallOutcome.MEETING_BOOKED or prospect.status not in final:
            Prospect.objects.filter(pk=prospect.pk).update(status=OUTCOME_STATUS[outcome])
    return call
