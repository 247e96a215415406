"""Malformed traffic against the production command (`bin/serve web` with 3 workers + `bin/serve
worker`), loopback only, while an uptime monitor polls /healthz. Prints figures; asserts nothing.

    .venv/bin/python bench/fuzz.py [--deployment sqlite|postgres-redis|both] [--runs 3] [--requests 3000]
                                   [--rate 600]

Each run starts the product on a fresh database, sends `--requests` requests at about `--rate` a
second from 8 threads — every public path (and unknown ones) with random methods, truncated and
nested JSON, wrong types, NUL and lone surrogates, 8 KB headers, forged tokens, odd content types —
and polls /healthz every 0.2 s meanwhile. Issue 18, point 10: no answer ≥ 500, /healthz included.
"""

import argparse
import http.client
import json
import random
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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

PORT = 8460
DEPLOYMENTS = deployments("fuzz", redis_db=1)
PATHS = [
    "/api/track/visit",
    "/api/track_visitor_audit_gratuit",
    "/api/track/cta",
    "/api/track_cta_click",
    "/api/track/identify",
    "/api/track/email",
    "/api/webhooks/sendgrid",
    "/api/webhooks/mailgun",
    "/api/webhooks/brevo",
    "/api/webhooks/postmark",
    "/api/webhooks/calcom",
    "/api/webhooks/calendly",
    "/t/o/{token}.gif",
    "/t/c/{token}",
    "/healthz",
    "/audit-gratuit-monitoring.html",
    "/static/tracker.js",
    "/l/{number}",
    "/{junk}",
]
FIELDS = ["visitor_id", "page_view_id", "page", "event", "engaged_ms", "heartbeat_s", "cta_id", "email", "ak",
          "referrer", "message_id", "occurred_at", "user_agent"]  # fmt: skip


def junk(n: int) -> str:
    return "".join(random.choices(string.printable + "éà€\u202e\ufeff", k=n))


def odd_value() -> object:
    return random.choice(
        [
            None,
            True,
            -1,
            10**30,
            1.5e308,
            "",
            "x" * random.choice([7, 129, 2049, 9000]),
            "\u0000nul",
            "\ud800",
            junk(40),
            [1, 2],
            {"a": {"b": []}},
            "visitor-0001",
            "heartbeat",
            "cta_reserver_audit",
            "a@b.example",
            "https://evil.example/" + junk(10),
            "2026-11-24T09:14:00+01:00",
        ]
    )


def body() -> bytes:
    kind = random.random()
    if kind < 0.15:
        return bytes(random.getrandbits(8) for _ in range(random.randint(0, 300)))
    if kind < 0.25:
        return b'{"visitor_id": "visitor-0001", "page": "/a"'  # truncated
    if kind < 0.30:
        return ("[" * 5000 + "]" * 5000).encode()
    if kind < 0.35:
        return json.dumps({"visitor_id": "v" * 9000}).encode()
    fields = {name: odd_value() for name in random.sample(FIELDS, random.randint(0, len(FIELDS)))}
    try:
        return json.dumps(fields).encode("utf-8", "surrogatepass")
    except ValueError:
        return b"{}"


def headers() -> dict[str, str]:
    chosen = {
        "Content-Type": random.choice(
            ["application/json", "text/plain", "text/plain;charset=latin-1", "multipart/form-data", "", junk(30)]
        ),
        "User-Agent": random.choice(["Mozilla/5.0 Chrome/131.0", "", "a" * 8000, junk(200), "curl/8.4"]),
    }
    if random.random() < 0.3:
        chosen["X-Forwarded-For"] = random.choice(["203.0.113.9", junk(50), ", ".join(["198.51.100.1"] * 500)])
    if random.random() < 0.2:
        chosen["Authorization"] = random.choice(["Bearer " + junk(30), "Basic " + junk(20), junk(100)])
    if random.random() < 0.1:
        chosen["Origin"] = random.choice(["https://landing.example.com", "null", junk(20)])
    # http.client refuses control characters in a header value (a request smuggling guard).
    printable = {key: "".join(c if 32 <= ord(c) != 127 else " " for c in value) for key, value in chosen.items()}
    return {key: value.encode("latin-1", "replace").decode("latin-1") for key, value in printable.items()}


def request(conn: http.client.HTTPConnection) -> tuple[str, int]:
    template = random.choice(PATHS)
    path = template.format(token=junk(30).replace("/", "_"), number=random.randint(-5, 10**12), junk=junk(12))
    path = "".join(c if 33 <= ord(c) < 127 and c not in "#?" else "%25" for c in path)
    if random.random() < 0.2:
        path += "?" + random.choice(["ak=" + quote(junk(10)), "token=x", "a=" + "b" * 3000])
    method = random.choice(["POST", "POST", "POST", "GET", "GET", "PUT", "DELETE", "OPTIONS", "HEAD"])
    conn.request(method, path, body=body() if method in ("POST", "PUT") else None, headers=headers())
    response = conn.getresponse()
    response.read()
    return template, response.status


counting = threading.Lock()


def fuzz(requests: int, rate: float, statuses: Counter, server_errors: Counter) -> None:
    def worker(offset: int) -> None:
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        for n in range(offset, requests, 8):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            try:
                template, status = request(conn)
            except (OSError, ValueError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                with counting:
                    statuses["connection error"] += 1
                continue
            with counting:
                statuses[status] += 1
                if status >= 500:
                    server_errors[(template, status)] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def one_run(deployment: str, requests: int, rate: float) -> None:
    database_url, redis_url = DEPLOYMENTS[deployment]
    reset_database(database_url)
    reset_redis(redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-fuzz-"))
    env = production_env(
        database_url,
        redis_url,
        DATA_DIR=str(workdir),
        PORT=str(PORT),
        WEB_WORKERS="3",
        PYTHON=sys.executable,
        Q_CLUSTER_NAME=f"fuzz-{uuid.uuid4().hex[:6]}",
        Q_LOG_LEVEL="INFO",
        TRACKING_API_KEY="fuzz-key-" + "k" * 24,
        BREVO_WEBHOOK_TOKEN="fuzz-brevo-" + "b" * 24,
        POSTMARK_WEBHOOK_USER="fuzz",
        POSTMARK_WEBHOOK_PASSWORD="fuzz-" + "p" * 24,
        MAILGUN_WEBHOOK_SIGNING_KEY="fuzz-mailgun-" + "m" * 24,
        CALCOM_WEBHOOK_SECRET="fuzz-calcom-" + "c" * 24,
        TRACKING_TRUSTED_PROXIES="127.0.0.1/32",
    )
    subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)
    worker_log, web_log = workdir / "worker.log", workdir / "web.log"
    statuses: Counter = Counter()
    server_errors: Counter = Counter()
    health: Counter = Counter()
    with (
        running(serve_cmd("worker"), env, worker_log, ready=log_contains(worker_log, "Q Cluster")),
        running(serve_cmd("web"), env, web_log, ready=lambda: answers_ping(PORT)),
    ):
        flooding = threading.Thread(target=fuzz, args=(requests, rate, statuses, server_errors))
        started = time.monotonic()
        flooding.start()
        while flooding.is_alive():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                answer = json.loads(response.read() or b"{}")
                health[(response.status, answer.get("reason", ""))] += 1
                conn.close()
            except (OSError, ValueError, http.client.HTTPException) as exc:
                health[("no answer", type(exc).__name__)] += 1
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    sent = sum(statuses.values())
    label = "SQLite + ORM broker" if deployment == "sqlite" else "PostgreSQL + Redis"
    shown = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items(), key=str))
    print(f"  {label}: {sent} requests in {elapsed:.1f} s ({sent / elapsed:.0f}/s) — {shown}")
    print(f"    answers ≥ 500: {sum(server_errors.values())} {dict(server_errors) or ''}")
    polls = ", ".join(f"{status} {reason}".strip() + f" ×{count}" for (status, reason), count in health.items())
    print(f"    /healthz polled during the burst: {polls}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployment", choices=[*DEPLOYMENTS, "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=600)
    args = parser.parse_args()
    for deployment in DEPLOYMENTS if args.deployment == "both" else [args.deployment]:
        for run in range(args.runs):
            print(f"run {run + 1} of {args.runs}:")
            one_run(deployment, args.requests, args.rate)


if __name__ == "__main__":
    main()
