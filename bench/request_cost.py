"""CPU per request of every public endpoint, with a browser's user agent and with an 8 KB one (a new
one on every request, so that no cache helps). In-process (Django's test client, SQLite in a temporary
directory, DEBUG off); prints figures, asserts nothing.

    .venv/bin/python bench/request_cost.py [--requests 40]

Issue 18, point 1: the bot and mail-client checks must cost the same for an 8 KB header as for a
normal one. Rate limits are raised so that every request does the whole path (a refused request does
less work). The figure is this process's CPU time (time.process_time) over the requests, so it counts
the view, the middleware and SQLite's own work, not the client's sleeping.
"""

import argparse
import json
import os
import random
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORKDIR = Path(tempfile.mkdtemp(prefix="arkwatch-request-cost-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "arkwatch.settings",
        "DATABASE_URL": f"sqlite:///{WORKDIR}/db.sqlite3",
        "DATA_DIR": str(WORKDIR),
        "DEBUG": "true",
        "TRACKING_RATE_LIMIT": "1000000/m",
        "TRACKING_NETWORK_RATE_LIMIT": "1000000/m",
        "TRACKING_API_KEY": "bench-key",
        "SMS_BACKEND": "locmem",
        "LOG_LEVEL": "ERROR",
    }
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def new_browser() -> str:
    """A browser's user agent no cache has seen (another build number)."""
    return BROWSER.replace("131.0.0.0", f"131.0.{random.randint(0, 9999)}.{random.randint(0, 999)}")


def long_user_agent(size: int = 8192) -> str:
    """A browser's user agent followed by one run of letters up to `size` characters, a new one every
    time: a long run of letters is the worst case of crawlerdetect's pattern on main (7.6 s of CPU for
    8,000 letters, against 0.15 s for 8,000 spaces)."""
    head = f"{BROWSER} {''.join(random.choices(string.ascii_letters, k=12))}"
    return head + "a" * (size - len(head))


def endpoints(ak: str, pixel: str, link: str) -> dict[str, tuple[str, str, dict | None, dict]]:
    """name -> (method, path, JSON body, extra headers)."""
    visit = {"visitor_id": "reader-000001", "page": "/audit.html", "page_view_id": "pv-0000001", "event": "heartbeat"}
    return {
        "visit": ("POST", "/api/track/visit", {**visit, "ak": ak, "engaged_ms": 3000}, {}),
        # A page view's answer says whether the browser may keep the visitor (tracking/page_view_answer.py).
        "pageview": ("POST", "/api/track/visit", {**visit, "event": "pageview", "ak": ak}, {}),
        "pageview, no ak": ("POST", "/api/track/visit", {**visit, "event": "pageview"}, {}),
        "cta": ("POST", "/api/track/cta", {**visit, "cta_id": "cta_autre"}, {}),
        "identify": ("POST", "/api/track/identify", {"visitor_id": "reader-000001", "email": "a@b.example"}, {}),
        "email (API)": (
            "POST",
            "/api/track/email",
            {"email": "cto@acme.example", "message_id": "m-1", "event": "delivered"},
            {"HTTP_AUTHORIZATION": "Bearer bench-key"},
        ),
        "open pixel": ("GET", pixel, None, {}),
        "tracked link": ("GET", link, None, {}),
        "healthz": ("GET", "/healthz", None, {}),
    }


def cpu_per_request(client: Client, method: str, path: str, body: dict | None, headers: dict, agents) -> float:
    start = time.process_time()
    count = 0
    for agent in agents:
        if method == "POST":
            client.post(path, data=json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=agent, **headers)
        else:
            client.get(path, HTTP_USER_AGENT=agent, **headers)
        count += 1
    return (time.process_time() - start) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40, help="requests per endpoint with a browser's user agent")
    parser.add_argument("--long-requests", type=int, default=10, help="requests per endpoint with an 8 KB one")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    from prospects.models import Prospect
    from tracking.tokens import email_links_for

    # Granted: the identifying pixel and link, the dearer paths (without consent the pixel only counts).
    prospect = Prospect.objects.create(email="cto@acme.example", name="Ada", company="Acme", tracking_consent="granted")
    links = email_links_for(prospect, message_id="m-1", url=settings.PUBLIC_BASE_URL + "/audit-gratuit-monitoring.html")
    pixel = links.pixel_url[links.pixel_url.index("/t/") :]
    link = (links.link_url or "")[links.link_url.index("/t/") :] if links.link_url else ""
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_HOST="127.0.0.1")
    print(
        f"CPU per request (ms): {args.requests} requests with a browser's user agent, {args.long_requests} with"
        " a new 8,192-character one each time"
        "\n(same: one user agent repeated, as a reader's heartbeats; new: never seen before, so no cache helps)"
    )
    print(f"{'endpoint':<14} {'same browser UA':>16} {'new browser UA':>15} {'new 8 KB UA':>12} {'8 KB / new':>11}")
    for name, (method, path, body, headers) in endpoints(prospect.identity_token, pixel, link).items():
        cpu_per_request(client, method, path, body, headers, [BROWSER] * 5)  # warm up
        normal = cpu_per_request(client, method, path, body, headers, [BROWSER] * args.requests)
        fresh = cpu_per_request(client, method, path, body, headers, [new_browser() for _ in range(args.requests)])
        huge = cpu_per_request(
            client, method, path, body, headers, [long_user_agent() for _ in range(args.long_requests)]
        )
        print(f"{name:<14} {normal:>16.2f} {fresh:>15.2f} {huge:>12.2f} {huge / fresh:>11.1f}")


if __name__ == "__main__":
    main()
