"""Signed tokens for the open pixel and tracked links (django.core.signing, one salt per kind).

A pixel token cannot be replayed as a link token, and neither can be altered: the destination of a
tracked link comes only from inside its signature, so there is no open redirect. And since a signed
link on our domain is worth stealing, its destination must also be one of our pages (the landing
pages' origins, PUBLIC_BASE_URL, LANDING_PAGE_URL and the hosts of TRACKING_LINK_HOSTS): the `ak`,
which makes a visit *verified*, is handed only to those.

Tokens carry their signing time (signing.dumps is timestamped): older than TRACKING_TOKEN_MAX_AGE_DAYS
they are expired. A link token also carries a fingerprint of the `ak` it was made for, so a link made
before the prospect's `ak` was replaced (prospect_rotate_identity_token) no longer hands out the new one.
"""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import validate_host
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from prospects.consent import LINK, PIXEL, prospect_allows
from prospects.models import ConsentState, Prospect

PIXEL_SALT = "arkwatch.tracking.pixel"
LINK_SALT = "arkwatch.tracking.link"
# The per-message pixel of a prospect without consent: its token names the message only.
MESSAGE_PIXEL_SALT = "arkwatch.tracking.message-pixel"
# The consent and opt-out links: a prospect and the answer its page's button records.
CONSENT_SALT = "arkwatch.tracking.consent"
CONSENT_ANSWERS = (ConsentState.GRANTED, ConsentState.REFUSED)


@dataclass(frozen=True)
class EmailLinks:
    # "" when the prospect's consent does not allow the personal link (TRACKING_CONSENT_FOR has `link`).
    ak: str
    pixel_url: str
    link_url: str | None
    consent_url: str = ""
    optout_url: str = ""

    def as_dict(self) -> dict:
        return {
            "ak": self.ak,
            "pixel_url": self.pixel_url,
            "link_url": self.link_url,
            "consent_url": self.consent_url,
            "optout_url": self.optout_url,
        }


def ak_fingerprint(ak: str) -> str:
    """Says which `ak` a link was made for without putting the `ak` itself in the link."""
    return salted_hmac("arkwatch.tracking.link-ak", ak, algorithm="sha256").hexdigest()[:16]


def make_pixel_token(*, prospect_id: int, message_id: str) -> str:
    return signing.dumps({"p": prospect_id, "m": message_id}, salt=PIXEL_SALT, compress=True)


def make_message_pixel_token(*, message_id: str) -> str:
    return signing.dumps({"m": message_id}, salt=MESSAGE_PIXEL_SALT, compress=True)


def read_message_pixel_token(token: str) -> str | None:
    """The message id of a per-message pixel, or None when the token is forged or of another kind.
    It never expires: counting an open of an old message harms nobody."""
    try:
        payload = signing.loads(token, salt=MESSAGE_PIXEL_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    message_id = payload.get("m") if isinstance(payload, dict) else None
    return message_id[:200] if isinstance(message_id, str) and message_id else None


def make_consent_token(*, prospect_id: int, answer: str) -> str:
    return signing.dumps({"p": prospect_id, "a": answer}, salt=CONSENT_SALT, compress=True)


def read_consent_token(token: str) -> tuple[int, str] | None:
    """(prospect id, answer) of a consent or opt-out link, or None when forged or altered. These links
    never expire: the way out must work from every email, however old (the CNIL's recommendation)."""
    try:
        payload = signing.loads(token, salt=CONSENT_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        return None
    if payload.get("a") not in CONSENT_ANSWERS:
        return None
    return payload["p"], payload["a"]


def consent_links_for(prospect: Prospect) -> tuple[str, str]:
    """(consent_url, optout_url): the two links every email carries."""
    base = settings.PUBLIC_BASE_URL
    consent, optout = (
        base + reverse("tracking:consent", args=[make_consent_token(prospect_id=prospect.pk, answer=answer)])
        for answer in CONSENT_ANSWERS
    )
    return consent, optout


def make_link_token(*, prospect_id: int, message_id: str, url: str, ak: str = "") -> str:
    payload: dict = {"p": prospect_id, "m": message_id, "u": url}
    if ak:
        payload["k"] = ak_fingerprint(ak)
    return signing.dumps(payload, salt=LINK_SALT, compress=True)


def _max_age_seconds() -> int | None:
    days = settings.TRACKING_TOKEN_MAX_AGE_DAYS
    return days * 86400 if days else None


def read_token(token: str, *, salt: str) -> dict | None:
    """The token's payload, or None when it is forged, altered, of another kind or expired."""
    try:
        payload = signing.loads(token, salt=salt, max_age=_max_age_seconds())
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        return None
    if not isinstance(payload.get("m"), str):
        return None
    return payload


def token_expired(token: str, *, salt: str) -> bool:
    """A genuine token of this kind, only too old (read_token said None): the reader gets a page
    saying so, not a "not found"."""
    try:
        signing.loads(token, salt=salt, max_age=_max_age_seconds())
    except signing.SignatureExpired:
        return True
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return False
    return False


def link_is_current(payload: dict, prospect: Prospect, *, rotated: bool) -> bool:
    """Whether a tracked link still stands for the prospect's `ak`. A link made before fingerprints
    existed is current until the prospect's first rotation (`rotated`: it has retired tokens)."""
    fingerprint = payload.get("k")
    if not isinstance(fingerprint, str):
        return not rotated
    return fingerprint == ak_fingerprint(prospect.identity_token)


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


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


@lru_cache(maxsize=1)
def allowed_link_hosts() -> tuple[str, ...]:
    """Where a tracked link may lead: our landing pages' hosts and these patterns (".example.com" is
    the domain and its sub-domains, as in ALLOWED_HOSTS; "*" is refused)."""
    hosts = [_host_of(origin) for origin in settings.TRACKING_ALLOWED_ORIGINS]
    hosts += [_host_of(settings.PUBLIC_BASE_URL), _host_of(settings.LANDING_PAGE_URL)]
    # "https://www.example.com" given where a host was meant still means www.example.com.
    hosts += [_host_of(host) if "://" in host else host.strip().lower() for host in settings.TRACKING_LINK_HOSTS]
    return tuple(dict.fromkeys(host for host in hosts if host and host != "*"))


@receiver(setting_changed)
def _forget_allowed_link_hosts(*, setting: str, **kwargs: object) -> None:
    if setting in ("TRACKING_ALLOWED_ORIGINS", "PUBLIC_BASE_URL", "LANDING_PAGE_URL", "TRACKING_LINK_HOSTS"):
        allowed_link_hosts.cache_clear()


def link_host_allowed(url: str) -> bool:
    host = _host_of(url)
    return is_http_url(url) and bool(host) and validate_host(host, list(allowed_link_hosts()))


def destination_problem(url: str) -> str | None:
    """Why `url` cannot be a tracked link's destination, as a sentence; None when it can."""
    if not is_http_url(url):
        return _("“%(url)s” is not an absolute http(s) address.") % {"url": url}
    if not link_host_allowed(url):
        return _(
            "%(host)s is not one of our pages: a tracked link leads only to the landing pages "
            "(TRACKING_ALLOWED_ORIGINS), PUBLIC_BASE_URL, LANDING_PAGE_URL or a host of TRACKING_LINK_HOSTS "
            "(now: %(hosts)s)."
        ) % {"host": _host_of(url) or url, "hosts": ", ".join(allowed_link_hosts()) or "—"}
    return None


def email_links_for(prospect: Prospect, *, message_id: str, url: str | None = None) -> EmailLinks:
    """What an email sender puts in the next message to this prospect. `url` must be allowed
    (destination_problem); the callers say so to the person who gave it.

    Without the consent the policy asks (prospects/consent.py): the pixel is the message's, counting
    opens in aggregate; with `link` in the policy, the link is the page itself, without `ak`."""
    base = settings.PUBLIC_BASE_URL
    if prospect_allows(prospect, PIXEL):
        pixel_token = make_pixel_token(prospect_id=prospect.pk, message_id=message_id)
    else:
        pixel_token = make_message_pixel_token(message_id=message_id)
    pixel = base + reverse("tracking:pixel", args=[pixel_token])
    personal = prospect_allows(prospect, LINK)
    link = None
    if url:
        problem = destination_problem(url)
        if problem:
            raise ValueError(problem)
        if personal:
            link_token = make_link_token(
                prospect_id=prospect.pk, message_id=message_id, url=url, ak=prospect.identity_token
            )
            link = base + reverse("tracking:link", args=[link_token])
        else:
            link = url
    consent_url, optout_url = consent_links_for(prospect)
    return EmailLinks(
        ak=prospect.identity_token if personal else "",
        pixel_url=pixel,
        link_url=link,
        consent_url=consent_url,
        optout_url=optout_url,
    )
