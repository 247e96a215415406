"""Mailgun webhooks: one event per POST, `{"signature": {...}, "event-data": {...}}`. The signature is
in the body: HMAC-SHA256, keyed with the webhook signing key (MAILGUN_WEBHOOK_SIGNING_KEY), of
timestamp + token. As Mailgun advises, a stale timestamp and a token seen before are refused, so a
captured request cannot be replayed."""

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import claim_once
from tracking.models import EmailEvent
from tracking.webhooks.events import (
    ProviderEvent,
    email_address,
    epoch_seconds,
    event_key,
    event_name,
    object_at,
    optional_text,
    required_text,
    same_digest,
)

NAME = "mailgun"
# Mailgun's own advice is to refuse timestamps older than a few minutes; 15 leaves room for a queue.
MAX_AGE_SECONDS = 15 * 60

KINDS = {
    "accepted": EmailEvent.Kind.SENT,
    "delivered": EmailEvent.Kind.DELIVERED,
    "opened": EmailEvent.Kind.OPENED,
    "clicked": EmailEvent.Kind.CLICKED,
    "failed": EmailEvent.Kind.BOUNCED,  # permanent failures only, see parse()
    "unsubscribed": EmailEvent.Kind.UNSUBSCRIBED,
    "complained": EmailEvent.Kind.COMPLAINED,
}


def configured() -> bool:
    return bool(settings.MAILGUN_WEBHOOK_SIGNING_KEY)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    signature = data.get("signature") if isinstance(data, dict) else None
    if not isinstance(signature, dict):
        return False
    timestamp, token, digest = (signature.get(k) for k in ("timestamp", "token", "signature"))
    if not (isinstance(timestamp, str | int) and isinstance(token, str) and isinstance(digest, str)):
        return False
    if not 0 < len(token) <= 200:
        return False
    expected = hmac.new(
        settings.MAILGUN_WEBHOOK_SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    if not same_digest(expected, digest.strip().lower()):
        return False
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    if age > MAX_AGE_SECONDS:
        return False
    # Checked last, so only a genuine, fresh token is remembered; it is kept for twice the age window
    # (a token older than the window is refused by its timestamp anyway), in the shared store every
    # process sees (core/ratelimit.py). A store that cannot be written refuses.
    return claim_once(f"mailgun-token:{token}", 2 * MAX_AGE_SECONDS)


def parse(data: Any) -> list[ProviderEvent]:
    body = object_at(data, "The body")
    raw = object_at(body.get("event-data"), "“event-data”")
    where = "event-data"
    name = event_name(raw, "event", where)
    kind = KINDS.get(name)
    if kind is None:
        return []  # stored, list_member_uploaded…: not an email event this product keeps
    if kind == EmailEvent.Kind.BOUNCED and raw.get("severity") != "permanent":
        return []  # a temporary failure: Mailgun retries it, it may still be delivered
    opt_out = kind in EmailEvent.OPT_OUTS
    message_id = _opt_out_message_id(raw) if opt_out else _message_id(raw)
    client = raw.get("client-info")
    user_agent = optional_text(client, "user-agent") if isinstance(client, dict) else ""
    return [
        ProviderEvent(
            key=event_key(NAME, raw.get("id"), raw),
            email=email_address(raw, "recipient", where),
            message_id=message_id,
            kind=kind,
            occurred_at=epoch_seconds(raw.get("timestamp"), where, "timestamp"),
            ip=optional_text(raw, "ip", limit=64) or None,
            user_agent=user_agent,
            url=optional_text(raw, "url"),
            provider_event=name if opt_out else "",
        )
    ]


def _message_id(raw: dict[str, Any]) -> str:
    message = object_at(raw.get("message"), "“event-data.message”")
    headers = object_at(message.get("headers"), "“event-data.message.headers”")
    return required_text(headers, "message-id", "event-data.message.headers")


def _opt_out_message_id(raw: dict[str, Any]) -> str:
    """The message an unsubscribe or a complaint came from, when Mailgun names it: the "stop" is
    honoured whatever the payload says of the message."""
    message = raw.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    return optional_text(headers, "message-id", limit=200) if isinstance(headers, dict) else ""
