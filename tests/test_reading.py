"""Dwell means a person reading: the server span is the measure, but a page view whose own visible
time or heartbeat cadence contradicts it, or that a machine made with the email's link, texts nobody."""

import json
from datetime import timedelta

import pytest
import time_machine

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert
from tests.factories import (
    BROWSER_UA,
    CtaClickFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
    aware,
)
from tracking.tokens import make_link_token

pytestmark = pytest.mark.django_db
T0 = aware(2026, 11, 24, 9, 0, 0)


@pytest.fixture
def cycle(django_capture_on_commit_callbacks):
    def run(at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return detection_cycle_run()

    return run


def events(prospect, stream, *, pv="pv-read0001", network="203.0.113.0"):
    """stream: (seconds after T0, event, engaged_ms)."""
    for seconds, event, engaged_ms in stream:
        VisitEventFactory(
            visitor_id="visitor-read1",
            page_view_id=pv,
            event=event,
            engaged_ms=engaged_ms,
            received_at=T0 + timedelta(seconds=seconds),
            ak=prospect.identity_token,
            client_network=network,
        )


def reading(seconds):
    return [(0, "pageview", 0)] + [(t, "heartbeat", t * 1000) for t in [*range(15, seconds, 15), seconds]]


def test_a_page_read_in_the_foreground_for_95_seconds_texts(cycle):
    prospect = ProspectFactory()
    events(prospect, reading(95))
    cycle(T0 + timedelta(seconds=96))
    assert Alert.objects.get().evidence["visible_seconds"] == 95 and len(sms.outbox) == 1


def test_a_background_tab_closed_later_is_not_a_read(cycle):
    prospect = ProspectFactory()
    events(prospect, [(0, "pageview", 0), (200, "leave", 300)])
    cycle(T0 + timedelta(seconds=201))
    assert Alert.objects.count() == 0 and sms.outbox == []


def test_heartbeats_ten_times_faster_than_the_tracker_sends_them_are_a_bot(cycle):
    prospect = ProspectFactory()
    stream = [(0, "pageview", 0)] + [(t * 1.5, "heartbeat", 1800) for t in range(1, 62)]
    events(prospect, stream)
    cycle(T0 + timedelta(seconds=93))
    assert Alert.objects.count() == 0


def test_a_visible_time_longer_than_the_page_view_is_forged(cycle):
    prospect = ProspectFactory()
    events(prospect, [(0, "pageview", 0), (95, "heartbeat", 10_000_000)])
    cycle(T0 + timedelta(seconds=96))
    assert Alert.objects.count() == 0


@pytest.mark.parametrize(("heartbeats", "alerts"), [(1, 0), (6, 1)])
def test_a_snippet_without_visible_time_is_judged_by_its_heartbeats(cycle, heartbeats, alerts):
    prospect = ProspectFactory()
    stream = [(0, "pageview", None)] + [(95 * (n + 1) / heartbeats, "heartbeat", None) for n in range(heartbeats)]
    events(prospect, stream)
    cycle(T0 + timedelta(seconds=96))
    assert Alert.objects.count() == alerts


def test_the_background_tab_s_late_event_does_not_ask_for_detection(client, django_capture_on_commit_callbacks):
    from unittest import mock

    prospect = ProspectFactory()
    body = {"visitor_id": "visitor-bg01", "page_view_id": "pv-bg000001", "page": "/a", "ak": prospect.identity_token}
    with mock.patch("alerts.receivers.detection_enqueue") as enqueued:
        for seconds, event, engaged in [(0, "pageview", 0), (200, "leave", 300)]:
            with time_machine.travel(T0 + timedelta(seconds=seconds), tick=False):
                with django_capture_on_commit_callbacks(execute=True):
                    payload = {**body, "event": event, "engaged_ms": engaged}
                    client.post("/api/track/visit", json.dumps(payload), "text/plain", HTTP_USER_AGENT=BROWSER_UA)
    assert enqueued.call_count == 0


@pytest.mark.parametrize(("page_network", "alerts"), [("198.51.100.0", 0), ("203.0.113.0", 1)])
def test_a_sandbox_following_the_email_link_is_a_machine_visit(client, cycle, page_network, alerts):
    """A gateway clicks the tracked link 8 s after delivery (a machine), then its sandbox loads the page
    with a browser user agent from the same network: no SMS. The prospect's own visit from their
    office network still counts."""
    prospect = ProspectFactory()
    EmailEventFactory(prospect=prospect, message_id="m1", event="delivered", occurred_at=T0 - timedelta(seconds=8))
    token = make_link_token(prospect_id=prospect.pk, message_id="m1", url="https://www.example.com/audit")
    with time_machine.travel(T0, tick=False):
        client.get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.77")
    events(prospect, [(t + 5, e, ms) for t, e, ms in reading(100)], network=page_network)
    # Sandboxes click through what they open; a CTA clicked in the page view it loaded is no intent either.
    CtaClickFactory(
        visitor_id="visitor-read1",
        page_view_id="pv-read0001",
        cta_id="cta_reserver_audit",
        received_at=T0 + timedelta(seconds=60),
        ak=prospect.identity_token,
        client_network=page_network,
    )
    # Another prospect clicks in the same minute, after the sandbox: texted whatever the sandbox did.
    other = ProspectFactory()
    VisitorFactory(visitor_id="visitor-other1", prospect=other)
    CtaClickFactory(visitor_id="visitor-other1", cta_id="cta_reserver_audit", received_at=T0 + timedelta(seconds=70))
    cycle(T0 + timedelta(seconds=110))
    assert Alert.objects.filter(signal="page_dwell").count() == alerts
    assert Alert.objects.filter(signal="cta_click", prospect=prospect).count() == alerts
    assert Alert.objects.filter(signal="cta_click", prospect=other).count() == 1
