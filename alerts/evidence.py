"""An alert's evidence as one sentence, in the active language, for the SMS, the admin, the back
office and the commands: "Lu 104 s sur /audit-gratuit-monitoring.html", "A cliqué « Réserver audit »",
"A rouvert l'email 30 h après l'envoi — Thunderbird".

The evidence stays the JSON detection stored (dwell.py, detection.py); only its reading is here.
Imported by alerts.models, so it names the signals by value rather than importing them.
"""

from typing import Any
from urllib.parse import urlsplit

from django.utils import formats
from django.utils.translation import gettext as _

from core.display import cta_label

PAGE_MAX_CHARS = 40


def page_display(page: str) -> str:
    """A page as a person reads it: its path, without query or fragment, at most PAGE_MAX_CHARS."""
    parts = urlsplit(page or "")
    path = parts.path or page or ""
    if len(path) > PAGE_MAX_CHARS:
        path = path[: PAGE_MAX_CHARS - 1] + "…"
    return path


def _number(value: Any) -> str:
    """26.5 -> "26,5" in French; 30.0 -> "30"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int | float):
        return str(value)
    return formats.number_format(value)


def evidence_sentence(signal: str, evidence: dict[str, Any] | None) -> str:
    evidence = evidence if isinstance(evidence, dict) else {}
    if signal == "page_dwell":
        seconds = _number(evidence.get("dwell_seconds", "?"))
        page = page_display(str(evidence.get("page") or ""))
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
