"""Validation of the public payloads.

Strict about types — a JSON number, list or object where a string is expected is an error, never
silently turned into text — and cheap: the browser events are the hottest path of the product, so
each field is one type check and one precompiled regex or bound check (Django forms cost far more per
request, mostly in copying their fields: docs/benchmarks.md, "Figures that used to live in code comments").
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tracking.models import EmailEvent, VisitEvent

_ID = re.compile(r"[A-Za-z0-9_-]{8,128}")
_CTA = re.compile(r"[a-z0-9_-]{1,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What no database column can hold: NUL (PostgreSQL text refuses it) and lone UTF-16 surrogates
# (a JSON "\\ud800" escape decodes to one; neither UTF-8 nor a driver can encode it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Invalid(Exception):
    """One field's problem, as a sentence."""


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(_("Must be a string."))
    if _UNSTORABLE.search(value):
        raise Invalid(_("Contains a character that cannot be stored (a NUL byte or a lone UTF-16 surrogate)."))
    return value


def _matching(pattern: re.Pattern[str], problem: str) -> Callable[[object], str]:
    """A check that the value is a string the pattern matches whole. The pattern's alphabet holds no
    unstorable character, so a match needs no other test: these fields come with every event."""

    def check(value: object) -> str:
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        _string(value)  # says what kind of value it is, when it is not a string
        raise Invalid(_(problem))

    return check


identifier = _matching(_ID, gettext_noop("Use 8 to 128 characters among letters, digits, “_” and “-”."))
cta_id = _matching(_CTA, gettext_noop("Use 1 to 64 characters among a-z, 0-9, “_” and “-”."))
identity_token = _matching(_TOKEN, gettext_noop("This is not an identity token."))


def http_url(value: object) -> str:
    value = _string(value)
    if len(value) > 2048:
        raise Invalid(_("At most 2048 characters."))
    if _CONTROL.search(value):
        raise Invalid(_("The URL contains control characters."))
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise Invalid(_("This is not a valid URL.")) from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(_("Give an absolute http(s) URL."))
    return value


def page(value: object) -> str:
    value = _string(value)
    if value.startswith("/") and not value.startswith("//"):
        if len(value) > 2048:
            raise Invalid(_("At most 2048 characters."))
        if _CONTROL.search(value):
            raise Invalid(_("The path contains control characters."))
        return value
    return http_url(value)


def email(value: object) -> str:
    value = _string(value).strip()
    if len(value) > 254:
        raise Invalid(_("At most 254 characters."))
    try:
        validate_email(value)
    except ValidationError as exc:
        raise Invalid(_("Enter a valid email address.")) from exc
    return value.lower()


def choice(*allowed: str) -> Callable:
    def check(value: object) -> str:
        if value in allowed:  # only strings are in `allowed`
            return value  # type: ignore[return-value]
        _string(value)
        raise Invalid(_("Use one of: %(choices)s.") % {"choices": ", ".join(allowed)})

    return check


def non_negative_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_("Must be a whole number."))
    if not 0 <= value <= 10**12:
        raise Invalid(_("Must be between 0 and 10^12."))
    return value


def heartbeat_period(value: object) -> float:
    """The tracker's period in seconds (1–60, docs/interface.md), a JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(_("Must be a number of seconds."))
    if not 1 <= value <= 60:
        raise Invalid(_("Must be between 1 and 60 seconds."))
    return float(value)


def message_id(value: object) -> str:
    value = _string(value)
    if not 1 <= len(value) <= 200 or not value.strip() or _CONTROL.search(value):
        raise Invalid(_("Give the message id as 1 to 200 printable characters."))
    return value


def aware_datetime(value: object) -> datetime:
    try:
        parsed = parse_datetime(_string(value))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Invalid(_("Give an ISO 8601 date and time with its offset, e.g. 2026-11-24T09:14:00+01:00."))
    if not 2000 <= parsed.year <= 2100:
        raise Invalid(_("This date is out of range."))
    if parsed > timezone.now() + timedelta(minutes=5):
        raise Invalid(_("This time is more than 5 minutes in the future."))
    return parsed


def short_text(value: object) -> str:
    value = _string(value)
    return value[:512]


@dataclass(frozen=True)
class Schema:
    required: dict[str, Callable]
    optional: dict[str, Callable]
    defaults: dict[str, object]

    def validate(self, data: dict) -> tuple[dict, dict[str, str]]:
        """(clean values, {field: problem}). Unknown keys are ignored (the contract may grow)."""
        clean: dict = dict(self.defaults)
        problems: dict[str, str] = {}
        for name, check in self.required.items():
            value = data.get(name)
            if value is None or value == "":
                problems[name] = _("This field is required.")
                continue
            try:
                clean[name] = check(value)
            except Invalid as exc:
                problems[name] = str(exc)
        for name, check in self.optional.items():
            value = data.get(name)
            if value is None or value == "":
                continue
            try:
                clean[name] = check(value)
            except Invalid as exc:
                problems[name] = str(exc)
        return clean, problems


_BROWSER_OPTIONAL = {"page_view_id": identifier, "ak": identity_token, "email": email, "referrer": http_url}

VISIT = Schema(
    required={"visitor_id": identifier, "page": page},
    optional={
        **_BROWSER_OPTIONAL,
        "event": choice(*VisitEvent.Kind.values),
        "engaged_ms": non_negative_int,
        "heartbeat_s": heartbeat_period,
    },
    defaults={"event": VisitEvent.Kind.HEARTBEAT},
)
CTA = Schema(
    required={"visitor_id": identifier, "page": page, "cta_id": cta_id}, optional=_BROWSER_OPTIONAL, defaults={}
)
IDENTIFY = Schema(required={"visitor_id": identifier, "email": email}, optional={"page": page}, defaults={})
EMAIL_EVENT = Schema(
    required={"email": email, "message_id": message_id, "event": choice(*EmailEvent.API_KINDS)},
    optional={"occurred_at": aware_datetime, "user_agent": short_text},
    defaults={},
)


def error_payload(problems: dict[str, str]) -> dict:
    return {
        "error": _("The event was not stored: check %(fields)s.") % {"fields": ", ".join(problems)},
        "fields": problems,
    }
