"""Record a detected signal as an Alert: the evidence key, the cooldown claim, and the SMS outbox rows.

The delivery itself is alerts/delivery.py, queued once this transaction commits.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.composer import compose_alert_sms
from alerts.delivery import enqueue_delivery
from alerts.detected import DetectedSignal
from alerts.models import Alert, AlertDelivery, SignalCooldown
from prospects.models import Prospect


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
            transaction.on_commit(lambda: enqueue_delivery(alert.pk))
    return alert
