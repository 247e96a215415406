"""Reads for the back office: hot leads, a prospect's timeline and recent activity, the funnel,
unmatched hot visitors.

Every query here is bounded by an index: alerts by detected_at, events by (prospect, received_at),
the funnel by one EXISTS probe per prospect (the list is small; the events are not).
"""

import difflib
import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Min, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from alerts.evidence import evidence_sentence, page_display
from alerts.models import Alert, AlertDelivery, Call, Signal
from backoffice.models import DEFAULT_CALL_OPENERS, CallOpener
from core.display import cta_label
from prospects.domains import domain_of_url, email_domain, registrable_domain
from prospects.models import Prospect, parse_ip_ranges
from tracking.models import CtaClick, EmailEvent, Meeting, VisitEvent, Visitor, upcoming_meetings
from tracking.tokens import email_links_for

HOT_WINDOW = timedelta(hours=48)


def call_openers() -> dict[str, str]:
    """The first line to say for each signal: staff's wording, or the default when its row is gone."""
    openers = {str(signal): text for signal, text in DEFAULT_CALL_OPENERS.items()}
    openers.update(CallOpener.objects.values_list("signal", "text"))
    return openers


# Whether a lead is waiting for a call, has a meeting booked ahead (nothing to call about: the
# meeting is shown instead), waits for a review of its held alerts, or is done; the page lists them in
# this order.
TO_CALL, MEETING, TO_REVIEW, DONE = "to_call", "meeting", "to_review", "done"
STATE_ORDER = {TO_CALL: 0, MEETING: 1, TO_REVIEW: 2, DONE: 3}


@dataclass
class HotLead:
    prospect: Prospect
    alerts: list[Alert]  # newest first
    last_call: Call | None
    opener: str = ""
    meeting: Meeting | None = None  # the next booked meeting not yet past

    @property
    def latest(self) -> datetime:
        return self.alerts[0].occurred_at

    @property
    def open_alerts(self) -> list[Alert]:
        # A held alert waits for review first; a dismissed one was not a person's intent.
        waiting = (Alert.Status.HELD, Alert.Status.DISMISSED)
        return [a for a in self.alerts if a.call_id is None and a.status not in waiting]

    @property
    def to_call(self) -> bool:
        return bool(self.open_alerts) and self.meeting is None

    @property
    def state(self) -> str:
        if self.meeting is not None:
            return MEETING
        if self.to_call:
            return TO_CALL
        if any(a.call_id is None and a.status == Alert.Status.HELD for a in self.alerts):
            return TO_REVIEW
        return DONE

    @property
    def waiting_since(self) -> datetime | None:
        """When the oldest signal nobody has called about yet happened."""
        return min((a.occurred_at for a in self.open_alerts), default=None)

    @property
    def handled_from(self) -> datetime | None:
        """The oldest signal the last call handled: the call came this long after it."""
        if self.last_call is None:
            return None
        return min((a.occurred_at for a in self.alerts if a.call_id == self.last_call.pk), default=None)

    @property
    def opener_signal(self) -> str:
        """The signal the caller opens with: the newest one still to call about, else the newest."""
        return (self.open_alerts or self.alerts)[0].signal

    @property
    def version(self) -> str:
        """Changes whenever what the card shows changes (new signal, SMS state, a call, the opener)."""
        parts = [f"{a.pk}:{a.status}:{a.call_id}" for a in self.alerts]
        for alert in self.alerts:
            parts += [f"{d.pk}:{d.status}" for d in alert.deliveries.all()]
        opener = hashlib.sha1(self.opener.encode()).hexdigest()[:8]
        meeting = f"{self.meeting.pk}:{self.meeting.starts_at.isoformat()}" if self.meeting else ""
        return "|".join(parts + [str(self.last_call.pk if self.last_call else ""), opener, meeting])


def opener_for(prospect: Prospect) -> str:
    """The opener the hot-leads card shows for this prospect now (kept on the call it records)."""
    alerts = list(Alert.objects.filter(prospect=prospect).order_by("-occurred_at")[:20])
    if not alerts:
        return ""
    lead = HotLead(prospect, alerts, None)
    return call_openers().get(lead.opener_signal, "")


def hot_leads(now: datetime | None = None) -> list[HotLead]:
    """Prospects with a signal in the last 48 h: those still to call first, then those with a meeting
    booked ahead, then those whose held alerts wait for a review, then those called (or dismissed);
    newest signal first within each."""
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
    for meeting in upcoming_meetings(now).filter(prospect_id__in=leads).order_by("-starts_at"):
        leads[meeting.prospect_id].meeting = meeting  # the soonest one is written last
    openers = call_openers() if leads else {}
    for lead in leads.values():
        lead.opener = openers.get(lead.opener_signal, "")
    newest_first = sorted(leads.values(), key=lambda lead: lead.latest, reverse=True)
    return sorted(newest_first, key=lambda lead: STATE_ORDER[lead.state])  # stable: newest first within


TIMELINE_KINDS = {
    "visit": pgettext_lazy("timeline entry", "Visit"),
    "cta": pgettext_lazy("timeline entry", "Click"),
    "email": pgettext_lazy("timeline entry", "Email"),
    "alert": pgettext_lazy("timeline entry", "Alert"),
    "call": pgettext_lazy("timeline entry", "Call"),
    "token": pgettext_lazy("timeline entry", "Personal link"),
}


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # visit | cta | email | alert | call | token
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
        detail = event.message_id + (f" · {event.why_machine}" if event.machine_reason else "")
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
    entries += _retired_token_entries(prospect)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _retired_token_entries(prospect: Prospect) -> list[TimelineEntry]:
    """When the `ak` was replaced, and how many page views came with the old one since: they match
    nobody now, and the founder should know the old link still circulates."""
    entries = []
    for retired in prospect.retired_tokens.select_related("retired_by"):
        views = (
            VisitEvent.objects.filter(ak=retired.token, received_at__gte=retired.retired_at)
            .values("page_view_id")
            .distinct()
            .count()
        )
        detail = ngettext(
            "%(count)d page view with the old link since, left unmatched",
            "%(count)d page views with the old link since, left unmatched",
            views,
        ) % {"count": views}
        who = retired.retired_by.get_username() if retired.retired_by else ""
        title = _("Personal link token replaced: links sent before it now count as unmatched visits")
        entries.append(TimelineEntry(retired.retired_at, "token", title, f"{who} · {detail}".strip(" ·")))
    return entries


@dataclass
class PageVisit:
    page: str
    at: datetime
    seconds: int


@dataclass
class Candidate:
    """A prospect who may be behind an unmatched visitor, and why."""

    prospect: Prospect
    score: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class UnmatchedVisitor:
    """What helps a person decide who an unmatched hot visitor is."""

    visitor_id: str
    first_at: datetime
    last_at: datetime
    longest_seconds: int = 0
    pages: list[PageVisit] = field(default_factory=list)  # newest first
    clicks: list[tuple[datetime, str]] = field(default_factory=list)  # listed CTAs, newest first
    referrer_domains: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)  # "203.0.113.0/24"
    email: str = ""
    user_agent: str = ""
    candidates: list[Candidate] = field(default_factory=list)


def _network_label(address: str) -> str:
    return f"{address}/48" if ":" in address else f"{address}/24"


def _label(domain: str) -> str:
    """`acme-logistique.fr` -> `acme-logistique`: the part people recognise a company by."""
    return domain.split(".")[0]


def _our_domains() -> set[str]:
    # A referrer from the landing page itself (the visitor moved between its pages) says nothing.
    return {d for d in (domain_of_url(settings.PUBLIC_BASE_URL), domain_of_url(settings.LANDING_PAGE_URL)) if d}


def unmatched_hot_visitors(now: datetime | None = None, days: int = 7, limit: int = 50) -> list[UnmatchedVisitor]:
    """Visitors matched to nobody with a long visit or a listed CTA click in the last `days`, newest
    first: their pages and dwell, referrer domains, networks and times, and the prospects whose domain
    or network is closest (at most 3 each)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    human = {"prospect__isnull": True, "is_bot": False, "received_at__gte": since}
    last_hot: dict[str, datetime] = {}
    views = (
        VisitEvent.objects.filter(**human)
        .exclude(page_view_id="")
        .values("visitor_id", "page_view_id")
        .annotate(first=Min("received_at"), last=Max("received_at"))
    )
    for view in views:
        if (view["last"] - view["first"]).total_seconds() >= settings.SIGNAL_DWELL_SECONDS:
            last_hot[view["visitor_id"]] = max(view["last"], last_hot.get(view["visitor_id"], view["last"]))
    clicks = CtaClick.objects.filter(**human, cta_id__in=settings.SIGNAL_CTA_IDS).values_list(
        "visitor_id", "received_at", "cta_id"
    )
    listed_clicks = list(clicks)
    for visitor_id, at, _cta in listed_clicks:
        last_hot[visitor_id] = max(at, last_hot.get(visitor_id, at))
    ids = sorted(last_hot, key=lambda v: last_hot[v], reverse=True)[:limit]
    if not ids:
        return []
    found = {v: UnmatchedVisitor(v, first_at=last_hot[v], last_at=last_hot[v]) for v in ids}

    # Everything these visitors did in the window, page view by page view.
    page_views = (
        VisitEvent.objects.filter(**human, visitor_id__in=ids)
        .values("visitor_id", "page_view_id", "page")
        .annotate(first=Min("received_at"), last=Max("received_at"))
        .order_by("-first")
    )
    for view in page_views:
        visitor = found[view["visitor_id"]]
        seconds = int((view["last"] - view["first"]).total_seconds())
        visitor.pages.append(PageVisit(view["page"], view["first"], seconds))
        visitor.longest_seconds = max(visitor.longest_seconds, seconds)
        visitor.first_at = min(visitor.first_at, view["first"])
        visitor.last_at = max(visitor.last_at, view["last"])
    for visitor_id, at, cta in sorted(listed_clicks, key=lambda c: c[1], reverse=True):
        if visitor_id in found:
            found[visitor_id].clicks.append((at, cta_label(cta)))
            found[visitor_id].first_at = min(found[visitor_id].first_at, at)
    ours = _our_domains()
    for model in (VisitEvent, CtaClick):
        rows = (
            model.objects.filter(**human, visitor_id__in=ids)
            .values_list("visitor_id", "referrer", "client_network", "user_agent")
            .distinct()
        )
        for visitor_id, referrer, network, user_agent in rows:
            visitor = found[visitor_id]
            domain = domain_of_url(referrer) if referrer else None
            if domain and domain not in ours and domain not in visitor.referrer_domains:
                visitor.referrer_domains.append(domain)
            if network and _network_label(network) not in visitor.networks:
                visitor.networks.append(_network_label(network))
            visitor.user_agent = visitor.user_agent or user_agent
    for visitor_id, email in (
        Visitor.objects.filter(visitor_id__in=ids).exclude(email="").values_list("visitor_id", "email")
    ):
        found[visitor_id].email = email

    _add_candidates(list(found.values()), since=now - timedelta(days=30))
    return [found[v] for v in ids]


def _add_candidates(visitors: list[UnmatchedVisitor], *, since: datetime) -> None:
    """The prospects closest to each visitor: someone of theirs was seen on the same network (their
    email opened, their visits), the network is in their IP ranges, or a referrer or given email's
    domain is theirs or looks like theirs."""
    addresses = {n.split("/")[0] for v in visitors for n in v.networks}
    seen_on: dict[str, dict[int, tuple[int, int]]] = {}  # network -> prospect -> (email events, visits)
    if addresses:
        for opened, model in ((1, EmailEvent), (0, VisitEvent), (0, CtaClick)):
            rows = (
                model.objects.filter(client_network__in=addresses, prospect__isnull=False, received_at__gte=since)
                .values("client_network", "prospect_id")
                .annotate(n=Count("pk"))
            )
            for row in rows:
                per = seen_on.setdefault(_network_label(row["client_network"]), {})
                emails, visits = per.get(row["prospect_id"], (0, 0))
                per[row["prospect_id"]] = (emails + row["n"], visits) if opened else (emails, visits + row["n"])
    prospects = list(Prospect.objects.only("pk", "name", "company", "email", "company_domains", "ip_ranges"))
    by_pk = {p.pk: p for p in prospects}
    ranges = {}
    for prospect in prospects:
        try:
            ranges[prospect.pk] = parse_ip_ranges(prospect.ip_ranges)
        except ValidationError:  # a range saved before validation: it matches nothing, as in matching
            ranges[prospect.pk] = []
    for visitor in visitors:
        scores: dict[int, Candidate] = {}

        def add(pk: int, score: int, reason: str, scores: dict[int, Candidate] = scores) -> None:
            candidate = scores.setdefault(pk, Candidate(by_pk[pk]))
            candidate.score += score
            candidate.reasons.append(reason)

        for network in visitor.networks:
            for pk, (emails, visits) in seen_on.get(network, {}).items():
                if emails:
                    add(pk, 4, _("opened their email from %(network)s") % {"network": network})
                if visits:
                    add(pk, 3, _("their visits came from %(network)s") % {"network": network})
            address = ipaddress.ip_address(network.split("/")[0])
            for pk, networks in ranges.items():
                if any(address in r for r in networks):
                    add(pk, 3, _("%(network)s is in their IP ranges") % {"network": network})
        domains = list(visitor.referrer_domains)
        given = registrable_domain(email_domain(visitor.email)) if visitor.email else None
        if given and given not in domains:
            domains.append(given)
        for prospect in prospects:
            for theirs in prospect.domain_list:
                for domain in domains:
                    if domain == theirs:
                        add(prospect.pk, 3, _("%(domain)s is their domain") % {"domain": domain})
                    elif difflib.SequenceMatcher(None, _label(domain), _label(theirs)).ratio() >= 0.75:
                        add(
                            prospect.pk,
                            1,
                            _("%(domain)s looks like %(theirs)s") % {"domain": domain, "theirs": theirs},
                        )
        visitor.candidates = sorted(scores.values(), key=lambda c: (-c.score, str(c.prospect)))[:3]


def prospect_email_links(prospect: Prospect) -> dict[str, Any]:
    """The ak, open pixel and tracked link to put in the next email to this prospect."""
    message_id = f"next-{timezone.localdate():%Y%m%d}"
    links = email_links_for(prospect, message_id=message_id, url=settings.LANDING_PAGE_URL)
    rows = [
        (_("Personal link token (ak)"), links.ak, "ak"),
        (_("Open pixel"), links.pixel_url, "pixel"),
        (_("Tracked link"), links.link_url, "link"),
    ]
    return {"email_links": links, "email_links_message_id": message_id, "email_link_rows": rows}


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
