"""Writes of the tracking app: store one event cheaply, and announce the events that may complete a
signal (tracking/announcements.py: a listed CTA, a human page-view event, a human email open).

The request path is: validate, one INSERT, answer. Matching and detection run in django-q2.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, Max, Model
from django.utils import timezone

from core.client import ClientInfo, clean_header
from core.ratelimit import Limits, insert_unless_limited, rate_limited
from core.sql import concrete_field
from prospects.consent import LINK, PIXEL, prospect_allows
from prospects.models import Prospect
from tracking.announcements import announce_event, announce_page_view_event
from tracking.mail_fetchers import LINK_BURST, after_delivery, judge_mail_fetcher
from tracking.models import CtaClick, EmailEvent, MessageOpenCount, VisitEvent, Visitor


def _insert_event(model: type[Model], values: dict[str, Any], limits: Limits) -> bool:
    """One INSERT of the given columns, counted against the client's limits in the same step (on
    PostgreSQL, the same statement); False when a limit refused it and nothing was stored. Events are
    write-once evidence with no save() logic and no signals, so the intake skips the ORM's save: an
    `objects.create` cost more CPU per event than the 5 points of the ingest ratio allow (bench/write_path.py;
    docs/benchmarks.md, "Figures that used to live in code comments")."""
    params = [concrete_field(model, name).get_db_prep_save(value, connection) for name, value in values.items()]
    return insert_unless_limited(model, tuple(values), params, limits)


def _browser_fields(data: dict[str, Any], client: ClientInfo, now: datetime) -> dict[str, Any]:
    return {
        "visitor_id": data["visitor_id"],
        "page_view_id": data.get("page_view_id") or "",
        "page": data.get("page") or "",
        "referrer": data.get("referrer") or "",
        "ak": data.get("ak") or "",
        "email": data.get("email") or "",
        "received_at": now,
        "is_bot": client.is_bot,
        "user_agent": clean_header(client.user_agent),
        "client_network": client.network,
    }


# Each browser write takes the client's rate limits ((key, rate) pairs, core/ratelimit.py) and returns
# False when one of them refused it: nothing was stored.


def visit_event_record(*, data: dict[str, Any], client: ClientInfo, now: datetime, limits: Limits) -> bool:
    values = _browser_fields(data, client, now)
    period = data.get("heartbeat_s")
    event = {**values, "event": data["event"], "engaged_ms": data.get("engaged_ms"), "heartbeat_s": period}
    if not _insert_event(VisitEvent, event, limits):
        return False
    if values["page_view_id"] and not values["is_bot"]:
        announce_page_view_event(values["page_view_id"], now, data.get("engaged_ms"), data["event"], period)
    return True


def cta_click_record(*, data: dict[str, Any], client: ClientInfo, now: datetime, limits: Limits) -> bool:
    values = _browser_fields(data, client, now)
    if not _insert_event(CtaClick, {**values, "cta_id": data["cta_id"]}, limits):
        return False
    if data["cta_id"] in settings.SIGNAL_CTA_IDS and not values["is_bot"]:
        announce_event("cta")
    return True


def visitor_email_record(*, data: dict[str, Any], client: ClientInfo, now: datetime, limits: Limits) -> bool:
    """identify: remember the address the visitor gave, and ask detection to match it. Matching runs in
    the worker, not here: the request does the same work whatever the email, so its answer time says
    nothing about which domains belong to prospects."""
    if rate_limited(*limits):
        return False
    Visitor.objects.update_or_create(
        visitor_id=data["visitor_id"], defaults={"email": data["email"], "email_given_at": now}
    )
    announce_event("identify")
    return True


# --- Email ------------------------------------------------------------------------------------

# What an email event says about one person, and the consent that must allow it (TRACKING_CONSENT_FOR).
CONSENT_FOR_EVENT: dict[str, str] = {EmailEvent.Kind.OPENED: PIXEL, EmailEvent.Kind.CLICKED: LINK}

# An open or click this soon after the message's sent or delivered event is a scanner or a proxy
# fetching it on arrival: no person opens a message that fast.
MACHINE_WINDOW_AFTER_DELIVERY = timedelta(seconds=30)
# Clicks on different links of one message this close together are a scanner following them all.
LINK_BURST_WINDOW = timedelta(seconds=1)


def email_engagement_classify(
    *,
    prospect: Prospect,
    message_id: str,
    event: str,
    occurred_at: datetime,
    client: ClientInfo | None,
    url: str = "",
) -> str:
    """Why this open/click is a machine's, or "" when it may be a human's (tracking/mail_fetchers.py
    for who fetched it; here, what the stored events of the message tell)."""
    if event not in (EmailEvent.Kind.OPENED, EmailEvent.Kind.CLICKED):
        return ""
    if client is not None:
        reason = judge_mail_fetcher(user_agent=client.user_agent, ip=client.ip).machine_reason
        if reason:
            return reason
    window = MACHINE_WINDOW_AFTER_DELIVERY
    message_events = EmailEvent.objects.filter(prospect=prospect, message_id=message_id)
    delivered = message_events.filter(event__in=[EmailEvent.Kind.SENT, EmailEvent.Kind.DELIVERED]).aggregate(
        last=Max("occurred_at")
    )["last"]
    if delivered is not None and timedelta(0) <= occurred_at - delivered < window:
        seconds = int((occurred_at - delivered).total_seconds())
        return after_delivery(seconds)
    if event == EmailEvent.Kind.CLICKED and url:
        burst = message_events.filter(
            event=EmailEvent.Kind.CLICKED,
            occurred_at__gte=occurred_at - LINK_BURST_WINDOW,
            occurred_at__lte=occurred_at + LINK_BURST_WINDOW,
        ).exclude(url=url)
        # The earlier clicks of the burst were judged alone, before this one showed the pattern.
        if burst.filter(machine_reason="").update(machine_reason=LINK_BURST) or burst.exists():
            return LINK_BURST
    return ""


def email_event_record(
    *,
    prospect: Prospect,
    message_id: str,
    event: str,
    occurred_at: datetime | None = None,
    source: str = EmailEvent.Source.API,
    client: ClientInfo | None = None,
    url: str = "",
    provider_event_id: str | None = None,
    provider_machine_reason: str = "",
) -> EmailEvent | None:
    """`provider_machine_reason`: the email service already knows a machine fetched it (SendGrid's
    sg_machine_open, Brevo's proxy opens); its word wins over our own judgement.

    An open or a click of a prospect whose consent does not allow it (the pixel's, the link's, an email
    service's or the sender's API) is only counted for its message (message_count): None, nothing
    identifying stored, from the very fetch after a refusal."""
    needed = CONSENT_FOR_EVENT.get(event)
    if needed and not prospect_allows(prospect, needed):
        message_count(message_id=message_id, event=event, client=client, machine=bool(provider_machine_reason))
        return None
    now = timezone.now()
    occurred_at = occurred_at or now
    reason = provider_machine_reason or email_engagement_classify(
        prospect=prospect, message_id=message_id, event=event, occurred_at=occurred_at, client=client, url=url
    )
    record = EmailEvent.objects.create(
        prospect=prospect,
        message_id=message_id,
        event=event,
        occurred_at=occurred_at,
        received_at=now,
        source=source,
        machine_reason=reason,
        url=url[:2048],
        user_agent=clean_header(client.user_agent) if client else "",
        client_network=client.network if client else None,
        provider_event_id=provider_event_id,
    )
    if event == EmailEvent.Kind.OPENED and not reason:
        announce_event("email_open")
    return record


def message_count(*, message_id: str, event: str, client: ClientInfo | None = None, machine: bool = False) -> None:
    """Count one open or click of a message in aggregate: the message id, nothing about who. Whether
    it was a machine is judged from the request (user agent, network) and forgotten."""
    if client is not None and not machine:
        machine = bool(judge_mail_fetcher(user_agent=client.user_agent, ip=client.ip).machine_reason)
    if event == EmailEvent.Kind.CLICKED:
        column = "clicks"
    else:
        column = "machine_opens" if machine else "opens"
    row, _created = MessageOpenCount.objects.get_or_create(message_id=message_id[:200])
    # F(): two fetches counting at once both count.
    MessageOpenCount.objects.filter(pk=row.pk).update(**{column: F(column) + 1})
