"""Replies: how well they are sorted, and how long a reply takes to become an SMS. Prints figures; asserts
nothing.

    .venv/bin/python bench/replies.py [--samples 10] [--skip-latency]

1. Sorting, per kind: the 77 labelled real messages of ../shared/data/replies and the French cases of
   tests/data/replies-fr, each sorted as the product sorts it; how many right, and what the others were
   taken for. No auto-reply or bounce may be taken for a person (only a person's reply texts).
2. Reply → SMS at the OVH double, on the production command (`bin/serve web` + `bin/serve worker`,
   SQLite + ORM broker), `--samples` fresh prospects each:
   - imap:    a person's reply delivered (SMTP) into a real IMAP server's INBOX (mail-devel), read by the
              one-minute schedule → SMS; timed from delivery. Replies are spread over the minute (a
              random pause between samples), as replies arrive whenever they arrive.
   - webhook: the same reply POSTed to /api/inbound/postmark → SMS; timed from the POST.
Targets (issue 30): p95 ≤ 70 s with a one-minute poll, ≤ 1 s from an inbound webhook.
"""

import argparse
import base64
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.imap_server import start_imap_server  # noqa: E402
from bench.ovh_sink import OvhSink  # noqa: E402
from bench.processes import (  # noqa: E402
    ROOT,
    answers_ping,
    deployments,
    log_contains,
    production_env,
    reset_database,
    running,
    serve_cmd,
)

PORT = 8431
SHARED = ROOT.parent / "shared" / "data" / "replies"
FRENCH = ROOT / "tests" / "data" / "replies-fr"
POSTMARK = ("bench-inbound", "bench-inbound-password")
CREATE_PROSPECTS = """
import django, json, sys
django.setup()
from prospects.models import Prospect
for n in json.loads(sys.argv[1]):
    Prospect.objects.create(email=f"{n.lower()}@{n.lower()}.example", name=n, company=f"{n} SAS")
"""


def sorting() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkwatch.settings_test")
    import django

    django.setup()
    from tracking.replies.reading import read_raw
    from tracking.replies.sorting import sort_letter

    label_of = {"human": "person"}
    for folder, title in ((SHARED, "shared real messages"), (FRENCH, "French cases (tests/data/replies-fr)")):
        if not (folder / "labels.json").exists():
            print(f"{title}: not found at {folder}")
            continue
        cases = json.loads((folder / "labels.json").read_text())
        taken: dict[str, Counter] = {}
        for case in cases:
            want = label_of.get(case["label"], case["label"])
            got = sort_letter(read_raw((folder / case["file"]).read_bytes())).kind
            taken.setdefault(want, Counter())[got] += 1
        print(f"sorting, {title}: {len(cases)} messages")
        for kind, counts in sorted(taken.items()):
            total = sum(counts.values())
            wrong = ", ".join(f"{n} as {k}" for k, n in counts.items() if k != kind)
            print(f"  {kind:15s} {counts[kind]:3d} / {total:<3d} right{'  (' + wrong + ')' if wrong else ''}")
        texted = sum(c["person"] for k, c in taken.items() if k in ("auto", "bounce"))
        print(f"  auto-replies and bounces that would text: {texted}")


def post(path: str, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    conn.request("POST", path, body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def wait_for_sms(sink: OvhSink, name: str, since: float, timeout: float) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with sink.lock:
            for arrived, message in sink.arrivals:
                if name in message:
                    return arrived - since
        time.sleep(0.01)
    return None


def reply(name: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{name} <{name.lower()}@{name.lower()}.example>"
    message["To"] = "founder@arkwatch-demo.fr"
    message["Subject"] = "Re: Audit monitoring"
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{name.lower()}.example>"
    message.set_content("Oui, appelez-moi jeudi à 10h.\n\nLe lun. 30 nov. 2026, Paul a écrit :\n> Bonjour")
    return message


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered) + 0.5)) - 1)]


def latency(samples: int, only: str | None = None) -> None:
    database_url, _redis = deployments("replies", redis_db=5)["sqlite"]
    reset_database(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-replies-"))
    server = start_imap_server()
    try:
        with OvhSink() as sink:
            env = production_env(
                database_url,
                "",
                DATA_DIR=str(workdir),
                PORT=str(PORT),
                WEB_WORKERS="3",
                PYTHON=sys.executable,
                Q_CLUSTER_NAME=f"bench-{uuid.uuid4().hex[:6]}",
                Q_LOG_LEVEL="INFO",  # the worker is ready when it logs "Q Cluster"
                ALERT_SMS_RECIPIENTS="+33199000001",  # fictitious (ARCEP reserves 01 99 00 for fiction)
                ALERT_SMS_MAX_PER_HOUR="100000",
                IMAP_URL=server.url,
                POSTMARK_INBOUND_USER=POSTMARK[0],
                POSTMARK_INBOUND_PASSWORD=POSTMARK[1],
                **sink.settings(),
            )
            subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)
            names = [f"Rep{kind}{n:03d}" for kind in ("I", "W") for n in range(samples)]
            subprocess.run([sys.executable, "-c", CREATE_PROSPECTS, json.dumps(names)], cwd=ROOT, env=env, check=True)
            worker_log, web_log = workdir / "worker.log", workdir / "web.log"
            results: dict[str, list[float]] = {"imap": [], "webhook": []}
            with (
                running(serve_cmd("worker"), env, worker_log, ready=log_contains(worker_log, "Q Cluster")),
                running(serve_cmd("web"), env, web_log, ready=lambda: answers_ping(PORT)),
            ):
                auth = "Basic " + base64.b64encode(f"{POSTMARK[0]}:{POSTMARK[1]}".encode()).decode()
                # Warm-up, not counted: every web worker has read a reply (from nobody known: no SMS).
                warm = json.dumps({"RawEmail": reply("Stranger").as_string()}).encode()
                for _ in range(6):
                    post("/api/inbound/postmark", warm, {"Content-Type": "application/json", "Authorization": auth})
                for n in range(samples if only != "imap" else 0):
                    name = f"RepW{n:03d}"
                    body = json.dumps({"RawEmail": reply(name).as_string()}).encode()
                    sent = time.time()
                    post("/api/inbound/postmark", body, {"Content-Type": "application/json", "Authorization": auth})
                    seconds = wait_for_sms(sink, name, sent, timeout=20)
                    results["webhook"].append(seconds if seconds is not None else float("inf"))
                rng = random.Random(30)
                for n in range(samples if only != "webhook" else 0):
                    # Anywhere in the poll's minute: a sample starts just after the previous SMS, itself
                    # just after a poll, so the pause spans a whole minute for the phase to be uniform.
                    time.sleep(rng.uniform(0, 60))
                    name = f"RepI{n:03d}"
                    sent = time.time()
                    server.deliver(reply(name))
                    seconds = wait_for_sms(sink, name, sent, timeout=180)
                    results["imap"].append(seconds if seconds is not None else float("inf"))
                    shown = f"{seconds:.1f} s" if seconds is not None else "no SMS in 180 s"
                    print(f"  imap sample {n + 1}/{samples}: {shown}", flush=True)
    finally:
        server.stop()
    print(f"reply → SMS at the OVH double, SQLite + ORM broker, bin/serve (3 web workers + 1 cluster), {samples} each:")
    for kind, values in results.items():
        if not values:
            continue
        target = "≤ 70 s (one-minute poll)" if kind == "imap" else "≤ 1 s"
        print(
            f"  {kind:8s} p50 {statistics.median(values):6.2f} s  p95 {p95(values):6.2f} s  max {max(values):6.2f} s"
            f"  (target p95 {target})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--skip-latency", action="store_true", help="only the sorting figures")
    parser.add_argument("--only", choices=["imap", "webhook"], help="time one way in only")
    args = parser.parse_args()
    sorting()
    if not args.skip_latency:
        latency(args.samples, only=args.only)


if __name__ == "__main__":
    main()
