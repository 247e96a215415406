"""Detection benchmarks (issue 4). Prints figures; asserts nothing.

    .venv/bin/python bench/detection.py [--sizes 10000,100000,1000000] [--database-url …]

cycle:   time of one detection cycle with N stored events and 1,000 new ones (median of 3 cycles,
         each over a fresh batch of 1,000). Target: the 1 M figure within 1.3× of the 10 k one.
         3 new page views in 10 are returning visitors' (history visitors, one in 4 matched).
(Signal → SMS latency: bench/latency.py.)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import reset_database  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def django_setup(database_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="arkwatch.settings",
        DEBUG="true",
        DATABASE_URL=database_url,
        SMS_BACKEND="locmem",
        ALERT_SMS_RECIPIENTS="+33199000001",
        LOG_LEVEL="WARNING",
        Q_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django_q.conf import Conf

    Conf.SYNC = True  # delivery runs inline: the cycle's cost includes recording alerts, not sending


def _insert_sql(model, names: tuple[str, ...]) -> str:
    """INSERT of the given fields, table and columns taken from the model."""
    from core.sql import insert_sql  # after django.setup(), like the bench's other product imports

    return insert_sql(model, names)


BROWSER_FIELDS = (
    "visitor_id",
    "page_view_id",
    "page",
    "referrer",
    "ak",
    "email",
    "received_at",
    "is_bot",
    "user_agent",
)


def history_visitor_ids(count: int, prefix: str) -> list[str]:
    return [f"{prefix}-v{k:07d}" for k in range(count // 30 + 1)]


def bulk_events(
    count: int, *, start, spread: timedelta, prefix: str, prospects: list[int], returning: list[str] = ()
) -> None:
    """Insert `count` visit events (page views of 10 events, 3 page views per visitor) and 1 CTA click
    per 20 events. One page view in 4 is a matched prospect's. With `returning` (visitors of the
    history), 3 page views in 10 are theirs: events that arrive unattributed, so the cycle must find
    the visitor's past and attribute them, as it does for a prospect who comes back."""
    from django.db import connection, transaction

    from tracking.models import CtaClick, VisitEvent

    step = spread / max(count, 1)
    visits, clicks = [], []
    for n in range(count):
        page_view = n // 10
        if returning and page_view % 10 < 3:
            visitor, matched = returning[(page_view * 7919) % len(returning)], None
        else:
            visitor = f"{prefix}-v{page_view // 3:07d}"
            matched = prospects[page_view % len(prospects)] if page_view % 4 == 0 else None
        when = start + step * n
        row = (visitor, f"{prefix}-pv{page_view:07d}", "/audit", "", "", "", when, False, UA)
        visits.append((*row, "heartbeat", matched))
        if n % 20 == 0:
            clicks.append((*row, "cta_reserver_audit", matched))
    with transaction.atomic(), connection.cursor() as cursor:
        sql = _insert_sql(VisitEvent, (*BROWSER_FIELDS, "event", "prospect"))
        for chunk in range(0, len(visits), 5000):
            cursor.executemany(sql, visits[chunk : chunk + 5000])
        cursor.executemany(_insert_sql(CtaClick, (*BROWSER_FIELDS, "cta_id", "prospect")), clicks)


def bulk_history_visitors(visitor_ids: list[str], *, matched_at, prospects: list[int]) -> None:
    """The Visitor rows earlier cycles made for the history: one in 4 linked to a prospect by its `ak`."""
    from tracking.models import Visitor

    rows = [
        Visitor(
            visitor_id=visitor_id,
            prospect_id=prospects[k % len(prospects)] if k % 4 == 0 else None,
            match_method="ak" if k % 4 == 0 else "",
            matched_at=matched_at if k % 4 == 0 else None,
        )
        for k, visitor_id in enumerate(visitor_ids)
    ]
    Visitor.objects.bulk_create(rows, batch_size=2000)


def analyze_tables() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give a live database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def bench_cycle(sizes: list[int], database_url: str) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    results = []
    for size in sizes:
        connection.close()
        reset_database(database_url)
        call_command("migrate", verbosity=0)
        from alerts.cycle import detection_cycle_run
        from alerts.signals.models import DetectionRun
        from prospects.models import Prospect

        prospects = [
            Prospect.objects.create(email=f"cto{n}@company{n}.example", name=f"CTO {n}", tracking_consent="granted").pk
            for n in range(55)
        ]
        now = timezone.now()
        started = time.perf_counter()
        bulk_events(size, start=now - timedelta(days=30), spread=timedelta(days=29), prefix="old", prospects=prospects)
        history = history_visitor_ids(size, "old")
        bulk_history_visitors(history, matched_at=now - timedelta(days=20), prospects=prospects)
        load_s = time.perf_counter() - started
        analyze_tables()
        # The history has been looked at: the cursor sits after it.
        DetectionRun.objects.create(started_at=now, window_end=now - timedelta(minutes=5), finished_at=now)
        timings = []
        for batch in range(3):
            bulk_events(
                1000,
                start=timezone.now() - timedelta(seconds=30),
                spread=timedelta(seconds=29),
                prefix=f"new{batch}",
                prospects=prospects,
                returning=history,
            )
            t = time.perf_counter()
            report = detection_cycle_run(trigger="bench")
            timings.append(time.perf_counter() - t)
        results.append((size, statistics.median(timings), report.events_scanned, load_s))
        print(
            f"  {size:>9,} stored + 1,000 new: cycle {statistics.median(timings) * 1000:7.1f} ms "
            f"(median of 3; scanned {report.events_scanned} rows, {report.visitors_matched} visitors matched; "
            f"loading took {load_s:.0f} s)",
            flush=True,
        )
    if len(results) > 1:
        ratio = results[-1][1] / results[0][1]
        print(f"  {results[-1][0]:,} vs {results[0][0]:,}: {ratio:.2f}× (target ≤ 1.3×)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", choices=["cycle"], default="cycle")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database-url", default=f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-detection.sqlite3")
    args = parser.parse_args()
    print(f"detection cycle on {args.database_url.split(':')[0]}:")
    django_setup(args.database_url)
    bench_cycle([int(s) for s in args.sizes.split(",")], args.database_url)


if __name__ == "__main__":
    main()
