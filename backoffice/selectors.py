"""Reads for the back office: hot leads, a prospect's timeline and recent activity, the funnel,
unmatched hot visitors.

Every query here is bounded by an index: alerts by detected_at, events by (prospect, received_at),
the funnel by one EXISTS probe per prospect (the list is small; the events are not).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from alerts.evidence import evidence_sentence, page_display
from alerts.models import Alert, AlertDelivery, Call, CallOutcome, Signal
from core.display import cta_label
from prospects.models import Prospect
from tracking.models import CtaClick, EmailEvent, VisitEvent, Visitor
from tracking.tokens import email_links_for

HOT_WINDOW = timedelta(hours=48)


@dataclass
class HotLead:
    prospect: Prospect
    alerts: list[Alert]
    last_call: Call | None

    @property
    def latest(self) -> datetime:
        return self.alerts[0].occurred_at

    @property
    def to_call(self) -> bool:
        # A held alert waits for review first; a dismissed one was not a person's intent.
        waiting = (Alert.Status.HELD, Alert.Status.DISMISSED)
        return any(a.call_id is None and a.status not in waiting for a in self.alerts)

    @property
    def version(self) -> str:
        """Changes whenever what the card shows changes (new signal, SMS state, a call)."""
        parts = [f"{a.pk}:{a.status}:{a.call_id}" for a in self.alerts]
        for alert in self.alerts:
            parts += [f"{d.pk}:{d.status}" for d in alert.deliveries.all()]
        return "|".join(parts + [str(self.last_call.pk if self.last_call else "")])


def hot_leads(now: datetime | None = None) -> list[HotLead]:
    now = now or timezone.now()
    alerts = (
        Alert.objects.filter(occurred_at__gte=now - HOT_WINDOW)
        .select_related("prospect", "call__called_by")
        .prefetch_related(Prefetch("deliveries", queryset=AlertDelivery.objects.order_by("pk")))
        .order_by("-occurred_at")
    )
    leads: dict[int, HotLead] = {}
    for alert in alerts:
        lead = leads.setdefault(alert.prospect_id, HotLead(alert.prospect, [], None))
        lead.alerts.append(alert)
    calls = Call.objects.filter(prospect_id__in=leads).select_related("called_by").order_by("prospect_id", "-called_at")
    for call in calls:
        if leads[call.prospect_id].last_call is None:
            leads[call.prospect_id].last_call = call
    return sorted(leads.values(), key=lambda lead: lead.latest, reverse=True)


TIMELINE_KINDS = {
    "visit": pgettext_lazy("timeline entry", "Visit"),
    "cta": pgettext_lazy("timeline entry", "Click"),
    "email": pgettext_lazy("timeline entry", "Email"),
    "alert": pgettext_lazy("timeline entry", "Alert"),
    "call": pgettext_lazy("timeline entry", "Call"),
}


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # visit | cta | email | alert | call
    title: str
    detail: str = ""
    machine: bool = False

    @property
    def kind_label(self) -> str:
        return str(TIMELINE_KINDS.get(self.kind, self.kind))


def prospect_timeline(prospect: Prospect, *, limit: int = 200) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    page_views = (
        VisitEvent.objects.filter(prospect=prospect)
        .exclude(page_view_id="")
        .values("page_view_id", "page")
        .annotate(
            first=Min("received_at"),
            last=Max("received_at"),
            events=Count("pk"),
            bot=Count("pk", filter=Q(is_bot=True)),
        )
        .order_by("-first")[:limit]
    )
    for view in page_views:
        seconds = int((view["last"] - view["first"]).total_seconds())
        events = ngettext("%(count)d event", "%(count)d events", view["events"]) % {"count": view["events"]}
        entries.append(
            TimelineEntry(
                view["first"],
                "visit",
                _("%(seconds)d s on %(page)s") % {"seconds": seconds, "page": page_display(view["page"])},
                events,
                machine=bool(view["bot"]),
            )
        )
    for click in CtaClick.objects.filter(prospect=prospect).order_by("-received_at")[:limit]:
        title = evidence_sentence(Signal.CTA_CLICK, {"cta_id": click.cta_id})
        entries.append(TimelineEntry(click.received_at, "cta", title, page_display(click.page), machine=click.is_bot))
    for event in EmailEvent.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit]:
        detail = event.message_id + (f" · {event.machine_reason}" if event.machine_reason else "")
        entries.append(
            TimelineEntry(event.occurred_at, "email", event.get_event_display(), detail, bool(event.machine_reason))
        )
    for alert in Alert.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit]:
        entries.append(TimelineEntry(alert.occurred_at, "alert", alert.evidence_sentence, alert.get_status_display()))
    for call in Call.objects.filter(prospect=prospect).select_related("called_by").order_by("-called_at")[:limit]:
        who = call.called_by.get_username() if call.called_by else ""
        entries.append(
            TimelineEntry(call.called_at, "call", call.get_outcome_display(), f"{who} · {call.note}".strip(" ·"))
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int
    rate: float | None = None  # conversion from the previous step


@dataclass
class Funnel:
    start: date
    end: date
    steps: list[FunnelStep] = field(default_factory=list)


def funnel(start: date, end: date) -> Funnel:
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    prospects = Prospect.objects.all()

    def having(queryset: QuerySet[Any]) -> int:
        return prospects.filter(Exists(queryset.filter(prospect=OuterRef("pk")))).count()

    counts = [
        (
            "contacted",
            _("Contacted"),
            having(
                EmailEvent.objects.filter(event=EmailEvent.Kind.SENT, occurred_at__gte=since, occurred_at__lt=until)
            ),
        ),
        (
            "visited",
            _("Visited"),
            having(VisitEvent.objects.filter(received_at__gte=since, received_at__lt=until, is_bot=False)),
        ),
        ("signal", _("Signal"), having(Alert.objects.filter(occurred_at__gte=since, occurred_at__lt=until))),
        (
            "alert",
            _("SMS alert"),
            having(Alert.objects.filter(occurred_at__gte=since, occurred_at__lt=until, status=Alert.Status.SENT)),
        ),
        ("called", _("Called"), having(Call.objects.filter(called_at__gte=since, called_at__lt=until))),
        (
            "meeting",
            _("Meeting booked"),
            having(Call.objects.filter(called_at__gte=since, called_at__lt=until, outcome=CallOutcome.MEETING_BOOKED)),
        ),
    ]
    result = Funnel(start, end)
    previous = None
    for key, label, count in counts:
        rate = (count / previous) if previous else None
        result.steps.append(FunnelStep(key, label, count, rate))
        previous = count
    return result


@dataclass
class UnmatchedVisit:
    visitor_id: str
    kind: str
    at: datetime
    detail: str


def unmatched_hot_visitors(now: datetime | None = None, days: int = 7, limit: int = 100) -> list[UnmatchedVisit]:
    now = now or timezone.now()
    since = now - timedelta(days=days)
    found: list[UnmatchedVisit] = []
    views = (
        VisitEvent.objects.filter(prospect__isnull=True, is_bot=False, received_at__gte=since)
        .exclude(page_view_id="")
        .values("visitor_id", "page_view_id")
        .annotate(first=Min("received_at"), last=Max("received_at"))
    )
    for view in views:
        seconds = (view["last"] - view["first"]).total_seconds()
        if seconds >= settings.SIGNAL_DWELL_SECONDS:
            found.append(UnmatchedVisit(view["visitor_id"], "visit", view["last"], f"{int(seconds)} s"))
    clicks = CtaClick.objects.filter(
        prospect__isnull=True, is_bot=False, received_at__gte=since, cta_id__in=settings.SIGNAL_CTA_IDS
    ).values_list("visitor_id", "received_at", "cta_id")
    for visitor_id, at, cta in clicks:
        found.append(UnmatchedVisit(visitor_id, "cta", at, cta_label(cta)))
    found.sort(key=lambda v: v.at, reverse=True)
    return found[:limit]


def prospect_email_links(prospect: Prospect) -> dict[str, Any]:
    """The ak, open pixel and tracked link to put in the next email to this prospect."""
    message_id = f"next-{timezone.localdate():%Y%m%d}"
    links = email_links_for(prospect, message_id=message_id, url=settings.LANDING_PAGE_URL)
    return {"email_links": links, "email_links_message_id": message_id}


def prospect_recent_activity(prospect: Prospect, *, limit: int = 20) -> dict[str, Any]:
    return {
        **prospect_email_links(prospect),
        "recent_visits": VisitEvent.objects.filter(prospect=prospect).order_by("-received_at")[:limit],
        "recent_clicks": CtaClick.objects.filter(prospect=prospect).order_by("-received_at")[:limit],
        "recent_email_events": EmailEvent.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit],
        "recent_alerts": Alert.objects.filter(prospect=prospect)
        .select_related("call")
        .order_by("-detected_at")[:limit],
        "linked_visitors": Visitor.objects.filter(prospect=prospect).order_by("-matched_at")[:limit],
    }
