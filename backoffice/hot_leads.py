"""The hot-leads page (and the admin index's count of leads to call): prospects with a signal in
the last 48 h, in the order a caller works through them, each with its opener. Bounded by the
alerts' detected_at index."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from alerts.outbox.models import Alert, AlertDelivery
from alerts.outcomes.callbacks import open_callbacks
from alerts.outcomes.models import Call
from backoffice.models import DEFAULT_CALL_OPENERS, CallOpener
from prospects.do_not_contact import DoNotContactReason, do_not_contact_reasons
from prospects.models import Prospect
from tracking.models import InboundReply, Meeting, ReplyKind, silencing_meetings

HOT_WINDOW = timedelta(hours=48)


def call_openers() -> dict[str, str]:
    """The first line to say for each signal: staff's wording, or the default when its row is gone."""
    openers = {str(signal): text for signal, text in DEFAULT_CALL_OPENERS.items()}
    openers.update(CallOpener.objects.values_list("signal", "text"))
    return openers


# Whether a lead is waiting for a call, has a meeting booked ahead (nothing to call about: the
# meeting is shown instead), waits for a review of its held alerts, is done, or said stop (do not
# contact: an unsubscribe, a spam complaint, or the status set by hand; the card says which); the page
# lists them in this order.
TO_CALL, MEETING, TO_REVIEW, DONE, DO_NOT_CONTACT = "to_call", "meeting", "to_review", "done", "do_not_contact"
STATE_ORDER = {TO_CALL: 0, MEETING: 1, TO_REVIEW: 2, DONE: 3, DO_NOT_CONTACT: 4}


@dataclass
class HotLead:
    prospect: Prospect
    alerts: list[Alert]  # newest first
    last_call: Call | None
    opener: str = ""
    meeting: Meeting | None = None  # the next verified meeting not yet past, within MEETING_SILENCE_MAX_DAYS
    # An out-of-office said when they are back: calling before then reaches nobody.
    back_on: date | None = None
    do_not_contact: DoNotContactReason | None = None  # why nobody may call them, when they said stop
    callback: Call | None = None  # the call whose call-back nobody has made yet
    now: datetime | None = None

    @property
    def callback_due(self) -> bool:
        return bool(
            self.callback and self.callback.callback_at and self.callback.callback_at <= (self.now or timezone.now())
        )

    @property
    def latest(self) -> datetime:
        """The newest reason to call: a signal, or a call-back whose time has come."""
        moments = [a.occurred_at for a in self.alerts[:1]]
        if self.callback_due and self.callback and self.callback.callback_at:
            moments.append(self.callback.callback_at)
        return max(moments)

    @property
    def open_alerts(self) -> list[Alert]:
        # A held alert waits for review first; a dismissed one was not a person's intent.
        waiting = (Alert.Status.HELD, Alert.Status.DISMISSED)
        return [a for a in self.alerts if a.call_id is None and a.status not in waiting]

    @property
    def to_call(self) -> bool:
        if self.do_not_contact is not None:
            return False
        return (bool(self.open_alerts) and self.meeting is None) or self.callback_due

    @property
    def state(self) -> str:
        if self.do_not_contact is not None:
            return DO_NOT_CONTACT
        if self.callback_due:  # the founder promised this call: before a meeting already booked
            return TO_CALL
        if self.meeting is not None:
            return MEETING
        if self.to_call:
            return TO_CALL
        if any(a.call_id is None and a.status == Alert.Status.HELD for a in self.alerts):
            return TO_REVIEW
        return DONE

    @property
    def waiting_since(self) -> datetime | None:
        """When the oldest signal nobody has called about yet happened (or the call-back fell due)."""
        moments = [a.occurred_at for a in self.open_alerts]
        if self.callback_due and self.callback and self.callback.callback_at:
            moments.append(self.callback.callback_at)
        return min(moments, default=None)

    @property
    def handled_from(self) -> datetime | None:
        """The oldest signal the last call handled: the call came this long after it."""
        if self.last_call is None:
            return None
        return min((a.occurred_at for a in self.alerts if a.call_id == self.last_call.pk), default=None)

    @property
    def opener_signal(self) -> str:
        """The signal the caller opens with: the newest one still to call about, else the newest."""
        alerts = self.open_alerts or self.alerts
        return alerts[0].signal if alerts else ""

    @property
    def version(self) -> str:
        """Changes whenever what the card shows changes (new signal, SMS state, a call, the opener)."""
        parts = [f"{a.pk}:{a.status}:{a.call_id}" for a in self.alerts]
        for alert in self.alerts:
            parts += [f"{d.pk}:{d.status}" for d in alert.deliveries.all()]
        opener = hashlib.sha1(self.opener.encode()).hexdigest()[:8]
        meeting = f"{self.meeting.pk}:{self.meeting.starts_at.isoformat()}" if self.meeting else ""
        stop = str(self.do_not_contact or "")
        callback = f"{self.callback.pk}:{self.callback_due}" if self.callback else ""
        away = str(self.back_on or "")
        parts += [str(self.last_call.pk if self.last_call else ""), opener, meeting, stop, callback, away]
        return "|".join(parts)


def opener_for(prospect: Prospect) -> str:
    """The opener the hot-leads card shows for this prospect now (kept on the call it records)."""
    alerts = list(Alert.objects.filter(prospect=prospect).order_by("-occurred_at")[:20])
    if not alerts:
        return ""
    lead = HotLead(prospect, alerts, None)
    return call_openers().get(lead.opener_signal, "")


def hot_leads(now: datetime | None = None) -> list[HotLead]:
    """Prospects with a signal in the last 48 h, or a call-back due: those still to call first, then
    those with a meeting booked ahead, then those whose held alerts wait for a review, then those called
    (or dismissed); newest signal first within each. A call-back set for later shows on its lead's card."""
    now = now or timezone.now()
    alerts = (
        Alert.objects.filter(occurred_at__gte=now - HOT_WINDOW)
        .select_related("prospect", "call__called_by")
        .prefetch_related(Prefetch("deliveries", queryset=AlertDelivery.objects.order_by("pk")))
        .order_by("-occurred_at")
    )
    leads: dict[int, HotLead] = {}
    for alert in alerts:
        lead = leads.setdefault(alert.prospect_id, HotLead(alert.prospect, [], None, now=now))
        lead.alerts.append(alert)
    for callback in open_callbacks().select_related("prospect", "called_by"):
        if callback.prospect_id in leads:
            leads[callback.prospect_id].callback = callback
        elif callback.callback_at and callback.callback_at <= now:
            leads[callback.prospect_id] = HotLead(callback.prospect, [], None, callback=callback, now=now)
    calls = Call.objects.filter(prospect_id__in=leads).select_related("called_by").order_by("prospect_id", "-called_at")
    for call in calls:
        if leads[call.prospect_id].last_call is None:
            leads[call.prospect_id].last_call = call
    for meeting in silencing_meetings(now).filter(prospect_id__in=leads).order_by("-starts_at"):
        leads[meeting.prospect_id].meeting = meeting  # the soonest one is written last
    reasons = do_not_contact_reasons([lead.prospect for lead in leads.values()])
    for prospect_id, reason in reasons.items():
        leads[prospect_id].do_not_contact = reason
    today = timezone.localdate(now)
    away = InboundReply.objects.filter(prospect_id__in=leads, kind=ReplyKind.AUTO, back_on__gt=today)
    for reply in away.order_by("received_at"):
        leads[reply.prospect_id].back_on = reply.back_on  # the latest auto-reply is written last
    openers = call_openers() if leads else {}
    for lead in leads.values():
        lead.opener = openers.get(lead.opener_signal, "")
    newest_first = sorted(leads.values(), key=lambda lead: lead.latest, reverse=True)
    return sorted(newest_first, key=lambda lead: STATE_ORDER[lead.state])  # stable: newest first within
