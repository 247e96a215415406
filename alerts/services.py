"""Record a detected signal as an Alert: the evidence key, the cooldown claim, and the SMS outbox rows.

The delivery itself is alerts/delivery.py, queued once this transaction commits.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.channels import channel_deliveries
from alerts.composer import compose_alert_sms
from alerts.delivery import enqueue_delivery
from alerts.detected import DetectedSignal
from alerts.models import Alert, AlertDelivery, HourlySmsBudget, Signal, SignalCooldown, SmsNotice
from alerts.notices import hour_of, notice_schedule
from core.locks import lock_for_transaction
from prospects.models import Prospect
from tracking.models import Identification, upcoming_meetings

# A booking is the news the founder waits for: it texts whatever the cooldown and the hourly budget.
UNTHROTTLED = {Signal.MEETING_BOOKED}


def _meeting_ahead(prospect_id: int, now: datetime) -> bool:
    """The prospect booked a meeting that is not past yet: its other signals stay on the timeline and
    text nobody (CONTRACT §3)."""
    return upcoming_meetings(now).filter(prospect_id=prospect_id).exists()


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


# Claimed signals for several prospects from one network within this window look forged.
SUSPICIOUS_WINDOW = timedelta(hours=1)


def _claim_hourly_budget(now: datetime) -> bool:
    """True while this clock hour has single-lead SMS left (ALERT_SMS_MAX_PER_HOUR): one row per hour,
    claimed by a conditional UPDATE, so parallel workers never go over."""
    hour = hour_of(now)
    HourlySmsBudget.objects.get_or_create(hour=hour)
    return bool(
        HourlySmsBudget.objects.filter(hour=hour, used__lt=settings.ALERT_SMS_MAX_PER_HOUR).update(used=F("used") + 1)
    )


def _is_suspicious(detected: DetectedSignal) -> bool:
    return bool(
        settings.ALERT_HOLD_SUSPICIOUS and detected.identification == Identification.CLAIMED and detected.client_network
    )


def _looks_forged(*, detected: DetectedSignal, prospect_id: int, now: datetime) -> bool:
    """Claimed signals for two or more prospects from one client network within an hour: someone
    typing prospects' domains into the tracking API, rather than two readers. Called after this
    alert's INSERT and, on PostgreSQL, under a per-network advisory lock taken before it: two workers
    recording the first two such alerts at once cannot both miss each other."""
    return (
        Alert.objects.filter(
            identification=Identification.CLAIMED,
            client_network=detected.client_network,
            detected_at__gte=now - SUSPICIOUS_WINDOW,
        )
        .exclude(prospect_id=prospect_id)
        .exists()
    )


def _compose(alert: Alert, prospect: Prospect) -> str:
    return compose_alert_sms(
        signal=alert.signal,
        evidence=alert.evidence,
        name=prospect.name,
        company=prospect.company,
        phone=prospect.phone,
        pain_point=prospect.pain_point,
        alert_id=alert.pk,
        claimed=alert.identification == Identification.CLAIMED,
    )


def _queue_sms(alert: Alert) -> None:
    """The outbox rows: one SMS per recipient, one message per channel of ALERT_CHANNELS."""
    recipients = list(dict.fromkeys(settings.ALERT_SMS_RECIPIENTS))
    rows = [AlertDelivery(alert=alert, recipient=r, label=r) for r in recipients]
    rows += channel_deliveries(alert=alert, purpose=AlertDelivery.Purpose.ALERT)
    AlertDelivery.objects.bulk_create(rows)
    if not rows:
        alert.status = Alert.Status.FAILED
        alert.message += " [ALERT_SMS_RECIPIENTS and ALERT_CHANNELS are empty: nobody to alert]"


def alert_record_signal(*, detected: DetectedSignal, now: datetime | None = None) -> Alert | None:
    """Record one detected signal as an Alert and decide its SMS, in this order: too old (stale), do
    not contact (muted), a meeting booked ahead (not texted), looks forged (held for review), cooldown,
    over the hourly budget (grouped into the summary), else texted now. A booking itself skips the
    cooldown and the budget.

    Returns None when this evidence was already recorded (by an earlier cycle or a parallel worker).
    """
    now = now or timezone.now()
    prospect = Prospect.objects.get(pk=detected.prospect_id)
    stale = now - detected.occurred_at > timedelta(minutes=settings.SIGNAL_MAX_AGE_MINUTES)
    with transaction.atomic():
        if _is_suspicious(detected):
            lock_for_transaction(f"claimed-network:{detected.client_network}")
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    prospect=prospect,
                    signal=detected.signal,
                    dedup_key=detected.dedup_key[:300],
                    occurred_at=detected.occurred_at,
                    evidence=detected.evidence,
                    identification=detected.identification,
                    client_network=detected.client_network,
                    status=Alert.Status.QUEUED,
                )
        except IntegrityError:
            return None
        held = (
            not stale
            and _is_suspicious(detected)
            and _looks_forged(detected=detected, prospect_id=prospect.pk, now=now)
        )
        alert.message = _compose(alert, prospect)
        if stale:
            alert.status = Alert.Status.STALE
        elif prospect.status == Prospect.Status.DO_NOT_CONTACT:
            alert.status = Alert.Status.MUTED
        elif detected.signal not in UNTHROTTLED and _meeting_ahead(prospect.pk, now):
            alert.status = Alert.Status.MEETING
        elif held:
            alert.status = Alert.Status.HELD
            notice_schedule(kind=SmsNotice.Kind.HELD, now=now)
        elif detected.signal in UNTHROTTLED:
            _queue_sms(alert)
        elif not _claim_cooldown(prospect_id=prospect.pk, signal=detected.signal, now=now):
            alert.status = Alert.Status.COOLDOWN
        elif not _claim_hourly_budget(now):
            alert.status = Alert.Status.GROUPED
            notice_schedule(kind=SmsNotice.Kind.SUMMARY, now=now)
        else:
            _queue_sms(alert)
        alert.save(update_fields=["status", "message"])
        if not held and prospect.status in (Prospect.Status.NEW, Prospect.Status.CONTACTED):
            Prospect.objects.filter(pk=prospect.pk).update(status=Prospect.Status.HOT)
        if alert.status == Alert.Status.QUEUED:
            transaction.on_commit(lambda: enqueue_delivery(alert.pk))
    return alert


def alert_release(*, alert: Alert) -> bool:
    """Staff reviewed a held alert and it is a real lead: text it now (cooldown still applies)."""
    now = timezone.now()
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, status=Alert.Status.HELD).update(status=Alert.Status.QUEUED):
            return False
        alert.refresh_from_db()
        if not _claim_cooldown(prospect_id=alert.prospect_id, signal=alert.signal, now=now):
            alert.status = Alert.Status.COOLDOWN
        else:
            _queue_sms(alert)
        alert.save(update_fields=["status", "message"])
        if alert.prospect.status in (Prospect.Status.NEW, Prospect.Status.CONTACTED):
            Prospect.objects.filter(pk=alert.prospect_id).update(status=Prospect.Status.HOT)
        if alert.status == Alert.Status.QUEUED:
            transaction.on_commit(lambda: enqueue_delivery(alert.pk))
    return True


def alert_dismiss(*, alert: Alert) -> bool:
    """Staff reviewed a held alert and it was not a person's intent: keep it, text nobody."""
    return bool(Alert.objects.filter(pk=alert.pk, status=Alert.Status.HELD).update(status=Alert.Status.DISMISSED))
