"""page_dwell: one page view of a matched visitor spans ≥ SIGNAL_DWELL_SECONDS (server receive times).

Two halves of the same rule live here:
- `page_view_crossed_threshold` is asked for every human page-view event as it arrives (through the
  tracking seam) and answers True exactly once per page view, for the event that carries it past the
  threshold, so that detection runs now instead of at the next scheduled cycle. It only decides *when*
  to look: a forgotten stamp delays the SMS to the next cycle, it never invents one.
- `find_dwell_signals` is what detection asks: it measures the span from the stored events.
"""

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from alerts.detected import DetectedSignal
from alerts.models import Signal
from core.ratelimit import claim_once, redis_failed, usable_redis
from tracking.models import VisitEvent

# How long the first receive time of a page view is remembered for the crossing.
PAGE_VIEW_MEMORY_SECONDS = 6 * 3600
CHUNK = 500

# One atomic round trip: stamp the page view's first receive time (if new), and set the "crossed"
# flag once, by the first event at or past the threshold.
CROSSING_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
local first = tonumber(redis.call('GET', KEYS[1]))
if tonumber(ARGV[1]) - first < tonumber(ARGV[3]) then return 0 end
if redis.call('SET', KEYS[1] .. ':crossed', 1, 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""


@lru_cache(maxsize=1)
def _crossing_script(client: Any) -> Any:
    return client.register_script(CROSSING_SCRIPT)


def page_view_crossed_threshold(page_view_id: str, received_at: datetime) -> bool:
    """True once per page view: for the first event at least SIGNAL_DWELL_SECONDS after its first.

    With Redis: one script round trip. Without it (or while it is down) every process asks the same
    database: whether the page view's stored events started a threshold ago, and if so the crossing
    is claimed once in core's shared counters."""
    now_ts = received_at.timestamp()
    threshold = settings.SIGNAL_DWELL_SECONDS
    first_key = f"arkwatch:pv-first:{page_view_id}"
    client = usable_redis()
    if client is not None:
        try:
            return bool(_crossing_script(client)(keys=[first_key], args=[now_ts, PAGE_VIEW_MEMORY_SECONDS, threshold]))
        except Exception as exc:
            redis_failed(exc)
    if not _page_view_started_by(page_view_id, received_at - timedelta(seconds=threshold)):
        return False
    return claim_once(f"pv-crossed:{page_view_id}", PAGE_VIEW_MEMORY_SECONDS)


@lru_cache(maxsize=1)
def _started_by_sql() -> str:
    meta = VisitEvent._meta
    quote = connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in ("page_view_id", "is_bot", "received_at")}
    return (
        f"SELECT 1 FROM {quote(meta.db_table)} WHERE {column['page_view_id']} = %s AND {column['is_bot']} = %s "
        f"AND {column['received_at']} <= %s LIMIT 1"
    )


def _page_view_started_by(page_view_id: str, moment: datetime) -> bool:
    """Has a human event of this page view been received at or before `moment`? One index seek on
    visit_pageview_idx; raw SQL because this runs for every heartbeat, and compiling the ORM query
    cost more than running it."""
    received_at = VisitEvent._meta.get_field("received_at")
    with connection.cursor() as cursor:
        cursor.execute(_started_by_sql(), [page_view_id, False, received_at.get_db_prep_value(moment, connection)])
        return cursor.fetchone() is not None


def find_dwell_signals(page_view_ids: set[str], now: datetime) -> list[DetectedSignal]:
    threshold = settings.SIGNAL_DWELL_SECONDS
    found = []
    ordered = sorted(page_view_ids)
    for start in range(0, len(ordered), CHUNK):
        spans = (
            VisitEvent.objects.filter(
                page_view_id__in=ordered[start : start + CHUNK],
                is_bot=False,
                prospect__isnull=False,
                received_at__lte=now,
            )
            .values("page_view_id", "prospect_id")
            .annotate(first=Min("received_at"), last=Max("received_at"), visitor_id=Max("visitor_id"))
        )
        for span in spans:
            seconds = (span["last"] - span["first"]).total_seconds()
            if seconds < threshold:
                continue
            found.append(
                DetectedSignal(
                    prospect_id=span["prospect_id"],
                    signal=Signal.PAGE_DWELL,
                    dedup_key=f"page_dwell:{span['prospect_id']}:{span['page_view_id']}",
                    # The moment the threshold was crossed is when a human would have wanted the SMS.
                    occurred_at=span["last"],
                    evidence={
                        "page_view_id": span["page_view_id"],
                        "visitor_id": span["visitor_id"],
                        "dwell_seconds": int(seconds),
                        "first_seen": span["first"].isoformat(),
                        "last_seen": span["last"].isoformat(),
                    },
                )
            )
    return found
