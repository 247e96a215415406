"""An alert's evidence as one sentence, in the active language, for the SMS, the admin, the back
office and the commands: "Lu 104 s sur /audit-gratuit-monitoring.html", "A cliqué « Réserver audit »",
"A rouvert l'email 30 h après l'envoi — Thunderbird".

The evidence stays the JSON detection stored (dwell.py, detection.py); only its reading is here.
Imported by alerts.models, so it names the signals by value rather than importing them.
"""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core.display import cta_label
from tracking.models import BookingTool
from tracking.tokens import link_host_allowed

PAGE_MAX_CHARS = 40


def page_display(page: str) -> str:
    """A page as a person reads it: its path, without query or fragment, at most PAGE_MAX_CHARS."""
    parts = urlsplit(page or "")
    path = parts.path or page or ""
    if len(path) > PAGE_MAX_CHARS:
        path = path[: PAGE_MAX_CHARS - 1] + "…"
    return path


def landing_page_display(page: str) -> str:
    """The page of an unverified alert, as its SMS may name it: only the configured landing page
    (LANDING_PAGE_URL's path, on one of our landing hosts when the page is a full URL), else "".
    Whoever knows a prospect's email chooses the rest of the page field (the path of a claimed visit
    is any text), and the founder's SMS is no place for their words."""
    page = page or ""
    try:
        parts, landing = urlsplit(page), urlsplit(settings.LANDING_PAGE_URL)
    except ValueError:
        return ""
    if (parts.scheme or parts.netloc) and not link_host_allowed(page):
        return ""
    if not landing.path or parts.path != landing.path:
        return ""
    return page_display(parts.path)


def _number(value: Any) -> str:
    """26.5 -> "26,5" in French; 30.0 -> "30"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int | float):
        return str(value)
    return formats.number_format(value)


def meeting_moment(iso: object, now: datetime | None = None) -> str:
    """When a meeting is, as the founder says it: "jeudi 10:00" within the week, "jeudi 12 février
    10:00" beyond, in TIME_ZONE."""
    try:
        moment = timezone.localtime(datetime.fromisoformat(str(iso)))
    except (TypeError, ValueError):
        return "?"
    now = now or timezone.now()
    near = timedelta(0) <= moment - now < timedelta(days=6)
    return formats.date_format(moment, "l H:i" if near else "l j F H:i")


def meeting_predicate(evidence: dict[str, Any]) -> str:
    """ "a pris RDV jeudi 10:00": what follows the prospect's name in the SMS."""
    return _("booked a meeting %(when)s") % {"when": meeting_moment(evidence.get("starts_at"))}


# The reply's first words in an SMS: enough to know what they said, short enough for one segment.
REPLY_WORDS_CHARS = 40


def reply_words(evidence: dict[str, Any], limit: int = REPLY_WORDS_CHARS) -> str:
    """The reply's first words, cut at a word with "..." when longer than `limit`."""
    words = " ".join(str(evidence.get("excerpt") or "").split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 3].rsplit(" ", 1)[0] if " " in words[: limit - 3] else words[: limit - 3]
    return cut.rstrip(" ,;:.") + "..."


def reply_predicate(evidence: dict[str, Any]) -> str:
    """ "a répondu : « Oui, appelez-moi jeudi »": what follows the prospect's name in the SMS."""
    return _("replied: “%(words)s”") % {"words": reply_words(evidence)}


def evidence_sentence(signal: str, evidence: dict[str, Any] | None, *, unverified: bool = False) -> str:
    """`unverified`: the visitor was identified by what it said; the page it names is then named only
    when it is our landing page (landing_page_display)."""
    evidence = evidence if isinstance(evidence, dict) else {}
    if signal == "email_reply":
        return capfirst(reply_predicate(evidence))
    if signal == "meeting_booked":
        # Which calendar holds it, as the email re-open names the mail client: "— Cal.com".
        tool = dict(BookingTool.choices).get(str(evidence.get("tool") or ""), "")
        text = capfirst(meeting_predicate(evidence))
        return f"{text} — {tool}" if tool else text
    if signal == "page_dwell":
        seconds = _number(evidence.get("dwell_seconds", "?"))
        page = str(evidence.get("page") or "")
        page = landing_page_display(page) if unverified else page_display(page)
        if page:
            return _("Read %(seconds)s s on %(page)s") % {"seconds": seconds, "page": page}
        return _("Read the page for %(seconds)s s") % {"seconds": seconds}
    if signal == "cta_click":
        return _("Clicked “%(cta)s”") % {"cta": cta_label(str(evidence.get("cta_id") or ""))}
    if signal == "email_reopen":
        hours = evidence.get("hours_after_sent")
        if hours is None:
            text = _("Reopened the email")
        else:
            text = _("Reopened the email %(hours)s h after it was sent") % {"hours": _number(hours)}
        client = str(evidence.get("client") or "")
        return f"{text} — {client}" if client else text
    return signal
