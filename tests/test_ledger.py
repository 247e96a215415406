"""The ledger, from signal to meeting: traces, k / n with Wilson intervals, "not enough data" below
LEDGER_MIN_N, per signal type and per call opener, the campaign goal; the page and monitoring_status."""

import json
import re
from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts.outbox.models import Alert, AlertDelivery, SmsNotice
from alerts.outcomes.callbacks import callback_sms_add
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
from tracking.replies.models import InboundReply, ReplyKind, ReplyMatch, ReplySource

pytestmark = pytest.mark.django_db


def test_wilson_interval_is_honest_at_small_numbers():
    low, high = wilson(0, 10)
    assert low == 0 and round(high, 3) == 0.278
    low, high = wilson(5, 10)
    assert (round(low, 3), round(high, 3)) == (0.237, 0.763)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(1, 1)  # one case: wide, but an interval
    assert (round(low, 3), high) == (0.207, 1.0)


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


# --- What survived the mutation run of issue 33 (docs/mutation-survivors.md) --------------------------


def inbound_reply(prospect, kind, *, sorted_kind=None, days_ago=1):
    return InboundReply.objects.create(
        prospect=prospect,
        key=f"mid:<{kind}-{prospect.pk}-{days_ago}@example.org>",
        source=ReplySource.IMAP,
        kind=kind,
        sorted_kind=sorted_kind or kind,
        match_method=ReplyMatch.THREAD,
        identification="verified",
        received_at=timezone.now() - timedelta(days=days_ago),
    )


def test_monitoring_status_json_carries_every_table_the_page_shows(campaign, settings):
    """docs/interface.md: `monitoring_status --json` carries the ledger. A script or a spreadsheet fed by
    it reads each meeting's signal, SMS and call times, the goal, the replies and the call-backs under
    the names documented, and a meeting traced to no signal says so with nulls."""
    start = timezone.localdate() - timedelta(days=5)
    settings.CAMPAIGN_START = start
    settings.CAMPAIGN_GOAL_COUNT = 3
    settings.CAMPAIGN_GOAL_DATE = timezone.localdate() + timedelta(days=10)
    call_record(prospect=campaign[13], user=None, outcome=CallOutcome.NO_ANSWER, callback_at=timezone.now())
    walk_in = booked(campaign[15], hours_ago=2, starts_in_hours=48)  # no signal, no call before it
    inbound_reply(campaign[12], ReplyKind.PERSON)
    inbound_reply(campaign[13], ReplyKind.PERSON, sorted_kind=ReplyKind.AUTO)  # corrected by hand
    out = StringIO()
    call_command("monitoring_status", "--json", stdout=out)
    data = json.loads(out.getvalue())["ledger"]

    assert data["since"] == timezone.make_aware(datetime.combine(start, time.min)).isoformat()
    assert (data["window_days"], data["min_n"]) == (14, 10)
    calendly = Meeting.objects.get(prospect=campaign[0])
    alert = Alert.objects.get(prospect=campaign[0])
    call = Call.objects.get(prospect=campaign[0])
    meetings = {row["meeting_id"]: row for row in data["meetings"]}
    assert meetings[calendly.pk] == {
        "meeting_id": calendly.pk,
        "prospect_id": campaign[0].pk,
        "tool": "calendly",
        "starts_at": calendly.starts_at.isoformat(),
        "status": "booked",
        "held": True,
        "signal": "cta_click",
        "signal_at": alert.occurred_at.isoformat(),
        "sms_at": alert.deliveries.get().sent_at.isoformat(),
        "call_at": call.called_at.isoformat(),
        "call_outcome": "reached",
    }
    assert meetings[walk_in.pk] == {
        "meeting_id": walk_in.pk,
        "prospect_id": campaign[15].pk,
        "tool": "calendly",
        "starts_at": walk_in.starts_at.isoformat(),
        "status": "booked",
        "held": False,
        "signal": None,
        "signal_at": None,
        "sms_at": None,
        "call_at": None,
        "call_outcome": None,
    }
    by = settings.CAMPAIGN_GOAL_DATE.isoformat()
    assert data["goal"] == {"count": 3, "kind": "qualified_calls", "by": by, "done": 4}
    assert data["callbacks"] == {"set": 1, "made": 0, "texted": 0, "late": 1}
    replies = {row["kind"]: row for row in data["replies"]}
    assert replies["person"] == {"kind": "person", "label": "Réponse d'une personne", "count": 2, "corrected": 0}
    assert replies["auto"] == {"kind": "auto", "label": "Réponse automatique", "count": 0, "corrected": 1}
    total = data["total"]
    assert (total["key"], total["label"], total["signals"]) == ("all", "", 15)
    rows = {row["key"]: row for row in data["by_signal"]}
    assert (rows["cta_click"]["label"], rows["cta_click"]["signals"]) == ("Clic CTA", 12)
    assert rows["cta_click"]["median_sms_to_call_minutes"] == 9.7  # 9 min 40 s, to the tenth
    opener = {row["key"]: row for row in data["by_opener"]}["Vous venez de cliquer"]
    assert (opener["label"], opener["signals"]) == ("Vous venez de cliquer", 6)
    assert opener["called"] == {"k": 6, "n": 6, "low": 0.61, "high": 1.0, "enough_data": False}
    assert opener["false_alarms"]["n"] == 6 and opener["median_sms_to_call_minutes"] == 9.7


def test_the_ledger_counts_from_the_campaign_start_only(settings):
    """CAMPAIGN_START: last month's trial run — its signal, call, meeting and reply — is not in the
    campaign's figures."""
    start = timezone.localdate() - timedelta(days=3)
    settings.CAMPAIGN_START = start
    trial, campaign_lead = ProspectFactory(), ProspectFactory()
    texted_alert(trial, hours_ago=240, call=called(trial, CallOutcome.REACHED, hours_ago=239, opener="Essai"))
    booked(trial, hours_ago=230)
    inbound_reply(trial, ReplyKind.PERSON, days_ago=9)
    texted_alert(campaign_lead, hours_ago=24, call=called(campaign_lead, CallOutcome.REACHED, hours_ago=23))
    booked(campaign_lead, hours_ago=20)
    inbound_reply(campaign_lead, ReplyKind.PERSON, days_ago=1)
    result = ledger()
    assert result.since == timezone.make_aware(datetime.combine(start, time.min))
    assert (result.total.signals, result.total.called.k) == (1, 1)
    assert [trace.meeting.prospect for trace in result.meetings] == [campaign_lead]
    assert {row.kind: row.count for row in result.replies}["person"] == 1
    assert [row.key for row in result.by_opener] == [""]


def test_call_backs_are_each_counted_and_one_due_this_minute_is_late():
    """Three call-backs: one made (a later call), one texted at its time and due right now (late until
    someone calls), one for tomorrow."""
    now = timezone.now()
    made, due, tomorrow = ProspectFactory.create_batch(3)
    first = CallFactory(prospect=made, callback_at=now - timedelta(hours=1))
    called(made, CallOutcome.REACHED, hours_ago=0.5)
    due_call = CallFactory(prospect=due, callback_at=now)
    callback_sms_add(call_id=due_call.pk, callback_at=now, text="Rappel prévu")
    later = CallFactory(prospect=tomorrow, callback_at=now + timedelta(days=1))
    # Set in this order, the made one first: however the calls are read, it is neither first nor last.
    for call, hours_ago in ((due_call, 3), (first, 2), (later, 1)):
        Call.objects.filter(pk=call.pk).update(called_at=now - timedelta(hours=hours_ago))
    counts = ledger(now=now).callbacks
    assert (counts.set, counts.made, counts.texted, counts.late) == (3, 1, 1, 1)


def test_reached_and_the_goal_count_the_calls_that_reached_someone_not_the_others(campaign, settings):
    """One more voicemail: 3 calls of 7 reached someone (not 4, the voicemails), and the goal counts 4
    qualified calls (3 reached, 1 RDV pris), not the 5 others. No goal set: none shown; a goal of 1 is a goal."""
    extra = ProspectFactory()
    texted_alert(extra, call=called(extra, CallOutcome.VOICEMAIL, hours_ago=29.8, opener="Vous venez de cliquer"))
    cta = {row.key: row for row in ledger().by_signal}["cta_click"]
    assert (cta.reached.k, cta.reached.n) == (3, 7)
    assert ledger().goal is None
    settings.CAMPAIGN_GOAL_COUNT = 1
    assert ledger().goal.done == 4


def test_a_meeting_booked_by_a_reply_3_counts_and_is_never_held(campaign):
    """docs/interface.md: a reply "3" says no date; it counts for the signal it handled, never held."""
    reopen = {row.key: row for row in ledger().by_signal}["email_reopen"]
    assert (reopen.meetings_booked.k, reopen.meetings_held.k, reopen.meetings_held.n) == (1, 0, 1)
    by_opener = {row.key: row for row in ledger().by_opener}["Vous avez rouvert"]
    assert (by_opener.meetings_booked.k, by_opener.meetings_held.k) == (1, 0)


def test_an_alert_counts_as_texted_only_when_its_sms_left(settings):
    """A signal whose SMS failed (sent, then the receipt said undelivered) while the team channel got
    it, and a quiet-hours signal whose digest SMS failed the same way: the founder's phone showed
    neither, so neither is an SMS sent."""
    now = timezone.now()
    at = now - timedelta(hours=5)
    alert = AlertFactory(prospect=ProspectFactory(), occurred_at=at, status=Alert.Status.FAILED)
    AlertDeliveryFactory(alert=alert, status=AlertDelivery.Status.FAILED, sent_at=at)
    AlertDeliveryFactory(alert=alert, channel=AlertDelivery.Channel.APPRISE, recipient="slack", sent_at=at)
    digest = SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=at, message="Résumé")
    for channel, recipient, status in (("sms", "+33199000001", "failed"), ("apprise", "slack", "sent")):
        AlertDelivery.objects.create(notice=digest, channel=channel, recipient=recipient, status=status, sent_at=at)
    AlertFactory(prospect=ProspectFactory(), occurred_at=at, status=Alert.Status.QUIET, digest=digest)
    total = ledger().total
    assert (total.sms_sent.k, total.sms_sent.n) == (0, 2)


def test_a_moved_booking_is_one_meeting_and_its_latest_call_is_the_one_traced():
    """The tool reports a moved booking as a new one and the old one rescheduled: one meeting. Two calls
    before it: the meeting follows the later one (the reached call, not the voicemail before it)."""
    prospect = ProspectFactory()
    voicemail = called(prospect, CallOutcome.VOICEMAIL, hours_ago=28, opener="Premier appel")
    texted_alert(prospect, call=voicemail)
    called(prospect, CallOutcome.REACHED, hours_ago=25, opener="Second appel")
    booked(prospect, hours_ago=22, status=Meeting.Status.RESCHEDULED)
    Meeting.objects.create(
        prospect=prospect,
        tool="calendly",
        external_id="evt-moved",
        starts_at=timezone.now() + timedelta(days=2),
        match_method="ak",
        booked_at=timezone.now() - timedelta(hours=21),
    )
    result = ledger()
    assert len(result.meetings) == 1
    assert result.meetings[0].call.outcome == CallOutcome.REACHED


def test_a_signal_booked_cancelled_booked_again_and_held_counts_one_meeting_held():
    """The newest of two meetings traced to one signal and one call was held: the signal's and the
    call's meeting was held, whatever the cancelled one before it."""
    prospect = ProspectFactory()
    texted_alert(prospect, hours_ago=50, call=called(prospect, CallOutcome.REACHED, hours_ago=49, opener="Bonjour"))
    booked(prospect, hours_ago=40, starts_in_hours=10, status=Meeting.Status.CANCELLED)
    now = timezone.now()
    Meeting.objects.create(
        prospect=prospect,
        tool="calendly",
        external_id="evt-again",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        match_method="ak",
        booked_at=now - timedelta(hours=30),
    )
    cta = {row.key: row for row in ledger().by_signal}["cta_click"]
    assert (cta.meetings_booked.k, cta.meetings_held.k) == (1, 1)
    assert {row.key: row for row in ledger().by_opener}["Bonjour"].meetings_held.k == 1


def test_openers_come_most_used_first_each_under_its_own_words(staff_client):
    """Three calls opened with "Bonjour", one with "Allô", one with none noted, one on an alert never
    texted (held for review, then called): the most used first, each named by its words, "—" for
    none in the JSON; the never-texted one has no SMS-to-call wait and breaks nothing."""
    for opener in ("Bonjour", "Bonjour", "Bonjour", "Allô", ""):
        prospect = ProspectFactory()
        texted_alert(prospect, call=called(prospect, CallOutcome.REACHED, hours_ago=29, opener=opener))
    held = ProspectFactory()
    AlertFactory(prospect=held, status=Alert.Status.HELD, occurred_at=timezone.now() - timedelta(hours=2))
    call_record(prospect=held, user=None, outcome=CallOutcome.NO_ANSWER, opener="Retenu")
    rows = ledger().by_opener
    assert [row.key for row in rows][:1] == ["Bonjour"] and {row.key: row.label for row in rows} == {
        "Bonjour": "Bonjour",
        "Allô": "Allô",
        "": "—",
        "Retenu": "Retenu",
    }
    assert {row.key: row.median_sms_to_call_minutes for row in rows}["Retenu"] is None
    page = staff_client.get("/admin/backoffice/ledger/").content.decode()
    assert page.index("« Bonjour »") < page.index("« Allô »")


def test_a_goal_without_a_date_is_in_the_json_with_no_date(settings):
    settings.CAMPAIGN_GOAL_COUNT = 5
    out = StringIO()
    call_command("monitoring_status", "--json", stdout=out)
    goal = json.loads(out.getvalue())["ledger"]["goal"]
    assert goal == {"count": 5, "kind": "qualified_calls", "by": None, "done": 0}


def test_a_booking_alert_is_no_signal_of_the_ledger():
    """The `meeting_booked` alert is where the ledger ends, not a signal that leads to a meeting."""
    prospect = ProspectFactory()
    texted_alert(prospect)
    texted_alert(prospect, Signal.MEETING_BOOKED, hours_ago=20)
    assert ledger().total.signals == 1


def test_a_meeting_is_traced_to_what_came_exactly_at_the_window_edges(settings):
    """docs/interface.md: a meeting is traced to what preceded it in the 14 days before it was booked,
    both ends included: a signal and a call exactly 14 days before the booking, and a signal and a call
    at the very second of the booking (the founder called while the prospect was booking)."""
    booked_at = timezone.now() - timedelta(hours=1)
    early, late = ProspectFactory(), ProspectFactory()
    for prospect, at in ((early, booked_at - timedelta(days=14)), (late, booked_at)):
        AlertFactory(prospect=prospect, occurred_at=at)
        Call.objects.filter(pk=CallFactory(prospect=prospect).pk).update(called_at=at)
        Meeting.objects.create(
            prospect=prospect,
            tool="calendly",
            external_id=f"evt-edge-{prospect.pk}",
            starts_at=booked_at + timedelta(days=2),
            match_method="ak",
            booked_at=booked_at,
        )
    traces = {trace.meeting.prospect_id: trace for trace in ledger().meetings}
    for prospect in (early, late):
        assert traces[prospect.pk].alert == Alert.objects.get(prospect=prospect)
        assert traces[prospect.pk].call == Call.objects.get(prospect=prospect)


def test_a_meeting_counts_for_the_latest_signal_however_late_each_was_detected():
    """Last touch is the signal that happened last, not the one detected last: an email reply read
    from the mailbox an hour after a click that came later still leaves the meeting to the click, and
    the click's row (not the reply's) counts it."""
    prospect = ProspectFactory()
    click = texted_alert(prospect, Signal.CTA_CLICK, hours_ago=3)
    texted_alert(prospect, Signal.EMAIL_REPLY, hours_ago=4)  # detected after the click
    booked(prospect, hours_ago=2)
    result = ledger()
    assert result.meetings[0].alert == click
    rows = {row.key: row for row in result.by_signal}
    assert (rows["cta_click"].meetings_booked.k, rows["email_reply"].meetings_booked.k) == (1, 0)


def test_false_alarms_per_opener_are_the_calls_that_said_so(campaign):
    """One of the calls opened with "Vous venez de cliquer" turns out a false alarm: 1 of its 7 calls,
    and the page's cell says so."""
    extra = ProspectFactory()
    texted_alert(extra, call=called(extra, CallOutcome.FALSE_ALARM, hours_ago=29.5, opener="Vous venez de cliquer"))
    click = {row.key: row for row in ledger().by_opener}["Vous venez de cliquer"]
    assert (click.false_alarms.k, click.false_alarms.n) == (1, 7)
    assert (click.called.k, click.called.n) == (6, 7)


def test_call_backs_texted_and_late_add_up():
    """Two call-backs past their time, each texted then and neither made: the page says 2 texted and
    2 late, not only the last one read."""
    now = timezone.now()
    for prospect, hours_ago in zip(ProspectFactory.create_batch(2), (1, 2), strict=True):
        call = CallFactory(prospect=prospect, callback_at=now - timedelta(hours=hours_ago))
        callback_sms_add(call_id=call.pk, callback_at=call.callback_at, text="Rappel prévu")
        Call.objects.filter(pk=call.pk).update(called_at=now - timedelta(hours=hours_ago + 1))
    counts = ledger(now=now).callbacks
    assert (counts.set, counts.made, counts.texted, counts.late) == (2, 0, 2, 2)
