"""What detection hands to the outbox: one signal found, with its evidence, and whether the prospect's
consent lets it be used (prospects/consent.py)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.signals.models import Signal
from prospects.consent import LINK, PIXEL, prospect_allowed_at
from prospects.models import Prospect
from tracking.models import MatchMethod, Visitor


# What detection hands to the alert writer: one signal found and its evidence.
@dataclass(frozen=True)
class DetectedSignal:
    prospect_id: int
    signal: str
    # One alert per piece of evidence: the unique key that makes detection idempotent.
    dedup_key: str
    occurred_at: datetime
    evidence: dict[str, Any]
    # verified (ak, tracked link, signed pixel, hand link) or unverified (email, domain, referrer, IP rule).
    identification: str = "verified"
    # The /24 (/48) the evidence came from, for the unverified-signals anomaly check.
    client_network: str | None = None


# Signals read from tracking (the pixel, the landing page's events); a booking is the prospect's own act.
TRACKED_SIGNALS = {Signal.EMAIL_REOPEN, Signal.PAGE_DWELL, Signal.CTA_CLICK}


def consent_lacking(detected: DetectedSignal, prospect: Prospect) -> bool:
    """Whether this signal rests on data collected without the consent it needed, or whose use the
    prospect has since refused (prospects/consent.py): then no alert, no SMS, no digest line and no
    reminder can come of it. Checked here, where alerts are made, whatever path stored the events (the
    pixel, an email service's webhook, the sender's API, a visitor linked before a refusal).

    A re-open rests on the identifying pixel; a page read or a CTA click identified by the personal link's
    `ak` rests on the link. Any tracked signal rests on a prospect who did not refuse, then and now."""
    if detected.signal not in TRACKED_SIGNALS:
        return False
    kinds = [""]  # "": no particular kind, only "not refused" (prospect_allowed_at)
    if detected.signal == Signal.EMAIL_REOPEN:
        kinds.append(PIXEL)
    elif "visitor_id" in detected.evidence:
        visitor = Visitor.objects.filter(visitor_id=detected.evidence["visitor_id"])
        if visitor.values_list("match_method", flat=True).first() == MatchMethod.AK:
            kinds.append(LINK)
    return not all(prospect_allowed_at(prospect, kind, detected.occurred_at) for kind in kinds)
