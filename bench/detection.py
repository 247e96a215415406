"""Detection benchmarks (issue 4). Prints figures; asserts nothing.

    .venv/bin/python bench/detection.py cycle   [--sizes 10000,100000,1000000] [--database-url …]
    .venv/bin/python bench/detection.py latency [--clicks 20]

cycle:   time of one detection cycle with N stored events and 1,000 new ones (median of 3 cycles,
         each over a fresh batch of 1,000). Target: the 1 M figure within 1.5× of the 10 k one.
latency: a CTA POST to the web server until the SMS reaches the backend (AlertDelivery.sent_at),
         with `qcluster` running on the embedded defaults (SQLite, ORM broker, console SMS).
         Target: p95 ≤ 2 s.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def reset_database(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path[1:]}"')
        conn.execute(f'CREATE DATABASE "{parts.path[1:]}"')


def bulk_events(count: int, *, start, spread: timedelta, prefix: str, prospects: list[int]) -> None:
    """Insert `count` visit events (page views of 10 events) and 1 CTA click per 20 events."""
    from django.db import connection, transaction

    step = spread / max(count, 1)
    visits, clicks = [], []
    for n in range(count):
        page_view = n // 10
        visitor = f"{prefix}-v{page_view // 3:07d}"
        matched = prospects[page_view % len(prospects)] if page_view % 4 == 0 else None
        when = start + step * n
        visits.append(
            (visitor, f"{prefix}-pv{page_view:07d}", "/audit", "", "", "", when, False, UA, "heartbeat", matched)
        )
        if n % 20 == 0:
            clicks.append(
                (
                    visitor,
                    f"{prefix}-pv{page_view:07d}",
                    "/audit",
                    "",
                    "",
                    "",
                    when,
                    False,
                    UA,
                    "cta_reserver_audit",
                    matched,
                )
            )
    columns = "visitor_id, page_view_id, page, referrer, ak, email, received_at, is_bot, user_agent"
    with transaction.atomic(), connection.cursor() as cursor:
        for chunk in range(0, len(visits), 5000):
            cursor.executemany(
                f"INSERT INTO tracking_visitevent ({columns}, event, prospect_id) VALUES ({', '.join(['%s'] * 11)})",
                visits[chunk : chunk + 5000],
            )
        cursor.executemany(
            f"INSERT INTO tracking_ctaclick ({columns}, cta_id, prospect_id) VALUES ({', '.join(['%s'] * 11)})",
            clicks,
        )


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
        from alerts.detection import run_detection_cycle
        from alerts.models import DetectionRun
        from prospects.models import Prospect

        prospects = [Prospect.objects.create(email=f"cto{n}@company{n}.example", name=f"CTO {n}").pk for n in range(55)]
        now = timezone.now()
        started = time.perf_counter()
        bulk_events(size, start=now - timedelta(days=30), spread=timedelta(days=29), prefix="old", prospects=prospects)
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
            )
            t = time.perf_counter()
            report = run_detection_cycle(trigger="bench")
            timings.append(time.perf_counter() - t)
        results.append((size, statistics.median(timings), report.events_scanned, load_s))
        print(
            f"  {size:>9,} stored + 1,000 new: cycle {statistics.median(timings) * 1000:7.1f} ms "
            f"(median of 3; scanned {report.events_scanned} rows; loading took {load_s:.0f} s)",
            flush=True,
        )
    if len(results) > 1:
        ratio = results[-1][1] / results[0][1]
        print(f"  {results[-1][0]:,} vs {results[0][0]:,}: {ratio:.2f}× (target ≤ 1.5×)")


def bench_latency(clicks: int) -> None:
    from bench.processes import log_contains, product_env, qcluster_cmd, running

    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-latency-"))
    env = product_env(
        DATA_DIR=str(workdir),
        DATABASE_URL="",
        REDIS_URL="",
        SMS_BACKEND="console",
        ALERT_SMS_RECIPIENTS="+33199000001",
        LOG_LEVEL="WARNING",
        Q_LOG_LEVEL="INFO",
    )
    env.pop("DATABASE_URL")
    env.pop("REDIS_URL")
    import subprocess

    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    tokens = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import django,json;django.setup();from prospects.models import Prospect;"
                    f"print(json.dumps([Prospect.objects.create(email=f'cto{{n}}@lat{{n}}.example', name=f'CTO {{n}}')"
                    f".identity_token for n in range({clicks})]))"
                ),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    port = 8799
    web_log, q_log = workdir / "web.log", workdir / "qcluster.log"

    def web_ready() -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).status in (200, 503)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    web_cmd = [sys.executable, "-m", "gunicorn", "arkwatch.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "2"]
    with (
        running(qcluster_cmd(), env, q_log, ready=log_contains(q_log, "Q Cluster")),
        running(web_cmd, env, web_log, ready=web_ready),
    ):
        time.sleep(1)
        import sqlite3

        db = sqlite3.connect(workdir / "arkwatch.sqlite3", timeout=10)
        latencies = []
        for n, token in enumerate(tokens):
            body = json.dumps(
                {
                    "visitor_id": f"latency-visitor-{n:04d}",
                    "page_view_id": f"latency-pv-{n:04d}",
                    "page": "/audit",
                    "ak": token,
                    "cta_id": "cta_reserver_audit",
                }
            ).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/track/cta",
                data=body,
                method="POST",
                headers={"Content-Type": "text/plain", "User-Agent": UA},
            )
            sent = time.time()
            urllib.request.urlopen(request, timeout=5).read()
            while time.time() - sent < 30:
                row = db.execute(
                    "SELECT d.sent_at FROM alerts_alertdelivery d JOIN alerts_alert a ON a.id = d.alert_id "
                    "JOIN prospects_prospect p ON p.id = a.prospect_id WHERE p.identity_token = ? "
                    "AND d.sent_at IS NOT NULL",
                    (token,),
                ).fetchone()
                if row:
                    from datetime import datetime

                    latencies.append(datetime.fromisoformat(row[0]).timestamp() - sent)
                    break
                time.sleep(0.02)
            else:
                print(f"  click {n}: no SMS after 30 s")
            time.sleep(0.5)
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(
        f"  CTA POST → SMS at the backend, {len(latencies)} clicks: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {p95:.2f} s, max {latencies[-1]:.2f} s (target p95 ≤ 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", choices=["cycle", "latency", "all"], default="all")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database-url", default=f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-detection.sqlite3")
    parser.add_argument("--clicks", type=int, default=20)
    args = parser.parse_args()
    if args.what in ("cycle", "all"):
        print(f"detection cycle on {args.database_url.split(':')[0]}:")
        django_setup(args.database_url)
        bench_cycle([int(s) for s in args.sizes.split(",")], args.database_url)
    if args.what in ("latency", "all"):
        print("end-to-end latency (gunicorn + qcluster, SQLite, ORM broker, console SMS):")
        bench_latency(args.clicks)


if __name__ == "__main__":
    main()
