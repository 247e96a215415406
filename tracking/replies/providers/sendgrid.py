"""SendGrid Inbound Parse: multipart/form-data, one message per POST. With "POST the raw, full MIME
message" on, the message is the `email` field; otherwise `headers` (the raw header block), `text`,
`html` and SendGrid's own `dkim` verdicts ("{@example.com : pass}").

Authenticated as SendGrid documents for a Parse webhook's security policy with signature verification:
ECDSA (P-256, SHA-256) over the timestamp header followed by the raw body, the policy's public key set as
SENDGRID_INBOUND_PUBLIC_KEY (base64 DER, as SendGrid shows it), stale timestamps refused."""

import base64
import binascii
import re
import time
from email.parser import HeaderParser

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.replies.providers import Inbound
from tracking.replies.reading import read_fields, read_raw
from tracking.webhooks.events import PayloadError

# The same key format and signature scheme as the signed Event Webhook: one reader of the key.
from tracking.webhooks.sendgrid import MAX_AGE_SECONDS
from tracking.webhooks.sendgrid import _public_key as public_key

NAME = "sendgrid"
FORMAT = "form"  # multipart/form-data or urlencoded fields, parse(request)
_DKIM = re.compile(r"@?([A-Za-z0-9.-]+)\s*:\s*pass", re.I)


def configured() -> bool:
    return bool(settings.SENDGRID_INBOUND_PUBLIC_KEY)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    key = public_key(settings.SENDGRID_INBOUND_PUBLIC_KEY)
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


def parse(request: HttpRequest) -> list[Inbound]:
    data = request.POST
    dkim = frozenset(domain.lower() for domain in _DKIM.findall(data.get("dkim", "")))
    raw = data.get("email")
    if raw:
        return [Inbound(read_raw(raw.encode("utf-8", "surrogateescape")), dkim)]
    block = data.get("headers")
    if not block:
        raise PayloadError(_("SendGrid Inbound Parse posts the message as “email” (raw) or “headers” and “text”."))
    headers = list(HeaderParser().parsestr(block).items())
    return [Inbound(read_fields(headers=headers, text=data.get("text", ""), html=data.get("html", "")), dkim)]
