"""POST /api/inbound/<provider> (and /api/inbound/mailgun/mime): an email service hands over a message
that arrived for the founder. Answered like the event webhooks (tracking/webhooks/views.py): 404 when the
provider's secret is not set, 401 when the authentication is missing or wrong, 400 with a sentence when
the body is not what the provider sends, 413 when too large, 200 otherwise — also for messages about
nobody known (counted), so that the service does not switch the webhook off. Stored once."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.client import client_ip
from core.ratelimit import count_attempt
from tracking.replies.providers import InboundProvider, brevo, mailgun, postmark, sendgrid
from tracking.replies.services import UNKNOWN_SENDERS, inbound_reply_record
from tracking.request_body import NotJson, body_within, json_value
from tracking.webhooks.events import PayloadError
from tracking.webhooks.services import RecordOutcome

logger = logging.getLogger(__name__)

# A typed registry: mypy checks each module against InboundProvider (tracking/replies/providers/__init__.py).
INBOUND: dict[str, InboundProvider] = {
    sendgrid.NAME: sendgrid,
    mailgun.NAME: mailgun,
    postmark.NAME: postmark,
    brevo.NAME: brevo,
}
AUTH_HELP = {
    "sendgrid": "a valid SendGrid signature (the Parse security policy's X-Twilio-Email-Event-Webhook-Signature)",
    "mailgun": "a valid, fresh and unused Mailgun signature (timestamp, token, signature)",
    "postmark": "the Postmark HTTP basic auth credentials",
    "brevo": "the Brevo token (Authorization: Bearer <token>, or ?token=<token>)",
}


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@never_cache
def inbound_email(request: HttpRequest, provider: str) -> HttpResponse:
    source = INBOUND[provider]
    if not source.configured():
        return _error(404, _("This webhook is not configured on this server."))
    if request.method != "POST":
        response = _error(405, _("Use POST for this endpoint."))
        response["Allow"] = "POST"
        return response
    body, refused = body_within(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if refused is not None:
        return refused
    attempt = count_attempt((f"hook:{client_ip(request)}", settings.TRACKING_RATE_LIMIT))
    if attempt.refused:
        return _error(429, _("Too many failed attempts from this client; slow down and retry later."))
    try:
        authentic = source.authenticate(request, body)
    except Exception:  # a form body Django cannot read is no authentic request
        authentic = False
    if not authentic:
        response = _error(401, _("This request needs %(what)s; nothing was stored.") % {"what": AUTH_HELP[provider]})
        if provider == "postmark":
            response["WWW-Authenticate"] = 'Basic realm="arkwatch inbound"'
        return response
    attempt.forgive()
    try:
        messages = source.parse(_json(body) if source.FORMAT == "json" else request)
    except PayloadError as exc:
        return _error(400, _("%(problem)s Nothing was stored.") % {"problem": exc})
    except Exception:  # a multipart body Django cannot split, a field of the wrong type: the sender's fault
        logger.info("unreadable %s inbound body", provider, exc_info=True)
        return _error(400, _("The body is not what %(provider)s sends; nothing was stored.") % {"provider": provider})
    outcome = RecordOutcome()
    for message in messages:
        outcome = outcome + inbound_reply_record(
            letter=message.letter, source=provider, extra_domains=message.dkim_domains
        )
    return JsonResponse({"ok": True, **outcome.as_dict(unknown=UNKNOWN_SENDERS)})


def _json(body: bytes) -> object:
    try:
        return json_value(body)
    except NotJson as exc:
        raise PayloadError(_("The body is not valid JSON.")) from exc
