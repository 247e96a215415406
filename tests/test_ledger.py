"""The ledger, from signal to meeting: traces, k / n with Wilson intervals, "not enough data" below
LEDGER_MIN_N, per signal type and per call opener, the campaign goal; the page and monitoring_status."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts.outbox.models import Alert, AlertDelivery
from alerts.outcomes.calls import call_record
from alerts.outcomes.ledger import ledger, wilson
from alerts.outcomes.models import Call, CallOutcome
from alerts.signals.models import Signal
from backoffice.funnel import funnel
from prospects.models import Prospect
from tests.factories import (
    AlertDeliveryFactory,
    AlertFactory,
    CallFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
)
from tracking.models import Meeting, meeting_is_over, meetings_over

pytestmark = pytest.mark.django_db


def test_wilson_interval_is_honest_at_small_numbers():
    low, high = wilson(0, 10)
    assert low == 0 and round(high, 3) == 0.278
    low, high = wilson(5, 10)
    assert (round(low, 3), round(high, 3)) == (0.237, 0.763)
    assert wilson(0, 0) == (0.0, 1.0)


def texted_alert(prospect, signal=Signal.CTA_CLICK, *, hours_ago=30, call=None):
    at = timezone.now() - timedelta(hours=hours_ago)
    alert = AlertFactory(prospect=prospect, signal=signal, occurred_at=at, call=call)
    AlertDeliveryFactory(alert=alert, status=AlertDelivery.Status.SENT, sent_at=at + timedelta(seconds=20))
    return alert


def called(prospect, outcome, *, hours_ago, opener=""):
    call = CallFactory(prospect=prospect, outcome=outcome, opener=opener)
    Call.objects.filter(pk=call.pk).update(called_at=timezone.now() - timedelta(hours=hours_ago))
    call.refresh_from_db()
    return call


def booked(prospect, *, hours_ago, starts_in_hours=-20, status=Meeting.Status.BOOKED):
    now = timezone.now()
    return Meeting.objects.create(
        prospect=prospect,
        tool="calendly",
        external_id=f"evt-{prospect.pk}",
        starts_at=now + timedelta(hours=starts_in_hours),
        ends_at=now + timedelta(hours=starts_in_hours, minutes=30),
        status=status,
        match_method="ak",
        booked_at=now - timedelta(hours=hours_ago),
    )


@pytest.fixture
def campaign():
    """12 CTA clicks texted; 6 called 10 min after (3 reached, 1 of them booked through Calendly); 1
    false alarm; 3 re-opens texted, 1 called and booked by the call form."""
    prospects = ProspectFactory.create_batch(16)
    for i, prospect in enumerate(prospects[:12]):
        call = None
        if i < 6:
            outcome = CallOutcome.REACHED if i < 3 else CallOutcome.VOICEMAIL
            call = called(prospect, outcome, hours_ago=30 - 10 / 60, opener="Vous venez de cliquer")
        elif i == 6:
            call = called(prospect, CallOutcome.FALSE_ALARM, hours_ago=29)
        texted_alert(prospect, call=call)
    booked(prospects[0], hours_ago=20)  # after its call: traced to the click, its SMS and the call
    for prospect in prospects[12:15]:
        texted_alert(prospect, Signal.EMAIL_REOPEN)
    reopen = Alert.objects.filter(prospect=prospects[12]).get()
    reopen.call = called(prospects[12], CallOutcome.MEETING_BOOKED, hours_ago=29, opener="Vous avez rouvert")
    reopen.save()
    return prospects


def test_each_meeting_is_traced_to_the_signal_sms_and_call_before_it(campaign):
    trace = ledger().meetings[0]
    assert trace.meeting.prospect == campaign[0]
    assert trace.alert.signal == Signal.CTA_CLICK
    assert trace.sms_at is not None and trace.call.outcome == CallOutcome.REACHED
    assert trace.held  # booked, and its time is past with nothing cancelled


def test_rates_per_signal_are_k_over_n(campaign):
    rows = {row.key: row for row in ledger().by_signal}
    cta = rows["cta_click"]
    assert (cta.sms_sent.k, cta.sms_sent.n) == (12, 12)
    assert (cta.called.k, cta.called.n) == (6, 12)  # the false alarm is not a call
    assert cta.median_sms_to_call_minutes == pytest.approx(9.7, abs=0.2)
    assert (cta.reached.k, cta.reached.n) == (3, 6)
    assert (cta.meetings_booked.k, cta.meetings_booked.n) == (1, 12)
    assert (cta.meetings_held.k, cta.meetings_held.n) == (1, 1)
    assert (cta.false_alarms.k, cta.false_alarms.n) == (1, 12)
    assert cta.sms_sent.enough and not cta.reached.enough  # LEDGER_MIN_N = 10
    reopen = rows["email_reopen"]
    assert (reopen.meetings_booked.k, reopen.meetings_booked.n) == (1, 3)  # booked on the phone


def test_rates_per_call_opener(campaign):
    rows = {row.key: row for row in ledger().by_opener}
    click = rows["Vous venez de cliquer"]
    assert (click.reached.k, click.reached.n) == (3, 6)
    assert (click.meetings_booked.k, click.meetings_booked.n) == (1, 6)
    assert (rows["Vous avez rouvert"].meetings_booked.k, rows["Vous avez rouvert"].meetings_booked.n) == (1, 1)


def test_the_call_form_keeps_the_opener_it_showed(staff_client):
    prospect = ProspectFactory()
    texted_alert(prospect, hours_ago=1)
    staff_client.post(f"/admin/backoffice/hot-leads/{prospect.pk}/call/", {"outcome": "reached"})
    assert Call.objects.get().opener.startswith("Vous venez de cliquer")


def test_the_campaign_goal_shows_as_progress(campaign, settings, staff_client):
    settings.CAMPAIGN_GOAL_COUNT = 3
    settings.CAMPAIGN_GOAL_DATE = timezone.localdate() + timedelta(days=10)
    goal = ledger().goal
    assert (goal.done, goal.count) == (4, 3)  # 3 reached + 1 booked on the phone: qualified calls
    settings.CAMPAIGN_GOAL_KIND = "meetings"
    assert ledger().goal.done == 2
    page = staff_client.get("/admin/backoffice/ledger/").content.decode()
    assert "Objectif : 3 RDV" in page and "2 / 3" in page


def test_the_page_says_not_enough_data_below_the_documented_n(campaign, staff_client):
    page = staff_client.get("/admin/backoffice/ledger/").content.decode()
    assert "pas assez de données" in page
    assert "12 / 12" in page and "3 / 6" in page
    assert "Du signal au RDV" in page


def test_monitoring_status_json_carries_the_ledger(campaign):
    out = StringIO()
    call_command("monitoring_status", "--json", stdout=out)
    data = json.loads(out.getvalue())["ledger"]
    cta = next(row for row in data["by_signal"] if row["key"] == "cta_click")
    assert cta["meetings_booked"] == {"k": 1, "n": 12, "low": 0.015, "high": 0.354, "enough_data": True}
    assert data["min_n"] == 10 and data["meetings"][0]["signal"] == "cta_click"
    text = StringIO()
    call_command("monitoring_status", stdout=text)
    assert "pas assez de données" in text.getvalue()


def test_a_reply_call_without_opener_is_grouped_apart(campaign):
    call_record(prospect=campaign[15], user=None, outcome=CallOutcome.NO_ANSWER)
    assert "" in {row.key for row in ledger().by_opener}


def test_the_dashboard_draws_signals_per_day_and_the_ledger_headline(campaign, staff_client, settings):
    settings.CAMPAIGN_GOAL_COUNT = 3
    page = staff_client.get("/admin/").content.decode()
    assert 'id="signals-per-day"' in page and 'id="ledger-headline"' in page
    # 15 alerts yesterday, the clicks and re-opens stacked: one bar per signal type that day.
    assert "(15 au total)" in page
    assert page.count("<rect") >= 2 + 6
    # SVG coordinates with a decimal point: a French "35,5" would draw nothing.
    assert re.search(r'<rect x="\d+\.\d+" y="\d+\.\d+"', page) and not re.search(r'<rect x="\d+,', page)
    assert "Objectif : 3 appels qualifiés" in page


def test_the_funnel_gains_the_meeting_steps(campaign, staff_client):
    page = staff_client.get("/admin/backoffice/funnel/").content.decode()
    assert 'data-step="meeting"' in page and 'data-step="held"' in page
    today = timezone.localdate()
    # The funnel is nested (each step a subset of the one above): the campaign's prospects were emailed
    # and visited first, as real ones are.
    for prospect in Prospect.objects.all():
        EmailEventFactory(prospect=prospect, event="sent", occurred_at=timezone.now() - timedelta(days=3))
        VisitEventFactory(prospect=prospect, received_at=timezone.now() - timedelta(days=2))
    steps = {step.key: step.count for step in funnel(today - timedelta(days=7), today).steps}
    assert steps["meeting"] == 2  # one through Calendly, one on the phone
    assert steps["held"] == 1


def test_the_funnel_and_the_ledger_count_a_held_meeting_alike():
    """One definition of "held" (tracking.models.meetings_held): a 30-minute meeting that ended ten
    minutes ago is held on both pages, though its start is less than an hour past."""
    prospect = ProspectFactory()
    EmailEventFactory(prospect=prospect, event="sent", occurred_at=timezone.now() - timedelta(days=3))
    VisitEventFactory(prospect=prospect, received_at=timezone.now() - timedelta(days=2))
    texted_alert(prospect, hours_ago=3)
    now = timezone.now()
    Meeting.objects.create(
        prospect=prospect,
        tool="calcom",
        external_id="bk-short",
        starts_at=now - timedelta(minutes=40),
        ends_at=now - timedelta(minutes=10),
        match_method="ak",
        booked_at=now - timedelta(hours=2),
    )
    assert ledger().meetings[0].held
    today = timezone.localdate()
    steps = {step.key: step.count for step in funnel(today - timedelta(days=7), today).steps}
    assert steps["meeting"] == 1 and steps["held"] == 1


@pytest.mark.parametrize(
    ("starts_ago", "length", "over"),
    [
        (timedelta(minutes=30), timedelta(minutes=30), True),  # ends right now
        (timedelta(minutes=29), timedelta(minutes=30), False),
        (timedelta(minutes=60), None, True),  # no end given: an hour after its start
        (timedelta(minutes=59), None, False),
    ],
)
def test_a_meeting_in_hand_is_over_exactly_when_the_query_says_so(starts_ago, length, over):
    """The webhook judges one meeting in Python (meeting_is_over), the pages in SQL (meetings_over):
    the same edges, or a no-show undone would be 'held' on one and 'booked' on the other."""
    now = timezone.now()
    meeting = Meeting.objects.create(
        prospect=ProspectFactory(),
        tool="calcom",
        external_id="bk-edge",
        starts_at=now - starts_ago,
        ends_at=now - starts_ago + length if length else None,
        match_method="ak",
        booked_at=now - timedelta(days=1),
    )
    assert meeting_is_over(meeting, now) is over
    assert Meeting.objects.filter(meetings_over(now)).exists() is over


def test_rates_over_sms_sent_not_over_signals_when_alerts_were_held_grouped_quiet_or_in_cooldown(campaign):
    """Four more clicks that texted nobody (held for review, grouped into the hourly summary, quiet
    hours with no digest yet, cooldown): they are signals, not SMS. Every rate after "SMS sent" is over
    the 12 SMS, and so is its interval; only "SMS sent" itself is over the 16 signals."""
    at = timezone.now() - timedelta(hours=30)
    for prospect, status in zip(
        ProspectFactory.create_batch(4),
        [Alert.Status.HELD, Alert.Status.GROUPED, Alert.Status.QUIET, Alert.Status.COOLDOWN],
        strict=True,
    ):
        AlertFactory(prospect=prospect, signal=Signal.CTA_CLICK, occurred_at=at, status=status)
    cta = {row.key: row for row in ledger().by_signal}["cta_click"]
    assert cta.signals == 16
    assert (cta.sms_sent.k, cta.sms_sent.n) == (12, 16)
    assert (cta.called.k, cta.called.n) == (6, 12)
    assert (cta.meetings_booked.k, cta.meetings_booked.n) == (1, 12)
    assert (cta.false_alarms.k, cta.false_alarms.n) == (1, 12)
    # The interval the page draws is the one of 6 in 12, not of 6 in 16.
    assert cta.called.interval == wilson(6, 12) != wilson(6, 16)
    assert cta.as_dict()["called"]["n"] == 12
    total = ledger().total
    assert (total.sms_sent.k, total.sms_sent.n) == (15, 19)
    assert (total.called.k, total.called.n) == (7, 15)
