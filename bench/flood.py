"""Anonymous flood plus a real click: 3,000 events in a minute that each may complete a signal (CTA
clicks and identify calls from 300 client addresses, no prospect behind them), while a prospect clicks
the CTA every few seconds. On the production command (`bin/serve web` with 3 workers + `bin/serve
worker`) with a local OVH double. Prints figures; asserts nothing.

    .venv/bin/python bench/flood.py [--deployment sqlite|postgres-redis|both] [--events 3000] [--seconds 60]

Prints the broker's queue depth over time (every task waiting or running: detection and SMS
delivery alike), the detection cycles run, and each prospect click's latency to its SMS at the OVH
double. Issue 18, point 2: the queue stays bounded and the prospect's SMS leaves within 2 s.
"""

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency import CREATE_PROSPECTS, UA, wait_for_sms  # noqa: E402
from bench.ovh_sink import OvhSink  # noqa: E402
from bench.processes import (  # noqa: E402
    ROOT,
    answers_ping,
    deployments,
    log_contains,
    production_env,
    reset_database,
    reset_redis,
    running,
    serve_cmd,
)

PORT = 8450
DEPLOYMENTS = deployments("flood", redis_db=1)
CLICKERS = 8  # prospects who click during the flood, spread over it


def send(path: str, body: dict, address: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    conn.request(
        "POST",
        path,
        body=json.dumps(body),
        headers={"Content-Type": "text/plain", "User-Agent": UA, "X-Forwarded-For": address},
    )
    status = conn.getresponse().status
    conn.close()
    return status


def queue_depth(database_url: str, redis_url: str, cluster: str) -> int:
    """Tasks in the broker: waiting, or taken by a worker and not yet acknowledged."""
    if redis_url:
        import redis

        return int(redis.Redis.from_url(redis_url).llen(f"django_q:{cluster}:q"))
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1], timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM django_q_ormq WHERE key = ?", [cluster]).fetchone()[0]
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT COUNT(*) FROM django_q_ormq WHERE key = %s", [cluster]).fetchone()[0]


def detection_runs(database_url: str) -> int:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1], timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM alerts_detectionrun").fetchone()[0]
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT COUNT(*) FROM alerts_detectionrun").fetchone()[0]


counting = threading.Lock()


def flood(events: int, seconds: float, statuses: dict[int, int], stop: threading.Event) -> None:
    """`events` anonymous CTA clicks and identify calls, evenly over `seconds`, 4 senders in parallel."""

    def sender(offset: int) -> None:
        start = time.monotonic()
        for n in range(offset, events, 4):
            if stop.is_set():
                return
            time.sleep(max(0.0, start + n * seconds / events - time.monotonic()))
            address = f"203.0.{(n // 250) % 250}.{n % 250 + 1}"
            visitor = f"flood-{n:06d}"
            if n % 2:
                status = send(
                    "/api/track/identify", {"visitor_id": visitor, "email": f"x{n}@nobody{n}.example"}, address
                )
            else:
                body = {"visitor_id": visitor, "page": "/audit", "cta_id": "cta_reserver_audit"}
                status = send("/api/track/cta", body, address)
            with counting:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=sender, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def bench(deployment: str, events: int, seconds: float) -> None:
    database_url, redis_url = DEPLOYMENTS[deployment]
    reset_database(database_url)
    reset_redis(redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-flood-"))
    cluster = f"flood-{uuid.uuid4().hex[:6]}"
    with OvhSink() as sink:
        env = production_env(
            database_url,
            redis_url,
            DATA_DIR=str(workdir),
            PORT=str(PORT),
            WEB_WORKERS="3",
            PYTHON=sys.executable,
            Q_CLUSTER_NAME=cluster,
            Q_LOG_LEVEL="INFO",
            ALERT_SMS_RECIPIENTS="+33199000001",  # a fictitious number (ARCEP reserves 01 99 00 for fiction)
            ALERT_SMS_MAX_PER_HOUR="100000",
            ALERT_HOLD_SUSPICIOUS="false",
            TRACKING_TRUSTED_PROXIES="127.0.0.1/32",
            **sink.settings(),
        )
        subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)
        names = [f"Flood{n:02d}" for n in range(CLICKERS)] + ["FloodWarm"]
        tokens = json.loads(
            subprocess.run(
                [sys.executable, "-c", CREATE_PROSPECTS, json.dumps(names)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        worker_log, web_log = workdir / "worker.log", workdir / "web.log"
        depths: list[tuple[float, int]] = []
        latencies: list[float | None] = []
        statuses: dict[int, int] = {}
        with (
            running(serve_cmd("worker"), env, worker_log, ready=log_contains(worker_log, "Q Cluster")),
            running(serve_cmd("web"), env, web_log, ready=lambda: answers_ping(PORT)),
        ):

            def click(name: str) -> float:
                body = {"visitor_id": f"v-{name}", "page": "/audit", "ak": tokens[name], "cta_id": "cta_reserver_audit"}
                sent = time.time()
                send("/api/track/cta", body, "198.51.100.77")
                return sent

            wait_for_sms(sink, "FloodWarm", click("FloodWarm"))
            runs_before = detection_runs(database_url)
            stop = threading.Event()
            flooding = threading.Thread(target=flood, args=(events, seconds, statuses, stop))
            started = time.monotonic()
            flooding.start()

            def sample() -> None:
                while flooding.is_alive() or time.monotonic() - started < seconds + 5:
                    depths.append((time.monotonic() - started, queue_depth(database_url, redis_url, cluster)))
                    time.sleep(0.5)

            sampler = threading.Thread(target=sample)
            sampler.start()
            for n in range(CLICKERS):
                time.sleep(max(0.0, started + (n + 0.5) * seconds / CLICKERS - time.monotonic()))
                name = f"Flood{n:02d}"
                latencies.append(wait_for_sms(sink, name, click(name), timeout=30))
            flooding.join()
            sampler.join()
            runs = detection_runs(database_url) - runs_before
    label = "SQLite + ORM broker" if deployment == "sqlite" else "PostgreSQL + Redis"
    print(f"{label}: {events} anonymous events in {seconds:g} s ({statuses}), {CLICKERS} prospect clicks during it")
    per_5s: dict[int, int] = {}
    for at, depth in depths:
        per_5s[int(at // 5) * 5] = max(per_5s.get(int(at // 5) * 5, 0), depth)
    print("  queue depth (max per 5 s): " + " ".join(f"{t}s:{d}" for t, d in sorted(per_5s.items())))
    print(f"  max queue depth {max(d for _t, d in depths)}; detection cycles run during the flood: {runs}")
    arrived = [lat for lat in latencies if lat is not None]
    shown = " ".join(f"{lat:.2f}" if lat is not None else "lost" for lat in latencies)
    summary = f"median {statistics.median(arrived):.2f} s, max {max(arrived):.2f} s" if arrived else "none arrived"
    print(f"  prospect click → SMS (s): {shown}  ({summary}; target ≤ 2 s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployment", choices=[*DEPLOYMENTS, "both"], default="both")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    for deployment in DEPLOYMENTS if args.deployment == "both" else [args.deployment]:
        bench(deployment, args.events, args.seconds)


if __name__ == "__main__":
    main()
