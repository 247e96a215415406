"""Ingest throughput: the real /api/track/visit endpoint vs a minimal raw-INSERT Django view, side by
side, on the same gunicorn server and PostgreSQL database, with N concurrent keep-alive clients.

    .venv/bin/python bench/ingest.py [--clients 16] [--seconds 15] [--database-url postgres://…]

Prints events/s and p50/p99 latency for both, and the ratio. Targets (issue 3): real ≥ 80 % of the
baseline's throughput, p99 < 50 ms at 16 clients. Needs PostgreSQL (127.0.0.1:5432) — and Redis, used
as the shared cache for the rate limiter as in production, when --redis-url is given.
"""

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import product_env, running  # noqa: E402

PORT = 8765
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def setup_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path[1:]}"')
        conn.execute(f'CREATE DATABASE "{parts.path[1:]}"')


RUN = f"{int(time.time()) % 100000:05d}"


def client_loop(path: str, client_no: int, stop_at: float, latencies: list, errors: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    n = 0
    while time.perf_counter() < stop_at:
        n += 1
        body = json.dumps(
            {
                "visitor_id": f"bench-visitor-{client_no:04d}",
                "page_view_id": f"bench-pv-{client_no:04d}-{n // 50}",
                "page": "/audit-gratuit-monitoring.html",
                "event": "heartbeat",
                "engaged_ms": n * 15000,
            }
        )
        started = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "text/plain", "User-Agent": UA})
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                errors.append(response.status)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            continue
        latencies.append(time.perf_counter() - started)
    conn.close()


def measure(path: str, clients: int, seconds: float) -> dict:
    # Warm-up: connections, worker imports, caches.
    latencies: list[float] = []
    errors: list = []
    warm = time.perf_counter() + 2
    threads = [threading.Thread(target=client_loop, args=(path, c, warm, [], [])) for c in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    stop_at = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(path, c + 1000, stop_at, latencies, errors)) for c in range(clients)
    ]
    started = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "events_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/arkwatch_bench")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    setup_database(args.database_url)
    env = product_env(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        TRACKING_RATE_LIMIT="100000000/s",
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 60,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    import subprocess

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True, cwd=Path(__file__).parent.parent
    )
    log = Path("/tmp/arkwatch-bench-gunicorn.log")

    def ready() -> bool:
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            c.request("GET", "/bench/ping")
            return c.getresponse().status == 200
        except OSError:
            return False

    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "arkwatch.wsgi",
        "-b",
        f"127.0.0.1:{PORT}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
    ]
    with running(cmd, env, log, ready=ready):
        results = {}
        for name, path in [("baseline raw INSERT", "/bench/baseline"), ("real /api/track/visit", "/api/track/visit")]:
            results[name] = measure(path, args.clients, args.seconds)
    print(
        f"gunicorn gthread {args.workers}x{args.threads}, {args.clients} clients, {args.seconds:.0f} s each, "
        f"PostgreSQL{' + Redis cache' if args.redis_url else ''}"
    )
    for name, r in results.items():
        print(
            f"  {name:24s} {r['events_per_s']:8.0f} events/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
            f"  ({r['requests']} requests, {r['errors']} errors {r['first_errors']})"
        )
    base, real = results["baseline raw INSERT"], results["real /api/track/visit"]
    ratio = real["events_per_s"] / base["events_per_s"]
    print(f"  real/baseline throughput: {ratio:.0%} (target ≥ 80 %); real p99 {real['p99_ms']:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
