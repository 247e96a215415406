"""Who fetched an email's pixel or link: a person's mail client, or a machine.

Mail opens are judged by the fetcher, not by a generic crawler list: Gmail, Outlook and Yahoo fetch
images through their own proxies (with user agents such lists flag as crawlers) only when a person
opens the message, so those fetchers count as human. Machines are Apple Mail Privacy Protection
(which prefetches every message from Apple's 17.0.0.0/8, at delivery and again later) and the
security gateways that open and follow everything before the reader does. Timing (a fetch seconds
after delivery, every link of a message within a second) is judged in tracking/services.py, since it
needs the stored events; a crawler list only decides for user agents nobody here recognises.
"""

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

from core.bots import USER_AGENT_MAX_LENGTH
from core.client import is_bot_user_agent

# Apple Mail Privacy Protection fetches from Apple's own network, whatever the user agent says.
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")

# Security gateways and link scanners (lower-case markers of their user agents). They fetch on
# delivery, without a reader; timing catches the ones with an ordinary browser user agent.
SECURITY_SCANNERS = (
    ("mimecast", "Mimecast"),
    ("proofpoint", "Proofpoint"),
    ("urldefense", "Proofpoint URL Defense"),
    ("barracuda", "Barracuda"),
    ("safelinks", "Microsoft Safe Links"),
    ("microsoft office existence discovery", "Microsoft Office link check"),
    ("bingpreview", "Microsoft link preview"),
    ("symantec", "Symantec"),
    ("messagelabs", "Symantec MessageLabs"),
    ("trendmicro", "Trend Micro"),
    ("forcepoint", "Forcepoint"),
    ("ironport", "Cisco IronPort"),
    ("cisco", "Cisco"),
    ("fireeye", "FireEye"),
    ("sophos", "Sophos"),
    ("zscaler", "Zscaler"),
    ("checkpoint", "Check Point"),
    ("vade", "Vade Secure"),
)

# Mail clients and the proxies that fetch for a person who opened the message.
HUMAN_MAIL_CLIENTS = (
    ("googleimageproxy", "Gmail"),
    ("ggpht.com", "Gmail"),
    ("yahoomailproxy", "Yahoo Mail"),
    ("outlook-ios", "Outlook iOS"),
    ("outlook-android", "Outlook Android"),
    ("microsoft outlook", "Outlook"),
    ("ms-office", "Outlook"),
    ("msoffice", "Outlook"),
    ("thunderbird", "Thunderbird"),
    ("airmail", "Airmail"),
    ("sparkdesktop", "Spark"),
    ("superhuman", "Superhuman"),
    ("protonmail", "Proton Mail"),
)


# Every machine reason the product stores, in one stable (English) form; describe_machine_reason
# below gives each its words in LANGUAGE_CODE. The formats with a value are built by the functions.
APPLE_MPP = "Apple Mail Privacy Protection (Apple network)"
CRAWLER = "crawler or script user agent"
NO_USER_AGENT = "no user agent"
LINK_BURST = "every link of the message clicked within a second"
BREVO_PROXY_OPEN = "Brevo proxy open"
SENDGRID_MACHINE_OPEN = "SendGrid machine open (sg_machine_open)"


def after_delivery(seconds: int) -> str:
    return f"{seconds}s after delivery"


def security_scanner(name: str) -> str:
    return f"security scanner ({name})"


@dataclass(frozen=True)
class FetcherVerdict:
    machine_reason: str  # "" when a person may be behind it
    client: str  # what fetched it, for people to read ("Gmail", "Thunderbird", "Mimecast", …)


def _in_apple_network(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip) in APPLE_NETWORK
    except ValueError:
        return False


def _apple_mail(user_agent: str) -> bool:
    """Apple Mail (macOS, iOS) with privacy protection off: WebKit without a browser's name."""
    return "applewebkit" in user_agent and not any(b in user_agent for b in ("safari", "chrome", "firefox"))


@lru_cache(maxsize=4096)
def _by_user_agent(user_agent: str) -> FetcherVerdict:
    lowered = user_agent.lower()
    for marker, name in SECURITY_SCANNERS:
        if marker in lowered:
            return FetcherVerdict(security_scanner(name), name)
    for marker, name in HUMAN_MAIL_CLIENTS:
        if marker in lowered:
            return FetcherVerdict("", name)
    if _apple_mail(lowered):
        return FetcherVerdict("", "Apple Mail")
    if is_bot_user_agent(user_agent):
        return FetcherVerdict(CRAWLER, "")
    return FetcherVerdict("", "")


def judge_mail_fetcher(*, user_agent: str, ip: str | None) -> FetcherVerdict:
    """The fetcher's verdict from what the request says (network, user agent), before timing."""
    if _in_apple_network(ip):
        return FetcherVerdict(APPLE_MPP, "Apple Mail Privacy Protection")
    if not user_agent.strip():
        return FetcherVerdict("", "") if ip is None else FetcherVerdict(NO_USER_AGENT, "")
    # Judged on what is stored: the markers' scan and the cache key stay small whatever the header.
    return _by_user_agent(user_agent[:USER_AGENT_MAX_LENGTH])


def mail_client_name(user_agent: str) -> str:
    """The mail client a stored event's user agent names, for evidence and the timeline ("" if none)."""
    return _by_user_agent(user_agent[:USER_AGENT_MAX_LENGTH]).client if user_agent.strip() else ""


# The reasons are stored as the code writes them (one stable form in the database, whatever the
# language); people read them in LANGUAGE_CODE through describe_machine_reason.
_AFTER_DELIVERY = re.compile(r"(\d+)s after delivery")
_SCANNER = re.compile(r"security scanner \((.+)\)")


def describe_machine_reason(reason: str) -> str:
    """A stored machine reason in the one language of the product (unknown forms are shown as stored)."""
    fixed = {
        APPLE_MPP: _("Apple Mail Privacy Protection (Apple's network)"),
        CRAWLER: _("crawler or script user agent"),
        NO_USER_AGENT: _("no user agent"),
        LINK_BURST: _("every link of the message clicked within a second"),
        BREVO_PROXY_OPEN: _("Brevo proxy open"),
        SENDGRID_MACHINE_OPEN: _("SendGrid machine open (sg_machine_open)"),
    }
    if reason in fixed:
        return fixed[reason]
    if match := _AFTER_DELIVERY.fullmatch(reason):
        return _("%(seconds)s s after delivery") % {"seconds": match[1]}
    if match := _SCANNER.fullmatch(reason):
        return _("security scanner (%(name)s)") % {"name": match[1]}
    return reason
