"""Calendly webhook subscriptions: `{"event": "invitee.created", "created_at": "...", "payload": {...}}`.

`Calendly-Webhook-Signature: t=<unix>,v1=<hex>`: HMAC-SHA256 of `"<t>." + raw body`, keyed with the
subscription's signing key (CALENDLY_WEBHOOK_SIGNING_KEY). As Calendly advises, a `t` older than a
few minutes is refused, so a captured delivery cannot be replayed later; a replay inside the window
changes nothing (each delivery is stored once).

The ak reaches Calendly through the booking link: `?utm_content=<ak>` is copied into
`payload.tracking.utm_content`. A reschedule sends invitee.canceled (`rescheduled: true`) for the old
event and invitee.created for the new one."""

import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.models import Meeting
from tracking.webhooks.events import (
    BookingEvent,
    PayloadError,
    ak_candidates,
    any_datetime,
    email_address,
    event_key,
    event_name,
    object_at,
    optional_text,
    same_digest,
)

NAME = "calendly"
# Calendly's guidance: refuse signatures older than a few minutes.
MAX_AGE_SECONDS = 5 * 60

STATUSES = {
    "invitee.created": Meeting.Status.BOOKED,
    "invitee.canceled": Meeting.Status.CANCELLED,
    "invitee_no_show.created": Meeting.Status.NO_SHOW,
    # The no-show unmarked (they came after all): held once over, booked until then (meetings.py).
    "invitee_no_show.deleted": Meeting.Status.HELD,
}


def configured() -> bool:
    return bool(settings.CALENDLY_WEBHOOK_SIGNING_KEY)


def _signature_parts(header: str) -> tuple[str, list[str]]:
    timestamp, signatures = "", []
    for part in header.split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            signatures.append(value.strip().lower())
    return timestamp, signatures


def authenticate(request: HttpRequest, body: bytes) -> bool:
    timestamp, signatures = _signature_parts(request.headers.get("Calendly-Webhook-Signature", ""))
    if not timestamp.isdigit() or not signatures:
        return False
    key = settings.CALENDLY_WEBHOOK_SIGNING_KEY.encode()
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(same_digest(expected, given) for given in signatures):
        return False
    return abs(time.time() - int(timestamp)) <= MAX_AGE_SECONDS


def parse(data: Any) -> list[BookingEvent]:
    body = object_at(data, "The body")
    name = event_name(body, "event", "body")
    status = STATUSES.get(name)
    if status is None:
        return []  # routing forms, event types…: nothing a meeting needs
    payload = object_at(body.get("payload"), "“payload”")
    event = object_at(payload.get("scheduled_event"), "“payload.scheduled_event”")
    booking_id = optional_text(event, "uri", limit=300) or optional_text(payload, "event", limit=300)
    invitee = optional_text(payload, "uri", limit=300)
    booking_id = booking_id or invitee
    if not booking_id:
        raise PayloadError(_("payload: “scheduled_event.uri” must be a non-empty string."))
    if name == "invitee.canceled" and payload.get("rescheduled") is True:
        status = Meeting.Status.RESCHEDULED
    tracking = payload.get("tracking")
    native = f"{name}:{invitee}:{optional_text(body, 'created_at', limit=40)}" if invitee else None
    return [
        BookingEvent(
            key=event_key(NAME, native, body),
            event=name,
            status=status,
            booking_id=booking_id,
            email=email_address(payload, "email", "payload"),
            starts_at=any_datetime(event.get("start_time"), "payload.scheduled_event", "start_time"),
            ends_at=any_datetime(event["end_time"], "payload.scheduled_event", "end_time")
            if event.get("end_time")
            else None,
            aks=ak_candidates(tracking.get("utm_content") if isinstance(tracking, dict) else None),
            attended=name == "invitee_no_show.deleted",
        )
    ]
