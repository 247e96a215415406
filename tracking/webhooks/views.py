"""POST /api/webhooks/<provider>. Thin, like the tracking views: check the request,
authenticate it as the provider documents, parse, hand the events to its service, named in each view.

Answers: 404 when the provider's secret is not set (the endpoint does not exist), 401 when the
authentication is missing or wrong, 400 when the body is not what the provider sends, 200 otherwise —
also for events about addresses that are not prospects, since providers switch off a webhook that
keeps failing. Nothing is stored unless the whole request was accepted."""

import logging
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.client import client_ip
from core.ratelimit import count_attempt
from tracking.request_body import NotJson, body_within, json_value
from tracking.webhooks import brevo, calcom, calendly, mailgun, postmark, sendgrid
from tracking.webhooks.events import BookingProvider, EmailEventProvider, PayloadError, WebhookProvider
from tracking.webhooks.meetings import booking_events_record
from tracking.webhooks.services import RecordOutcome, provider_events_record

logger = logging.getLogger(__name__)
E = TypeVar("E")  # a family's events: ProviderEvent or BookingEvent

# Typed registries: mypy checks each module against its family's protocol (tracking/webhooks/events.py).
PROVIDERS: dict[str, EmailEventProvider] = {
    sendgrid.NAME: sendgrid,
    mailgun.NAME: mailgun,
    brevo.NAME: brevo,
    postmark.NAME: postmark,
}
BOOKING_TOOLS: dict[str, BookingProvider] = {calcom.NAME: calcom, calendly.NAME: calendly}
# What each provider is told when its authentication fails: which secret to check.
AUTH_HELP = {
    "sendgrid": gettext_lazy("a valid SendGrid signature (X-Twilio-Email-Event-Webhook-Signature and -Timestamp)"),
    "mailgun": gettext_lazy("a valid, fresh and unused Mailgun signature"),
    "brevo": gettext_lazy("the Brevo token (Authorization: Bearer <token>, or ?token=<token>)"),
    "postmark": gettext_lazy("the Postmark HTTP basic auth credentials"),
    "calcom": gettext_lazy("a valid Cal.com signature (X-Cal-Signature-256)"),
    "calendly": gettext_lazy("a valid and fresh Calendly signature (Calendly-Webhook-Signature)"),
}


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _accepted(request: HttpRequest, provider: WebhookProvider[E], name: str) -> tuple[Any, JsonResponse | None]:
    """The request's JSON once it passed every check, or the answer that refuses it."""
    if not provider.configured():
        return None, _error(404, _("This webhook is not configured on this server."))
    if request.method != "POST":
        response = _error(405, _("Use POST for this endpoint."))
        response["Allow"] = "POST"
        return None, response
    body, refused = body_within(request, settings.WEBHOOK_MAX_BODY_BYTES)
    if refused is not None:
        return None, refused
    # Counted before the secret is compared, so a client past its limit learns nothing more about the
    # secret; given back when the authentication passes: only failures count against the sender, and
    # a busy provider is never slowed down.
    attempt = count_attempt((f"hook:{client_ip(request)}", settings.TRACKING_RATE_LIMIT))
    if attempt.refused:
        return None, _error(429, _("Too many failed attempts from this client; slow down and retry later."))
    if provider.authenticate(request, body):
        attempt.forgive()
    else:
        response = _error(401, _("This request needs %(what)s; nothing was stored.") % {"what": AUTH_HELP[name]})
        if name == "postmark":
            response["WWW-Authenticate"] = 'Basic realm="arkwatch webhooks"'
        return None, response
    try:
        return json_value(body), None
    except NotJson:
        return None, _error(400, _("The body is not valid JSON; nothing was stored."))


def _events(request: HttpRequest, provider: WebhookProvider[E], name: str) -> tuple[list[E], JsonResponse | None]:
    """One delivery's events, authenticated and parsed, or the answer that refuses it: every webhook
    answers alike (401 / 404 / 400)."""
    data, refused = _accepted(request, provider, name)
    if refused is not None:
        return [], refused
    try:
        return provider.parse(data), None
    except PayloadError as exc:
        return [], _error(400, _("%(problem)s Nothing was stored.") % {"problem": exc})


def _stored(outcome: RecordOutcome) -> JsonResponse:
    return JsonResponse({"ok": True, **outcome.as_dict()})


@csrf_exempt
@never_cache
def email_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """POST /api/webhooks/<provider> for the email services."""
    events, refused = _events(request, PROVIDERS[provider], provider)
    if refused is not None:
        return refused
    return _stored(provider_events_record(provider=provider, events=events))


@csrf_exempt
@never_cache
def booking_webhook(request: HttpRequest, tool: str) -> HttpResponse:
    """POST /api/webhooks/calcom and /api/webhooks/calendly: the same answers as the email services'."""
    events, refused = _events(request, BOOKING_TOOLS[tool], tool)
    if refused is not None:
        return refused
    return _stored(booking_events_record(tool=tool, events=events))
