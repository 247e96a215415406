"""An alert through an Apprise channel beside its SMS, on the production command (`bin/serve web` with
3 workers + `bin/serve worker`, SQLite): the channel is a local HTTP endpoint reached with Apprise's
json:// that refuses the first message (HTTP 500); the SMS goes to the OVH double. Prints what arrived
where and each delivery row; asserts nothing.

    .venv/bin/python bench/channels.py
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ovh_sink import OvhSink  # noqa: E402
from bench.trust import Product, python, request  # noqa: E402

ENRICH = """
import django
django.setup()
from prospects.models import Prospect
Prospect.objects.update(phone="+33199001234", title="CTO", pain_point="Trop d'astreintes la nuit",
                        call_script="Parler du coût des incidents, proposer l'audit jeudi")
print("{}")
"""
DELIVERIES = """
import django, json
django.setup()
from alerts.outbox.models import AlertDelivery
print(json.dumps([
    {"to": d.label, "channel": d.channel, "status": d.status, "attempts": d.attempts, "error": d.last_error[:80]}
    for d in AlertDelivery.objects.order_by("pk")
]))
"""


class Hook:
    """json:// lands here; the first POST gets a 500."""

    def __init__(self) -> None:
        self.log: list[tuple[float, int, dict]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                status = 500 if not hook.log else 200
                hook.log.append((time.time(), status, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"


def main() -> None:
    hook = Hook()
    with OvhSink() as sink, Product(sink, ["Channel"], ALERT_CHANNELS=hook.url) as product:
        python(product.env, ENRICH)
        fired = time.time()
        body = {"visitor_id": "v-channel-01", "page": "/audit", "cta_id": "cta_reserver_audit"}
        request("POST", "/api/track/cta", {**body, "ak": product.tokens["Channel"]})
        time.sleep(15)
        rows = python(product.env, DELIVERIES)
    print("a CTA with ALERT_CHANNELS = one json:// endpoint that refuses the first message:")
    for arrived, message in sink.arrivals:
        print(f"  SMS at the OVH double   +{arrived - fired:5.2f} s: {message}")
    for arrived, status, payload in hook.log:
        print(f"  json:// endpoint        +{arrived - fired:5.2f} s: HTTP {status}  {payload.get('title')}")
    print("  last message's body:", json.dumps([p for _a, s, p in hook.log if s == 200][-1:][0].get("message", "")))
    print("  delivery rows:")
    for row in rows:
        print(f"    {row}")


if __name__ == "__main__":
    main()
