"""Signal thresholds, cooldown and late matches, with a frozen clock."""

from datetime import datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from alerts.cycle import detection_cycle_run, detection_is_late, detection_runs_prune
from alerts.outbox import sms
from alerts.outbox.admission import alert_record_signal
from alerts.outbox.models import Alert
from alerts.signals.detected import DetectedSignal
from alerts.signals.models import DetectionRun
from alerts.tasks import detection_enqueue
from core.display import phone_display
from tests.factories import (
    CtaClickFactory,
    DetectionRunFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
    aware,
)
from tracking.matching import visitor_link_by_hand
from tracking.models import Meeting, VisitEvent, Visitor

pytestmark = pytest.mark.django_db
T0 = aware(2026, 11, 24, 9, 0, 0)


@pytest.fixture
def cycle(django_capture_on_commit_callbacks):
    def run(at, **kwargs):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return detection_cycle_run(**kwargs)

    return run


def page_view(prospect, start, seconds, *, pv="pv-000001", visitor="visitor-1", **fields):
    """What tracker.js sends for a page read in the foreground: a page view, then a heartbeat every
    15 s carrying the visible time, the last one at `seconds`."""
    VisitEventFactory(
        visitor_id=visitor,
        page_view_id=pv,
        event="pageview",
        received_at=start,
        engaged_ms=0,
        ak=prospect.identity_token if prospect else "",
        **fields,
    )
    for at in [*range(15, seconds, 15), seconds]:
        VisitEventFactory(
            visitor_id=visitor,
            page_view_id=pv,
            event="heartbeat",
            received_at=start + timedelta(seconds=at),
            engaged_ms=at * 1000,
            **fields,
        )


@pytest.mark.parametrize(("seconds", "alerts"), [(1, 0), (60, 0), (89, 0), (90, 1), (91, 1), (400, 1)])
def test_dwell_fires_at_90_seconds_of_server_time(cycle, seconds, alerts):
    prospect = ProspectFactory()
    page_view(prospect, T0, seconds)
    cycle(T0 + timedelta(seconds=seconds + 1))
    assert Alert.objects.filter(signal="page_dwell").count() == alerts
    assert len(sms.outbox) == alerts
    if alerts:
        assert Alert.objects.get().evidence["dwell_seconds"] == seconds


def test_the_client_engaged_ms_alone_is_not_trusted(cycle):
    prospect = ProspectFactory()
    VisitEventFactory(
        visitor_id="visitor-1", page_view_id="pv-000001", ak=prospect.identity_token, received_at=T0, engaged_ms=600_000
    )
    cycle(T0 + timedelta(seconds=5))
    assert Alert.objects.count() == 0


@pytest.mark.parametrize(
    ("after", "alerts"),
    [
        (timedelta(minutes=5), 0),
        (timedelta(hours=23), 0),
        (timedelta(hours=23, minutes=59), 0),
        (timedelta(hours=24), 1),
        (timedelta(hours=24, minutes=1), 1),
        (timedelta(hours=36), 1),
        (timedelta(hours=47, minutes=59), 1),
        (timedelta(hours=48), 1),
        (timedelta(hours=48, minutes=1), 0),
        (timedelta(hours=72), 0),
    ],
)
def test_email_reopen_fires_between_24_and_48_hours(cycle, after, alerts):
    prospect = ProspectFactory(consented=True)
    EmailEventFactory(prospect=prospect, message_id="m1", event="sent", occurred_at=T0)
    EmailEventFactory(
        prospect=prospect, message_id="m1", event="opened", occurred_at=T0 + after, received_at=T0 + after
    )
    cycle(T0 + after + timedelta(seconds=1))
    assert Alert.objects.filter(signal="email_reopen").count() == alerts
    assert len(sms.outbox) == alerts


def test_machine_opens_never_count(cycle):
    prospect = ProspectFactory()
    EmailEventFactory(prospect=prospect, message_id="m1", event="sent", occurred_at=T0)
    when = T0 + timedelta(hours=30)
    EmailEventFactory(
        prospect=prospect,
        message_id="m1",
        event="opened",
        occurred_at=when,
        received_at=when,
        machine_reason="Apple",
    )
    cycle(when + timedelta(seconds=1))
    assert Alert.objects.count() == 0


def test_a_listed_cta_fires_and_an_unlisted_one_does_not(cycle):
    prospect = ProspectFactory()
    VisitorFactory(visitor_id="visitor-1", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-1", cta_id="cta_newsletter", received_at=T0)
    cycle(T0 + timedelta(seconds=1))
    assert Alert.objects.count() == 0
    CtaClickFactory(visitor_id="visitor-1", cta_id="cta_reserver_audit", received_at=T0 + timedelta(seconds=2))
    cycle(T0 + timedelta(seconds=3))
    alert = Alert.objects.get()
    assert (alert.signal, alert.status, alert.evidence["cta_id"]) == ("cta_click", "sent", "cta_reserver_audit")
    assert sms.outbox[0].to == "+33199000001"
    # The number to call is in the SMS itself, grouped and international (it dials from anywhere).
    assert phone_display(prospect.phone, international=True) in sms.outbox[0].body


def test_bots_never_count(cycle):
    prospect = ProspectFactory()
    page_view(prospect, T0, 300, is_bot=True)
    CtaClickFactory(visitor_id="visitor-1", ak=prospect.identity_token, received_at=T0, is_bot=True)
    cycle(T0 + timedelta(seconds=301))
    assert Alert.objects.count() == 0


def test_cooldown_is_per_signal_and_expires_after_24_hours(cycle):
    prospect = ProspectFactory()
    VisitorFactory(visitor_id="visitor-1", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-1", page_view_id="pv-000001", received_at=T0)
    cycle(T0 + timedelta(seconds=1))
    CtaClickFactory(visitor_id="visitor-1", page_view_id="pv-000002", received_at=T0 + timedelta(minutes=10))
    cycle(T0 + timedelta(minutes=10, seconds=1))
    assert list(Alert.objects.order_by("pk").values_list("status", flat=True)) == ["sent", "cooldown"]
    assert len(sms.outbox) == 1
    # Another signal for the same prospect texts at once.
    page_view(prospect, T0 + timedelta(minutes=11), 95, pv="pv-000003")
    cycle(T0 + timedelta(minutes=13))
    assert Alert.objects.get(signal="page_dwell").status == "sent" and len(sms.outbox) == 2
    # 24 h later the same signal texts again.
    later = T0 + timedelta(hours=24, minutes=1)
    CtaClickFactory(visitor_id="visitor-1", page_view_id="pv-000004", received_at=later)
    cycle(later + timedelta(seconds=1))
    assert len(sms.outbox) == 3


def test_a_second_run_changes_nothing(cycle):
    prospect = ProspectFactory()
    page_view(prospect, T0, 120)
    cycle(T0 + timedelta(seconds=121))
    before = list(Alert.objects.values_list("pk", "status"))
    report = cycle(T0 + timedelta(seconds=122))
    assert report.alerts == [] and list(Alert.objects.values_list("pk", "status")) == before
    # Even a run that re-reads the whole history (no cursor) records nothing new.
    from alerts.signals.models import DetectionRun

    DetectionRun.objects.all().delete()
    assert cycle(T0 + timedelta(seconds=123)).alerts == [] and len(sms.outbox) == 1


def test_a_visitor_linked_by_hand_later_gets_its_earlier_long_read_reconsidered(cycle, django_user_model):
    prospect = ProspectFactory()
    page_view(None, T0, 100, visitor="visitor-7")  # anonymous long visit, already scanned once
    cycle(T0 + timedelta(seconds=101))
    cycle(T0 + timedelta(minutes=5))  # the window has moved past those events
    assert Alert.objects.count() == 0
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-for-tests-only")
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        visitor_link_by_hand(visitor=Visitor.objects.get(visitor_id="visitor-7"), prospect=prospect, user=staff)
    cycle(T0 + timedelta(minutes=10, seconds=1))
    alert = Alert.objects.get()
    assert (alert.prospect, alert.signal, alert.status) == (prospect, "page_dwell", "sent")
    visitor = Visitor.objects.get(visitor_id="visitor-7")
    assert visitor.matched_by == staff and visitor.match_evidence_sentence == "Rattaché à la main par staff"


def test_a_hand_link_asks_detection_for_a_cycle_at_once(django_user_model, django_capture_on_commit_callbacks):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-for-tests-only")
    VisitEventFactory(visitor_id="visitor-8")
    with (
        mock.patch("alerts.tasks.async_task") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        visitor_link_by_hand(
            visitor=Visitor.objects.create(visitor_id="visitor-8"), prospect=ProspectFactory(), user=staff
        )
    assert [call.kwargs["task_name"] for call in queued.call_args_list] == ["detect:manual_link"]


def test_a_late_match_raises_the_signals_earlier_events_earned(cycle):
    prospect = ProspectFactory(email="cto@acme-corp.example")
    page_view(None, T0, 100, visitor="visitor-9")  # anonymous long visit
    cycle(T0 + timedelta(seconds=101))
    assert Alert.objects.count() == 0
    # Ten minutes later the same browser comes back through the personal link.
    VisitEventFactory(
        visitor_id="visitor-9",
        page_view_id="pv-000777",
        event="pageview",
        ak=prospect.identity_token,
        received_at=T0 + timedelta(minutes=10),
    )
    cycle(T0 + timedelta(minutes=10, seconds=1))
    alert = Alert.objects.get()
    assert (alert.prospect, alert.signal, alert.status) == (prospect, "page_dwell", "sent")


def test_stale_evidence_is_recorded_but_nobody_is_texted(cycle):
    prospect = ProspectFactory()
    page_view(None, T0, 100, visitor="visitor-9")
    VisitEventFactory(
        visitor_id="visitor-9",
        page_view_id="pv-000777",
        ak=prospect.identity_token,
        received_at=T0 + timedelta(minutes=61, seconds=40),
    )
    cycle(T0 + timedelta(minutes=62))
    alert = Alert.objects.get()
    assert alert.status == "stale" and sms.outbox == []


def test_do_not_contact_prospects_are_recorded_but_not_texted(cycle):
    prospect = ProspectFactory(status="do_not_contact")
    page_view(prospect, T0, 100)
    cycle(T0 + timedelta(seconds=101))
    assert Alert.objects.get().status == "muted" and sms.outbox == []


def test_a_signal_makes_a_new_prospect_hot(cycle):
    prospect = ProspectFactory(status="contacted")
    page_view(prospect, T0, 100)
    cycle(T0 + timedelta(seconds=101))
    prospect.refresh_from_db()
    assert prospect.status == "hot"


def test_dry_run_writes_nothing_and_sends_nothing(cycle, capsys):
    prospect = ProspectFactory()
    page_view(prospect, T0, 100)
    with time_machine.travel(T0 + timedelta(seconds=101), tick=False):
        call_command("detect_signals", "--dry-run", "--json")
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and len(report["alerts"]) == 1
    assert Alert.objects.count() == 0 and Visitor.objects.count() == 0 and sms.outbox == []


@override_settings(SIGNAL_DWELL_SECONDS=30, SIGNAL_CTA_IDS=["cta_a", "cta_b"])
def test_thresholds_come_from_the_settings(cycle):
    prospect = ProspectFactory()
    page_view(prospect, T0, 30)
    CtaClickFactory(visitor_id="visitor-1", cta_id="cta_b", received_at=T0)
    cycle(T0 + timedelta(seconds=31))
    assert sorted(Alert.objects.values_list("signal", flat=True)) == ["cta_click", "page_dwell"]


def test_a_heartbeat_crossing_the_threshold_texts_at_once_without_waiting_for_the_schedule(
    client, django_capture_on_commit_callbacks
):
    import json

    prospect = ProspectFactory()
    body = {"visitor_id": "visitor-live1", "page_view_id": "pv-live0001", "page": "/audit"}
    headers = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", "content_type": "text/plain"}
    for seconds, event in [
        (0, "pageview"),
        (45, "heartbeat"),
        (89, "heartbeat"),
        (91, "heartbeat"),
        (106, "heartbeat"),
    ]:
        payload = {
            **body,
            "event": event,
            "engaged_ms": seconds * 1000,
            **({"ak": prospect.identity_token} if event == "pageview" else {}),
        }
        with time_machine.travel(T0 + timedelta(seconds=seconds), tick=False):
            with mock.patch("alerts.receivers.detection_enqueue", wraps=detection_enqueue) as enqueued:
                with django_capture_on_commit_callbacks(execute=True):
                    assert client.post("/api/track/visit", json.dumps(payload), **headers).status_code == 202
        # Only the heartbeat that carries the page view past 90 s asks for detection, and it texts.
        assert enqueued.call_count == (1 if seconds == 91 else 0), seconds
        assert len(sms.outbox) == (1 if seconds >= 91 else 0), seconds
        if seconds == 91:
            assert Alert.objects.get().evidence["dwell_seconds"] == 91


def test_an_open_outside_the_window_does_not_hide_another_message_reopened_inside_it(cycle):
    early, due = ProspectFactory(consented=True), ProspectFactory(consented=True)
    for prospect, message, after in [(early, "m-early", timedelta(hours=2)), (due, "m-due", timedelta(hours=30))]:
        EmailEventFactory(prospect=prospect, message_id=message, event="sent", occurred_at=T0)
        EmailEventFactory(
            prospect=prospect, message_id=message, event="opened", occurred_at=T0 + after, received_at=T0 + after
        )
    cycle(T0 + timedelta(hours=30, seconds=1))
    assert list(Alert.objects.values_list("prospect", "signal")) == [(due.pk, "email_reopen")]
    assert len(sms.outbox) == 1


def test_detection_runs_are_kept_14_days_then_pruned():
    with time_machine.travel(T0, tick=False):
        old = DetectionRunFactory(started_at=T0 - timedelta(days=14, minutes=1), signals_found=1)
        kept = DetectionRunFactory(started_at=T0 - timedelta(days=13, hours=23), signals_found=1)
        failed = DetectionRunFactory(started_at=T0 - timedelta(days=13, hours=23), error="OperationalError()")
        assert detection_runs_prune() == 1
    assert set(DetectionRun.objects.values_list("pk", flat=True)) == {kept.pk, failed.pk}
    assert old.pk != kept.pk


def test_the_next_window_starts_from_the_newest_finished_cycle_not_a_running_one():
    from alerts.cycle import WINDOW_OVERLAP, _cursor

    DetectionRunFactory(started_at=T0 - timedelta(minutes=5))
    DetectionRunFactory(started_at=T0)
    DetectionRunFactory(started_at=T0 + timedelta(seconds=30), finished_at=None)  # still running
    assert _cursor() == T0 - WINDOW_OVERLAP


def test_detection_runs_that_found_nothing_are_kept_a_day():
    """A flood runs a thousand cycles a minute: the empty ones go after a day, not two weeks."""
    with time_machine.travel(T0, tick=False):
        DetectionRunFactory(started_at=T0 - timedelta(days=1, minutes=1))
        recent = DetectionRunFactory(started_at=T0 - timedelta(hours=23, minutes=59))
        assert detection_runs_prune() == 1
    assert list(DetectionRun.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.parametrize(
    ("age", "status"), [(timedelta(minutes=60), "queued"), (timedelta(minutes=60, seconds=1), "stale")]
)
def test_evidence_up_to_an_hour_old_still_texts(age, status, django_capture_on_commit_callbacks):
    prospect = ProspectFactory()
    signal = DetectedSignal(
        prospect_id=prospect.pk, signal="cta_click", dedup_key=f"age:{age}", occurred_at=T0 - age, evidence={}
    )
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_record_signal(detected=signal, now=T0)
    assert alert.status == status
    assert len(sms.outbox) == (1 if status == "queued" else 0)


def test_a_cycle_records_its_run_so_health_knows_detection_is_alive(cycle):
    cycle(T0)
    second = cycle(T0 + timedelta(minutes=5), trigger="schedule")
    run = DetectionRun.objects.order_by("started_at").last()
    assert (run.trigger, run.finished_at, run.window_start) == (
        "schedule",
        T0 + timedelta(minutes=5),
        second.window_start,
    )
    assert second.window_start == T0 - timedelta(seconds=60)  # the previous window end, minus the overlap
    assert detection_is_late(now=T0 + timedelta(minutes=6)) == (T0 + timedelta(minutes=5), False)
    assert detection_is_late(now=T0 + timedelta(minutes=21)) == (T0 + timedelta(minutes=5), True)


def test_a_long_reads_evidence_is_what_the_alert_page_shows(cycle):
    # The founder reads "why" on the alert: which page, how long, how long visible, from when to when.
    prospect = ProspectFactory()
    page = "/audit-gratuit-monitoring.html?" + "x" * 400
    page_view(prospect, T0, 120, page=page)
    cycle(T0 + timedelta(seconds=121))
    assert Alert.objects.get().evidence == {
        "page_view_id": "pv-000001",
        "page": page[:300],
        "visitor_id": "visitor-1",
        "dwell_seconds": 120,
        "visible_seconds": 120,
        "first_seen": T0.isoformat(),
        "last_seen": (T0 + timedelta(seconds=120)).isoformat(),
    }


def test_a_clicks_evidence_is_what_the_alert_page_shows(cycle):
    prospect = ProspectFactory()
    VisitorFactory(visitor_id="visitor-1", prospect=prospect)
    page = "/audit?" + "y" * 400
    click = CtaClickFactory(visitor_id="visitor-1", cta_id="cta_reserver_audit", received_at=T0, page=page)
    cycle(T0 + timedelta(seconds=1))
    evidence = Alert.objects.get().evidence
    assert (evidence["page"], evidence["click_id"], evidence["cta_id"]) == (page[:300], click.pk, "cta_reserver_audit")


def test_a_page_view_that_is_no_reading_does_not_hide_the_next_ones_reading(cycle):
    # Both in one cycle, the background tab first: the reader still gets the founder's call.
    tab, reader = ProspectFactory(), ProspectFactory()
    page_view(tab, T0, 120, pv="pv-a-background", visitor="visitor-a")
    VisitEventFactory._meta.model.objects.filter(page_view_id="pv-a-background").update(engaged_ms=1000)
    page_view(reader, T0, 120, pv="pv-b-reader", visitor="visitor-b")
    cycle(T0 + timedelta(seconds=121))
    assert list(Alert.objects.values_list("prospect", flat=True)) == [reader.pk]


def test_a_cycle_counts_what_it_did_on_its_run(cycle):
    # What the operator reads on the detection runs page (and `detect_signals --json`).
    prospect = ProspectFactory()
    VisitorFactory(visitor_id="visitor-1", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-1", cta_id="cta_reserver_audit", received_at=T0)
    cycle(T0 + timedelta(seconds=1), trigger="schedule")
    run = DetectionRun.objects.get()
    assert (run.trigger, run.events_scanned, run.signals_found, run.alerts_created, run.error) == (
        "schedule",
        1,
        1,
        1,
        "",
    )


def test_a_cycle_that_breaks_says_why_on_its_run(cycle):
    with mock.patch("alerts.cycle.signals_find", side_effect=RuntimeError("database gone")):
        with pytest.raises(RuntimeError):
            cycle(T0)
    run = DetectionRun.objects.get()
    assert (run.error, run.finished_at) == ("RuntimeError('database gone')", T0)


def test_a_reopens_evidence_is_what_the_alert_page_shows(cycle):
    prospect = ProspectFactory(consented=True)
    EmailEventFactory(prospect=prospect, message_id="<m1@acme.example>", event="sent", occurred_at=T0)
    opened_at = T0 + timedelta(hours=30, minutes=45)
    reopen = EmailEventFactory(
        prospect=prospect, message_id="<m1@acme.example>", event="opened", occurred_at=opened_at, received_at=opened_at
    )
    cycle(opened_at + timedelta(seconds=1))
    evidence = Alert.objects.get().evidence
    assert {
        key: evidence[key] for key in ("message_id", "sent_at", "opened_at", "hours_after_sent", "email_event_id")
    } == {
        "message_id": "<m1@acme.example>",
        "sent_at": T0.isoformat(),
        "opened_at": opened_at.isoformat(),
        "hours_after_sent": 30.8,
        "email_event_id": reopen.pk,
    }


def test_an_open_of_a_message_never_reported_sent_starts_no_reopen_window(cycle):
    # The window counts from the send: a first open is not a send, however late the second one comes.
    prospect = ProspectFactory()
    for hours in (0, 30):
        at = T0 + timedelta(hours=hours)
        EmailEventFactory(prospect=prospect, message_id="m-unsent", event="opened", occurred_at=at, received_at=at)
    cycle(T0 + timedelta(hours=30, seconds=1))
    assert not Alert.objects.exists()


# What one cycle reads: every page view, click, open and booking of its window, and only those that
# should text. Each of these was missing from the suite until the mutation run's survivors were read.


def test_a_long_read_is_texted_in_the_cycle_that_also_matches_a_newcomer(cycle):
    # The reader was matched yesterday; a newcomer follows their own link in the same minute. The
    # newcomer's earlier page views join the cycle's: they must not replace the reader's.
    reader, newcomer = ProspectFactory(), ProspectFactory()
    VisitorFactory(visitor_id="visitor-reader", prospect=reader, matched_at=T0 - timedelta(days=1))
    DetectionRunFactory(started_at=T0 + timedelta(seconds=30))
    page_view(reader, T0, 95, visitor="visitor-reader", pv="pv-reader")
    page_view(newcomer, T0 + timedelta(seconds=60), 15, visitor="visitor-newcomer", pv="pv-newcomer")
    cycle(T0 + timedelta(seconds=100))
    assert Visitor.objects.get(visitor_id="visitor-newcomer").prospect == newcomer
    assert list(Alert.objects.values_list("prospect", "signal")) == [(reader.pk, "page_dwell")]


def test_a_long_read_is_texted_when_a_thousand_other_page_views_arrive_in_the_same_minute(cycle):
    # A flood of anonymous one-event page views (their ids sort before the reader's): detection reads
    # page views 500 at a time, and every batch counts.
    flood = VisitEventFactory.build_batch(1_100, event="pageview", received_at=T0 + timedelta(seconds=30))
    VisitEvent.objects.bulk_create(flood)
    reader = ProspectFactory()
    page_view(reader, T0, 95, visitor="visitor-reader", pv="pv-reader")
    assert sorted({e.page_view_id for e in flood})[-1] < "pv-reader"
    cycle(T0 + timedelta(seconds=100))
    assert list(Alert.objects.values_list("prospect", "signal")) == [(reader.pk, "page_dwell")]


@pytest.mark.parametrize(("status", "alerts"), [("booked", 1), ("cancelled", 0), ("rescheduled", 0), ("no_show", 0)])
def test_a_booking_cancelled_or_moved_before_the_cycle_texts_nobody(cycle, status, alerts):
    Meeting.objects.create(
        prospect=ProspectFactory(),
        tool="calcom",
        external_id="bk-1",
        starts_at=T0 + timedelta(days=2),
        status=status,
        match_method="ak",
        booked_at=T0,
    )
    cycle(T0 + timedelta(seconds=30))
    assert Alert.objects.filter(signal="meeting_booked").count() == len(sms.outbox) == alerts


@pytest.mark.parametrize(("event", "alerts"), [("opened", 1), ("bounced", 0), ("delivered", 0)])
def test_only_an_open_a_day_after_sending_is_a_reopen_not_a_late_bounce(cycle, event, alerts):
    # A soft bounce is retried for a day or two before the email service gives up: not a reader.
    prospect = ProspectFactory(consented=True)
    EmailEventFactory(prospect=prospect, message_id="m1", event="sent", occurred_at=T0)
    later = T0 + timedelta(hours=30)
    EmailEventFactory(prospect=prospect, message_id="m1", event=event, occurred_at=later, received_at=later)
    cycle(later + timedelta(seconds=1))
    assert Alert.objects.filter(signal="email_reopen").count() == len(sms.outbox) == alerts


@pytest.mark.parametrize(("is_bot", "alerts"), [(False, 1), (True, 0)])
def test_a_click_the_intake_judged_a_machine_texts_nobody_even_from_a_matched_browser(cycle, is_bot, alerts):
    prospect = ProspectFactory()
    VisitorFactory(visitor_id="visitor-1", prospect=prospect, matched_at=T0 - timedelta(days=1))
    CtaClickFactory(visitor_id="visitor-1", ak=prospect.identity_token, is_bot=is_bot, received_at=T0)
    cycle(T0 + timedelta(seconds=30))
    assert Alert.objects.filter(signal="cta_click").count() == len(sms.outbox) == alerts


def test_events_without_a_page_view_never_add_up_to_a_long_read(cycle):
    # page_view_id is optional in the contract (an old snippet sends none): a prospect's separate
    # visits without one are not one page read for two minutes.
    prospect = ProspectFactory()
    for seconds in range(0, 121, 15):
        VisitEventFactory(
            visitor_id="visitor-1",
            page_view_id="",
            event="pageview" if seconds == 0 else "heartbeat",
            ak=prospect.identity_token if seconds == 0 else "",
            received_at=T0 + timedelta(seconds=seconds),
        )
    cycle(T0 + timedelta(seconds=121))
    assert Visitor.objects.get(visitor_id="visitor-1").prospect == prospect
    assert not Alert.objects.exists() and sms.outbox == []


# --- One signal recorded: the cooldown, the SMS's words, the prospect's status, the mail client ------


def detected(prospect, n: int, **fields) -> DetectedSignal:
    """A CTA click of `prospect` (its n-th signal), at T0 unless `occurred_at` says otherwise."""
    return DetectedSignal(
        prospect_id=prospect.pk,
        signal=fields.pop("signal", "cta_click"),
        dedup_key=f"gap-{prospect.pk}-{n}",
        occurred_at=fields.pop("occurred_at", T0),
        evidence={"cta_id": "cta_reserver_audit"},
        **fields,
    )


def recorded(signal: DetectedSignal, now: datetime, capture) -> Alert:
    """The alert as the page shows it once detection recorded `signal` at `now` and its SMS went."""
    with time_machine.travel(now, tick=False), capture(execute=True):
        alert = alert_record_signal(detected=signal, now=now)
    alert.refresh_from_db()
    return alert


def test_a_cooldown_is_one_prospects_and_one_signals(django_capture_on_commit_callbacks):
    alice, bob = ProspectFactory(), ProspectFactory()
    later = T0 + timedelta(hours=25)  # Alice's first cooldown is over
    recorded(detected(alice, 1), T0, django_capture_on_commit_callbacks)
    assert recorded(detected(bob, 2, occurred_at=later), later, django_capture_on_commit_callbacks).status == "sent"
    assert (
        recorded(
            detected(alice, 3, signal="page_dwell", occurred_at=later), later, django_capture_on_commit_callbacks
        ).status
        == "sent"
    )
    # Neither Bob's click nor Alice's long read took Alice's click cooldown: her new click texts.
    assert recorded(detected(alice, 4, occurred_at=later), later, django_capture_on_commit_callbacks).status == "sent"


def test_the_sms_of_a_prospect_without_a_phone_gives_the_email_and_the_lead_link(django_capture_on_commit_callbacks):
    lead = ProspectFactory(phone="", email="cto@acme-corp.example", name="Alice Martin")
    alert = recorded(detected(lead, 1), T0, django_capture_on_commit_callbacks)
    assert "cto@acme-corp.example" in alert.message and f"/l/{alert.pk}" in alert.message
    web_only = ProspectFactory(phone="", email="", website="https://www.linkedin.com/in/bob-martin")
    sms_text = recorded(detected(web_only, 2), T0, django_capture_on_commit_callbacks).message
    assert "linkedin.com/in/bob-martin" in sms_text


def test_a_texted_signal_makes_its_prospect_hot(django_capture_on_commit_callbacks):
    lead = ProspectFactory()
    recorded(detected(lead, 1), T0, django_capture_on_commit_callbacks)
    lead.refresh_from_db()
    assert lead.status == "hot"


def test_a_reopen_alert_names_the_mail_client_it_was_read_in():
    sent = EmailEventFactory(prospect__consented=True, occurred_at=timezone.now() - timedelta(hours=30))
    thunderbird = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
    EmailEventFactory(prospect=sent.prospect, message_id=sent.message_id, event="opened", user_agent=thunderbird)
    call_command("detect_signals", stdout=StringIO())
    assert Alert.objects.get().evidence_sentence == "A rouvert l'email 30 h après l'envoi — Thunderbird"
