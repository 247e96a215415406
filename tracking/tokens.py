"""Signed tokens for the open pixel and tracked links (django.core.signing, one salt per kind).

A pixel token cannot be replayed as a link token, and neither can be altered: the destination of a
tracked link comes only from inside its signature, so there is no open redirect.
"""

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse

from prospects.models import Prospect

PIXEL_SALT = "arkwatch.tracking.pixel"
LINK_SALT = "arkwatch.tracking.link"


@dataclass(frozen=True)
class EmailLinks:
    ak: str
    pixel_url: str
    link_url: str | None

    def as_dict(self) -> dict:
        return {"ak": self.ak, "pixel_url": self.pixel_url, "link_url": self.link_url}


def make_pixel_token(*, prospect_id: int, message_id: str) -> str:
    return signing.dumps({"p": prospect_id, "m": message_id}, salt=PIXEL_SALT, compress=True)


def make_link_token(*, prospect_id: int, message_id: str, url: str) -> str:
    return signing.dumps({"p": prospect_id, "m": message_id, "u": url}, salt=LINK_SALT, compress=True)


def read_token(token: str, *, salt: str) -> dict | None:
    """The token's payload, or None when it is forged, altered or of another kind."""
    try:
        payload = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        return None
    if not isinstance(payload.get("m"), str):
        return None
    return payload


def add_query_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def email_links_for(prospect: Prospect, *, message_id: str, url: str | None = None) -> EmailLinks:
    """What an email sender puts in the next message to this prospect."""
    base = settings.PUBLIC_BASE_URL
    pixel = make_pixel_token(prospect_id=prospect.pk, message_id=message_id)
    link = None
    if url:
        link_token = make_link_token(prospect_id=prospect.pk, message_id=message_id, url=url)
        link = base + reverse("tracking:link", args=[link_token])
    return EmailLinks(
        ak=prospect.identity_token, pixel_url=base + reverse("tracking:pixel", args=[pixel]), link_url=link
    )
