"""SendGrid Inbound Parse: multipart/form-data, one message per POST. With "POST the raw, full MIME
message" on, the message is the `email` field; otherwise `headers` (the raw header block), `text`,
`html` and SendGrid's own `dkim` verdicts ("{@example.com : pass}").

Authenticated as SendGrid documents for a Parse webhook's security policy with signature verification:
ECDSA (P-256, SHA-256) over the timestamp header followed by the raw body, the policy's public key set as
SENDGRID_INBOUND_PUBLIC_KEY (base64 DER, as SendGrid shows it), stale timestamps refused."""

import re
from email.parser import HeaderParser

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.replies.providers import Inbound
from tracking.replies.reading import read_fields, read_raw
from tracking.webhooks.events import PayloadError

# The same key format and signature scheme as the signed Event Webhook.
from tracking.webhooks.sendgrid import signature_valid

NAME = "sendgrid"
FORMAT = "form"  # multipart/form-data or urlencoded fields, parse(request)
_DKIM = re.compile(r"@?([A-Za-z0-9.-]+)\s*:\s*pass", re.I)


def configured() -> bool:
    return bool(settings.SENDGRID_INBOUND_PUBLIC_KEY)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    return signature_valid(request, body, settings.SENDGRID_INBOUND_PUBLIC_KEY)


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
