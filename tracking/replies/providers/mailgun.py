"""Mailgun routes: a route's forward("https://…/api/inbound/mailgun") posts the parsed message as form
fields (`message-headers` as a JSON list of [name, value], `body-plain`, `body-html`); a URL ending in
"mime" (/api/inbound/mailgun/mime) gets the raw message as `body-mime`.

Signed as Mailgun's webhooks are: `timestamp`, `token`, `signature` fields, HMAC-SHA256 of timestamp +
token with the HTTP webhook signing key (MAILGUN_INBOUND_SIGNING_KEY); stale timestamps and tokens seen
before are refused, so a captured POST cannot be replayed."""

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from core.ratelimit import claim_once
from tracking.replies.providers import Inbound
from tracking.replies.reading import read_fields, read_raw
from tracking.webhooks.events import PayloadError
from tracking.webhooks.mailgun import MAX_AGE_SECONDS

NAME = "mailgun"
FORMAT = "form"  # multipart/form-data or urlencoded fields, parse(request)


def configured() -> bool:
    return bool(settings.MAILGUN_INBOUND_SIGNING_KEY)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    data = request.POST
    timestamp, token, digest = (data.get(name, "") for name in ("timestamp", "token", "signature"))
    if not (timestamp and token and digest) or len(token) > 200:
        return False
    expected = hmac.new(
        settings.MAILGUN_INBOUND_SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, digest.strip().lower()):
        return False
    try:
        if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
            return False
    except ValueError:
        return False
    return claim_once(f"mailgun-inbound-token:{token}", 2 * MAX_AGE_SECONDS)


def parse(request: HttpRequest) -> list[Inbound]:
    data = request.POST
    raw = data.get("body-mime")
    if raw:
        return [Inbound(read_raw(raw.encode("utf-8", "surrogateescape")))]
    try:
        pairs = json.loads(data.get("message-headers", ""))
    except ValueError:
        pairs = None
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise PayloadError(_("“message-headers” must be Mailgun's JSON list of [name, value] pairs."))
    headers = [(str(name), str(value)) for name, value in pairs]
    return [Inbound(read_fields(headers=headers, text=data.get("body-plain", ""), html=data.get("body-html", "")))]
