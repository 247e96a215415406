"""What detection hands to the alert writer: one detected signal and its evidence."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DetectedSignal:
    prospect_id: int
    signal: str
    # One alert per piece of evidence: the unique key that makes detection idempotent.
    dedup_key: str
    occurred_at: datetime
    evidence: dict[str, Any]
    # verified (ak, tracked link, signed pixel, hand link) or claimed (email, domain, referrer, IP rule).
    identification: str = "verified"
    # The /24 (/48) the evidence came from, for the claimed-signals anomaly check.
    client_network: str | None = None
