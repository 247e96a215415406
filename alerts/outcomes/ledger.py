"""The ledger: from signal to meeting. A read, never a write: it shows what 55 prospects can and cannot
prove, and re-tunes nothing (no threshold, cooldown or opener changes because of it).

- Each meeting is traced back to what preceded it within LEDGER_WINDOW_DAYS before it was booked: the
  prospect's latest signal (any but `meeting_booked`), that signal's first SMS sent, and the latest call.
  A meeting counts for that one signal (last touch), so a prospect who read twice and clicked once
  does not count three meetings.
- A call recorded "RDV pris" on the call form asks for the date: it makes a meeting like the booking
  tools' (tool "appel"), traced like them to the latest signal and to that call, so each of the
  tables counts it once (one meeting, one signal, one call), and it can be marked held, no-show or
  cancelled. A reply "3" to the SMS says no date: it still counts, for the signal it handled, and is
  never held. "Held": marked so (by hand or by the tool), or booked and now past.
- Call-backs ("rappeler jeudi 10:00"): how many were set, made (a later call), texted, and are late.
- Every rate is k / n with a 95 % Wilson interval; below LEDGER_MIN_N the page says "pas assez de
  données" rather than a percentage.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.outbox.models import Alert, AlertDelivery
from alerts.outcomes.models import Call, CallOutcome
from alerts.signals.models import Signal
from tracking.models import InboundReply, Meeting, ReplyKind, meetings_held

SENT = (AlertDelivery.Status.SENT, AlertDelivery.Status.RECEIVED)
# A call that reached someone: the "qualifying call" of the campaign goal.
REACHED = (CallOutcome.REACHED, CallOutcome.MEETING_BOOKED, CallOutcome.NOT_INTERESTED)
QUALIFIED = (CallOutcome.REACHED, CallOutcome.MEETING_BOOKED)
INTENT_SIGNALS = [s for s in Signal if s != Signal.MEETING_BOOKED]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n: honest at small n and at 0 or n successes, where
    the usual p ± z·√(p(1-p)/n) collapses to a zero-width interval. Ten lines, not a statistics package."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    k: int
    n: int

    @property
    def enough(self) -> bool:
        return self.n >= settings.LEDGER_MIN_N

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {"k": self.k, "n": self.n, "low": round(low, 3), "high": round(high, 3), "enough_data": self.enough}


@dataclass
class LedgerRow:
    """One signal type, or one call opener."""

    key: str
    label: str
    signals: int = 0
    sms_sent: Rate = Rate(0, 0)
    called: Rate = Rate(0, 0)
    median_sms_to_call_minutes: float | None = None
    reached: Rate = Rate(0, 0)
    meetings_booked: Rate = Rate(0, 0)
    meetings_held: Rate = Rate(0, 0)
    false_alarms: Rate = Rate(0, 0)

    def as_dict(self) -> dict[str, Any]:
        rates = ("sms_sent", "called", "reached", "meetings_booked", "meetings_held", "false_alarms")
        return {
            "key": self.key,
            "label": self.label,
            "signals": self.signals,
            "median_sms_to_call_minutes": self.median_sms_to_call_minutes,
            **{name: getattr(self, name).as_dict() for name in rates},
        }


@dataclass
class MeetingTrace:
    meeting: Meeting
    alert: Alert | None = None
    sms_at: datetime | None = None
    call: Call | None = None

    @property
    def held(self) -> bool:
        # Annotated by `ledger()` from tracking.models.meetings_held, the funnel's definition too.
        return bool(getattr(self.meeting, "is_held", False))

    def as_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting.pk,
            "prospect_id": self.meeting.prospect_id,
            "tool": self.meeting.tool,
            "starts_at": self.meeting.starts_at.isoformat(),
            "status": self.meeting.status,
            "held": self.held,
            "signal": self.alert.signal if self.alert else None,
            "signal_at": self.alert.occurred_at.isoformat() if self.alert else None,
            "sms_at": self.sms_at.isoformat() if self.sms_at else None,
            "call_at": self.call.called_at.isoformat() if self.call else None,
            "call_outcome": self.call.outcome if self.call else None,
        }


@dataclass
class Goal:
    count: int
    kind: str  # qualified_calls | meetings
    by: date | None
    done: int = 0

    @property
    def progress(self) -> float:
        return min(1.0, self.done / self.count) if self.count else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "kind": self.kind,
            "by": self.by.isoformat() if self.by else None,
            "done": self.done,
        }


@dataclass(frozen=True)
class ReplyRow:
    """The replies read, per kind: how many, and how many staff corrected by hand (the sorter's
    mistakes, counted against the kind it first chose)."""

    kind: str
    label: str
    count: int
    corrected: int

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "count": self.count, "corrected": self.corrected}


def reply_rows(since: datetime | None) -> list[ReplyRow]:
    replies = InboundReply.objects.all()
    if since:
        replies = replies.filter(received_at__gte=since)
    kinds = list(replies.values_list("kind", "sorted_kind"))
    return [
        ReplyRow(
            kind.value,
            str(kind.label),
            sum(1 for now_kind, _first in kinds if now_kind == kind),
            sum(1 for now_kind, first in kinds if first == kind and now_kind != first),
        )
        for kind in ReplyKind
    ]


@dataclass
class CallbackCounts:
    """Call-backs set on calls ("rappeler jeudi 10:00"), and what became of them."""

    set: int = 0
    made: int = 0  # a later call to the prospect was recorded
    texted: int = 0  # the founder was texted at its time
    late: int = 0  # due, not made

    def as_dict(self) -> dict[str, int]:
        return {"set": self.set, "made": self.made, "texted": self.texted, "late": self.late}


@dataclass
class Ledger:
    since: datetime | None
    by_signal: list[LedgerRow] = field(default_factory=list)
    by_opener: list[LedgerRow] = field(default_factory=list)
    meetings: list[MeetingTrace] = field(default_factory=list)
    goal: Goal | None = None
    total: LedgerRow | None = None
    replies: list[ReplyRow] = field(default_factory=list)
    callbacks: CallbackCounts = field(default_factory=CallbackCounts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "window_days": settings.LEDGER_WINDOW_DAYS,
            "min_n": settings.LEDGER_MIN_N,
            "total": self.total.as_dict() if self.total else None,
            "by_signal": [row.as_dict() for row in self.by_signal],
            "by_opener": [row.as_dict() for row in self.by_opener],
            "meetings": [trace.as_dict() for trace in self.meetings],
            "goal": self.goal.as_dict() if self.goal else None,
            "replies": [row.as_dict() for row in self.replies],
            "callbacks": self.callbacks.as_dict(),
        }


def campaign_start() -> datetime | None:
    """CAMPAIGN_START (a date, in TIME_ZONE), else the ledger counts everything."""
    start = settings.CAMPAIGN_START
    if not start:
        return None
    return timezone.make_aware(datetime.combine(start, datetime.min.time()))


def _first_sms(alert: Alert) -> datetime | None:
    """When an SMS first told the founder about this alert: its own, or the morning digest that
    listed it (quiet hours), whichever left first."""
    deliveries = list(alert.deliveries.all()) + (list(alert.digest.deliveries.all()) if alert.digest else [])
    times = [d.sent_at for d in deliveries if d.status in SENT and d.sent_at]
    return min(times, default=None)


def _median_minutes(values: list[timedelta]) -> float | None:
    positive = [v.total_seconds() / 60 for v in values if v >= timedelta(0)]
    return round(statistics.median(positive), 1) if positive else None


def _traces(meetings: list[Meeting], alerts: list[Alert], calls: list[Call]) -> list[MeetingTrace]:
    window = timedelta(days=settings.LEDGER_WINDOW_DAYS)
    alerts_of: dict[int, list[Alert]] = defaultdict(list)
    for alert in alerts:
        alerts_of[alert.prospect_id].append(alert)
    calls_of: dict[int, list[Call]] = defaultdict(list)
    booked_by: dict[int, Call] = {}
    for call in calls:
        calls_of[call.prospect_id].append(call)
        if call.meeting_id:
            booked_by[call.meeting_id] = call
    traces = []
    for meeting in meetings:
        start, end = meeting.booked_at - window, meeting.booked_at
        before = [a for a in alerts_of[meeting.prospect_id] if start <= a.occurred_at <= end]
        latest_alert = max(before, key=lambda a: a.occurred_at, default=None)
        called = [c for c in calls_of[meeting.prospect_id] if start <= c.called_at <= end]
        # A meeting booked on the phone is that call's, whatever else was recorded the same second.
        latest_call = booked_by.get(meeting.pk) or max(called, key=lambda c: c.called_at, default=None)
        sms = _first_sms(latest_alert) if latest_alert else None
        traces.append(MeetingTrace(meeting, latest_alert, sms, latest_call))
    return traces


def _row(key: str, label: str, alerts: list[Alert], booked: dict[int, bool | None], now: datetime) -> LedgerRow:
    """`booked`: alert id -> held (True/False) for the alerts a meeting is traced to, None when only a
    call said "RDV pris"."""
    texted = [a for a in alerts if _first_sms(a)]
    calls = [a for a in texted if a.call is not None and a.call.outcome != CallOutcome.FALSE_ALARM]
    reached = [a for a in calls if a.call is not None and a.call.outcome in REACHED]
    false_alarms = [a for a in texted if a.call is not None and a.call.outcome == CallOutcome.FALSE_ALARM]
    meetings = [a for a in texted if a.pk in booked]
    waits = [a.call.called_at - sms for a in calls if a.call is not None and (sms := _first_sms(a))]
    return LedgerRow(
        key=key,
        label=label,
        signals=len(alerts),
        sms_sent=Rate(len(texted), len(alerts)),
        called=Rate(len(calls), len(texted)),
        median_sms_to_call_minutes=_median_minutes(waits),
        reached=Rate(len(reached), len(calls)),
        meetings_booked=Rate(len(meetings), len(texted)),
        meetings_held=Rate(sum(1 for a in meetings if booked[a.pk]), len(meetings)),
        false_alarms=Rate(len(false_alarms), len(texted)),
    )


def _opener_row(opener: str, calls: list[Call], traced: dict[int, bool | None], waits: list[timedelta]) -> LedgerRow:
    label = str(_("SMS reply (no opener shown)")) if opener == SMS_REPLY_OPENER else opener or "—"
    real = [c for c in calls if c.outcome != CallOutcome.FALSE_ALARM]
    meetings = [c for c in real if c.pk in traced]
    return LedgerRow(
        key=opener,
        label=label,
        signals=len(calls),
        called=Rate(len(real), len(calls)),
        median_sms_to_call_minutes=_median_minutes(waits),
        reached=Rate(sum(1 for c in real if c.outcome in REACHED), len(real)),
        meetings_booked=Rate(len(meetings), len(real)),
        meetings_held=Rate(sum(1 for c in meetings if traced[c.pk]), len(meetings)),
        false_alarms=Rate(len(calls) - len(real), len(calls)),
    )


# A call recorded from a reply to the alert SMS (alerts/outcomes/replies.py) had no opener on screen: the SMS
# carries none (alerts/outbox/composer.py), and the opener lives on the hot-leads card, which the founder
# answering from the phone did not open. Crediting such a call with the card's opener would count it for
# words nobody read; leaving it blank would mix it with the calls from before openers were kept. So it
# is a row of its own, "réponse SMS": the SMS itself as the opener, which is what the founder acted on.
SMS_REPLY_OPENER = "sms_reply"


def opener_key(call: Call) -> str:
    """What the ledger groups a call by: the opener the call form showed, or SMS_REPLY_OPENER."""
    return SMS_REPLY_OPENER if call.via == Call.Via.SMS_REPLY else call.opener


def campaign_goal(calls: list[Call], meetings: list[Meeting]) -> Goal | None:
    if settings.CAMPAIGN_GOAL_COUNT <= 0:
        return None
    goal = Goal(settings.CAMPAIGN_GOAL_COUNT, settings.CAMPAIGN_GOAL_KIND, settings.CAMPAIGN_GOAL_DATE)
    if goal.kind == "meetings":
        prospects = {m.prospect_id for m in meetings if m.status != Meeting.Status.CANCELLED}
        prospects |= {c.prospect_id for c in calls if c.outcome == CallOutcome.MEETING_BOOKED}
        goal.done = len(prospects)
    else:
        goal.done = sum(1 for c in calls if c.outcome in QUALIFIED)
    return goal


def _callback_counts(calls: list[Call], now: datetime) -> CallbackCounts:
    counts = CallbackCounts()
    latest: dict[int, datetime] = {}
    for call in calls:
        latest[call.prospect_id] = max(latest.get(call.prospect_id, call.called_at), call.called_at)
    for call in calls:
        if call.callback_at is None:
            continue
        counts.set += 1
        made = latest[call.prospect_id] > call.called_at
        counts.made += made
        counts.texted += call.callback_notice_id is not None
        counts.late += not made and call.callback_at <= now
    return counts


def ledger(now: datetime | None = None) -> Ledger:
    now = now or timezone.now()
    since = campaign_start()
    alerts_qs = (
        Alert.objects.exclude(signal=Signal.MEETING_BOOKED)
        .select_related("call", "digest")
        .prefetch_related(
            Prefetch("deliveries", queryset=AlertDelivery.objects.filter(channel="sms")),
            Prefetch("digest__deliveries", queryset=AlertDelivery.objects.filter(channel="sms")),
        )
    )
    meetings_qs = (
        Meeting.objects.exclude(status=Meeting.Status.RESCHEDULED)
        .annotate(is_held=ExpressionWrapper(meetings_held(now), output_field=BooleanField()))
        .order_by("-booked_at")
    )
    calls_qs = Call.objects.all()
    if since:
        alerts_qs = alerts_qs.filter(occurred_at__gte=since)
        meetings_qs = meetings_qs.filter(booked_at__gte=since)
        calls_qs = calls_qs.filter(called_at__gte=since)
    meetings: list[Meeting] = list(meetings_qs)
    alerts, calls = list(alerts_qs), list(calls_qs)
    traces = _traces(meetings, alerts, calls)

    # Which alerts and calls a meeting is traced to (and whether it was held); a call "RDV pris" books too.
    booked_alerts: dict[int, bool | None] = {}
    booked_calls: dict[int, bool | None] = {}
    for trace in traces:
        held = trace.held
        if trace.alert is not None:
            booked_alerts[trace.alert.pk] = booked_alerts.get(trace.alert.pk) or held
        if trace.call is not None:
            booked_calls[trace.call.pk] = booked_calls.get(trace.call.pk) or held
    # "RDV pris" with no date (a reply "3"): no meeting row to trace, so the meeting counts for the
    # call and for the newest signal it handled — once, as a traced meeting would.
    undated = {c.pk for c in calls if c.outcome == CallOutcome.MEETING_BOOKED and c.meeting_id is None}
    handled: dict[int, Alert] = {}
    for alert in alerts:
        if alert.call_id in undated and (
            alert.call_id not in handled or alert.occurred_at > handled[alert.call_id].occurred_at
        ):
            handled[alert.call_id] = alert
    for alert in handled.values():
        booked_alerts.setdefault(alert.pk, False)
    for call_id in undated:
        booked_calls.setdefault(call_id, False)

    result = Ledger(
        since=since,
        meetings=traces,
        goal=campaign_goal(calls, meetings),
        callbacks=_callback_counts(calls, now),
        replies=reply_rows(since),
    )
    for signal in INTENT_SIGNALS:
        mine = [a for a in alerts if a.signal == signal]
        result.by_signal.append(_row(signal.value, str(signal.label), mine, booked_alerts, now))
    result.total = _row("all", "", alerts, booked_alerts, now)

    sms_of_call: dict[int, datetime] = {}
    for alert in alerts:
        sms = _first_sms(alert)
        if alert.call_id and sms and (alert.call_id not in sms_of_call or sms < sms_of_call[alert.call_id]):
            sms_of_call[alert.call_id] = sms
    by_opener: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_opener[opener_key(call)].append(call)
    for opener, group in sorted(by_opener.items(), key=lambda item: -len(item[1])):
        waits = [c.called_at - sms_of_call[c.pk] for c in group if c.pk in sms_of_call]
        result.by_opener.append(_opener_row(opener, group, booked_calls, waits))
    return result
