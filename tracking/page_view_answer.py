"""What the server tells tracker.js in answer to a page view (contract §1: 202 {"ok": true}, plus):

- `storage`: whether the tracker may write in this browser (its visitor id in localStorage, the ak in
  sessionStorage). True when the policy does not need consent for storage, or when the page view's `ak`
  is a prospect's who granted it, or its visitor id was verified (by an `ak`) as such a prospect's.
  Otherwise the tracker writes nothing and forgets what an earlier page view wrote: a refusal reaches
  the browser at its next page view.
- `dwell_s`: SIGNAL_DWELL_SECONDS, so that the tracker sends one beat just past it (docs/how-it-works.md).

Asked for `pageview` events only: a heartbeat's answer stays the constant 202 {"ok": true}.
"""

import json
from typing import Any

from django.conf import settings

from prospects.consent import STORAGE, consent_required_for, prospect_allows
from prospects.models import Prospect
from tracking.models import MatchMethod, Visitor


def storage_allowed(*, ak: str, visitor_id: str) -> bool:
    if STORAGE not in consent_required_for():
        return True
    # Two columns, no model: this runs for every page view, and values_list measured cheaper than
    # .first() on models (docs/benchmarks.md, "Figures that used to live in code comments").
    columns = ("tracking_consent", "status")
    row = Prospect.objects.filter(identity_token=ak).values_list(*columns)[:1] if ak else []
    if not row:
        verified = Visitor.objects.filter(visitor_id=visitor_id, match_method__in=[MatchMethod.AK, MatchMethod.MANUAL])
        row = verified.values_list(*(f"prospect__{column}" for column in columns))[:1]
    found = list(row)
    if not found or found[0][0] is None:
        return False
    consent, status = found[0]
    return prospect_allows(Prospect(tracking_consent=consent, status=status), STORAGE)


def page_view_answer(values: dict[str, Any]) -> bytes:
    answer = {
        "ok": True,
        "storage": storage_allowed(ak=values.get("ak") or "", visitor_id=values["visitor_id"]),
        "dwell_s": settings.SIGNAL_DWELL_SECONDS,
    }
    return json.dumps(answer).encode()
