"""Postmark inbound: one JSON message per POST (`FromFull`, `Subject`, `Date`, `Headers` as a list of
{Name, Value}, `TextBody`, `HtmlBody`; `RawEmail` when "include raw email content" is on).

Postmark signs nothing; the inbound webhook URL carries HTTP basic auth credentials
(https://user:password@host/api/inbound/postmark), checked against POSTMARK_INBOUND_USER / _PASSWORD."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.replies.providers import Inbound
from tracking.replies.reading import read_fields, read_raw
from tracking.webhooks.events import PayloadError, object_at
from tracking.webhooks.postmark import basic_auth_valid

NAME = "postmark"
FORMAT = "json"  # parse(the body as JSON)


def configured() -> bool:
    return bool(settings.POSTMARK_INBOUND_USER and settings.POSTMARK_INBOUND_PASSWORD)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    return basic_auth_valid(request, settings.POSTMARK_INBOUND_USER, settings.POSTMARK_INBOUND_PASSWORD)


def parse(data: Any) -> list[Inbound]:
    message = object_at(data, _("Postmark's inbound message"))
    raw = message.get("RawEmail")
    if isinstance(raw, str) and raw.strip():
        return [Inbound(read_raw(raw.encode("utf-8", "surrogateescape")))]
    listed = message.get("Headers", [])
    if not isinstance(listed, list) or not all(isinstance(h, dict) for h in listed):
        raise PayloadError(_("“Headers” must be a list of {Name, Value} objects."))
    sender = message.get("FromFull")
    from_value = (
        f"{sender.get('Name', '')} <{sender.get('Email', '')}>" if isinstance(sender, dict) else message.get("From")
    )
    if not isinstance(from_value, str) or "@" not in from_value:
        raise PayloadError(_("The message needs a sender: “From” or “FromFull”."))
    headers = [("From", from_value)]
    headers += [(name, str(message[name])) for name in ("Subject", "Date", "To") if isinstance(message.get(name), str)]
    headers += [(str(h.get("Name", "")), str(h.get("Value", ""))) for h in listed if h.get("Name")]
    text, html = message.get("TextBody"), message.get("HtmlBody")
    return [Inbound(read_fields(headers=headers, text=text if isinstance(text, str) else "", html=html or ""))]
