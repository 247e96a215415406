"""The unmatched-hot-visitors page: visitors matched to nobody with a long read or a listed CTA click,
what helps a person decide who they are, and the closest prospects. The domains and networks that
point at a prospect are tracking/matching.py's; only the suggestions a matcher must never act on
(someone of theirs seen on the same network, a domain that looks like theirs) are scored here."""

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from core.display import cta_label
from prospects.domains import domain_of_url, email_domain, registrable_domain
from prospects.models import Prospect
from tracking.matching import ProspectDirectory, VisitorHints, collect_hints
from tracking.models import CtaClick, EmailEvent, MatchMethod, VisitEvent, Visitor


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
    """The prospects closest to each visitor: a domain or an IP rule points at them (matching's own
    rules, ambiguous ones included: a person picks), someone of theirs was seen on the same network
    (their email opened, their visits), or a referrer's or given email's domain looks like theirs."""
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
    directory = ProspectDirectory.load()
    hints = collect_hints([v.visitor_id for v in visitors], since=since)
    prospects = list(Prospect.objects.only("pk", "name", "company", "email", "company_domains"))
    by_pk = {p.pk: p for p in prospects}
    for visitor in visitors:
        scores: dict[int, Candidate] = {}

        def add(pk: int, score: int, reason: str, scores: dict[int, Candidate] = scores) -> None:
            candidate = scores.setdefault(pk, Candidate(by_pk[pk]))
            if reason not in candidate.reasons:
                candidate.score += score
                candidate.reasons.append(reason)

        hint = hints.get(visitor.visitor_id, VisitorHints())
        if visitor.email:
            hint.emails.add(visitor.email.lower())
        for method, pks, evidence in directory.pointed_at(hint):
            for pk in pks:
                if method in (MatchMethod.COMPANY_DOMAIN, MatchMethod.REFERRER_DOMAIN):
                    add(pk, 3, _("%(domain)s is their domain") % {"domain": evidence["domain"]})
                elif method == MatchMethod.IP:
                    add(pk, 3, _("%(network)s is in their IP ranges") % {"network": evidence["network"]})
        for network in visitor.networks:
            for pk, (emails, visits) in seen_on.get(network, {}).items():
                if emails:
                    add(pk, 4, _("opened their email from %(network)s") % {"network": network})
                if visits:
                    add(pk, 3, _("their visits came from %(network)s") % {"network": network})
        domains = list(visitor.referrer_domains)
        given = registrable_domain(email_domain(visitor.email)) if visitor.email else None
        if given and given not in domains:
            domains.append(given)
        for prospect in prospects:
            for theirs in prospect.domain_list:
                for domain in domains:
                    if (
                        domain != theirs
                        and difflib.SequenceMatcher(None, _label(domain), _label(theirs)).ratio() >= 0.75
                    ):
                        add(
                            prospect.pk,
                            1,
                            _("%(domain)s looks like %(theirs)s") % {"domain": domain, "theirs": theirs},
                        )
        visitor.candidates = sorted(scores.values(), key=lambda c: (-c.score, str(c.prospect)))[:3]
