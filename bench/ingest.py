"""Ingest: the real /api/track/visit against a raw-INSERT view and a no-op view, on the production
command (`bin/serve web`: gunicorn, DEBUG off), interleaved. Prints figures; asserts nothing.

    .venv/bin/python bench/ingest.py [--database sqlite|postgres] [--redis-url redis://127.0.0.1:6379/4]
                                     [--clients 8] [--seconds 4] [--rounds 3] [--workers 3] [--threads 4]

Each round runs the three views one after the other, in a rotated order; figures are medians over the
rounds, and the ratios are medians of each round's pair (the machine is shared and noisy: read
ratios, not absolute numbers). Payloads vary like real traffic: several browsers' user agents, Origin
and Referer headers, a referrer field, `ak` on some, 200 open pages at a time, each a pageview,
heartbeats and a leave (OpenPages), each reader with its own client address through the trusted proxy
(X-Forwarded-For, as behind the production TLS proxy; 1 reader in 7 in one of 5 offices sharing an
address). Rate limits are raised so that nobody is refused, but the counters are still written on
every request (the code path is the production one).

Per view: events/s, p50 and p99 latency, the CPU per request of the web server (gunicorn and its
workers) and of the database servers (PostgreSQL's processes and Redis's; none on SQLite, whose work is
in the web processes), from /proc, and the client's CPU share (this process's CPU time over the wall
time of all cores): when the client takes a large share, throughput is the client's limit, and CPU
per request is the figure to read. The CPU ratio counts both servers: a statement the database plans
once instead of on every event is a saving, wherever it is made.
Target (issue 10): the real endpoint ≥ 90 % of the raw-INSERT view.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import (  # noqa: E402
    ROOT,
    answers_ping,
    cpu_since,
    database_servers_cpu,
    process_tree_cpu,
    production_env,
    reset_database,
    reset_redis,
    running,
    serve_cmd,
)

PORT = 8420
PATHS = {"real": "/api/track/visit", "raw INSERT": "/bench/baseline", "no-op": "/bench/noop"}
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0",
]
PAGES = ["/audit-gratuit-monitoring.html", "/tarifs", "/", "/blog/supervision-kubernetes?utm_source=linkedin"]
REFERRERS = ["", "https://www.google.com/", "https://www.linkedin.com/", "https://mail.google.com/"]
ORIGIN = "https://www.example.com"


OPEN_PAGES_PER_CLIENT = 25


class OpenPages:
    """One client's open landing pages: each page view is a pageview event, heartbeats, then a leave
    (6 to 40 events: a 90 s read at one heartbeat per 15 s is 7), and another reader takes its place.
    8 clients keep 200 pages open; a returning reader keeps their visitor id."""

    def __init__(self, rng: random.Random, client: int) -> None:
        self.rng, self.client, self.opened = rng, client, 0
        self.pages = [self._open() for _ in range(OPEN_PAGES_PER_CLIENT)]

    def _open(self) -> dict:
        self.opened += 1
        reader = self.rng.randrange(2000)
        page: dict = {
            "visitor_id": f"reader-{reader:05d}",
            "page_view_id": f"pv-{self.client:02d}-{self.opened:06d}-{reader:05d}",
            "page": self.rng.choice(PAGES),
            "events_left": self.rng.randint(6, 40),
            "sent": 0,
            "referrer": self.rng.choice(REFERRERS),
            "user_agent": self.rng.choice(USER_AGENTS),
        }
        if reader % 10 == 0:
            page["ak"] = f"ak-{reader:05d}-" + "x" * 30
        # Behind the TLS proxy every reader has its own address, but 1 in 7 sits in one of 5 offices.
        office = reader % 7 == 0
        page["ip"] = f"10.9.0.{reader % 5 + 1}" if office else f"10.0.{reader // 250}.{reader % 250 + 1}"
        return page

    def next_event(self) -> tuple[bytes, dict[str, str]]:
        slot = self.rng.randrange(len(self.pages))
        page = self.pages[slot]
        page["events_left"] -= 1
        event = "pageview" if page["sent"] == 0 else ("leave" if page["events_left"] == 0 else "heartbeat")
        body: dict = {
            "visitor_id": page["visitor_id"],
            "page_view_id": page["page_view_id"],
            "page": page["page"],
            "event": event,
            "engaged_ms": page["sent"] * 15_000 + self.rng.randrange(0, 2_000),
        }
        if page["referrer"]:
            body["referrer"] = page["referrer"]
        if "ak" in page:
            body["ak"] = page["ak"]
        page["sent"] += 1
        if page["events_left"] == 0:
            self.pages[slot] = self._open()
        headers = {
            "Content-Type": "text/plain;charset=UTF-8",
            "User-Agent": page["user_agent"],
            "Origin": ORIGIN,
            "Referer": ORIGIN + body["page"],
            "X-Forwarded-For": page["ip"],
        }
        return json.dumps(body).encode(), headers


def client_loop(path: str, seed: int, stop_at: float, latencies: list[float], errors: list[str]) -> None:
    pages = OpenPages(random.Random(seed), seed)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    while time.perf_counter() < stop_at:
        body, headers = pages.next_event()
        started = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                errors.append(str(response.status))
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            continue
        latencies.append(time.perf_counter() - started)
    conn.close()


def measure(path: str, clients: int, seconds: float, server_pid: int, seed: int) -> dict:
    warm = time.perf_counter() + 0.5
    threads = [threading.Thread(target=client_loop, args=(path, seed + c, warm, [], [])) for c in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(path, seed + 100 + c, stop_at, latencies, errors))
        for c in range(clients)
    ]
    server_cpu, database_cpu = process_tree_cpu(server_pid), database_servers_cpu()
    client_cpu, started = time.process_time(), time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.perf_counter() - started
    server_cpu = process_tree_cpu(server_pid) - server_cpu
    database_cpu = cpu_since(database_cpu, database_servers_cpu())
    client_cpu = time.process_time() - client_cpu
    latencies.sort()
    count = max(len(latencies), 1)
    return {
        "rate": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[min(len(latencies) - 1, int(count * 0.99))] * 1000 if latencies else float("nan"),
        "server_cpu_us": server_cpu / count * 1e6,
        "database_cpu_us": database_cpu / count * 1e6,
        "client_share": client_cpu / (wall * (os.cpu_count() or 1)),
        "errors": errors[:3],
        "error_count": len(errors),
    }


def main() -> None:
    global PORT  # the clients read the module's PORT
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file, or arkwatch_deploy")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--views", default="real,raw INSERT,no-op", help="comma list; also: raw INSERT async")
    parser.add_argument("--port", type=int, default=PORT, help="where the bench's gunicorn listens (127.0.0.1)")
    args = parser.parse_args()
    PORT = args.port
    workdir = tempfile.mkdtemp(prefix="arkwatch-bench-ingest-")  # its own SQLite file and counters
    PATHS["raw INSERT async"] = "/bench/baseline-async"
    views = [v.strip() for v in args.views.split(",")]

    url = args.database_url or (
        f"sqlite:///{workdir}/arkwatch-bench-ingest.sqlite3"
        if args.database == "sqlite"
        else "postgres://postgres@127.0.0.1:5432/arkwatch_deploy"
    )
    reset_database(url)
    reset_redis(args.redis_url)
    env = production_env(
        url,
        args.redis_url,
        DATA_DIR=workdir,
        HOST="127.0.0.1",
        PORT=str(PORT),
        WEB_WORKERS=str(args.workers),
        WEB_THREADS=str(args.threads),
        TRACKING_RATE_LIMIT="1000000000/m",
        TRACKING_NETWORK_RATE_LIMIT="1000000000/m",
        TRACKING_ALLOWED_ORIGINS=ORIGIN,
        TRACKING_TRUSTED_PROXIES="127.0.0.1",  # the bench is the TLS proxy: X-Forwarded-For is believed
        PYTHON=sys.executable,
    )
    import subprocess

    subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)

    def ready() -> bool:
        return answers_ping(PORT)

    results: dict[str, list[dict]] = {view: [] for view in views}
    log = Path(workdir) / "web.log"
    with running(serve_cmd("web"), env, log, ready=ready) as server:
        for round_no in range(args.rounds):
            order = views[round_no % len(views) :] + views[: round_no % len(views)]
            for view in order:
                results[view].append(measure(PATHS[view], args.clients, args.seconds, server.pid, 1000 * round_no))
    store = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    # Where core/ratelimit.py counts, for this deployment.
    counters = "LMDB file" if store == "SQLite" else "in the INSERT's prepared statement"
    print(
        f"ingest on {store}{' + Redis' if args.redis_url else ''} (counters: {counters}); "
        f"bin/serve web: {args.workers} workers × {args.threads} threads; {args.clients} keep-alive clients; "
        f"{args.rounds} interleaved rounds of {args.seconds:g} s per view; medians over rounds"
    )

    def med(view: str, key: str) -> float:
        return statistics.median(r[key] for r in results[view])

    for view in views:
        errors = sum(r["error_count"] for r in results[view])
        print(
            f"  {view:17s} {med(view, 'rate'):7.0f} events/s  p50 {med(view, 'p50'):6.2f} ms  "
            f"p99 {med(view, 'p99'):6.2f} ms  server CPU {med(view, 'server_cpu_us'):4.0f} + database "
            f"{med(view, 'database_cpu_us'):3.0f} µs/request  client CPU share {med(view, 'client_share'):4.0%}"
            + (f"  {errors} errors {results[view][0]['errors']}" if errors else "")
        )
    if "real" in views:
        for ref in [v for v in views if v != "real"]:
            # Paired per round (the two views ran minutes apart at most): the machine's drift cancels.
            by_rate = sorted(r["rate"] / b["rate"] for r, b in zip(results["real"], results[ref], strict=True))
            by_cpu = sorted(
                (b["server_cpu_us"] + b["database_cpu_us"]) / (r["server_cpu_us"] + r["database_cpu_us"])
                for r, b in zip(results["real"], results[ref], strict=True)
            )
            print(
                f"  real / {ref}: {statistics.median(by_rate):.0%} by throughput "
                f"(rounds {by_rate[0]:.0%}–{by_rate[-1]:.0%}), {statistics.median(by_cpu):.0%} by server + "
                f"database CPU per request (rounds {by_cpu[0]:.0%}–{by_cpu[-1]:.0%})"
                + ("  (target ≥ 90 %)" if ref == "raw INSERT" else "")
            )


if __name__ == "__main__":
    main()
