"""A cross-site deployment in a real browser that applies the ad blockers' lists (issue 30, point 2).

The landing page is served from one origin (http://127.0.0.1:<port>), ArkWatch from another site
(live_server, http://localhost:<port>), as a page on webflow.io with ArkWatch on the founder's domain.
Every request the browser makes goes through Brave's filter engine with EasyList, EasyPrivacy and
uBlock Origin's lists (tests/filter_engine.py) and is aborted when they block it, as a blocker would:
the CTA click must still reach the server."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from tests.browser import browser_page
from tests.factories import ProspectFactory
from tests.filter_engine import blocking_filter
from tracking.models import CtaClick, VisitEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDING = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Audit</title></head><body>
<button type="button" data-cta="cta_reserver_audit">Réserver audit</button>
<script src="{script}" data-heartbeat="1" defer></script></body></html>"""


class _Landing(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):
        pass


def wait_for(page, condition, timeout=10.0):
    """Polls while the browser runs: Playwright's sync API runs the route handler (the blocker) only
    while this thread is inside one of its calls, so the wait is the page's own, not time.sleep."""
    for _ in range(int(timeout * 10)):
        if condition():
            return True
        page.wait_for_timeout(100)
    return False


def serve_landing(script_url: str) -> ThreadingHTTPServer:
    handler = type("Landing", (_Landing,), {"html": LANDING.format(script=script_url).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_cta_click_on_a_cross_site_deployment_reaches_the_server_through_the_blockers_lists(live_server):
    prospect = ProspectFactory()
    server = serve_landing(f"{live_server.url}/js/page.js")
    landing = f"http://127.0.0.1:{server.server_address[1]}"
    assert "localhost" in live_server.url, "the events must go to another site than the page's"
    blocked: list[tuple[str, str, str]] = []

    def through_the_lists(route, request):
        # A navigation is judged against its own address; a page's requests against the page's.
        source = request.url if request.is_navigation_request() else request.frame.url
        rule = blocking_filter(request.url, source, request.resource_type)
        if rule:
            blocked.append((request.url, request.resource_type, rule))
            return route.abort("blockedbyclient")
        return route.continue_()

    try:
        with override_settings(CORS_ALLOWED_ORIGINS=[landing]), browser_page(landing) as page:
            page.route("**/*", through_the_lists)
            page.goto(f"/audit-gratuit?ak={prospect.identity_token}")
            assert wait_for(page, lambda: VisitEvent.objects.filter(event="pageview").exists()), "no page view"
            page.get_by_role("button", name="Réserver audit").click()
            assert wait_for(page, lambda: CtaClick.objects.exists(), timeout=5), f"the click never arrived: {blocked}"
            # Leaving: the page goes, and `leave` must still get through the lists.
            page.goto("about:blank")
            assert wait_for(page, lambda: VisitEvent.objects.filter(event="leave").exists()), f"no leave: {blocked}"
    finally:
        server.shutdown()
    click = CtaClick.objects.get()
    assert (click.cta_id, click.ak) == ("cta_reserver_audit", prospect.identity_token)
    assert blocked == []
