"""Replies to the alert SMS (OVH_SMS_REPLIES): read from the OVH double's /sms/{service}/incoming, a
code becomes the call on the sender's most recent alert, once; nothing is answered."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert, AlertDelivery, SmsNotice
from alerts.outcomes.calls import call_record
from alerts.outcomes.ledger import SMS_REPLY_OPENER, ledger
from alerts.outcomes.models import Call, CallOutcome, SmsReply
from alerts.outcomes.replies import reply_outcome, sms_replies_read
from alerts.tasks import read_sms_replies_task
from arkwatch.schedules import REPLIES_SCHEDULE, ensure_schedules
from prospects.models import Prospect
from tests.factories import AlertDeliveryFactory, CtaClickFactory, ProspectFactory, VisitorFactory
from tests.ovh_double import OvhDouble, ovh_settings

pytestmark = pytest.mark.django_db
FOUNDER = "+33199000001"


@pytest.fixture
def ovh():
    with OvhDouble() as double:
        yield double


@pytest.fixture
def texted(ovh, run_on_commit):
    """A CTA click texted to the founder through the OVH double (a sender that accepts replies)."""
    prospect = ProspectFactory(name="Jean Dupont", company="Acme")
    VisitorFactory(visitor_id="visitor-reply", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-reply", prospect=prospect, ak=prospect.identity_token)
    with override_settings(**ovh_settings(ovh, OVH_SMS_SENDER="", ALERT_SMS_RECIPIENTS=[FOUNDER])):
        run_on_commit(detection_cycle_run)
    assert len(ovh.jobs) == 1 and ovh.jobs[0]["senderForResponse"] is True
    return Alert.objects.get(prospect=prospect)


def read(ovh, **extra):
    with override_settings(**ovh_settings(ovh, OVH_SMS_SENDER="", OVH_SMS_REPLIES=True, **extra)):
        return sms_replies_read()


def test_codes():
    assert [reply_outcome(t) for t in ("1", " 2", "3 jeudi 10h", "9.", "12", "ok", "")] == [
        CallOutcome.REACHED,
        CallOutcome.NO_ANSWER,
        CallOutcome.MEETING_BOOKED,
        CallOutcome.FALSE_ALARM,
        None,
        None,
        None,
    ]


def test_a_reply_3_becomes_a_call_with_outcome_meeting_booked(ovh, texted):
    reply_id = ovh.reply("0033199000001", "3")
    report = read(ovh)
    assert (report.read, report.calls) == (1, 1)
    call = Call.objects.get()
    assert call.outcome == CallOutcome.MEETING_BOOKED and call.get_outcome_display() == "RDV pris"
    assert call.via == Call.Via.SMS_REPLY and call.prospect == texted.prospect
    texted.refresh_from_db()
    assert texted.call == call  # the alert is acknowledged
    assert Prospect.objects.get(pk=texted.prospect_id).status == Prospect.Status.MEETING_BOOKED
    # Deleted at OVH once recorded; nothing answered (the one job is the alert itself).
    assert ovh.incoming == {} and ("DELETE", f"/1.0/sms/{ovh.service}/incoming/{reply_id}") in ovh.requests
    assert len(ovh.jobs) == 1 and sms.outbox == []


def test_a_reply_is_recorded_once_even_when_it_could_not_be_deleted(ovh, texted):
    reply_id = ovh.reply("+33199000001", "1")
    kept = dict(ovh.incoming[reply_id])
    read(ovh)
    ovh.incoming[reply_id] = kept  # as if the DELETE had been lost
    read(ovh)
    assert Call.objects.count() == 1 and SmsReply.objects.count() == 1


def test_nine_dismisses_the_alert_as_a_false_alarm(ovh, texted):
    ovh.reply("+33199000001", "9")
    read(ovh)
    texted.refresh_from_db()
    assert texted.call.outcome == CallOutcome.FALSE_ALARM
    assert Prospect.objects.get(pk=texted.prospect_id).status == Prospect.Status.HOT  # pipeline unchanged


def test_no_code_or_unknown_number_changes_nothing(ovh, texted):
    ovh.reply("+33199000001", "merci")
    ovh.reply("+33199000099", "3")
    report = read(ovh)
    assert (report.read, report.calls, report.ignored) == (2, 0, 2)
    assert not Call.objects.exists() and ovh.incoming == {}


def test_off_by_default(ovh, texted):
    ovh.reply("+33199000001", "3")
    with override_settings(**ovh_settings(ovh, OVH_SMS_SENDER="")):
        assert sms_replies_read().read == 0
    assert len(ovh.incoming) == 1


def test_the_schedule_exists_only_with_the_setting(settings):
    settings.OVH_SMS_REPLIES = True
    ensure_schedules()
    assert Schedule.objects.get(name=REPLIES_SCHEDULE).func == "alerts.tasks.read_sms_replies_task"
    settings.OVH_SMS_REPLIES = False
    ensure_schedules()
    assert not Schedule.objects.filter(name=REPLIES_SCHEDULE).exists()


def test_the_ledger_shows_reply_calls_under_their_own_opener(ovh, texted, staff_client):
    """A call from a reply had no opener on screen: the ledger lists it as "réponse SMS", apart from
    the openers the call form showed and from the calls whose opener was never noted."""
    call_record(prospect=ProspectFactory(), user=None, outcome=CallOutcome.NO_ANSWER)  # no opener noted
    ovh.reply("+33199000001", "1")
    read(ovh)
    rows = {row.key: row for row in ledger().by_opener}
    assert set(rows) == {SMS_REPLY_OPENER, ""}
    reply = rows[SMS_REPLY_OPENER]
    assert reply.label == "Réponse SMS (aucune accroche affichée)" and (reply.reached.k, reply.reached.n) == (1, 1)
    assert reply.median_sms_to_call_minutes is not None  # from the alert SMS it answered
    page = staff_client.get("/admin/backoffice/ledger/").content.decode()
    assert 'data-opener="sms_reply"' in page and "Réponse SMS (aucune accroche affichée)" in page
    assert "« Réponse SMS" not in page


# --- Issue 29, point 4: a reply lands on the lead whose SMS it answers, or on nobody -------------


def text_another_lead(ovh, run_on_commit, name: str = "Marie Martin") -> Alert:
    """A second lead's CTA click texted to the founder after the first one."""
    prospect = ProspectFactory(name=name, company="Initech")
    VisitorFactory(visitor_id=f"visitor-{prospect.pk}-reply", prospect=prospect)
    CtaClickFactory(visitor_id=f"visitor-{prospect.pk}-reply", prospect=prospect, ak=prospect.identity_token)
    with override_settings(**ovh_settings(ovh, OVH_SMS_SENDER="", ALERT_SMS_RECIPIENTS=[FOUNDER])):
        run_on_commit(detection_cycle_run)
    return Alert.objects.get(prospect=prospect)


def test_of_two_lead_sms_the_reply_goes_to_the_latest(ovh, texted, run_on_commit):
    later = text_another_lead(ovh, run_on_commit)
    assert len(ovh.jobs) == 2
    ovh.reply(FOUNDER, "3 jeudi 10h")
    read(ovh)
    call = Call.objects.get()
    assert call.prospect == later.prospect and call.outcome == CallOutcome.MEETING_BOOKED
    texted.refresh_from_db()
    assert texted.call is None and texted.prospect.status != Prospect.Status.MEETING_BOOKED


def test_a_reply_to_the_morning_digest_marks_nobody(ovh, texted, admin_client):
    """Measured on main before: "3 jeudi 10h" sent in answer to the digest marked yesterday's lead
    "RDV pris" and acknowledged its alert."""
    # The lead's SMS last evening, the digest this morning, then the reply: OVH dates a reply to the
    # second, so the digest left a clear second before it (else the two SMS are truly ambiguous).
    now = timezone.now()
    AlertDelivery.objects.filter(alert=texted).update(sent_at=now - timedelta(hours=10))
    digest = SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=now)
    AlertDelivery.objects.create(
        notice=digest, recipient=FOUNDER, status=AlertDelivery.Status.SENT, sent_at=now - timedelta(seconds=2)
    )
    ovh.reply(FOUNDER, "3 jeudi 10h")
    report = read(ovh)
    assert (report.calls, report.ignored) == (0, 1)
    assert not Call.objects.exists()
    texted.refresh_from_db()
    assert texted.call is None and texted.prospect.status == Prospect.Status.HOT
    assert SmsReply.objects.get().ignored == SmsReply.Ignored.NOT_A_LEAD
    page = admin_client.get(reverse("admin:alerts_smsreply_changelist")).content.decode()
    assert "Ignorée" in page and "Résumé des heures calmes" in page and "3 jeudi 10h" in page


def test_a_reply_to_a_test_sms_marks_nobody(ovh, texted):
    with override_settings(**ovh_settings(ovh, OVH_SMS_SENDER="")):
        call_command("send_test_sms", "--to", FOUNDER, stdout=io.StringIO())
    assert len(ovh.jobs) == 2
    ovh.reply(FOUNDER, "9")
    read(ovh)
    assert not Call.objects.exists() and SmsReply.objects.get().ignored == SmsReply.Ignored.NOT_A_LEAD


@override_settings(OVH_SMS_REPLY_WINDOW_HOURS=12)
def test_a_reply_long_after_the_last_sms_marks_nobody(ovh, texted):
    with time_machine.travel(timezone.now() + timedelta(hours=13), tick=True):
        ovh.reply(FOUNDER, "1")
        read(ovh, OVH_SMS_REPLY_WINDOW_HOURS=12)
    assert not Call.objects.exists() and SmsReply.objects.get().ignored == SmsReply.Ignored.TOO_OLD


def test_a_reply_shows_on_the_timeline_as_by_sms(ovh, texted, staff_client):
    ovh.reply(FOUNDER, "2")
    read(ovh)
    page = staff_client.get(reverse("backoffice-timeline", args=[texted.prospect_id])).content.decode()
    assert "Pas de réponse" in page and "par SMS" in page
    assert SmsReply.objects.get().ignored == ""


def test_a_reply_timed_between_two_sms_marks_nobody(ovh, texted, run_on_commit):
    """The second lead's SMS left a few seconds after the reply by our clock: the reply may answer
    either, so it marks neither."""
    first_sent = AlertDelivery.objects.get(alert=texted).sent_at
    at = (first_sent + timedelta(minutes=10)).astimezone().isoformat(timespec="seconds")
    with time_machine.travel(first_sent + timedelta(minutes=10, seconds=20), tick=False):
        text_another_lead(ovh, run_on_commit)
    ovh.reply(FOUNDER, "3", at=at)
    read(ovh)
    assert not Call.objects.exists() and SmsReply.objects.get().ignored == SmsReply.Ignored.AMBIGUOUS


def test_the_latest_sms_is_the_one_that_left_last_not_the_one_queued_last(ovh, texted, run_on_commit):
    """The first lead's SMS met an outage and left on retry, after the second lead's (queued later):
    the founder's phone shows the first lead last, and the reply is about it."""
    later = text_another_lead(ovh, run_on_commit)
    now = timezone.now()
    AlertDelivery.objects.filter(alert=later).update(sent_at=now - timedelta(minutes=10))
    AlertDelivery.objects.filter(alert=texted).update(sent_at=now - timedelta(minutes=2))
    assert AlertDelivery.objects.get(alert=later).pk > AlertDelivery.objects.get(alert=texted).pk
    ovh.reply(FOUNDER, "1")
    read(ovh)
    call = Call.objects.get()
    assert call.prospect == texted.prospect and call.outcome == CallOutcome.REACHED
    later.refresh_from_db()
    assert later.call is None


# --- What survived the mutation run of issue 33 (docs/mutation-survivors.md) --------------------------

COFOUNDER = "+33199000002"


def iso(moment) -> str:
    return moment.astimezone().isoformat(timespec="seconds")


def test_a_reply_from_a_number_written_the_national_way_finds_its_sms(ovh, texted):
    ovh.reply("0199000001", "1")
    read(ovh)
    assert Call.objects.get().prospect == texted.prospect


def test_a_reply_read_after_a_newer_sms_left_answers_the_sms_before_it(ovh, texted, run_on_commit):
    """The reply came at 10:00; the next lead's SMS left at 10:05, before the minute's read: the reply is
    about the lead texted before it."""
    replied_at = AlertDelivery.objects.get(alert=texted).sent_at + timedelta(minutes=5)
    with time_machine.travel(replied_at + timedelta(minutes=5), tick=False):
        later = text_another_lead(ovh, run_on_commit)
    ovh.reply(FOUNDER, "1", at=iso(replied_at))
    read(ovh)
    assert Call.objects.get().prospect == texted.prospect
    later.refresh_from_db()
    assert later.call is None


def test_a_reply_timed_just_before_its_sms_is_clear_when_no_other_sms_reached_this_phone_lately(ovh, texted):
    """By our clock the founder answered 20 s before the SMS left (the provider's clock runs behind): it
    answers that SMS — the only one this phone got within the window. An SMS to the co-founder's phone a
    minute before, one to this phone three days ago, or one five minutes after (the reply read late)
    makes it no less clear."""
    sent_at = AlertDelivery.objects.get(alert=texted).sent_at
    AlertDeliveryFactory(recipient=COFOUNDER, sent_at=sent_at - timedelta(minutes=1))
    AlertDeliveryFactory(recipient=FOUNDER, sent_at=sent_at - timedelta(days=3))
    AlertDeliveryFactory(recipient=FOUNDER, sent_at=sent_at + timedelta(minutes=5))
    ovh.reply(FOUNDER, "2", at=iso(sent_at - timedelta(seconds=20)))
    read(ovh)
    assert Call.objects.get().prospect == texted.prospect and SmsReply.objects.get().ignored == ""


def test_the_call_a_reply_records_says_what_the_founder_answered(ovh, texted, staff_client):
    """The note shows the reply's first 40 characters and the number it came from, in French."""
    answer = "3 jeudi 10h au bureau, merci de confirmer par mail"
    ovh.reply(FOUNDER, answer)
    read(ovh)
    note = f"Réponse « {answer[:40]} » au SMS d'alerte, du +33199000001"
    assert Call.objects.get().note == note
    page = staff_client.get(reverse("backoffice-timeline", args=[texted.prospect_id])).content.decode()
    assert "jeudi 10h au bureau" in page


def test_a_reply_in_the_international_00_form_finds_its_sms_outside_france(ovh):
    """A team outside France (PHONE_REGION=US), a founder's British phone: OVH gives the sender as
    0044…, which is no national number there; it is the number the alert went to."""
    delivery = AlertDeliveryFactory(recipient="+447700900123", sent_at=timezone.now() - timedelta(minutes=5))
    ovh.reply("00447700900123", "1")
    read(ovh, PHONE_REGION="US")
    call = Call.objects.get()
    assert call.prospect == delivery.alert.prospect and call.outcome == CallOutcome.REACHED


def test_a_long_reply_is_kept_with_its_first_160_characters(ovh, texted):
    """A reply of several SMS parts: recorded (PostgreSQL refuses a longer value) with what fits."""
    answer = "3 " + "jeudi 10h au bureau, merci de confirmer par mail. " * 4
    ovh.reply(FOUNDER, answer)
    read(ovh)
    assert SmsReply.objects.get().text == answer[:160]
    assert Call.objects.get().outcome == CallOutcome.MEETING_BOOKED


def test_a_reply_from_a_sender_no_numbering_plan_knows_is_kept_and_marks_nobody(ovh, texted):
    """A sender OVH passes on as it came (too long for any phone number): the reply is kept under what
    the column holds (PostgreSQL refuses a longer value, and the whole read would fail) and answers no
    lead."""
    ovh.reply("+" + "3" * 40, "3")
    read(ovh)
    reply = SmsReply.objects.get()
    assert reply.sender == "+" + "3" * 31 and reply.ignored
    assert not Call.objects.exists()


def test_a_reply_on_the_edges_of_its_window_still_answers_its_sms(ovh, texted, run_on_commit):
    """Stamped exactly OVH_SMS_REPLY_WINDOW_HOURS (12) after its SMS: not too old. The SMS of the
    second lead left the very second of its reply, another SMS before it: not ambiguous, the reply
    answers it (it left no later than the reply). OVH stamps replies to the second."""
    sent_at = timezone.now().replace(microsecond=0) - timedelta(hours=12)
    AlertDelivery.objects.filter(alert=texted).update(sent_at=sent_at)
    ovh.reply(FOUNDER, "1", at=iso(sent_at + timedelta(hours=12)))
    read(ovh)
    assert Call.objects.get().prospect == texted.prospect and SmsReply.objects.get().ignored == ""
    assert SmsReply.objects.get().alert == texted

    later = text_another_lead(ovh, run_on_commit)
    left_at = timezone.now().replace(microsecond=0)
    AlertDelivery.objects.filter(alert=later).update(sent_at=left_at)
    AlertDelivery.objects.filter(alert=texted).update(sent_at=left_at - timedelta(minutes=5))
    ovh.reply(FOUNDER, "3", at=iso(left_at))
    read(ovh)
    assert Call.objects.latest("pk").prospect == later.prospect
    assert SmsReply.objects.latest("pk").ignored == ""


def test_replies_from_two_phones_in_one_read_are_two_calls(ovh, texted):
    """The founder and the co-founder each answer their own lead's SMS within the minute: two calls, each
    on its lead, and the task's result (django-q's list of tasks) says 2."""
    other = AlertDeliveryFactory(recipient=COFOUNDER, sent_at=timezone.now() - timedelta(minutes=5))
    ovh.reply(FOUNDER, "1")
    ovh.reply(COFOUNDER, "2")
    with override_settings(**ovh_settings(ovh, OVH_SMS_SENDER="", OVH_SMS_REPLIES=True)):
        assert read_sms_replies_task() == 2
    assert set(Call.objects.values_list("prospect_id", "outcome")) == {
        (texted.prospect_id, CallOutcome.REACHED),
        (other.alert.prospect_id, CallOutcome.NO_ANSWER),
    }
