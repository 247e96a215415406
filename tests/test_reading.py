"""Dwell means a person reading: the server span is the measure, but a page view whose own visible
time or heartbeat cadence contradicts it, or that a machine made with the email's link, texts nobody."""

import json
from datetime import timedelta

import pytest
import time_machine

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert
from alerts.signals import dwell
from alerts.signals.dwell import forget_page_views, page_view_crossed_threshold
from tests.factories import (
    BROWSER_UA,
    CtaClickFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
    aware,
)
from tracking.models import VisitEvent
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


# --- Where a page view's reading starts and ends: in one web process, and from the stored events -----


def test_a_page_views_start_is_its_own_not_the_previous_ones():
    # pv-first opened at T0, pv-second 95 s later; a heartbeat of pv-second, served by another web
    # process (forget_page_views), 5 s after it opened is 5 s of reading, not 100 (a snippet that
    # reports no visible time: the span alone decides).
    at = T0.timestamp()
    with time_machine.travel(at, tick=False):
        page_view_crossed_threshold("pv-first-00001", T0, opens=True)
    with time_machine.travel(at + 95, tick=False):
        assert not page_view_crossed_threshold("pv-second-0001", T0 + timedelta(seconds=95), opens=True)
    forget_page_views()
    with time_machine.travel(at + 100, tick=False):
        assert not page_view_crossed_threshold("pv-second-0001", T0 + timedelta(seconds=100))


def test_each_page_view_crossing_the_threshold_fires_for_itself():
    at = T0.timestamp()
    for page_view, opened in (("pv-first-00001", 0), ("pv-second-0001", 10)):
        with time_machine.travel(at + opened, tick=False):
            page_view_crossed_threshold(page_view, T0 + timedelta(seconds=opened), opens=True)
    with time_machine.travel(at + 90, tick=False):
        assert page_view_crossed_threshold("pv-first-00001", T0 + timedelta(seconds=90), engaged_ms=90_000)
    with time_machine.travel(at + 100, tick=False):
        assert page_view_crossed_threshold("pv-second-0001", T0 + timedelta(seconds=100), engaged_ms=90_000)


def test_a_long_read_is_seen_when_the_shared_store_keeps_no_first_times(monkeypatch):
    # PostgreSQL's store keeps none, and an unwritable LMDB file answers None: the page view's start
    # then comes from this process's memory and the stored events.
    monkeypatch.setattr(dwell, "remember_first", lambda *args: None)
    monkeypatch.setattr(dwell, "recall", lambda *args: None)
    at = T0.timestamp()
    with time_machine.travel(at, tick=False):
        assert not page_view_crossed_threshold("pv-alone-00001", T0, opens=True)
    with time_machine.travel(at + 89, tick=False):
        assert not page_view_crossed_threshold("pv-alone-00001", T0 + timedelta(seconds=89), engaged_ms=89_000)
    with time_machine.travel(at + 90, tick=False):
        assert page_view_crossed_threshold("pv-alone-00001", T0 + timedelta(seconds=90), engaged_ms=90_000)


@pytest.mark.parametrize(("heartbeat_s", "crossed"), [(5, False), (None, True), (15, True)])
def test_visible_time_is_judged_by_the_pages_own_heartbeat(heartbeat_s, crossed):
    # 80 s visible out of 90: a page beating every 5 s may lag 5 s, not 15 (a tab mostly in the background).
    at = T0.timestamp()
    with time_machine.travel(at, tick=False):
        page_view_crossed_threshold("pv-rhythm-0001", T0, opens=True, heartbeat_s=heartbeat_s)
    with time_machine.travel(at + 90, tick=False):
        moment = T0 + timedelta(seconds=90)
        verdict = page_view_crossed_threshold("pv-rhythm-0001", moment, engaged_ms=80_000, heartbeat_s=heartbeat_s)
    assert verdict is crossed


def test_a_web_process_remembers_a_bounded_number_of_page_views_the_oldest_forgotten(monkeypatch):
    # Heartbeats keep coming for as long as the product runs: the memory must stay bounded and working.
    monkeypatch.setattr(dwell, "MEMORY_SIZE", 3)
    for n in range(5):
        page_view_crossed_threshold(f"pv-bounded-{n}", T0, opens=True)
    assert list(dwell._FirstSeen.times) == ["pv-bounded-2", "pv-bounded-3", "pv-bounded-4"]


def page_view_of(prospect, stream: list[tuple[int, str, bool]]) -> str:
    """A page view of `prospect`'s browser: (seconds after T0, event, is_bot) each; no visible time reported."""
    for offset, event, is_bot in stream:
        VisitEventFactory(
            visitor_id="reader-000001",
            page_view_id="pv-reader-0001",
            prospect=prospect,
            event=event,
            is_bot=is_bot,
            received_at=T0 + timedelta(seconds=offset),
        )
    return "pv-reader-0001"


def test_machine_events_in_a_page_view_do_not_lengthen_the_read():
    # 30 s of reading, then a scanner's events carrying the same page view until 105 s: no long read.
    human = [(0, "pageview", False), (15, "heartbeat", False), (30, "heartbeat", False)]
    machine = [(45 + 15 * n, "heartbeat", True) for n in range(5)]
    page_view = page_view_of(ProspectFactory(), human + machine)
    assert dwell.find_dwell_signals({page_view}, T0 + timedelta(minutes=5)) == []


def test_a_long_read_names_the_network_it_came_from():
    # What the forged-traffic hold compares: two claimed long reads from one network within the hour.
    stream = [(0, "pageview", False), *[(15 * (n + 1), "heartbeat", False) for n in range(7)]]
    page_view = page_view_of(ProspectFactory(), stream)
    VisitEvent.objects.update(client_network="203.0.113.0")
    [signal] = dwell.find_dwell_signals({page_view}, T0 + timedelta(minutes=5))
    assert signal.client_network == "203.0.113.0"


@pytest.mark.parametrize(("beats", "found"), [(4, False), (5, True)])
def test_without_visible_time_only_heartbeats_show_the_page_in_view(beats, found):
    # 90 s at 15 s a beat needs 5 heartbeats; the page view's open and its leave are not heartbeats.
    stream = [(0, "pageview", False), *[(15 * (n + 1), "heartbeat", False) for n in range(beats)], (95, "leave", False)]
    page_view = page_view_of(ProspectFactory(), stream)
    assert bool(dwell.find_dwell_signals({page_view}, T0 + timedelta(minutes=5))) is found
