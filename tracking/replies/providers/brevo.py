"""Brevo inbound parsing: a JSON object whose `items` lists the messages received (`From` {Name, Address},
`Subject`, `MessageId`, `InReplyTo`, `SentAtDate`, `Headers` as an object, `RawTextBody`, `RawHtmlBody`,
`ExtractedMarkdownMessage`).

Brevo signs nothing: the webhook is created with a secret we choose, sent as `Authorization: Bearer
<token>` (the webhook's bearer authentication) or in the URL as `?token=<token>`: BREVO_INBOUND_TOKEN."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.replies.providers import Inbound
from tracking.replies.reading import read_fields
from tracking.webhooks.brevo import token_valid
from tracking.webhooks.events import PayloadError, event_at, object_at

NAME = "brevo"
FORMAT = "json"  # parse(the body as JSON)


def configured() -> bool:
    return bool(settings.BREVO_INBOUND_TOKEN)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    return token_valid(request, settings.BREVO_INBOUND_TOKEN)


def parse(data: Any) -> list[Inbound]:
    items = object_at(data, _("Brevo's body")).get("items")
    if not isinstance(items, list):
        raise PayloadError(_("Brevo's inbound body has an “items” list of messages."))
    return [_inbound(object_at(item, event_at(index))) for index, item in enumerate(items)]


def _inbound(item: dict[str, Any]) -> Inbound:
    sender = item.get("From")
    if not isinstance(sender, dict):
        raise PayloadError(_("Each message needs “From”: {Name, Address}."))
    address = sender.get("Address")
    if not isinstance(address, str) or "@" not in address:
        raise PayloadError(_("Each message needs “From”: {Name, Address}."))
    headers: list[tuple[str, str]] = []
    given = item.get("Headers")
    if isinstance(given, dict):
        for name, value in given.items():
            for one in value if isinstance(value, list) else [value]:
                headers.append((str(name), str(one)))
    names = {name.lower() for name, _value in headers}
    for name, field in (
        ("From", None),
        ("Subject", "Subject"),
        ("Message-ID", "MessageId"),
        ("In-Reply-To", "InReplyTo"),
        ("Date", "SentAtDate"),
    ):
        if name.lower() in names:
            continue
        value = f"{sender.get('Name') or ''} <{address}>" if field is None else item.get(field)
        if isinstance(value, str) and value:
            headers.append((name, value if name not in ("Message-ID", "In-Reply-To") or "<" in value else f"<{value}>"))
    text = item.get("RawTextBody") or item.get("ExtractedMarkdownMessage") or ""
    html = item.get("RawHtmlBody") or ""
    return Inbound(
        read_fields(
            headers=headers, text=text if isinstance(text, str) else "", html=html if isinstance(html, str) else ""
        )
    )
