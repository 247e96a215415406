"""What every provider's payload is turned into, the small readers the parsers share, and what a provider
module gives (EmailEventProvider, BookingProvider).

A parser raises PayloadError with a sentence when the body is not of the shape its provider documents;
the view answers 400 with that sentence and stores nothing from the batch."""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

# A provider's own id is kept as "<provider>:<id>" in a 200-character column; longer ids are hashed.
MAX_NATIVE_ID = 150


def event_at(index: int) -> str:
    """Where a problem is, in a batch of events: "event 3"."""
    return _("event %(index)d") % {"index": index}


def same_digest(expected: str, given: str) -> bool:
    """Timing-safe comparison of a computed hex digest with the one a request carried, as bytes:
    `hmac.compare_digest` refuses a `str` with non-ASCII letters (a TypeError, so a 500 answered to
    anyone), and a header or JSON value may hold any letter. A value that cannot be encoded is no
    digest of ours."""
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", errors="replace"))


class PayloadError(ValueError):
    """The body is JSON, but not what the provider sends. Its message is shown to the caller."""


@dataclass(frozen=True)
class ProviderEvent:
    """One email event as a provider reported it, in the product's words (EmailEvent.Kind)."""

    key: str  # dedupe key, "<provider>:<event id>"
    email: str
    message_id: str
    kind: str
    occurred_at: datetime
    ip: str | None = None
    user_agent: str = ""
    url: str = ""
    machine_reason: str = ""  # the provider's own verdict that a machine fetched it
    # The provider's own name for an opt-out ("group_unsubscribe", "spam"…): the proof of the refusal
    # says which event it came from ("sendgrid:group_unsubscribe").
    provider_event: str = ""


def event_key(provider: str, native_id: object, raw: object) -> str:
    """The provider's event id when it documents one; otherwise a hash of the event as sent, which a
    retry repeats byte for byte (Brevo and most Postmark records carry no event id)."""
    if isinstance(native_id, str | int) and not isinstance(native_id, bool):
        text = str(native_id)
        if 0 < len(text) <= MAX_NATIVE_ID:
            return f"{provider}:{text}"
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{provider}:sha256:{hashlib.sha256(canonical.encode('utf-8', 'surrogatepass')).hexdigest()}"


# NUL and lone UTF-16 surrogates: no database column can hold them (tracking/schemas.py says the same).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: str, name: str, where: str) -> str:
    if _UNSTORABLE.search(value):
        raise PayloadError(
            _("%(where)s: “%(name)s” contains a NUL byte or a lone UTF-16 surrogate.") % {"where": where, "name": name}
        )
    return value


def required_text(event: dict[str, Any], name: str, where: str, *, limit: int = 200) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(_("%(where)s: “%(name)s” must be a non-empty string.") % {"where": where, "name": name})
    _storable(value, name, where)
    value = value.strip()
    if len(value) > limit:
        raise PayloadError(
            _("%(where)s: “%(name)s” is longer than %(limit)d characters.")
            % {"where": where, "name": name, "limit": limit}
        )
    return value


def optional_text(event: dict[str, Any], name: str, *, limit: int = 2048) -> str:
    """A field we only keep when it is usable: anything but a string, or a string no column can
    hold, counts as absent (it only describes the event; the event itself is still worth keeping)."""
    value = event.get(name)
    return value[:limit] if isinstance(value, str) and not _UNSTORABLE.search(value) else ""


def email_address(event: dict[str, Any], name: str, where: str) -> str:
    value = required_text(event, name, where, limit=254)
    if "@" not in value:
        raise PayloadError(_("%(where)s: “%(name)s” is not an email address.") % {"where": where, "name": name})
    return value.lower()


def epoch_seconds(value: object, where: str, name: str) -> datetime:
    """A Unix time in seconds (int, float or digits) as an aware datetime; never in the future, since a
    sender's clock ahead of ours must not place an open after the ones that follow it."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 2**33:
        raise PayloadError(_("%(where)s: “%(name)s” must be a Unix time in seconds.") % {"where": where, "name": name})
    return min(datetime.fromtimestamp(value, tz=UTC), timezone.now())


def iso_datetime(value: object, where: str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return min(parsed, timezone.now())
    raise PayloadError(
        _("%(where)s: “%(name)s” must be an ISO 8601 date-time with an offset.") % {"where": where, "name": name}
    )


def object_at(data: object, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(_("%(where)s must be a JSON object.") % {"where": where})
    return data


def event_name(event: dict[str, Any], name: str, where: str) -> str:
    value = event.get(name)
    if not isinstance(value, str):
        raise PayloadError(_("%(where)s: “%(name)s” must be a string.") % {"where": where, "name": name})
    return value


@dataclass(frozen=True)
class BookingEvent:
    """One booking tool's report about one booking, in the product's words (tracking.models.Meeting)."""

    key: str  # dedupe key of the delivery
    event: str  # the tool's own event name, kept for the record
    status: str  # Meeting.Status: booked, rescheduled, cancelled, no_show, held
    booking_id: str
    email: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    aks: tuple[str, ...] = ()  # identity tokens the booking link carried, best first
    previous_booking_id: str = ""  # a reschedule reported as a new booking: the booking it replaces
    # The tool says the attendees came (Cal.com's BOOKING_NO_SHOW_UPDATED with noShow false: a no-show
    # undone): the meeting is held once over, booked until then (tracking/webhooks/meetings.py).
    attended: bool = False


def any_datetime(value: object, where: str, name: str) -> datetime:
    """An ISO 8601 date-time with an offset (or Z), past or future: a meeting's time is in the future."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise PayloadError(
        _("%(where)s: “%(name)s” must be an ISO 8601 date-time with an offset.") % {"where": where, "name": name}
    )


# What an identity token looks like (prospects.models.new_identity_token): anything else is not looked up.
_AK = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def ak_candidates(*values: object) -> tuple[str, ...]:
    """The strings among these that could be an ak (a form answer may be {"value": "..."})."""
    found: list[str] = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, str) and _AK.match(value.strip()) and value.strip() not in found:
            found.append(value.strip())
    return tuple(found)


# --- What a provider gives ------------------------------------------------------------------------------
# Each provider is a module of this package with these names; the views' registries
# (tracking/webhooks/views.py) are typed with these protocols, so mypy checks every module against its
# family: a provider without `parse`, or whose `parse` returns other events, fails `mypy`.
E = TypeVar("E")


class WebhookProvider(Protocol[E]):
    NAME: str  # the path's last part: /api/webhooks/<NAME>

    def configured(self) -> bool:
        """Its secret is set: without it the endpoint answers 404."""
        ...

    def authenticate(self, request: HttpRequest, body: bytes) -> bool:
        """The request is the provider's, as the provider documents it (signature, token, basic auth)."""
        ...

    def parse(self, data: Any) -> list[E]:
        """The events the JSON body carries, or PayloadError with a sentence."""
        ...


class EmailEventProvider(WebhookProvider[ProviderEvent], Protocol):
    """An email service's event webhook (sendgrid, mailgun, brevo, postmark)."""


class BookingProvider(WebhookProvider[BookingEvent], Protocol):
    """A booking tool's webhook (calcom, calendly)."""
