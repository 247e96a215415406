"""page_dwell: one page view of a matched visitor spans ≥ SIGNAL_DWELL_SECONDS (server receive times).

Two halves of the same rule live here:
- `page_view_crossed_threshold` is asked for every human page-view event as it arrives (through the
  tracking seam) and answers True exactly once per page view, for the event that carries it past the
  threshold, so that detection runs now instead of at the next scheduled cycle. It only decides *when*
  to look: a forgotten stamp delays the SMS to the next cycle, it never invents one.
- `find_dwell_signals` is what detection asks: it measures the span from the stored events.
"""

import math
import threading
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q

from alerts.signals.detected import DetectedSignal
from alerts.signals.models import Signal
from core.ratelimit import claim, recall, remember_first
from core.sql import quoted_column, quoted_table
from tracking.machine_visits import machine_followups
from tracking.models import VisitEvent

# How long the first receive time of a page view is remembered for the crossing.
PAGE_VIEW_MEMORY_SECONDS = 6 * 3600
CHUNK = 500

# Page views whose first receive time this process already knows (bounded; oldest forgotten first).
MEMORY_SIZE = 20_000


class _FirstSeen:
    """Per process: page view id -> first receive time (epoch seconds). A page view's first event
    does not change once stored, so each process asks the shared store once per page view instead
    of once per heartbeat."""

    lock = threading.Lock()
    times: dict[str, float] = {}


def forget_page_views() -> None:
    """Empty this process's memory of page views (tests; it refills itself from the shared store)."""
    with _FirstSeen.lock:
        _FirstSeen.times.clear()


def _first_seen(page_view_id: str, received_at: datetime, opens: bool) -> float:
    """The page view's first receive time, as every process sees it. On SQLite its first event stamps
    it in the LMDB file (core/ratelimit.py) and the other processes read the stamp; a stamp the file
    lost (it starts empty after a reboot) is read once from the stored events and stamped again. On
    PostgreSQL each process reads it once from the stored events (one index seek, as a stamp's read
    would be, without the stamp's write)."""
    with _FirstSeen.lock:
        known = _FirstSeen.times.get(page_view_id)
    if known is not None:
        return known
    key = f"pv-first:{page_view_id}"
    first = None if opens else recall(key)
    if first is None:
        start = received_at.timestamp() if opens else (_stored_first_seen(page_view_id) or received_at.timestamp())
        remembered = remember_first(key, start, PAGE_VIEW_MEMORY_SECONDS)
        first = start if remembered is None else remembered
    with _FirstSeen.lock:
        if len(_FirstSeen.times) >= MEMORY_SIZE:
            del _FirstSeen.times[next(iter(_FirstSeen.times))]
        _FirstSeen.times[page_view_id] = first
    return first


@lru_cache(maxsize=1)
def _first_seen_sql() -> str:
    column = {name: quoted_column(VisitEvent, name) for name in ("page_view_id", "is_bot", "received_at")}
    return (
        f"SELECT MIN({column['received_at']}) FROM {quoted_table(VisitEvent)} "
        f"WHERE {column['page_view_id']} = %s AND {column['is_bot']} = %s"
    )


def _stored_first_seen(page_view_id: str) -> float | None:
    """The earliest stored human event of the page view (one index seek on visit_pageview_idx). Raw
    SQL: this runs once per page view and web process, and compiling the ORM query costs more than
    running it."""
    with connection.cursor() as cursor:
        cursor.execute(_first_seen_sql(), [page_view_id, False])
        first = cursor.fetchone()[0]
    if isinstance(first, str):  # SQLite keeps UTC datetimes as ISO text; an aggregate skips the converter
        first = datetime.fromisoformat(first).replace(tzinfo=UTC)
    return first.timestamp() if first else None


def page_period(reported: float | None) -> float:
    """The heartbeat period a page view is judged by: the one its tracker reports with every event
    (heartbeat_s, the page's data-heartbeat), bounded to the contract's 1–60 s; for old snippets that do
    not report it, TRACKING_HEARTBEAT_SECONDS. The page sets its rhythm: a designer who writes
    data-heartbeat="5" changes nothing on the server, and no server setting has to be kept in step."""
    if reported is None:
        return float(settings.TRACKING_HEARTBEAT_SECONDS)
    return min(60.0, max(1.0, float(reported)))


def _visible_enough(engaged_ms: int, period: float) -> bool:
    # The tracker reports visible time with each event; the last one may lag by one heartbeat.
    return engaged_ms / 1000 >= settings.SIGNAL_DWELL_SECONDS - period


def not_a_reading(
    *, span_seconds: float, engaged_ms: int | None, heartbeats: int, heartbeat_s: float | None = None
) -> str:
    """Why a page view spanning `span_seconds` (server time) was not a person reading, or "".

    The server span is the measure; the browser's own report must not contradict it. `period` is
    the page's own heartbeat period (page_period):
    - its visible time (the largest engaged_ms) is at least the threshold less one period — a tab
      opened in the background and closed later reports about 0;
    - its visible time is not larger than the span plus one period — no page is visible longer
      than it exists;
    - its heartbeats are not faster than its tracker sends them (one per period while visible, plus
      one per visibility change): at most one per half period, plus 4. A flood is still no reading:
      the period is bounded to 1 s, so more than two heartbeats a second never count.
    A snippet that reports no engaged_ms is judged by its heartbeats alone: they come only while the
    page is visible, so there must be about one per period across the threshold.
    """
    period = page_period(heartbeat_s)
    if heartbeats > span_seconds / (period / 2) + 4:
        return f"{heartbeats} heartbeats in {int(span_seconds)} s: faster than the tracker sends them"
    if engaged_ms is None:
        needed = int(settings.SIGNAL_DWELL_SECONDS / period) - 1
        if heartbeats < needed:
            return f"{heartbeats} heartbeats (visible time not reported): the page was not in view"
        return ""
    if not _visible_enough(engaged_ms, period):
        return f"visible {engaged_ms / 1000:.1f} s of {int(span_seconds)} s: a background tab"
    if engaged_ms / 1000 > span_seconds + period:
        return f"reports {engaged_ms / 1000:.0f} s visible in a {int(span_seconds)} s page view"
    return ""


def page_view_crossed_threshold(
    page_view_id: str,
    received_at: datetime,
    engaged_ms: int | None = None,
    *,
    opens: bool = False,
    heartbeat_s: float | None = None,
) -> bool:
    """True once per page view, in any process: for the first event at least SIGNAL_DWELL_SECONDS
    after the page view's first event whose visible time agrees (a background tab's heartbeat-less
    events do not claim it). The crossing is claimed in core's shared counters (core/ratelimit.py),
    so a heartbeat that lands on another web process than the first one still fires. `opens`: the
    event is the page view's pageview, its first."""
    # Asked first, whatever the event: the page view's first event is what stamps its start.
    first = _first_seen(page_view_id, received_at, opens)
    if engaged_ms is not None and not _visible_enough(engaged_ms, page_period(heartbeat_s)):
        return False
    if received_at.timestamp() - first < settings.SIGNAL_DWELL_SECONDS:
        return False
    claimed = claim(f"pv-crossed:{page_view_id}", PAGE_VIEW_MEMORY_SECONDS)
    if claimed is not None:
        # Whoever won, this page view has crossed: its later heartbeats in this process (one every
        # 15 s for as long as the page stays open) skip the shared claim. After a store error they
        # try again.
        with _FirstSeen.lock:
            _FirstSeen.times[page_view_id] = math.inf
    return bool(claimed)


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
            .annotate(
                first=Min("received_at"),
                last=Max("received_at"),
                visitor_id=Max("visitor_id"),
                engaged_ms=Max("engaged_ms"),
                heartbeat_s=Max("heartbeat_s"),
                heartbeats=Count("pk", filter=Q(event=VisitEvent.Kind.HEARTBEAT)),
                network=Max("client_network"),
                page=Max("page"),
            )
        )
        long_spans = [s for s in spans if (s["last"] - s["first"]).total_seconds() >= threshold]
        machines = machine_followups({s["page_view_id"] for s in long_spans})
        for span in long_spans:
            seconds = (span["last"] - span["first"]).total_seconds()
            if span["page_view_id"] in machines or not_a_reading(
                span_seconds=seconds,
                engaged_ms=span["engaged_ms"],
                heartbeats=span["heartbeats"],
                heartbeat_s=span["heartbeat_s"],
            ):
                continue
            found.append(
                DetectedSignal(
                    prospect_id=span["prospect_id"],
                    signal=Signal.PAGE_DWELL,
                    dedup_key=f"page_dwell:{span['prospect_id']}:{span['page_view_id']}",
                    # The moment the threshold was crossed is when a human would have wanted the SMS.
                    occurred_at=span["last"],
                    client_network=span["network"],
                    evidence={
                        "page_view_id": span["page_view_id"],
                        "page": (span["page"] or "")[:300],
                        "visitor_id": span["visitor_id"],
                        "dwell_seconds": int(seconds),
                        "visible_seconds": None if span["engaged_ms"] is None else span["engaged_ms"] // 1000,
                        "first_seen": span["first"].isoformat(),
                        "last_seen": span["last"].isoformat(),
                    },
                )
            )
    return found
