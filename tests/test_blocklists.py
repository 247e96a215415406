"""No list an ad blocker ships blocks a request the snippet or the emails make (issue 30, point 2).

Brave's filter engine with EasyList, EasyPrivacy and uBlock Origin's lists (tests/filter_engine.py) is
asked about every request, as the browser types it: the script, each event (a keepalive fetch), the
email's open pixel (an image in a webmail page) and its links (a navigation from the webmail), for a
landing page on the same site as ArkWatch and for one on another site (a page on webflow.io).
tests/test_browser_blocked.py runs the same engine inside the real browser."""

import dataclasses
import re

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import ProspectFactory
from tests.filter_engine import blocking_filter
from tracking.tokens import email_links_for

pytestmark = pytest.mark.django_db

# (ArkWatch's public origin, the landing page that includes the snippet)
DEPLOYMENTS = {
    "same origin (nginx/Caddy recipe)": ("https://www.acme-saas.fr", "https://www.acme-saas.fr/audit-gratuit"),
    "same site, own sub-domain": ("https://app.acme-saas.fr", "https://www.acme-saas.fr/audit-gratuit"),
    "cross site (webflow.io)": ("https://arkwatch.acme-saas.fr", "https://acme-saas.webflow.io/audit-gratuit"),
}
WEBMAILS = ("https://mail.google.com/mail/u/0/", "https://outlook.live.com/mail/0/inbox", "https://webmail.acme.fr/")


def snippet_requests(client, base: str) -> list[tuple[str, str]]:
    """(URL, type) of what the snippet loads and sends, read from the demo page and the served script."""
    page = client.get(reverse("tracking:landing-demo")).content.decode()
    script_src = re.search(r'<script src="([^"]+)"[^>]*data-heartbeat', page).group(1)
    script = client.get(script_src)
    assert script.status_code == 200
    events_path = re.search(r'data\.events \|\| "([^"]+)"', script.content.decode()).group(1)
    paths = re.findall(r'eventsPath \+ "(/[a-z]+)"', script.content.decode())
    assert len(paths) == 3, paths
    return [(base + script_src, "script")] + [(base + events_path + path, "fetch") for path in paths]


def email_requests(prospect, base: str, landing: str) -> list[tuple[str, str]]:
    with override_settings(PUBLIC_BASE_URL=base, TRACKING_LINK_HOSTS=[".acme-saas.fr", ".webflow.io"]):
        links = email_links_for(prospect, message_id="<relance-1@acme-saas.fr>", url=landing)
    urls = [value for name, value in dataclasses.asdict(links).items() if name.endswith("_url") and value]
    # The pixel is an image in the webmail's page; every other link is a navigation from it.
    return [(url, "image" if url == links.pixel_url else "document") for url in urls] + [
        (f"{landing}?ak={links.ak}", "document")
    ]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_no_filter_list_blocks_a_request_of_the_snippet_or_the_emails(client, deployment):
    base, landing = DEPLOYMENTS[deployment]
    prospect = ProspectFactory()
    requests = [(url, kind, landing) for url, kind in snippet_requests(client, base)]
    requests += [(url, kind, webmail) for url, kind in email_requests(prospect, base, landing) for webmail in WEBMAILS]
    assert len(requests) >= 4 + 3 * 3
    blocked = [(url, kind, src, rule) for url, kind, src in requests if (rule := blocking_filter(url, src, kind))]
    assert blocked == [], f"blocked by the ad blockers' lists: {blocked}"


def test_the_engine_does_block_what_the_issue_found():
    """The lists are loaded and read the way blockers read them: a cross-site sendBeacon (type ping) is
    blocked by EasyPrivacy's `$ping,third-party`, which is why the snippet no longer sends beacons."""
    rule = blocking_filter("https://arkwatch.acme-saas.fr/api/track/cta", "https://acme-saas.webflow.io/", "ping")
    assert rule == "$ping,third-party"
    assert blocking_filter("https://www.google-analytics.com/analytics.js", "https://www.acme-saas.fr/", "script")
