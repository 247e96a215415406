"""Signal → SMS latency, as the SMS arrives at a local OVH double, on the production command
(`bin/serve web` with 3 workers + `bin/serve worker`). Prints figures; asserts nothing.

    .venv/bin/python bench/latency.py [--deployment sqlite|postgres-redis|both] [--samples 10]

For each of the three signals, `--samples` fresh prospects (one alert each: no cooldown in the way):
- cta:    POST /api/track/cta with the prospect's `ak` → SMS;
- dwell:  a page view with `ak`, a heartbeat, then the heartbeat that crosses SIGNAL_DWELL_SECONDS (2 s
          here; sent 2.3 s after the page view) → SMS, timed from that last heartbeat; the events land on
          whichever worker gunicorn picks;
- reopen: POST /api/track/email `sent` 25 h ago, then `opened` now → SMS, timed from the open.
A warm-up (40 page views, one CTA to SMS) comes first and is not counted.
Targets (issue 10): p95 ≤ 0.5 s on SQLite + ORM broker, ≤ 0.2 s on PostgreSQL + Redis.
"""

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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

PORT = 8430
API_KEY = "bench-api-key-" + "k" * 20
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
DEPLOYMENTS = deployments("latency", redis_db=4)
CREATE_PROSPECTS = """
import django, json, sys
django.setup()
from prospects.models import Prospect
names = json.loads(sys.argv[1])
print(json.dumps({n: Prospect.objects.create(email=f"{n.lower()}@{n.lower()}.example", name=n,
                  company=f"{n} SAS", tracking_consent="granted").identity_token for n in names}))
"""


def post(path: str, body: dict, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    conn.request(
        "POST", path, body=json.dumps(body), headers={"Content-Type": "text/plain", "User-Agent": UA, **(headers or {})}
    )
    status = conn.getresponse().status
    conn.close()
    return status


def wait_for_sms(sink: OvhSink, name: str, sent_at: float, timeout: float = 20) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with sink.lock:
            for arrived, message in sink.arrivals:
                if name in message:
                    return arrived - sent_at
        time.sleep(0.005)
    return None


def cta(name: str, ak: str) -> float:
    sent = time.time()
    post(
        "/api/track/cta",
        {
            "visitor_id": f"v-{name}",
            "page_view_id": f"pv-{name}",
            "page": "/audit",
            "ak": ak,
            "cta_id": "cta_reserver_audit",
        },
    )
    return sent


def dwell(name: str, ak: str) -> float:
    view = {"visitor_id": f"v-{name}", "page_view_id": f"pv-{name}", "page": "/audit"}
    started = time.time()
    post("/api/track/visit", {**view, "ak": ak, "event": "pageview"})
    time.sleep(1.0)
    post("/api/track/visit", {**view, "event": "heartbeat", "engaged_ms": 1000})
    # A margin over the 2 s threshold: the server's receive times, not this client's, must span it.
    time.sleep(max(0.0, started + 2.3 - time.time()))
    sent = time.time()
    post("/api/track/visit", {**view, "event": "heartbeat", "engaged_ms": 2050})
    return sent


def reopen(name: str, ak: str) -> float:
    email, auth = f"{name.lower()}@{name.lower()}.example", {"Authorization": f"Bearer {API_KEY}"}
    sent_at = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
    post("/api/track/email", {"email": email, "message_id": f"m-{name}", "event": "sent", "occurred_at": sent_at}, auth)
    time.sleep(0.2)
    sent = time.time()
    post("/api/track/email", {"email": email, "message_id": f"m-{name}", "event": "opened"}, auth)
    return sent


SIGNALS: dict[str, Callable[[str, str], float]] = {"cta": cta, "dwell": dwell, "reopen": reopen}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered) + 0.5)) - 1)]


def bench(deployment: str, samples: int) -> None:
    database_url, redis_url = DEPLOYMENTS[deployment]
    reset_database(database_url)
    reset_redis(redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-latency-"))
    with OvhSink() as sink:
        env = production_env(
            database_url,
            redis_url,
            DATA_DIR=str(workdir),
            PORT=str(PORT),
            WEB_WORKERS="3",
            PYTHON=sys.executable,
            Q_CLUSTER_NAME=f"bench-{uuid.uuid4().hex[:6]}",
            Q_LOG_LEVEL="INFO",
            SIGNAL_DWELL_SECONDS="2",
            ALERT_SMS_RECIPIENTS="+33199000001",  # a fictitious number (ARCEP reserves 01 99 00 for fiction)
            TRACKING_API_KEY=API_KEY,
            ALERT_SMS_MAX_PER_HOUR="100000",
            ALERT_HOLD_SUSPICIOUS="false",
            **sink.settings(),
        )
        subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)
        names = [f"Lat{kind[0].upper()}{n:03d}" for kind in SIGNALS for n in range(samples)] + ["LatWarm"]
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

        def web_ready() -> bool:
            return answers_ping(PORT)

        worker_log, web_log = workdir / "worker.log", workdir / "web.log"
        results: dict[str, list[float]] = {kind: [] for kind in SIGNALS}
        missing: dict[str, int] = {kind: 0 for kind in SIGNALS}
        with (
            running(serve_cmd("worker"), env, worker_log, ready=log_contains(worker_log, "Q Cluster")),
            running(serve_cmd("web"), env, web_log, ready=web_ready),
        ):
            # Warm-up, not counted: every web thread has served requests, the cluster has run a cycle.
            for n in range(40):
                post(
                    "/api/track/visit",
                    {
                        "visitor_id": f"warm-{n:04d}",
                        "page_view_id": f"warm-pv-{n:04d}",
                        "page": "/audit",
                        "event": "pageview",
                    },
                )
            wait_for_sms(sink, "LatWarm", cta("LatWarm", tokens["LatWarm"]))
            for n in range(samples):
                for kind, act in SIGNALS.items():  # interleaved: cta, dwell, reopen, cta, …
                    name = f"Lat{kind[0].upper()}{n:03d}"
                    sent = act(name, tokens[name])
                    latency = wait_for_sms(sink, name, sent)
                    if latency is None:
                        missing[kind] += 1
                    else:
                        results[kind].append(latency)
                    time.sleep(0.2)
    target = 0.5 if deployment == "sqlite" else 0.2
    label = "SQLite + ORM broker" if deployment == "sqlite" else "PostgreSQL + Redis"
    print(f"signal → SMS at the OVH double, {label}, bin/serve (3 web workers + 1 cluster), {samples} each:")
    for kind, values in results.items():
        # A missing SMS counts as slower than any that arrived (it waits for the scheduled cycle).
        timed = values + [float("inf")] * missing[kind]
        if not values:
            print(f"  {kind:7s} no SMS arrived within 20 s ({missing[kind]} missing; logs in {workdir})")
            continue

        def show(seconds: float) -> str:
            return f"{seconds:5.2f} s" if seconds != float("inf") else "> 20 s "

        lost = f"  {missing[kind]} of {samples} without SMS in 20 s" if missing[kind] else ""
        print(
            f"  {kind:7s} p50 {show(statistics.median(timed))}  p95 {show(p95(timed))}  max {show(max(timed))}"
            f"  (target p95 ≤ {target} s){lost}"
        )


def main() -> None:
    global PORT  # the clients read the module's PORT
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployment", choices=[*DEPLOYMENTS, "both"], default="both")
    parser.add_argument("--port", type=int, default=PORT, help="where the bench's gunicorn listens (127.0.0.1)")
    parser.add_argument("--database-url", default="", help="postgres-redis: another database")
    parser.add_argument("--redis-url", default="", help="postgres-redis: another Redis database than /4")
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    PORT = args.port
    database, redis = DEPLOYMENTS["postgres-redis"]
    DEPLOYMENTS["postgres-redis"] = (args.database_url or database, args.redis_url or redis)
    for deployment in DEPLOYMENTS if args.deployment == "both" else [args.deployment]:
        bench(deployment, args.samples)


if __name__ == "__main__":
    main()
