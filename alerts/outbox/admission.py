"""Record a detected signal as an Alert and decide whether it texts now: the evidence key, the hold
for review, quiet hours, the cooldown and the hourly budget. The messages themselves are the
deliveries' (alerts/outbox/delivery.py), queued once this transaction commits.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.outbox.composer import compose_alert_sms
from alerts.outbox.delivery import alert_deliveries_add, notice_schedule
from alerts.outbox.models import Alert, HourlySmsBudget, SignalCooldown, SmsNotice
from alerts.outbox.notices import hour_of
from alerts.outbox.quiet import may_break_quiet, quiet_until
from alerts.signals.detected import TRACKED_SIGNALS, DetectedSignal, consent_lacking
from alerts.signals.models import Signal
from core.locks import lock_for_transaction
from prospects.models import Prospect
from prospects.services import prospects_set_status
from tracking.models import Identification, silencing_meetings

# A verified booking is the news the founder waits for: it texts whatever the cooldown and the hourly
# budget. One matched by the invitee's email alone is a claim like any other (anyone can type a
# prospect's address into a public booking page): cooldown, budget and hold apply.
UNTHROTTLED = {Signal.MEETING_BOOKED}


def _unthrottled(signal: str, verified: bool) -> bool:
    return verified and signal in UNTHROTTLED


def _meeting_ahead(prospect_id: int, now: datetime) -> bool:
    """The prospect booked a verified meeting within MEETING_SILENCE_MAX_DAYS that is not past yet: its
    other signals stay on the timeline and text nobody."""
    return silencing_meetings(now).filter(prospect_id=prospect_id).exists()


def _cooldown_take(*, prospect_id: int, signal: str, now: datetime, verified: bool) -> bool:
    """True for the one caller that may text now about (prospect, signal).

    One row per (prospect, signal, verified), taken by UPDATE … WHERE last_alerted_at is old: on
    PostgreSQL a concurrent claimer waits on the row lock and then re-checks the condition, so only one
    wins; SQLite serialises writers. No read-then-write in Python. A verified alert looks at the
    verified row only: unverified alerts before it never stand in its way. An unverified one also
    yields to a verified SMS within the cooldown (the founder already knows).
    """
    SignalCooldown.objects.get_or_create(prospect_id=prospect_id, signal=signal, verified=verified)
    cutoff = now - timedelta(hours=settings.ALERT_COOLDOWN_HOURS)
    rows = SignalCooldown.objects.filter(prospect_id=prospect_id, signal=signal)
    if not verified and rows.filter(verified=True, last_alerted_at__gte=cutoff).exists():
        return False
    return bool(
        rows.filter(verified=verified)
        .filter(Q(last_alerted_at__isnull=True) | Q(last_alerted_at__lt=cutoff))
        .update(last_alerted_at=now)
    )


# Claimed signals for several prospects from one network within this window look forged.
SUSPICIOUS_WINDOW = timedelta(hours=1)


def _hourly_budget_spend(now: datetime, *, verified: bool) -> bool:
    """True while this clock hour has single-lead SMS left: ALERT_SMS_MAX_PER_HOUR for verified alerts,
    ALERT_UNVERIFIED_MAX_PER_HOUR, counted apart, for unverified ones (forged claims never spend the
    verified alerts' budget). One row per hour, spent by a conditional UPDATE, so parallel workers
    never go over."""
    hour = hour_of(now)
    HourlySmsBudget.objects.get_or_create(hour=hour)
    if verified:
        spent = HourlySmsBudget.objects.filter(hour=hour, used__lt=settings.ALERT_SMS_MAX_PER_HOUR).update(
            used=F("used") + 1
        )
    else:
        spent = HourlySmsBudget.objects.filter(
            hour=hour, unverified_used__lt=settings.ALERT_UNVERIFIED_MAX_PER_HOUR
        ).update(unverified_used=F("unverified_used") + 1)
    return bool(spent)


def _is_suspicious(detected: DetectedSignal) -> bool:
    return bool(settings.ALERT_HOLD_SUSPICIOUS and detected.identification == Identification.UNVERIFIED)


def _looks_forged(*, detected: DetectedSignal, prospect_id: int, now: datetime) -> bool:
    """Claimed signals for two or more prospects from one client network within an hour (someone typing
    prospects' domains into the tracking API, rather than two readers), or for
    ALERT_HOLD_UNVERIFIED_PROSPECTS prospects within an hour from whatever networks (the same, spread
    over many networks; a booking typed with prospects' emails has no network at all). Called after
    this alert's INSERT and, on PostgreSQL, under an advisory lock taken before it: two workers
    recording such alerts at once cannot both miss each other."""
    recent = Alert.objects.filter(identification=Identification.UNVERIFIED, detected_at__gte=now - SUSPICIOUS_WINDOW)
    if detected.client_network and (
        recent.filter(client_network=detected.client_network).exclude(prospect_id=prospect_id).exists()
    ):
        return True
    limit = settings.ALERT_HOLD_UNVERIFIED_PROSPECTS  # 0: only the one-network check
    return bool(limit) and recent.values("prospect_id").distinct().count() >= limit


def _alert_sms_text(alert: Alert, prospect: Prospect) -> str:
    return compose_alert_sms(
        signal=alert.signal,
        evidence=alert.evidence,
        name=prospect.name,
        company=prospect.company,
        phone=prospect.phone,
        pain_point=prospect.pain_point,
        alert_id=alert.pk,
        unverified=alert.identification == Identification.UNVERIFIED,
        email=prospect.email,
        website=prospect.website,
    )


def alert_text_unless_throttled(
    *, alert: Alert, prospect: Prospect, now: datetime, throttled: bool, budget: bool
) -> None:
    """The sequence a recorded or released alert ends with, in its transaction: the cooldown (when
    `throttled`), then the hourly budget (when `budget`; past it, the alert waits for the summary),
    else the outbox rows; then the alert is saved and its prospect marked hot. The rows are handed to a
    worker when the transaction commits. A prospect who became do-not-contact meanwhile (an unsubscribe
    while the alert was held) is muted: never texted."""
    if prospect.status == Prospect.Status.DO_NOT_CONTACT:
        alert.status = Alert.Status.MUTED
        _save_and_mark_hot(alert, prospect, hot=False)
        return
    verified = alert.identification != Identification.UNVERIFIED
    if throttled and not _cooldown_take(prospect_id=prospect.pk, signal=alert.signal, now=now, verified=verified):
        alert.status = Alert.Status.COOLDOWN
    # The clock hour is the alert's own (detected_at), the one the summary lists: a cycle that started
    # before the hour and records after it would otherwise group the alert into a summary that omits it.
    elif throttled and budget and not _hourly_budget_spend(alert.detected_at, verified=verified):
        alert.status = Alert.Status.GROUPED
        notice_schedule(kind=SmsNotice.Kind.SUMMARY, now=alert.detected_at)
    else:
        alert_deliveries_add(alert)
    _save_and_mark_hot(alert, prospect)


def _save_and_mark_hot(alert: Alert, prospect: Prospect, *, hot: bool = True) -> None:
    alert.save(update_fields=["status", "message"])
    if hot:
        prospects_set_status(
            prospect_ids=[prospect.pk],
            status=Prospect.Status.HOT,
            only_from=(Prospect.Status.NEW, Prospect.Status.CONTACTED),
        )


def alert_record_signal(*, detected: DetectedSignal, now: datetime | None = None) -> Alert | None:
    """Record one detected signal as an Alert and decide its SMS, in this order: too old (stale), do
    not contact (muted), a verified meeting booked ahead (not texted), looks forged (held for review),
    quiet hours (in the digest, unless ALERT_QUIET_BREAKERS lists the signal), cooldown,
    over the hourly budget (grouped into the summary), else texted now. A verified booking itself skips
    the cooldown and the budget; verified and unverified alerts have a cooldown and a budget each.

    Returns None when this evidence was already recorded (by an earlier cycle or a parallel worker), or
    when it rests on data the prospect's consent does not allow (consent_lacking): nothing is recorded.
    """
    now = now or timezone.now()
    prospect = Prospect.objects.get(pk=detected.prospect_id)
    if prospect.status != Prospect.Status.DO_NOT_CONTACT and consent_lacking(detected, prospect):
        # Not even a muted alert: the alert itself would be built on what we may not use.
        return None
    stale = now - detected.occurred_at > timedelta(minutes=settings.SIGNAL_MAX_AGE_MINUTES)
    unthrottled = _unthrottled(detected.signal, detected.identification != Identification.UNVERIFIED)
    with transaction.atomic():
        if _is_suspicious(detected):
            lock_for_transaction("unverified-alerts")
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
        alert.message = _alert_sms_text(alert, prospect)
        if stale:
            alert.status = Alert.Status.STALE
        elif prospect.status == Prospect.Status.DO_NOT_CONTACT:
            alert.status = Alert.Status.MUTED
        elif not unthrottled and _meeting_ahead(prospect.pk, now):
            alert.status = Alert.Status.MEETING
        elif held:
            alert.status = Alert.Status.HELD
            notice_schedule(kind=SmsNotice.Kind.HELD, now=now)
        elif quiet_until(now) and not may_break_quiet(detected.signal):
            # Quiet hours: no SMS now, a line in the digest that leaves when they end (its rows are
            # written now, in this transaction: a worker dying in between loses nothing).
            alert.status = Alert.Status.QUIET
            notice_schedule(kind=SmsNotice.Kind.DIGEST, now=now)
        else:
            alert_text_unless_throttled(alert=alert, prospect=prospect, now=now, throttled=not unthrottled, budget=True)
            return alert
        # Recorded, texting nobody; a held alert does not make its prospect hot until released.
        _save_and_mark_hot(alert, prospect, hot=not held)
    return alert


# Alerts that have not texted anyone yet and would later: in the morning digest, the hourly summary, or
# held for review (a release would text it).
WAITING = (Alert.Status.QUIET, Alert.Status.GROUPED, Alert.Status.HELD)


def alerts_consent_withdraw(*, prospect_id: int) -> int:
    """The prospect refused tracking: its tracked signals still waiting to be told (digest, summary,
    review) are told nobody. Their data was collected under consent, but telling them after the refusal
    would be using it; the refusal takes effect at once. How many alerts that stopped."""
    waiting = Alert.objects.filter(prospect_id=prospect_id, signal__in=TRACKED_SIGNALS, status__in=WAITING)
    return waiting.update(status=Alert.Status.NO_CONSENT)
