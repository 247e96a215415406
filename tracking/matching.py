"""Which prospect is behind an anonymous visitor.

Strongest first: personal link token (ak) -> exact email -> the email's company domain -> the
referrer's domain -> IP rules. A weaker method never replaces a stronger match; a method that points
at several prospects at once (two prospects share a domain) is ambiguous and matches nobody.

People at platform companies: a prospect whose own address is on a platform's domain (cto@github.com)
works there, and a colleague's address on that domain or its sub-domains (jane@eng.github.com) points
at that prospect, as does a referrer from the company's internal hosts (intranet.github.com,
wiki.corp.github.com: prospects.domains.platform_of_staff_host). The platform's public pages still
mean nobody: a visitor coming from github.com, gist.github.com or alice.medium.com matches no one,
since anyone can have a page there or read one.
"""

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from prospects.consent import LINK, consent_allows, consent_required_for
from prospects.domains import domain_of_url, employer_domain_of_email, platform_of_staff_host
from prospects.models import ConsentState, Prospect, parse_ip_ranges
from tracking.announcements import announce_event
from tracking.models import CtaClick, MatchMethod, VisitEvent, Visitor, match_strength, methods_weaker_than


@dataclass
class ProspectDirectory:
    """The whole list, indexed for matching. The list is small (tens to hundreds), so one query
    loads it and every lookup is a dict access."""

    by_ak: dict[str, int] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)
    by_domain: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Platforms' domains that prospects' own addresses are on (they work there): for addresses only.
    by_staff_domain: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    networks: list[tuple] = field(default_factory=list)

    @classmethod
    def load(cls) -> "ProspectDirectory":
        directory = cls()
        rows = Prospect.objects.values_list(
            "pk", "identity_token", "email", "company_domains", "ip_ranges", "tracking_consent"
        )
        for pk, token, email, domains, ip_ranges, consent in rows:
            # An `ak` identifies only a prospect whose consent allows the personal link (refused, or
            # not granted under TRACKING_CONSENT_FOR=…,link): the visit then matches as if it had none.
            # (A do-not-contact prospect stays matched: its signals are kept, muted, on the timeline.)
            if consent_allows(state=consent, kind=LINK):
                directory.by_ak[token] = pk
            directory.by_email[email.lower()] = pk
            for domain in domains.split():
                directory.by_domain[domain].add(pk)
            employer = employer_domain_of_email(email)
            if employer and employer not in domains.split():
                directory.by_staff_domain[employer].add(pk)
            try:
                directory.networks += [(network, pk) for network in parse_ip_ranges(ip_ranges)]
            except ValidationError:
                continue  # validated on save; a bad legacy value just matches nobody
        return directory

    def _may_know(self, host: str) -> bool:
        """Whether a domain of the directory could be this host's registrable domain (one of its dot
        suffixes): a few dict lookups, so that the hints of strangers (a flood of identify calls with
        made-up domains) skip the Public Suffix List, dearer per new domain than these lookups
        (docs/benchmarks.md, "Figures that used to live in code comments")."""
        labels = host.strip().lower().rstrip(".").split(".")
        return any(
            ".".join(labels[n:]) in self.by_domain or ".".join(labels[n:]) in self.by_staff_domain
            for n in range(len(labels) - 1)
        )

    def pointed_at(self, hints: "VisitorHints") -> Iterator[tuple[str, set[int], dict]]:
        """(method, prospect ids, evidence) for each hint that points at prospects, strongest method
        first; ids with more than one prospect are ambiguous (two prospects share a domain)."""
        for ak in sorted(hints.aks):
            if ak in self.by_ak:
                yield MatchMethod.AK, {self.by_ak[ak]}, {"ak": ak}
        for email in sorted(hints.emails):
            if email in self.by_email:
                yield MatchMethod.EMAIL, {self.by_email[email]}, {"email": email}
        for email in sorted(hints.emails):
            if not self._may_know(email.rpartition("@")[2]):
                continue
            domain = employer_domain_of_email(email)
            ids = (self.by_domain.get(domain, set()) | self.by_staff_domain.get(domain, set())) if domain else set()
            if ids:
                yield MatchMethod.COMPANY_DOMAIN, ids, {"email": email, "domain": domain}
        for referrer in sorted(hints.referrers):
            host = _host_of(referrer)
            if not self._may_know(host):
                continue
            domain = domain_of_url(referrer)
            ids = set(self.by_domain.get(domain, set())) if domain else set()
            # A platform's domain is in by_staff_domain only through its staff's own addresses, and
            # counts for a referrer only from the company's internal hosts, never its public ones.
            staff_platform = platform_of_staff_host(host) if domain in self.by_staff_domain else None
            if staff_platform:
                ids |= self.by_staff_domain[staff_platform]
            if ids:
                yield MatchMethod.REFERRER_DOMAIN, ids, {"referrer": referrer[:300], "domain": domain}
        for network in sorted(hints.networks):
            try:
                address = ipaddress.ip_address(network)
            except ValueError:
                continue
            # The stored address is the visitor's /24 (or /48); a rule matches when it overlaps it.
            visitor_net = ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 48}", strict=False)
            ids = {pk for net, pk in self.networks if net.version == visitor_net.version and net.overlaps(visitor_net)}
            if ids:
                yield MatchMethod.IP, ids, {"network": str(visitor_net)}

    def best_match(self, hints: "VisitorHints") -> tuple[int, str, dict] | None:
        """(prospect id, method, evidence) for the strongest unambiguous hint, or None."""
        for method, ids, evidence in self.pointed_at(hints):
            if len(ids) == 1:
                return next(iter(ids)), method, evidence
        return None


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


@dataclass
class VisitorHints:
    aks: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    referrers: set[str] = field(default_factory=set)
    networks: set[str] = field(default_factory=set)


def visitor_link(
    *,
    visitor: Visitor,
    prospect: Prospect | int,
    method: str,
    evidence: dict[str, Any],
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> bool:
    """Link a visitor to a prospect unless it already has an equal or stronger match.

    Attributes all the visitor's events (earlier ones included) and stamps matched_at, which makes
    the next detection cycle reconsider them. Returns True when the link changed.
    """
    prospect_id = prospect if isinstance(prospect, int) else prospect.pk
    strength = match_strength(method)
    now = timezone.now()
    with transaction.atomic():
        # Conditional update: two workers matching the same visitor cannot both downgrade it.
        weaker = Q(match_method__in=methods_weaker_than(strength)) | Q(prospect__isnull=True)
        if method == MatchMethod.MANUAL:
            weaker = Q()  # staff decide: a hand link replaces any automatic one
        changed = (
            Visitor.objects.filter(weaker, pk=visitor.pk)
            .exclude(Q(prospect_id=prospect_id) & ~Q(match_method__in=methods_weaker_than(strength)))
            .update(
                prospect_id=prospect_id,
                match_method=method,
                match_evidence=evidence,
                matched_at=now,
                matched_by=user,
            )
        )
        if not changed:
            return False
        visitor_events_attribute([visitor.visitor_id], prospect_id)
    visitor.refresh_from_db()
    return True


def visitor_link_by_hand(*, visitor: Visitor, prospect: Prospect, user: AbstractBaseUser | AnonymousUser) -> None:
    """Staff link a visitor to a prospect (admin or back office): it replaces any automatic match,
    attributes the visitor's events, and asks detection to reconsider them now."""
    visitor_link(
        visitor=visitor, prospect=prospect, method=MatchMethod.MANUAL, evidence={"by": user.get_username()}, user=user
    )
    announce_event("manual_link")


def _ak_prospects() -> QuerySet[Prospect]:
    """The prospects whose `ak` identifies them: not those who refused tracking; under the strictest
    policy (`link` in TRACKING_CONSENT_FOR) only those who consented to it (contract §2d)."""
    # A refusal ("Ne plus me suivre", an unsubscribe) stops identification by `ak` whatever the policy.
    prospects = Prospect.objects.exclude(tracking_consent=ConsentState.REFUSED)
    if LINK in consent_required_for():
        prospects = prospects.filter(tracking_consent=ConsentState.GRANTED).exclude(
            status=Prospect.Status.DO_NOT_CONTACT
        )
    return prospects


def _carrying_an_ak(events: QuerySet[Any]) -> QuerySet[Any]:
    return events.exclude(ak="").filter(ak__in=_ak_prospects().values("identity_token"))


def events_attribute_carried_aks(events: QuerySet[Any]) -> int:
    """An event that carries a prospect's own `ak` belongs to that prospect for that event, whatever its
    browser was matched to before (a shared computer: Camille's link first, then Chloé's own). The
    browser's match is left as it was: it still attributes the events that carry no `ak`."""
    owner = Subquery(_ak_prospects().filter(identity_token=OuterRef("ak")).values("pk")[:1])
    carried = _carrying_an_ak(events).filter(Q(prospect__isnull=True) | ~Q(prospect__identity_token=F("ak")))
    return carried.update(prospect_id=owner)


def visitor_events_attribute(visitor_ids: list[str], prospect_id: int) -> int:
    """Give these visitors' events, all of them, to the prospect (when they are linked to it), but for
    those carrying another prospect's `ak`, which are that prospect's. Their later events are given by
    new_events_attribute, cycle by cycle."""
    count = 0
    for model in (VisitEvent, CtaClick):
        events = model.objects.filter(visitor_id__in=visitor_ids)
        uncarried = events.exclude(pk__in=_carrying_an_ak(events).values("pk"))
        count += uncarried.exclude(prospect_id=prospect_id).update(prospect_id=prospect_id)
        count += events_attribute_carried_aks(events)
    return count


def new_events_attribute(visitor_ids: list[str], since: datetime | None = None) -> int:
    """Give these (matched) visitors' unattributed events, received since `since`, to each visitor's
    prospect, or to the prospect whose `ak` the event carries."""
    prospect_of_visitor = Subquery(Visitor.objects.filter(visitor_id=OuterRef("visitor_id")).values("prospect_id")[:1])
    count = 0
    for model in (VisitEvent, CtaClick):
        events = model.objects.filter(visitor_id__in=visitor_ids, prospect__isnull=True)
        if since is not None:
            events = events.filter(received_at__gte=since)
        count += events_attribute_carried_aks(events)
        count += events.filter(prospect__isnull=True).update(prospect_id=prospect_of_visitor)
    return count


def collect_hints(visitor_ids: Iterable[str], since: datetime | None = None) -> dict[str, VisitorHints]:
    """The identity hints carried by these visitors' events (since a time, for incremental runs)."""
    hints: dict[str, VisitorHints] = defaultdict(VisitorHints)
    ids = list(visitor_ids)
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for model in (VisitEvent, CtaClick):
            rows = model.objects.filter(visitor_id__in=chunk, is_bot=False)
            if since is not None:
                rows = rows.filter(received_at__gte=since)
            for visitor_id, ak, email, referrer, network in rows.values_list(
                "visitor_id", "ak", "email", "referrer", "client_network"
            ).distinct():
                hint = hints[visitor_id]
                if ak:
                    hint.aks.add(ak)
                if email:
                    hint.emails.add(email.lower())
                if referrer:
                    hint.referrers.add(referrer)
                if network:
                    hint.networks.add(network)
    return hints


def visitors_match(
    visitor_ids: Iterable[str], *, since: datetime | None = None, directory: ProspectDirectory | None = None
) -> int:
    """Create visitor records, match them from their events' hints, attribute their new events.

    Returns how many visitors got a new or stronger link.
    """
    ids = sorted(set(visitor_ids))
    if not ids:
        return 0
    directory = directory or ProspectDirectory.load()
    # Only the columns matching reads, as tuples: a flood of anonymous visitors is re-read by every
    # cycle of its minute, and model instances (with their datetime conversions) cost most of it.
    columns = ("visitor_id", "pk", "email", "prospect_id", "match_method")
    existing = {row[0]: row for row in Visitor.objects.filter(visitor_id__in=ids).values_list(*columns)}
    missing = [Visitor(visitor_id=vid) for vid in ids if vid not in existing]
    if missing:
        # ignore_conflicts: a parallel cycle may create the same visitors.
        Visitor.objects.bulk_create(missing, ignore_conflicts=True)
        created = Visitor.objects.filter(visitor_id__in=[v.visitor_id for v in missing]).values_list(*columns)
        existing.update({row[0]: row for row in created})
    hints = collect_hints(ids, since=since)
    linked = 0
    already_matched: list[str] = []
    for visitor_id in ids:
        _vid, pk, email, prospect_id, method = existing[visitor_id]
        visitor_hints = hints.get(visitor_id, VisitorHints())
        if email:  # given through identify
            visitor_hints.emails.add(email.lower())
        match = directory.best_match(visitor_hints)
        if match and match_strength(match[1]) > match_strength(method):
            visitor = Visitor(pk=pk, visitor_id=visitor_id)
            if visitor_link(visitor=visitor, prospect=match[0], method=match[1], evidence=match[2]):
                linked += 1
                continue
        if prospect_id:
            already_matched.append(visitor_id)
    # New events of visitors matched earlier: they arrive without a prospect (the intake does not
    # match). One UPDATE per event table and chunk, each row taking its visitor's prospect — not one
    # per prospect, which made a busy cycle cost two statements per active prospect.
    for start in range(0, len(already_matched), 500):
        new_events_attribute(already_matched[start : start + 500], since=since)
    return linked
