"""Brevo transactional webhooks: one event object per POST (an array when the webhook is "batched").
Brevo signs nothing; it sends a secret we choose, either as `Authorization: Bearer <token>` (the
webhook's bearer authentication) or in the URL as `?token=<token>`. The secret is BREVO_WEBHOOK_TOKEN."""

import hmac
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tracking.mail_fetchers import BREVO_PROXY_OPEN as PROXY_OPEN
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

NAME = "brevo"
PROXY_OPENS = {"proxy_open", "unique_proxy_open"}
KINDS = {
    "request": EmailEvent.Kind.SENT,
    "delivered": EmailEvent.Kind.DELIVERED,
    "opened": EmailEvent.Kind.OPENED,  # Brevo's "First opening"
    "unique_opened": EmailEvent.Kind.OPENED,  # Brevo's "Known open": the later ones
    # "Loaded by proxy" (Apple Mail Privacy Protection and the like): Brevo itself says no person did it.
    "proxy_open": EmailEvent.Kind.OPENED,
    "unique_proxy_open": EmailEvent.Kind.OPENED,
    "click": EmailEvent.Kind.CLICKED,
    "hard_bounce": EmailEvent.Kind.BOUNCED,
    "invalid_email": EmailEvent.Kind.BOUNCED,
    "blocked": EmailEvent.Kind.BOUNCED,  # never sent; to a caller it did not arrive
    "unsubscribed": EmailEvent.Kind.UNSUBSCRIBED,
    "spam": EmailEvent.Kind.COMPLAINED,  # Brevo's "Spam" (a complaint)
}


def configured() -> bool:
    return bool(settings.BREVO_WEBHOOK_TOKEN)


def authenticate(request: HttpRequest, body: bytes) -> bool:
    return token_valid(request, settings.BREVO_WEBHOOK_TOKEN)


def token_valid(request: HttpRequest, token: str) -> bool:
    """The secret as Brevo sends it: a bearer token, or ?token= in the URL (inbound parsing alike)."""
    expected = token.encode()
    scheme, _sep, bearer = request.headers.get("Authorization", "").partition(" ")
    given = bearer.strip() if scheme.lower() == "bearer" else request.GET.get("token", "")
    return bool(given) and hmac.compare_digest(given.encode(), expected)


def parse(data: Any) -> list[ProviderEvent]:
    if isinstance(data, dict):
        items: list[Any] = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise PayloadError(_("Brevo posts a JSON object (or an array of them for a batched webhook)."))
    events = []
    for index, item in enumerate(items):
        where = _("the event") if isinstance(data, dict) else event_at(index)
        raw = object_at(item, where)
        name = event_name(raw, "event", where)
        kind = KINDS.get(name)
        if kind is None:
            continue  # soft_bounce, deferred, error…: not an email event this product keeps
        opt_out = kind in EmailEvent.OPT_OUTS
        events.append(
            ProviderEvent(
                # Brevo's "id" is the webhook's, not the event's: the event as sent is its identity.
                key=event_key(NAME, None, raw),
                email=email_address(raw, "email", where),
                message_id=optional_text(raw, "message-id", limit=200)
                if opt_out
                else required_text(raw, "message-id", where),
                kind=kind,
                occurred_at=_occurred_at(raw, where),
                ip=optional_text(raw, "ip", limit=64) or None,
                user_agent=optional_text(raw, "user_agent") or optional_text(raw, "user-agent"),
                url=optional_text(raw, "link"),
                machine_reason=PROXY_OPEN if name in PROXY_OPENS else "",
                provider_event=name if opt_out else "",
            )
        )
    return events


def _occurred_at(raw: dict[str, Any], where: str) -> datetime:
    # ts_epoch is documented as UTC milliseconds (ts_event, seconds, is the fallback), but Brevo's own
    # example shows seconds: a value past 10^11 can only be milliseconds (10^11 s is the year 5138).
    epoch = raw.get("ts_epoch")
    if isinstance(epoch, int | float) and not isinstance(epoch, bool) and epoch > 0:
        return epoch_seconds(epoch / 1000 if epoch > 10**11 else epoch, where, "ts_epoch")
    return epoch_seconds(raw.get("ts_event"), where, "ts_event")
