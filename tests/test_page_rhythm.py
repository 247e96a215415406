"""Issue 18, point 9: the page sets its rhythm. A page whose tracker beats every 1, 5, 15 or 60 s
(data-heartbeat) and reports it (heartbeat_s) keeps its dwell signal, live, with the server's
TRACKING_HEARTBEAT_SECONDS left at its default; a flood is still no reading, and a background tab
still texts nobody."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings

from alerts.outbox import sms
from alerts.outbox.models import Alert
from tests.factories import BROWSER_UA, ProspectFactory, aware
from tracking.models import VisitEvent

pytestmark = pytest.mark.django_db
T0 = aware(2026, 11, 24, 9, 0, 0)


def send_page_view(client, capture, prospect, stream, period) -> None:
    """stream: (seconds after T0, event, engaged_ms), sent as tracker.js sends them, with its period."""
    base = {"visitor_id": "visitor-rhythm", "page_view_id": "pv-rhythm01", "page": "/audit.html"}
    for seconds, event, engaged_ms in stream:
        body = {**base, "event": event, "engaged_ms": engaged_ms, "heartbeat_s": period}
        if event == "pageview":
            body["ak"] = prospect.identity_token
        with time_machine.travel(T0 + timedelta(seconds=seconds), tick=False), capture(execute=True):
            response = client.post("/api/track/visit", json.dumps(body), "text/plain", HTTP_USER_AGENT=BROWSER_UA)
        assert response.status_code == 202, response.content


def read_in_the_foreground(period: float, seconds: float = 100) -> list[tuple[float, str, int]]:
    beats = int(seconds // period)
    return [(0, "pageview", 0)] + [(n * period, "heartbeat", int(n * period * 1000)) for n in range(1, beats + 1)]


@pytest.mark.parametrize("period", [1, 5, 15, 60])
@override_settings(TRACKING_HEARTBEAT_SECONDS=15)
def test_a_page_read_for_100_seconds_texts_whatever_its_rhythm(client, django_capture_on_commit_callbacks, period):
    prospect = ProspectFactory()
    stream = read_in_the_foreground(period, 100 if period < 60 else 120)
    send_page_view(client, django_capture_on_commit_callbacks, prospect, stream, period)
    assert set(VisitEvent.objects.values_list("heartbeat_s", flat=True)) == {period}
    assert Alert.objects.get().signal == "page_dwell"
    assert len(sms.outbox) == 1


@override_settings(TRACKING_HEARTBEAT_SECONDS=15)
def test_a_flood_is_still_no_reading_even_claiming_the_fastest_rhythm(client, django_capture_on_commit_callbacks):
    prospect = ProspectFactory()
    # Five heartbeats a second for 100 s, each claiming a 1 s period: more than two a second.
    stream = [(0, "pageview", 0)] + [(n / 5, "heartbeat", n * 200) for n in range(1, 501)]
    send_page_view(client, django_capture_on_commit_callbacks, prospect, stream, 1)
    assert Alert.objects.count() == 0 and sms.outbox == []


@override_settings(TRACKING_HEARTBEAT_SECONDS=15)
def test_a_background_tab_at_a_slow_rhythm_still_texts_nobody(client, django_capture_on_commit_callbacks):
    prospect = ProspectFactory()
    send_page_view(client, django_capture_on_commit_callbacks, prospect, [(0, "pageview", 0), (200, "leave", 300)], 60)
    assert Alert.objects.count() == 0


@pytest.mark.parametrize("period", [0, 0.5, 61, "5", True, [5]])
def test_a_period_outside_the_contract_is_refused_and_nothing_stored(client, period):
    body = {"visitor_id": "visitor-rhythm", "page": "/audit.html", "event": "heartbeat", "heartbeat_s": period}
    response = client.post("/api/track/visit", json.dumps(body), "text/plain", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 400 and "heartbeat_s" in response.json()["fields"]
    assert VisitEvent.objects.count() == 0
