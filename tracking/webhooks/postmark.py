"""Postmark webhooks: one record per POST, told apart by `RecordType`. Postmark signs nothing; the
webhook URL carries HTTP basic auth credentials (https://user:password@host/api/webhooks/postmark),
checked against POSTMARK_WEBHOOK_USER / POSTMARK_WEBHOOK_PASSWORD."""

import base64
import binascii
import hmac
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.models import EmailEvent
from tracking.webhooks.events import (
    ProviderEvent,
    email_address,
    event_key,
    event_name,
    iso_datetime,
    object_at,
    optional_text,
    required_text,
)

NAME = "postmark"
KINDS = {
    "Delivery": EmailEvent.Kind.DELIVERED,
    "Open": EmailEvent.Kind.OPENED,
    "Click": EmailEvent.Kind.CLICKED,
    "Bounce": EmailEvent.Kind.BOUNCED,
    "SpamComplaint": EmailEvent.Kind.COMPLAINED,
    # Only an address put on the suppression list (SuppressSending true), see _subscription_change().
    "SubscriptionChange": EmailEvent.Kind.UNSUBSCRIBED,
}
# Why Postmark suppresses an address: the person's own unsubscribe (or the sender's manual suppression)
# and a spam complaint are a "stop"; a hard bounce says nothing of anyone's wish (the Bounce record has it).
SUPPRESSIONS = {"ManualSuppression": "unsubscribe", "SpamComplaint": "spam_complaint"}
# Bounce types that mean the message will not arrive; soft bounces and auto-replies are not bounces here.
HARD_BOUNCES = {"HardBounce", "BadEmailAddress", "Blocked"}
# Where each record type puts the recipient and the time.
RECIPIENT = {"Bounce": "Email", "SpamComplaint": "Email"}
TIME = {
    "Delivery": "DeliveredAt",
    "Bounce": "BouncedAt",
    "SpamComplaint": "BouncedAt",
    "SubscriptionChange": "ChangedAt",
}


def configured() -> bool:
    return bool(settings.POSTMARK_WEBHOOK_USER and settings.POSTMARK_WEBHOOK_PASSWORD)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    return basic_auth_valid(request, settings.POSTMARK_WEBHOOK_USER, settings.POSTMARK_WEBHOOK_PASSWORD)


def basic_auth_valid(request: HttpRequest, expected_user: str, expected_password: str) -> bool:
    """HTTP basic auth as Postmark's webhook URLs carry it (the inbound webhook's too)."""
    scheme, _sep, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, colon, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return False
    # Both compared, always: the time taken says nothing about which one was wrong.
    user_ok = hmac.compare_digest(user.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    return bool(colon) and user_ok and password_ok


def parse(data: Any) -> list[ProviderEvent]:
    raw = object_at(data, "Postmark's record")
    where = _("the record")
    record_type = event_name(raw, "RecordType", where)
    kind = KINDS.get(record_type)
    if kind is None:
        return []  # Inbound, and whatever Postmark adds: not an email event this product keeps
    if kind == EmailEvent.Kind.BOUNCED and raw.get("Type") not in HARD_BOUNCES:
        return []
    opt_out = kind in EmailEvent.OPT_OUTS
    provider_event = record_type
    if record_type == "SubscriptionChange":
        reason = SUPPRESSIONS.get(optional_text(raw, "SuppressionReason", limit=40))
        if raw.get("SuppressSending") is not True or reason is None:
            # A reactivation, or a hard bounce's suppression: nobody said "stop". A reactivation does
            # not undo a do-not-contact either: only staff, by hand, may contact them again.
            return []
        provider_event = f"SubscriptionChange:{reason}"
    geo = raw.get("Geo")
    return [
        ProviderEvent(
            # Bounces and complaints carry an ID; the other records none, so the record as sent is its identity.
            key=event_key(NAME, raw.get("ID") if record_type in ("Bounce", "SpamComplaint") else None, raw),
            email=email_address(raw, RECIPIENT.get(record_type, "Recipient"), where),
            # A manual suppression names no message (MessageID null): the "stop" is honoured all the same.
            message_id=optional_text(raw, "MessageID", limit=200)
            if opt_out
            else required_text(raw, "MessageID", where),
            kind=kind,
            occurred_at=_occurred_at(raw, TIME.get(record_type, "ReceivedAt"), where),
            ip=(optional_text(geo, "IP", limit=64) or None) if isinstance(geo, dict) else None,
            user_agent=optional_text(raw, "UserAgent"),
            url=optional_text(raw, "OriginalLink"),
            provider_event=provider_event if opt_out else "",
        )
    ]


def _occurred_at(raw: dict[str, Any], name: str, where: str) -> datetime:
    return iso_datetime(raw.get(name), where, name)
