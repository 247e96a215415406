"""Issue 18, point 1: a request's cost does not grow with its headers. Every public endpoint is sent
an 8 KB user agent (and 8 KB of X-Forwarded-For hops); no answer is a 5xx, the bot and mail-client
checks are handed at most the stored length, and what is stored is cut to it. (The CPU figures are in
bench/request_cost.py: tests do not time.)"""

import json
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from alerts.signals.models import DetectionRun
from core import bots
from core import client as core_client
from core.bots import USER_AGENT_MAX_LENGTH
from tests.factories import BROWSER_UA, ProspectFactory
from tracking import mail_fetchers
from tracking.models import EmailEvent, VisitEvent
from tracking.tokens import email_links_for

pytestmark = pytest.mark.django_db

# A browser's user agent, then a run of letters: the worst case of crawlerdetect's backtracking pattern.
HUGE_USER_AGENT = (BROWSER_UA + " " + "a" * 8192)[:8192]
HUGE_FORWARDED_FOR = ", ".join(f"203.0.113.{i % 250}" for i in range(700))[:8192]


def public_paths(prefix: str = "", patterns: list | None = None) -> list[str]:
    """Every URL pattern outside the admin, as a route with its converters left in."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith(settings.ADMIN_URL):
                found += public_paths(route, entry.url_patterns)
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def concrete(route: str, pixel: str, link: str) -> str:
    if route.startswith("t/o/"):
        return pixel
    if route.startswith("t/c/"):
        return link
    return "/" + route.replace("<int:alert_id>", "1").replace("<str:token>", "x" * 40).lstrip("^").rstrip("$")


@pytest.fixture
def judged_lengths():
    """The lengths of the user agents the bot check and the mail-client check are handed."""
    lengths: list[int] = []
    names = bots.names_a_machine
    by_user_agent = mail_fetchers._by_user_agent

    def spy_names(agent: str) -> bool:
        lengths.append(len(agent))
        return names(agent)

    def spy_fetcher(agent: str) -> mail_fetchers.FetcherVerdict:
        lengths.append(len(agent))
        return by_user_agent.__wrapped__(agent)

    with (
        mock.patch.object(core_client, "names_a_machine", spy_names),
        mock.patch.object(mail_fetchers, "_by_user_agent", spy_fetcher),
    ):
        core_client._is_bot.cache_clear()
        yield lengths
    core_client._is_bot.cache_clear()


@override_settings(TRACKING_API_KEY="k" * 32, BREVO_WEBHOOK_TOKEN="k" * 32, TRACKING_TRUSTED_PROXIES=["127.0.0.1/32"])
def test_every_public_endpoint_takes_an_8kb_user_agent_at_the_cost_of_a_stored_one(client, judged_lengths):
    prospect = ProspectFactory(email="cto@acme.example")
    DetectionRun.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), window_end=timezone.now()
    )  # healthy: /healthz answers 200
    links = email_links_for(prospect, message_id="m-1", url=settings.PUBLIC_BASE_URL + "/audit-gratuit-monitoring.html")
    pixel = links.pixel_url[links.pixel_url.index("/t/") :]
    link = links.link_url[links.link_url.index("/t/") :]
    body = {
        "visitor_id": "visitor-0001",
        "page_view_id": "pv-000001",
        "page": "/audit-gratuit-monitoring.html",
        "event": "pageview",
        "cta_id": "cta_reserver_audit",
        "email": "cto@acme.example",
        "message_id": "m-1",
    }
    headers = {
        "HTTP_USER_AGENT": HUGE_USER_AGENT,
        "HTTP_X_FORWARDED_FOR": HUGE_FORWARDED_FOR,
        "HTTP_AUTHORIZATION": "Bearer " + "k" * 32,
        "REMOTE_ADDR": "127.0.0.1",
    }
    paths = sorted({concrete(route, pixel, link) for route in public_paths()})
    assert {"/api/track/visit", "/api/track/cta", "/api/track/identify", "/healthz", pixel, link} <= set(paths)
    for path in paths:
        for response in (
            client.get(path, **headers),
            client.post(path, data=json.dumps(body), content_type="text/plain", **headers),
        ):
            assert response.status_code < 500, (path, response.status_code)
    assert judged_lengths, "the checks were not reached"
    assert max(judged_lengths) <= USER_AGENT_MAX_LENGTH
    stored = [
        *VisitEvent.objects.values_list("user_agent", flat=True),
        *EmailEvent.objects.values_list("user_agent", flat=True),
    ]
    assert stored and all(agent == HUGE_USER_AGENT[: len(agent)] and len(agent) <= 512 for agent in stored)


def test_a_machine_is_judged_by_what_is_stored_of_its_user_agent():
    assert core_client.is_bot_user_agent("Googlebot/2.1 (+http://www.google.com/bot.html) " + "a" * 8000)
    # A name past the stored length is not read: the check costs the same whatever follows.
    assert not core_client.is_bot_user_agent(BROWSER_UA + " " + "a" * 8000 + " Googlebot/2.1")
