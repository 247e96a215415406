"""A long read in the real browser: seconds from 90 s of visible reading to the SMS, and the requests one
page view of a 3-minute read makes. Prints figures; asserts nothing.

    .venv/bin/python bench/long_read.py [--readers 3] [--read-seconds 180] [--before REF]

The production command (`bin/serve web` + `bin/serve worker`, SQLite), SIGNAL_DWELL_SECONDS=90 as
shipped, an OVH double. Debian's chromium opens a landing page that includes the snippet as the README
says (`data-heartbeat="15"`), one page per reader, each with its own prospect's personal link, all at
once, each in its own browser context (visible for the whole read). `--before REF` runs the same
number of readers, in the same minutes, with the snippet of git revision REF (e.g. `main`) beside this
tree's: the comparison is side by side on one server and one machine's load.

Reading starts when the page's script sends its page view (the browser's own request time); the SMS
is timed at its arrival at the OVH double. Requests per page view: the events the server stored for
it, its `leave` included (the script's download not counted).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ovh_sink import OvhSink  # noqa: E402
from bench.processes import (  # noqa: E402
    ROOT,
    answers_ping,
    log_contains,
    production_env,
    reset_database,
    running,
    serve_cmd,
)

PORT = 8450
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
DWELL_SECONDS = 90
COUNT_EVENTS = """
import django, json, sys
django.setup()
from django.db.models import Count, Q
from tracking.models import VisitEvent
rows = VisitEvent.objects.values("ak").annotate(n=Count("pk"), leaves=Count("pk", filter=Q(event="leave")))
print(json.dumps({r["ak"]: [r["n"], r["leaves"]] for r in rows}))
"""
CREATE_PROSPECTS = """
import django, json, sys
django.setup()
from prospects.models import Prospect
names = json.loads(sys.argv[1])
print(json.dumps({n: Prospect.objects.create(email=f"{n.lower()}@{n.lower()}.example", name=n,
                  company=f"{n} SAS").identity_token for n in names}))
"""
PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Audit</title></head><body>
<h1>Audit gratuit</h1><p>Un long texte lu attentivement.</p>
<script src="/{snippet}.js" data-endpoint="{endpoint}" data-heartbeat="15" defer></script></body></html>"""


def serve_pages(snippets: dict[str, bytes], endpoint: str) -> ThreadingHTTPServer:
    """The landing pages, one per snippet: /<snippet>.html includes /<snippet>.js."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            name, _dot, kind = self.path.split("?")[0].strip("/").partition(".")
            if name not in snippets:
                self.send_error(404)
                return
            body = snippets[name] if kind == "js" else PAGE.format(snippet=name, endpoint=endpoint).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript" if kind == "js" else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def read(readers: list[tuple[str, str, str]], pages_url: str, endpoint: str, seconds: float) -> dict[str, dict]:
    """Every reader's page open at once for `seconds`: {name: {"started": epoch, "requests": n}}."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    found: dict[str, dict] = {name: {"started": None, "requests": 0, "kinds": []} for name, _s, _ak in readers}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pages = []
        for name, snippet, ak in readers:
            context = browser.new_context(user_agent=UA, locale="fr-FR")
            page = context.new_page()

            def seen(request, name=name) -> None:
                if not request.url.startswith(endpoint) or request.method != "POST":
                    return
                entry = found[name]
                event = json.loads(request.post_data or "{}").get("event", "cta")
                if event == "pageview" and entry["started"] is None:
                    entry["started"] = time.time()
                entry["requests"] += 1
                entry["kinds"].append((round(time.time() - (entry["started"] or time.time()), 2), event))

            page.on("request", seen)
            page.goto(f"{pages_url}/{snippet}.html?ak={ak}")
            pages.append(page)
        end = time.time() + seconds
        while time.time() < end:
            pages[0].wait_for_timeout(200)  # lets Playwright deliver the request events
        for page in pages:
            page.goto("about:blank")  # leaving: pagehide sends `leave`
        pages[0].wait_for_timeout(1000)
        browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=3, help="readers per snippet, all at once")
    parser.add_argument("--read-seconds", type=float, default=180)
    parser.add_argument("--before", default="", help="a git revision whose snippet reads beside this tree's")
    args = parser.parse_args()
    snippets = {"now": (ROOT / "tracking" / "static" / "tracker.js").read_bytes()}
    if args.before:
        old = subprocess.run(
            ["git", "show", f"{args.before}:tracking/static/tracker.js"], cwd=ROOT, capture_output=True, check=True
        )
        snippets["before"] = old.stdout
    database_url = f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-long-read.sqlite3"
    reset_database(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-long-read-"))
    endpoint = f"http://127.0.0.1:{PORT}"
    pages = serve_pages(snippets, endpoint)
    pages_url = f"http://127.0.0.1:{pages.server_address[1]}"
    with OvhSink() as sink:
        env = production_env(
            database_url,
            DATA_DIR=str(workdir),
            PORT=str(PORT),
            WEB_WORKERS="3",
            PYTHON=sys.executable,
            Q_CLUSTER_NAME=f"bench-{uuid.uuid4().hex[:6]}",
            Q_LOG_LEVEL="INFO",
            SIGNAL_DWELL_SECONDS=str(DWELL_SECONDS),
            ALERT_SMS_RECIPIENTS="+33199000001",  # a fictitious number (ARCEP reserves 01 99 00 for fiction)
            ALERT_SMS_MAX_PER_HOUR="100000",
            ALERT_HOLD_SUSPICIOUS="false",
            TRACKING_ALLOWED_ORIGINS=pages_url,
            **sink.settings(),
        )
        subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)
        readers = [(f"Long{snippet.title()}{n:02d}", snippet) for snippet in snippets for n in range(args.readers)]
        tokens = json.loads(
            subprocess.run(
                [sys.executable, "-c", CREATE_PROSPECTS, json.dumps([name for name, _s in readers])],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        worker_log, web_log = workdir / "worker.log", workdir / "web.log"
        with (
            running(serve_cmd("worker"), env, worker_log, ready=log_contains(worker_log, "Q Cluster")),
            running(serve_cmd("web"), env, web_log, ready=lambda: answers_ping(PORT)),
        ):
            found = read(
                [(name, snippet, tokens[name]) for name, snippet in readers], pages_url, endpoint, args.read_seconds
            )
            time.sleep(2)
        with sink.lock:
            arrivals = list(sink.arrivals)
        stored = json.loads(
            subprocess.run(
                [sys.executable, "-c", COUNT_EVENTS], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            ).stdout
        )
    pages.shutdown()
    print(
        f"a {args.read_seconds:g} s read in chromium, data-heartbeat=15, SIGNAL_DWELL_SECONDS={DWELL_SECONDS}, "
        f"bin/serve (3 web workers + 1 cluster, SQLite), {args.readers} reader(s) per snippet at once:"
    )
    for snippet in snippets:
        delays, requests = [], []
        for name, of in readers:
            if of != snippet:
                continue
            entry = found[name]
            requests.append(stored.get(tokens[name], [0, 0])[0])
            sms = [at for at, message in arrivals if name in message]
            if entry["started"] and sms:
                delays.append(min(sms) - (entry["started"] + DWELL_SECONDS))
            if os.environ.get("BENCH_VERBOSE"):
                print(f"    {name}: {entry['kinds']} stored (events, leaves): {stored.get(tokens[name])}")
        shown = ", ".join(f"{d:.2f}" for d in sorted(delays)) or "none"
        print(
            f"  {snippet:6s} SMS after 90 s of reading: +{statistics.median(delays) if delays else float('nan'):.2f} s "
            f"median (each: {shown}; {len(delays)} of {len(requests)} texted); "
            f"requests per page view: {statistics.median(requests) if requests else 0:g} "
            f"(each: {', '.join(map(str, requests))})"
        )


if __name__ == "__main__":
    main()
