"""How values are shown to people: phone numbers grouped for reading, times in TIME_ZONE, a CTA's
label rather than its id.

Stored values stay machine values (E.164, UTC); only what a person reads goes through here. `tel:`
links and --json output keep the stored form.
"""

import ipaddress
import re
from datetime import datetime
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.utils import formats, timezone


def phone_display(number: str, *, international: bool = False) -> str:
    """ "+33199001234" -> "01 99 00 12 34" (a number of PHONE_REGION, national format), or
    "+44 7700 900123" for another country; `international=True` always gives the international form
    ("+33 1 99 00 12 34"), which dials from anywhere. A value that is not a number is shown as is."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    home = phonenumbers.region_code_for_number(parsed) == settings.PHONE_REGION
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home and not international
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def moment_display(value: datetime | None, *, empty: str = "-") -> str:
    """A time for a person: in TIME_ZONE, to the minute, day and month unambiguous in either language
    ("25 novembre 2026 20:35", "25 November 2026 20:35")."""
    if value is None:
        return empty
    return formats.date_format(timezone.localtime(value), "j F Y H:i")


def cta_label(cta_id: str) -> str:
    """The words people read for a CTA id: SIGNAL_CTA_LABELS ("cta_reserver_audit" -> "Réserver
    audit"), else the id made readable ("cta_demo_call" -> "Demo call")."""
    label = settings.SIGNAL_CTA_LABELS.get(cta_id)
    if label:
        return str(label)
    words = " ".join(cta_id.removeprefix("cta_").replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] if words else "CTA"


def website_url(website: str) -> str:
    """A website as typed in a spreadsheet ("acme.example", "www.acme.example/fr") made a link."""
    website = (website or "").strip()
    if not website:
        return ""
    return website if website.startswith(("http://", "https://")) else "https://" + website


def website_label(website: str) -> str:
    """The fewest characters that name it: "linkedin.com/in/alice", "acme.example"."""
    label = (website or "").strip().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return label.rstrip("/")


# A host people may read: a DNS name with a dot and a top-level name of letters, or an IP address. A
# host without a dot in an Apprise URL is a secret in the host's place (an ntfy.sh topic
# "ntfy://topic", a bot token "tgram://123:AB…").
_DNS_NAME = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$")


def _readable_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_DNS_NAME.match(host))
    return "." in host or ":" in host  # "123456789" is a bot's id in Telegram's URL, not an address


def channel_display(url: str) -> str:
    """An alert channel (an Apprise URL, or the label stored for it) as anyone in the back office may
    read it: its scheme and host only ("ntfy://ntfy.example.com", "json://hooks.example.com"), never
    a path, a user, a password or a query string, where a topic or a token lives; "tgram://…" when
    the host itself is the secret."""
    scheme, sep, _rest = (url or "").partition("://")
    if not sep or not scheme:
        return "…"
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        host = ""
    if not _readable_host(host):
        return f"{scheme.lower()}://…"
    return f"{scheme.lower()}://{host}"
