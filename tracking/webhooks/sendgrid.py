"""SendGrid's signed Event Webhook: a JSON array of events per POST, signed with ECDSA (P-256, SHA-256)
over the timestamp header followed by the raw body. The verification key SendGrid shows is the public
key, base64 DER (SubjectPublicKeyInfo), set as SENDGRID_WEBHOOK_PUBLIC_KEY."""

import base64
import binascii
import logging
import time
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.mail_fetchers import SENDGRID_MACHINE_OPEN as MACHINE_OPEN
from tracking.models import EmailEvent
from tracking.webhooks.events import (
    PayloadError,
    ProviderEvent,
    email_address,
    epoch_seconds,
    event_at,
    event_key,
    event_name,
    object_at,
    optional_text,
    required_text,
)

NAME = "sendgrid"
# SendGrid signs the timestamp with the body: a request older than this (or this far in the future) is
# refused, so a captured one cannot be replayed once retention has purged what it stored. Ten minutes
# leave room for SendGrid's queue and clock skew (Mailgun's window is 15).
MAX_AGE_SECONDS = 10 * 60
logger = logging.getLogger(__name__)

KINDS = {
    "processed": EmailEvent.Kind.SENT,
    "delivered": EmailEvent.Kind.DELIVERED,
    "open": EmailEvent.Kind.OPENED,
    "click": EmailEvent.Kind.CLICKED,
    "bounce": EmailEvent.Kind.BOUNCED,
    # Dropped: SendGrid never tried (a suppressed or invalid address); to a caller it did not arrive.
    "dropped": EmailEvent.Kind.BOUNCED,
    # The recipient's own "stop": the global unsubscribe, an unsubscribe group, the spam button.
    "unsubscribe": EmailEvent.Kind.UNSUBSCRIBED,
    "group_unsubscribe": EmailEvent.Kind.UNSUBSCRIBED,
    "spamreport": EmailEvent.Kind.COMPLAINED,
}


def configured() -> bool:
    return bool(settings.SENDGRID_WEBHOOK_PUBLIC_KEY)


@lru_cache(maxsize=2)
def _public_key(configured_key: str) -> ec.EllipticCurvePublicKey | None:
    """The key as SendGrid shows it (base64 DER); PEM is accepted too. None when it is not a P-256 key."""
    text = configured_key.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        logger.error("SENDGRID_WEBHOOK_PUBLIC_KEY is not SendGrid's base64 P-256 verification key")
        return None
    return key


def authenticate(request: HttpRequest, body: bytes) -> bool:
    return signature_valid(request, body, settings.SENDGRID_WEBHOOK_PUBLIC_KEY)


def signature_valid(request: HttpRequest, body: bytes, configured_key: str) -> bool:
    """SendGrid's ECDSA signature of timestamp + body, fresh (the Inbound Parse policy signs alike)."""
    key = _public_key(configured_key)
    signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
    timestamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
    if key is None or not signature or not timestamp:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        age = abs(time.time() - int(timestamp))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return age <= MAX_AGE_SECONDS


def parse(data: Any) -> list[ProviderEvent]:
    if not isinstance(data, list):
        raise PayloadError(_("SendGrid posts a JSON array of events."))
    events = []
    for index, item in enumerate(data):
        where = event_at(index)
        raw = object_at(item, where)
        name = event_name(raw, "event", where)
        kind = KINDS.get(name)
        if kind is None:
            continue  # deferred, group_resubscribe…: not an email event this product keeps
        opt_out = kind in EmailEvent.OPT_OUTS
        events.append(
            ProviderEvent(
                key=event_key(NAME, raw.get("sg_event_id"), raw),
                email=email_address(raw, "email", where),
                # An unsubscribe made on SendGrid's own page may name no message; it is honoured all the same.
                message_id=_message_id(
                    optional_text(raw, "sg_message_id", limit=1000)
                    if opt_out
                    else required_text(raw, "sg_message_id", where, limit=1000)
                ),
                kind=kind,
                occurred_at=epoch_seconds(raw.get("timestamp"), where, "timestamp"),
                ip=optional_text(raw, "ip", limit=64) or None,
                user_agent=optional_text(raw, "useragent"),
                url=optional_text(raw, "url"),
                machine_reason=_machine_reason(kind, raw),
                provider_event=name if opt_out else "",
            )
        )
    return events


def _message_id(sg_message_id: str) -> str:
    # sg_message_id is "<X-Message-Id>.<filter suffix>": the part before the first dot is what SendGrid's
    # send API answered, and what every event of that message shares.
    return sg_message_id.split(".", 1)[0][:200] or sg_message_id[:200]


def _machine_reason(kind: str, raw: dict[str, Any]) -> str:
    return MACHINE_OPEN if kind == EmailEvent.Kind.OPENED and raw.get("sg_machine_open") is True else ""
