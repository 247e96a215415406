"""Trust, measured on the production command (`bin/serve web` with 3 workers + `bin/serve worker`,
SQLite + ORM broker) with a local OVH double. Prints figures; asserts nothing.

    .venv/bin/python bench/trust.py [forgery] [outage] [identify] [--outage-seconds 300]

- forgery:  the forged-click attack — 20 prospects' company domains, from one address, a CTA click
            (`"email": "anyone@<domain>"`) then a forged long read for each, three rounds; counts the
            SMS that reach the phone in that hour (target: at most 2) and the alerts held.
            SIGNAL_DWELL_SECONDS is 10 here (heartbeat 5 s) so that a round takes seconds.
- outage:   OVH refuses connections for --outage-seconds (default 300) while a CTA fires; prints
            /healthz during the outage and how many SMS arrive once it is back (target: exactly one).
- identify: `POST /api/track/identify` answer time, a prospect's domain vs an unknown one, 150 each,
            interleaved (target: medians within 15 %).
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ovh_sink import OvhSink  # noqa: E402
from bench.processes import ROOT, answers_ping, log_contains, production_env, reset_database, running, serve_cmd  # noqa: E402

PORT = 8440
DATABASE = f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-trust.sqlite3"
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
API_KEY = "trust-bench-key-" + "k" * 24
CREATE_PROSPECTS = """
import django, json, sys
django.setup()
from prospects.models import Prospect
print(json.dumps({n: Prospect.objects.create(email=f"cto@{n.lower()}.example", name=n, company=f"{n} SAS")
                  .identity_token for n in json.loads(sys.argv[1])}))
"""
COUNT_ALERTS = """
import django, json
django.setup()
from django.db.models import Count
from alerts.outbox.models import Alert
print(json.dumps(dict(Alert.objects.values_list("status").annotate(n=Count("pk")))))
"""


def request(method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    data = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "text/plain", "User-Agent": UA}
    if path == "/healthz":  # its counters are for the operator's key only
        headers["Authorization"] = f"Bearer {API_KEY}"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    answer = (response.status, response.read())
    conn.close()
    return answer


def python(env: dict, code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return json.loads(out.stdout)


class Product:
    """The product on its production command, with its SMS going to `sink`."""

    def __init__(self, sink: OvhSink, names: list[str], **settings: str) -> None:
        reset_database(DATABASE)
        self.workdir = Path(tempfile.mkdtemp(prefix="arkwatch-trust-"))
        self.env = production_env(
            DATABASE,
            DATA_DIR=str(self.workdir),
            PORT=str(PORT),
            WEB_WORKERS="3",
            PYTHON=sys.executable,
            Q_CLUSTER_NAME=f"trust-{uuid.uuid4().hex[:6]}",
            Q_LOG_LEVEL="INFO",  # the worker is ready when it logs "Q Cluster … running"
            ALERT_SMS_RECIPIENTS="+33199000001",  # fictitious (ARCEP reserves 01 99 00 for fiction)
            TRACKING_NETWORK_RATE_LIMIT="100000/m",
            TRACKING_API_KEY=API_KEY,
            **sink.settings(),
            **settings,
        )
        subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=self.env, check=True, capture_output=True)
        self.tokens = python(self.env, CREATE_PROSPECTS, json.dumps(names))

    def __enter__(self) -> "Product":
        worker_log, web_log = self.workdir / "worker.log", self.workdir / "web.log"
        self.worker = running(serve_cmd("worker"), self.env, worker_log, ready=log_contains(worker_log, "Q Cluster"))
        self.web = running(serve_cmd("web"), self.env, web_log, ready=lambda: answers_ping(PORT))
        self.worker.__enter__()
        self.web.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.web.__exit__(None, None, None)
        self.worker.__exit__(None, None, None)

    def alerts(self) -> dict[str, int]:
        return python(self.env, COUNT_ALERTS)


def forgery() -> None:
    names = [f"Company{n:02d}" for n in range(20)]
    with OvhSink() as sink, Product(sink, names, SIGNAL_DWELL_SECONDS="10", TRACKING_HEARTBEAT_SECONDS="5") as product:
        started = time.time()
        statuses: list[int] = []
        for round_ in range(3):
            for n, name in enumerate(names):
                body = {"visitor_id": f"forged-{round_}-{n:03d}", "page": "/audit", "cta_id": "cta_reserver_audit"}
                statuses.append(
                    request("POST", "/api/track/cta", {**body, "email": f"x{round_}@{name.lower()}.example"})[0]
                )
            views = {
                name: {
                    "visitor_id": f"fdwell-{round_}-{name}",
                    "page_view_id": f"fpv-{round_}-{name}",
                    "page": "/audit",
                    "email": f"y{round_}@{name.lower()}.example",
                }
                for name in names
            }
            for view in views.values():
                statuses.append(request("POST", "/api/track/visit", {**view, "event": "pageview", "engaged_ms": 0})[0])
            for at in (5, 10.5):
                time.sleep(max(0.0, started + (round_ * 12) + at - time.time()))
                for view in views.values():
                    body = {**view, "event": "heartbeat", "engaged_ms": int(at * 1000)}
                    statuses.append(request("POST", "/api/track/visit", body)[0])
            started = time.time()
        time.sleep(80)  # the held-alerts notice leaves a minute after the first hold (relay: every minute)
        with sink.lock:
            texts = [message for _, message in sink.arrivals]
        alerts = product.alerts()
    print("forged-click attack, 20 prospects' domains, CTA then dwell, 3 rounds, one address:")
    print(f"  requests {len(statuses)}: {dict((s, statuses.count(s)) for s in sorted(set(statuses)))}")
    print(f"  SMS that reached the phone: {len(texts)} (target ≤ 2)")
    for text in texts:
        print(f"    - {text}")
    print(f"  alerts by status: {alerts}")


def outage(seconds: float) -> None:
    with OvhSink() as sink, Product(sink, ["Outage"]) as product:
        sink.go_down()
        fired = time.time()
        body = {
            "visitor_id": "v-outage-0001",
            "page": "/audit",
            "cta_id": "cta_reserver_audit",
            "ak": product.tokens["Outage"],
        }
        request("POST", "/api/track/cta", body)
        samples = []
        while time.time() - fired < seconds:
            time.sleep(min(60.0, max(1.0, seconds / 5)))
            status, answer = request("GET", "/healthz")
            samples.append((time.time() - fired, status, json.loads(answer)))
        sink.come_back()
        back = time.time()
        deadline = back + 180
        while time.time() < deadline and not sink.arrivals:
            time.sleep(0.5)
        arrived = sink.arrivals[0][0] - back if sink.arrivals else None
        time.sleep(70)  # one more relay round: would anything be sent twice?
        count = len(sink.arrivals)
        status, answer = request("GET", "/healthz")
    print(f"OVH down {seconds:.0f} s (connections refused) while a CTA fired:")
    for at, code, body in samples:
        print(
            f"  /healthz at +{at:5.0f} s: {code} ok={body['ok']} sms_retrying={body.get('sms_retrying')} "
            f"alerts_queued={body['alerts_queued']} failed_unacknowledged={body.get('alerts_failed_unacknowledged')}"
        )
    shown = f"{arrived:.1f} s after OVH came back" if arrived is not None else "none within 180 s"
    print(f"  SMS: {count} (target exactly 1), first {shown}")
    print(f"  /healthz after: {status} {json.loads(answer).get('reason', 'ok')}")


def identify(samples: int = 150) -> None:
    with OvhSink() as sink, Product(sink, ["Prospectdomain"]):
        timings: dict[str, list[float]] = {"prospect": [], "unknown": []}
        for n in range(20):  # warm-up
            request("POST", "/api/track/identify", {"visitor_id": f"warm-{n:05d}", "email": f"w{n}@warm.example"})
        for n in range(samples):
            for kind, domain in (("prospect", "prospectdomain.example"), ("unknown", f"unknown{n}.example")):
                body = {"visitor_id": f"id-{kind}-{n:05d}", "email": f"dev{n}@{domain}"}
                start = time.perf_counter()
                request("POST", "/api/track/identify", body)
                timings[kind].append(time.perf_counter() - start)
    medians = {kind: statistics.median(values) * 1000 for kind, values in timings.items()}
    gap = abs(medians["prospect"] - medians["unknown"]) / medians["unknown"] * 100
    print(f"identify answer time, {samples} each, interleaved:")
    print(
        f"  median prospect's domain {medians['prospect']:.2f} ms, unknown domain {medians['unknown']:.2f} ms: "
        f"{gap:.1f} % apart (target ≤ 15 %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parts", nargs="*", default=["forgery", "identify", "outage"])
    parser.add_argument("--outage-seconds", type=float, default=300)
    args = parser.parse_args()
    for part in args.parts:
        {"forgery": forgery, "identify": identify, "outage": lambda: outage(args.outage_seconds)}[part]()


if __name__ == "__main__":
    main()
