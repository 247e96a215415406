"""Public tracking endpoints. Thin: check the request, validate, call a service.

Every answer is JSON with a sentence; no input, however malformed, reaches a 5xx.
"""

import base64
import json
import logging
from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from core.bearer import carries_bearer_key
from core.client import ClientInfo, client_info, client_ip
from core.ratelimit import Limits, network_of, rate_limited
from prospects.consent import LINK, consent_notice_context, prospect_allows
from prospects.models import Prospect
from tracking import schemas
from tracking.models import EmailEvent
from tracking.page_view_answer import page_view_answer
from tracking.request_body import json_object
from tracking.services import (
    cta_click_record,
    email_event_record,
    message_count,
    visit_event_record,
    visitor_email_record,
)
from tracking.tokens import (
    LINK_SALT,
    PIXEL_SALT,
    add_query_param,
    link_host_allowed,
    link_is_current,
    read_message_pixel_token,
    read_token,
    token_expired,
)

logger = logging.getLogger(__name__)

# The answer to every accepted event, built once.
ACCEPTED = b'{"ok": true}'
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


# What never_cache sets, as one constant: never_cache parses and rebuilds the header on every answer,
# a measurable share of an event's view time (docs/benchmarks.md, "Figures that used to live in code comments").
NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def no_store(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never cached, and never framed (JSON and images are no pages: no X-Frame-Options header)."""

    @xframe_options_exempt
    @wraps(view)
    def answer_uncached(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = NO_STORE
        return response

    return answer_uncached


def _error(status: int, message: str, fields: dict[str, str] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"error": message}
    if fields is not None:
        body["fields"] = fields
    return JsonResponse(body, status=status)


def _refuse_method(request: HttpRequest) -> JsonResponse | None:
    if request.method == "POST":
        return None
    response = _error(405, _("Use POST for this endpoint."))
    response["Allow"] = "POST"
    return response


def _client_limits(ip: str | None, visitor_id: str = "") -> Limits:
    """Per reader (visitor id + IP) under a per-network ceiling: an office of 100 readers behind one
    IP is not starved by the per-client limit, and a single flooding client is stopped by it. A request
    without a valid visitor id counts as the IP's anonymous client."""
    return (
        (f"c:{ip}:{visitor_id}", settings.TRACKING_RATE_LIMIT),
        (f"n:{network_of(ip)}", settings.TRACKING_NETWORK_RATE_LIMIT),
    )


def _limited(ip: str | None, visitor_id: str = "") -> bool:
    return rate_limited(*_client_limits(ip, visitor_id))


def _too_many() -> JsonResponse:
    return _error(429, _("Too many events from this client; slow down and retry later."))


class BrowserEvent(NamedTuple):
    """A browser's event that passed every check: its values, who sent it, the limits its write takes."""

    values: dict[str, Any]
    client: ClientInfo
    limits: Limits


def _browser_event(request: HttpRequest, schema: schemas.Schema) -> BrowserEvent | HttpResponse:
    """The request's event, or the answer already due: 405, 4xx or 429 when it is refused, and a 202
    that stores nothing when the visitor asked not to be tracked (DNT)."""
    refused = _refuse_method(request)
    if refused:
        return refused
    ip = client_ip(request)
    data, refused = json_object(request, settings.TRACKING_MAX_BODY_BYTES)
    values, problems = schema.validate(data) if data is not None else ({}, {})
    if refused is not None or problems:
        # Rejected requests count against the client's rate limit too.
        if _limited(ip):
            return _too_many()
        return refused or JsonResponse(schemas.error_payload(problems), status=400)
    limits = _client_limits(ip, values["visitor_id"])
    client = client_info(request, ip)
    if client.dnt and settings.TRACKING_HONOR_DNT:
        # The visitor asked not to be tracked: accept and store nothing, as if it had been stored.
        return _too_many() if rate_limited(*limits) else _accepted()
    return BrowserEvent(values, client, limits)


def _accepted(body: bytes = ACCEPTED) -> HttpResponse:
    return HttpResponse(body, content_type="application/json", status=202)


# Each browser event's write counts the hit and stores the event in one step (core/ratelimit.py):
# False when a limit refused it, answered 429.


@csrf_exempt
@no_store
def track_visit(request: HttpRequest) -> HttpResponse:
    event = _browser_event(request, schemas.VISIT)
    if isinstance(event, HttpResponse):
        return event
    stored = visit_event_record(data=event.values, client=event.client, now=timezone.now(), limits=event.limits)
    if not stored:
        return _too_many()
    # A page view's answer says more than {"ok": true}: tracking/page_view_answer.py.
    return _accepted(page_view_answer(event.values) if event.values.get("event") == "pageview" else ACCEPTED)


@csrf_exempt
@no_store
def track_cta(request: HttpRequest) -> HttpResponse:
    event = _browser_event(request, schemas.CTA)
    if isinstance(event, HttpResponse):
        return event
    stored = cta_click_record(data=event.values, client=event.client, now=timezone.now(), limits=event.limits)
    return _accepted() if stored else _too_many()


@csrf_exempt
@no_store
def track_identify(request: HttpRequest) -> HttpResponse:
    event = _browser_event(request, schemas.IDENTIFY)
    if isinstance(event, HttpResponse):
        return event
    stored = visitor_email_record(data=event.values, client=event.client, now=timezone.now(), limits=event.limits)
    return _accepted() if stored else _too_many()


@csrf_exempt
@no_store
def track_email(request: HttpRequest) -> HttpResponse:
    refused = _refuse_method(request)
    if refused:
        return refused
    if _limited(client_ip(request)):
        return _too_many()
    if not carries_bearer_key(request, settings.TRACKING_API_KEY):
        return _error(401, _("A valid “Authorization: Bearer <TRACKING_API_KEY>” header is required."))
    data, refused = json_object(request, settings.TRACKING_MAX_BODY_BYTES)
    if refused:
        return refused
    values, problems = schemas.EMAIL_EVENT.validate(data or {})
    if problems:
        return JsonResponse(schemas.error_payload(problems), status=400)
    prospect = Prospect.objects.filter(email=values["email"]).first()
    if prospect is None:
        return _error(404, _("No prospect has this email address; nothing was stored."), {"email": _("unknown")})
    user_agent = values.get("user_agent")
    email_event_record(
        prospect=prospect,
        message_id=values["message_id"],
        event=values["event"],
        occurred_at=values.get("occurred_at"),
        source=EmailEvent.Source.API,
        client=ClientInfo(ip=None, user_agent=user_agent) if user_agent else None,
    )
    return _accepted()


@no_store
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Always the GIF: a forged token, a deleted prospect or a rate-limited client store nothing. A
    prospect's pixel records an open when the prospect's consent allows it at this fetch, and is
    counted for its message only otherwise (email_event_record); a message's pixel is only counted."""
    payload = read_token(token, salt=PIXEL_SALT)
    message_id = None if payload is not None else read_message_pixel_token(token)
    if message_id is not None and not _limited(client_ip(request)):
        message_count(message_id=message_id, event=EmailEvent.Kind.OPENED, client=client_info(request))
    elif payload is not None and not _limited(client_ip(request)):
        prospect = Prospect.objects.filter(pk=payload["p"]).first()
        if prospect is not None:
            email_event_record(
                prospect=prospect,
                message_id=payload["m"][:200],
                event=EmailEvent.Kind.OPENED,
                source=EmailEvent.Source.PIXEL,
                client=client_info(request),
            )
    response = HttpResponse(TRANSPARENT_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    response["Pragma"] = "no-cache"
    return response


@no_store
def tracked_link(request: HttpRequest, token: str) -> HttpResponse:
    payload = read_token(token, salt=LINK_SALT)
    if payload is None:
        if token_expired(token, salt=LINK_SALT):
            return _link_unavailable(request, _("This link has expired."), status=410)
        raise Http404(_("This link is not valid."))
    destination = payload.get("u")
    if not isinstance(destination, str) or not link_host_allowed(destination):
        # Signed, but not to one of our pages (made before destinations were checked): no redirect.
        return _link_unavailable(request, _("This link leads outside our pages; it is not followed."), status=404)
    prospect = Prospect.objects.filter(pk=payload["p"]).first()
    if prospect is None:
        raise Http404(_("This link is no longer valid."))
    if not link_is_current(payload, prospect, rotated=prospect.retired_tokens.exists()):
        # Made for an `ak` since replaced: the page without it, an unmatched visit like any other.
        return HttpResponseRedirect(destination)
    if not prospect_allows(prospect, LINK):
        # Refused (or `link` needs a consent not given): the page, without `ak`; the click is counted
        # for its message only.
        if not _limited(client_ip(request)):
            message_count(message_id=payload["m"], event=EmailEvent.Kind.CLICKED)
        return HttpResponseRedirect(destination)
    if not _limited(client_ip(request)):
        email_event_record(
            prospect=prospect,
            message_id=payload["m"][:200],
            event=EmailEvent.Kind.CLICKED,
            source=EmailEvent.Source.LINK,
            client=client_info(request),
            url=destination,
        )
    return HttpResponseRedirect(add_query_param(destination, "ak", prospect.identity_token))


def _link_unavailable(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """A page a person reads (they clicked a link in an email), in the product's language."""
    context = {"message": message, "landing_page_url": settings.LANDING_PAGE_URL}
    return render(request, "tracking/link_unavailable.html", context, status=status)


@lru_cache(maxsize=4)
def _script_text(events_path: str) -> bytes:
    source = Path(__file__).with_name("static").joinpath("tracker.js").read_text(encoding="utf-8")
    # The snippet's default events path, replaced by the configured one (a JSON string literal).
    return source.replace('(data.events || "/api/page")', f"(data.events || {json.dumps(events_path)})").encode()


def tracker_script(request: HttpRequest) -> HttpResponse:
    """The snippet at TRACKING_SCRIPT_PATH, posting to TRACKING_EVENTS_PATH (the copy at
    /static/tracker.js, kept for pages that include it, posts to the default path, which keeps answering)."""
    response = HttpResponse(_script_text(settings.TRACKING_EVENTS_PATH), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def landing_demo(request: HttpRequest) -> HttpResponse:
    """The demo landing page: the audit offer with tracker.js and the "Réserver audit" CTA."""
    return render(
        request,
        "tracking/audit-gratuit-monitoring.html",
        {
            "heartbeat_seconds": settings.TRACKING_HEARTBEAT_SECONDS,
            "honor_dnt": settings.TRACKING_HONOR_DNT,
            "script_path": settings.TRACKING_SCRIPT_PATH,
            **consent_notice_context(),  # its notice: who collects what, why, how long, the way out
        },
    )
