"""Forgetting a person (an erasure request, or a prospect deleted): what identified them leaves every
event and visitor, and only anonymous counts remain (docs/privacy.md).

A prospect's identity lives in its row (name, email, phone…), in the `ak` of its personal links (the
current one and any replaced), and, copied, on browser events (`email`, `ak`, the page and referrer
addresses whose query strings carry them) and on visitors (the email given, the match evidence). Its
email events, alerts, calls and meetings go with its row (CASCADE). The browser events stay, anonymous:
the funnel's counts do not change, and nothing in them points at the person any more."""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django.db import transaction
from django.db.models import Model, Q, QuerySet

from prospects.models import Prospect
from tracking.models import CtaClick, Meeting, VisitEvent, Visitor
from tracking.replies.models import InboundReply

BATCH = 500


@dataclass(frozen=True)
class ForgetReport:
    prospect_deleted: bool
    events_anonymised: int
    visitors_anonymised: int


def _without_query(url: str) -> str:
    """The address without its query string and fragment, where an `ak` or an email may ride."""
    if "?" not in url and "#" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    return urlunsplit(parts._replace(query="", fragment=""))


def _written(emails: set[str]) -> set[str]:
    """The ways an address may carry these emails: as typed in a link (a browser encodes its `'` in a
    query), percent-encoded whole (`jane%40…`), by encodeURIComponent (which leaves `!'()*~`, the
    browser then encoding `'`), by a form or URLSearchParams (which leave `*` and encode `~`)."""
    return {
        written
        for email in emails
        for written in (
            email,
            email.replace("'", "%27"),
            quote(email, safe=""),
            quote(email, safe="!()*"),
            quote(email, safe="*").replace("~", "%7E"),
        )
    }


def _forgotten_address(url: str, emails: set[str]) -> str:
    """The address without its query and fragment; reduced to its site when its path still carries the
    email (a page made per person, `/pour/jane@…`, a webmail's `/u/jane%40…/inbox`), and to nothing
    when even the site does."""
    url = _without_query(url)
    if not any(written.lower() in url.lower() for written in _written(emails)):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    site = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return "" if any(written.lower() in site.lower() for written in _written(emails)) else site


def _anonymise_events(model: type[Model], events: QuerySet, emails: set[str]) -> int:
    """Clear what identifies the person on these events; their kind, page path and time stay."""
    count = last = 0
    while True:
        # Past the last batch by id: a row the anonymisation left matching cannot be read again for ever.
        batch = list(events.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            break
        for event in batch:
            event.prospect = None
            event.email = ""
            event.ak = ""
            event.page = _forgotten_address(event.page, emails)
            event.referrer = _forgotten_address(event.referrer, emails)
        model._default_manager.bulk_update(batch, ["prospect", "email", "ak", "page", "referrer"])
        count += len(batch)
        last = batch[-1].pk
    return count


def _events_of(model: type[Model], *, prospect_id: int | None, emails: set[str], tokens: set[str]) -> QuerySet:
    still = Q(email__in=emails) | Q(ak__in=tokens) | (Q(prospect_id=prospect_id) if prospect_id else Q(pk__in=[]))
    # A forwarded link may carry the email in its address alone (`?email=jane%40…`), the event's own
    # email field empty: the page and referrer are searched too, as typed and percent-encoded.
    for written in _written(emails):
        still |= Q(page__icontains=written) | Q(referrer__icontains=written)
    return model._default_manager.filter(still)


def _forget_email_elsewhere(emails: set[str]) -> None:
    """The person's email on rows of another prospect, which stay: a colleague who booked with the
    prospect's link (the invitee) or answered in its thread (the sender)."""
    for email in emails:
        Meeting.objects.filter(invitee_email__iexact=email).update(invitee_email="")
        InboundReply.objects.filter(sender__iexact=email).update(sender="")


def _anonymise_visitors(visitors: Iterable[Visitor]) -> int:
    visitors = list(visitors)
    for visitor in visitors:
        visitor.prospect = None
        visitor.match_method = ""
        visitor.match_evidence = {}
        visitor.matched_at = None
        visitor.matched_by = None
        visitor.email = ""
        visitor.email_given_at = None
    Visitor.objects.bulk_update(
        visitors,
        ["prospect", "match_method", "match_evidence", "matched_at", "matched_by", "email", "email_given_at"],
        batch_size=BATCH,
    )
    return len(visitors)


def person_forget(*, email: str) -> ForgetReport:
    """Forget whoever has this email: the prospect with it (deleted, with its email events, alerts,
    calls and meetings), and every event and visitor that carried it or its `ak`."""
    email = email.strip().lower()
    prospect = Prospect.objects.filter(email=email).first()
    if prospect is not None:
        return prospect_forget(prospect=prospect)
    with transaction.atomic():
        events = sum(
            _anonymise_events(model, _events_of(model, prospect_id=None, emails={email}, tokens=set()), {email})
            for model in (VisitEvent, CtaClick)
        )
        visitors = _anonymise_visitors(Visitor.objects.filter(Q(email__iexact=email) | Q(match_evidence__email=email)))
        _forget_email_elsewhere({email})
    return ForgetReport(prospect_deleted=False, events_anonymised=events, visitors_anonymised=visitors)


def prospect_forget(*, prospect: Prospect) -> ForgetReport:
    """Delete the prospect and take its email and `ak` (current and replaced) off every event and
    visitor. What the admin's delete does, and `forget_prospect`."""
    with transaction.atomic():
        emails = {prospect.email.lower()}
        tokens = {prospect.identity_token, *prospect.retired_tokens.values_list("token", flat=True)}
        events = sum(
            _anonymise_events(model, _events_of(model, prospect_id=prospect.pk, emails=emails, tokens=tokens), emails)
            for model in (VisitEvent, CtaClick)
        )
        carried = (
            Q(prospect=prospect)
            | Q(email__in=emails)
            | Q(match_evidence__email__in=list(emails))
            | Q(match_evidence__ak__in=list(tokens))
        )
        visitors = _anonymise_visitors(Visitor.objects.filter(carried))
        prospect.delete()
        _forget_email_elsewhere(emails)
    return ForgetReport(prospect_deleted=True, events_anonymised=events, visitors_anonymised=visitors)
