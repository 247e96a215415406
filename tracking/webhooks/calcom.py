"""Cal.com webhooks: `{"triggerEvent": "BOOKING_CREATED", "createdAt": "...", "payload": {...}}`, signed
when the webhook has a secret: `X-Cal-Signature-256` is the hex HMAC-SHA256 of the raw body, keyed with
it (CALCOM_WEBHOOK_SECRET). Without a secret Cal.com does not sign, so the endpoint stays off (404).

The ak reaches Cal.com through the booking link's query string: `?ak=…` fills a booking question of
that name (a hidden field "ak": `payload.responses.ak`), `?metadata[ak]=…` lands in `payload.metadata.ak`;
a `utm_content=<ak>` is read too, like Calendly's."""

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tracking.models import Meeting
from tracking.webhooks.events import (
    BookingEvent,
    PayloadError,
    ak_candidates,
    any_datetime,
    event_key,
    event_name,
    object_at,
    optional_text,
    required_text,
    same_digest,
)

NAME = "calcom"
# Cal.com signs the body but no time apart from it: the body's `createdAt` (when Cal.com sent the
# delivery) is what makes a copied delivery stale, as Calendly's signed `t=` does.
MAX_AGE_SECONDS = 5 * 60

STATUSES = {
    "BOOKING_CREATED": Meeting.Status.BOOKED,
    "BOOKING_RESCHEDULED": Meeting.Status.BOOKED,  # the new time; the old uid, when given, is marked moved
    "BOOKING_CANCELLED": Meeting.Status.CANCELLED,
    "BOOKING_REJECTED": Meeting.Status.CANCELLED,
    "MEETING_ENDED": Meeting.Status.HELD,
    "BOOKING_NO_SHOW_UPDATED": Meeting.Status.NO_SHOW,
    "AFTER_GUESTS_CAL_VIDEO_NO_SHOW": Meeting.Status.NO_SHOW,
}


def configured() -> bool:
    return bool(settings.CALCOM_WEBHOOK_SECRET)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    given = request.headers.get("X-Cal-Signature-256", "")
    expected = hmac.new(settings.CALCOM_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return bool(given) and same_digest(expected, given.strip().lower().removeprefix("sha256="))


def _attendee_email(payload: dict[str, Any]) -> str:
    attendees = payload.get("attendees")
    if isinstance(attendees, list):
        for attendee in attendees:
            if isinstance(attendee, dict) and isinstance(attendee.get("email"), str) and "@" in attendee["email"]:
                return attendee["email"].strip().lower()[:254]
    responses = payload.get("responses")
    email = responses.get("email") if isinstance(responses, dict) else None
    email = email.get("value") if isinstance(email, dict) else email
    return email.strip().lower()[:254] if isinstance(email, str) and "@" in email else ""


def _attended(payload: dict[str, Any]) -> bool:
    """BOOKING_NO_SHOW_UPDATED lists the attendees it changed, each with `noShow` true (marked as a
    no-show) or false (unmarked: they came). Attended when every one listed is false; a payload
    without the flag (older Cal.com) is a no-show, as the event's name says."""
    attendees = payload.get("attendees")
    flags = [a.get("noShow") for a in attendees if isinstance(a, dict)] if isinstance(attendees, list) else []
    return bool(flags) and all(flag is False for flag in flags)


def _aks(payload: dict[str, Any]) -> tuple[str, ...]:
    def field(container: object, name: str) -> object:
        return container.get(name) if isinstance(container, dict) else None

    responses, metadata, tracking = payload.get("responses"), payload.get("metadata"), payload.get("tracking")
    return ak_candidates(
        field(responses, "ak"),
        field(payload.get("userFieldsResponses"), "ak"),
        field(metadata, "ak"),
        field(tracking, "utm_content"),
        field(metadata, "utm_content"),
        field(responses, "utm_content"),
    )


def _check_fresh(body: dict[str, Any]) -> None:
    """Refuses a delivery sent more than MAX_AGE_SECONDS ago (or as far ahead): a signed delivery
    copied from a log or a proxy would otherwise be accepted again months later."""
    created = any_datetime(body.get("createdAt"), "body", "createdAt")
    age = (timezone.now() - created).total_seconds()
    if abs(age) > MAX_AGE_SECONDS:
        raise PayloadError(
            _(
                "body: “createdAt” (%(created)s) is more than %(minutes)d minutes from now: a Cal.com delivery "
                "is refused unless it is fresh, so that a copied one cannot be played again."
            )
            % {"created": created.isoformat(), "minutes": MAX_AGE_SECONDS // 60}
        )


def parse(data: Any) -> list[BookingEvent]:
    body = object_at(data, "The body")
    trigger = event_name(body, "triggerEvent", "body")
    status = STATUSES.get(trigger)
    if status is None:
        _check_fresh(body)
        return []  # PING, MEETING_STARTED, forms…: nothing a meeting needs
    payload = object_at(body.get("payload"), "“payload”")
    uid = optional_text(payload, "uid", limit=300) or optional_text(payload, "bookingUid", limit=300)
    if not uid:
        raise PayloadError(_("payload: “uid” must be a non-empty string."))
    attended = trigger == "BOOKING_NO_SHOW_UPDATED" and _attended(payload)
    if attended:
        status = Meeting.Status.HELD
    starts = ends = None
    if status in (Meeting.Status.BOOKED, Meeting.Status.CANCELLED) or payload.get("startTime"):
        starts = any_datetime(payload.get("startTime"), "payload", "startTime")
        ends = any_datetime(payload["endTime"], "payload", "endTime") if payload.get("endTime") else None
    previous = ""
    if trigger == "BOOKING_RESCHEDULED":
        previous = optional_text(payload, "rescheduleUid", limit=300) or optional_text(
            payload, "rescheduledFromUid", limit=300
        )
    # Checked once the payload is read, so a malformed one is told what is wrong with it first.
    _check_fresh(body)
    native = f"{trigger}:{uid}:{required_text(body, 'createdAt', 'body')}"
    return [
        BookingEvent(
            key=event_key(NAME, native, body),
            event=trigger,
            status=status,
            booking_id=uid,
            email=_attendee_email(payload),
            starts_at=starts,
            ends_at=ends,
            aks=_aks(payload),
            previous_booking_id=previous if previous != uid else "",
            attended=attended,
        )
    ]
