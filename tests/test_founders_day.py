"""The founder's day around the SMS (issue 32): call-backs and meetings written from the call form, the
ledger's tables agreeing, texts that keep the number and the link, data a founder can trust, the list
exported, the first hour's commands."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from alerts.outbox import sms
from alerts.outbox.composer import compose_alert_sms, compose_callback_sms, reminder_text
from alerts.outbox.gsm import gsm7_segments, gsm7_units, is_gsm7
from alerts.outbox.models import SmsNotice
from alerts.outbox.notices import notice_text, notice_title
from alerts.outcomes.callbacks import callback_sms_add, callbacks_send
from alerts.outcomes.calls import call_record
from alerts.outcomes.ledger import ledger
from alerts.outcomes.models import CallOutcome
from backoffice.hot_leads import TO_CALL, hot_leads
from prospects.models import Prospect
from prospects.services import prospects_import
from tests.factories import AlertDeliveryFactory, ProspectFactory
from tracking.meetings_by_hand import meeting_mark
from tracking.models import BookingTool, MatchMethod, Meeting

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")

# The longest values a founder's list plausibly holds: every text must still fit its segment budget
# and keep the number to call and the link whole.
LONG = {
    "name": "Marie-Charlotte de La Tour-Dubois-Montmorency",
    "company": "Compagnie Générale des Transports et Entrepôts Frigorifiques du Grand Ouest",
    "phone": "+33199001234",
    "pain_point": "Les alertes de monitoring arrivent trop tard la nuit et l'astreinte rate les incidents " * 2,
}


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def texted_alert(prospect, *, signal="cta_click", at, **fields):
    """An alert whose SMS left at `at` (the ledger counts an alert texted by its delivery's sent_at)."""
    evidence = {"cta_click": {"cta_id": "cta_reserver_audit"}, "page_dwell": {"dwell_seconds": 164}}[signal]
    return AlertDeliveryFactory(
        alert__prospect=prospect,
        alert__signal=signal,
        alert__occurred_at=at,
        alert__evidence=evidence,
        sent_at=at + timedelta(seconds=2),
        **{f"alert__{k}": v for k, v in fields.items()},
    ).alert


# --- Call-backs ------------------------------------------------------------------------------------


def test_a_call_back_comes_back_on_hot_leads_at_its_time_texts_once_and_counts_in_the_ledger(run_on_commit):
    prospect = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        texted_alert(prospect, at=timezone.now() - timedelta(minutes=3))
        call_record(
            prospect=prospect,
            user=None,
            outcome=CallOutcome.NO_ANSWER,
            note="Rappeler jeudi 10h",
            callback_at=paris(2026, 12, 10, 10, 0),
        )
        # Called: nothing left to do today, and no SMS before its time.
        assert [lead.state for lead in hot_leads()] == ["done"]
        assert run_on_commit(callbacks_send) == 0
    with time_machine.travel(paris(2026, 12, 10, 9, 59), tick=False):
        assert run_on_commit(callbacks_send) == 0 and hot_leads() == []  # the signal is 3 days old
    with time_machine.travel(paris(2026, 12, 10, 10, 0, 30), tick=False):
        leads = hot_leads()
        assert [(lead.prospect, lead.state) for lead in leads] == [(prospect, TO_CALL)]
        assert run_on_commit(callbacks_send) == 1
        assert run_on_commit(callbacks_send) == 0  # never twice
    assert len(sms.outbox) == 1
    text = sms.outbox[0].body
    assert text.startswith("Rappel prévu 10:00: Jean Dupont (Acme). Appeler +33 1 99 00 12 34. Rappeler jeudi 10h.")
    assert text.endswith(f"https://track.example.com/admin/backoffice/timeline/{prospect.pk}/")
    assert is_gsm7(text) and gsm7_segments(text) == 1
    counts = ledger(now=paris(2026, 12, 10, 10, 5)).callbacks
    assert (counts.set, counts.made, counts.texted, counts.late) == (1, 0, 1, 1)
    # The call-back is made: it leaves the hot leads' list of calls to make and counts as made.
    with time_machine.travel(paris(2026, 12, 10, 10, 6), tick=False):
        call_record(prospect=prospect, user=None, outcome=CallOutcome.REACHED)
        assert [lead.state for lead in hot_leads()] == []
    counts = ledger(now=paris(2026, 12, 10, 10, 7)).callbacks
    assert (counts.set, counts.made, counts.texted, counts.late) == (1, 1, 1, 0)


def test_a_call_back_moved_by_a_later_call_texts_at_the_new_time_only(run_on_commit):
    """Two calls, each with a call-back: the latest call's time is the one kept (issue 33: "the latest
    one" with two rows). Thursday's, replaced on Wednesday by Friday's, texts nothing on Thursday."""
    prospect = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    for called_on, callback_at in (
        (paris(2026, 12, 7, 9, 0), paris(2026, 12, 10, 10, 0)),
        (paris(2026, 12, 9, 9, 0), paris(2026, 12, 11, 11, 0)),
    ):
        with time_machine.travel(called_on, tick=False):
            call_record(prospect=prospect, user=None, outcome=CallOutcome.NO_ANSWER, callback_at=callback_at)
    with time_machine.travel(paris(2026, 12, 10, 10, 0, 30), tick=False):
        assert run_on_commit(callbacks_send) == 0
    with time_machine.travel(paris(2026, 12, 11, 11, 0, 30), tick=False):
        assert run_on_commit(callbacks_send) == 1
    assert len(sms.outbox) == 1 and sms.outbox[0].body.startswith("Rappel prévu 11:00: Jean Dupont (Acme).")


def test_a_call_back_texted_late_says_the_time_the_founder_chose(run_on_commit):
    """The worker was down at 10:00 and texts at 10:20: the SMS still says 10:00."""
    prospect = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        call_record(prospect=prospect, user=None, outcome=CallOutcome.NO_ANSWER, callback_at=paris(2026, 12, 10, 10, 0))
    with time_machine.travel(paris(2026, 12, 10, 10, 20), tick=False):
        assert run_on_commit(callbacks_send) == 1
    assert sms.outbox[0].body.startswith("Rappel prévu 10:00: Jean Dupont (Acme).")


def test_a_call_back_more_than_12_hours_past_is_shown_not_texted(run_on_commit):
    """The worker was down all day: at 22:01 the 10:00 call-back is on the hot leads, but no SMS tells
    the founder to call now, twelve hours late."""
    prospect = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        call_record(prospect=prospect, user=None, outcome=CallOutcome.NO_ANSWER, callback_at=paris(2026, 12, 10, 10, 0))
    with time_machine.travel(paris(2026, 12, 10, 22, 1), tick=False):
        assert run_on_commit(callbacks_send) == 0
        assert [(lead.prospect, lead.state) for lead in hot_leads()] == [(prospect, TO_CALL)]
    assert sms.outbox == []


def test_a_call_back_still_texts_when_another_prospect_is_called_after_it(run_on_commit):
    """Only a later call to the same prospect makes a call-back; the founder calling someone else after
    setting it does not."""
    jean = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        call_record(prospect=jean, user=None, outcome=CallOutcome.NO_ANSWER, callback_at=paris(2026, 12, 10, 10, 0))
    with time_machine.travel(paris(2026, 12, 8, 9, 0), tick=False):
        call_record(prospect=ProspectFactory(), user=None, outcome=CallOutcome.REACHED)
    with time_machine.travel(paris(2026, 12, 10, 10, 0, 30), tick=False):
        assert run_on_commit(callbacks_send) == 1
    assert sms.outbox[0].body.startswith("Rappel prévu 10:00: Jean Dupont (Acme).")


def test_two_call_backs_set_for_the_same_minute_are_both_texted(run_on_commit):
    """Jean and Marie both asked to be called back on Thursday at 10:00: two SMS, one per prospect."""
    jean = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    marie = ProspectFactory(name="Marie Martin", company="Initech", phone="+33199005678")
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        for prospect in (jean, marie):
            call_record(
                prospect=prospect, user=None, outcome=CallOutcome.NO_ANSWER, callback_at=paris(2026, 12, 10, 10, 0)
            )
    with time_machine.travel(paris(2026, 12, 10, 10, 0, 30), tick=False):
        assert run_on_commit(callbacks_send) == 2
    assert sorted(message.body.split(". Appeler ")[0] for message in sms.outbox) == [
        "Rappel prévu 10:00: Jean Dupont (Acme)",
        "Rappel prévu 10:00: Marie Martin (Initech)",
    ]


def test_a_second_worker_finding_the_same_call_back_due_texts_nothing(run_on_commit):
    """Two workers read the same call-back as due at once: the first one's claim texts, the second
    one's finds it taken and texts nothing (the founder gets one SMS, not two)."""
    prospect = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234")
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        call = call_record(
            prospect=prospect, user=None, outcome=CallOutcome.NO_ANSWER, callback_at=paris(2026, 12, 10, 10, 0)
        )
    with time_machine.travel(paris(2026, 12, 10, 10, 0, 30), tick=False):
        text = compose_callback_sms(prospect=prospect, callback_at=call.callback_at, note="")
        for worker_wins in (True, False):
            claim = run_on_commit(callback_sms_add, call_id=call.pk, callback_at=call.callback_at, text=text)
            assert claim is worker_wins
    assert len(sms.outbox) == 1 and sms.outbox[0].body == text


def test_a_call_back_set_from_the_form_is_recorded_at_the_local_time(staff_client):
    prospect = ProspectFactory()
    response = staff_client.post(
        reverse("backoffice-record-call", args=[prospect.pk]),
        {"outcome": "voicemail", "callback_at": "2026-12-10T10:00"},
        follow=True,
    )
    assert "vous recevrez un SMS à ce moment-là" in response.content.decode()
    assert prospect.calls.get().callback_at == paris(2026, 12, 10, 10, 0)
    bad = staff_client.post(
        reverse("backoffice-record-call", args=[prospect.pk]), {"outcome": "voicemail", "callback_at": "jeudi"}
    )
    assert bad.status_code == 302 and prospect.calls.count() == 1  # refused whole, with a sentence


# --- Meetings the founder writes, and the ledger -----------------------------------------------------


def test_the_ledgers_tables_agree_with_meetings_from_tools_and_by_phone():
    """One campaign: a meeting booked on the phone after two signals, one booked through Calendly after a
    voicemail, one through Cal.com with no call; each counted once in each table, held as marked."""
    now = timezone.now()
    day = timedelta(days=1)
    both = ProspectFactory(name="Two Signals")
    texted_alert(both, signal="page_dwell", at=now - 3 * day)
    texted_alert(both, signal="cta_click", at=now - 3 * day + timedelta(minutes=5))
    # One "RDV pris" handles both open alerts: one meeting, not two.
    phone = call_record(
        prospect=both, user=None, outcome=CallOutcome.MEETING_BOOKED, meeting_at=now - day, opener="Bonjour"
    ).meeting
    voicemail = ProspectFactory(name="Voicemail Then Calendly")
    texted_alert(voicemail, at=now - 3 * day)
    call_record(prospect=voicemail, user=None, outcome=CallOutcome.VOICEMAIL, opener="Bonjour")
    calendly = Meeting.objects.create(
        prospect=voicemail,
        tool=BookingTool.CALENDLY,
        external_id="EVT-1",
        starts_at=now + 2 * day,
        match_method=MatchMethod.AK,
        booked_at=timezone.now(),  # after the voicemail
    )
    alone = ProspectFactory(name="Cal.com Alone")
    texted_alert(alone, at=now - 2 * day)
    calcom = Meeting.objects.create(
        prospect=alone,
        tool=BookingTool.CALCOM,
        external_id="bk-1",
        starts_at=now - day,
        match_method=MatchMethod.AK,
        booked_at=now - 2 * day + timedelta(hours=1),
    )
    assert meeting_mark(meeting=phone, status=Meeting.Status.HELD)
    assert meeting_mark(meeting=calcom, status=Meeting.Status.NO_SHOW)

    result = ledger()
    traces = {trace.meeting.pk: trace for trace in result.meetings}
    assert set(traces) == {phone.pk, calendly.pk, calcom.pk}
    # Traced to the signal, the SMS and the call before it; the phone meeting to its own call.
    assert traces[phone.pk].call.meeting_id == phone.pk and traces[phone.pk].alert.signal == "cta_click"
    assert traces[phone.pk].sms_at is not None
    assert traces[calendly.pk].call.outcome == CallOutcome.VOICEMAIL
    assert traces[calcom.pk].call is None
    texted_traces = [t for t in result.meetings if t.sms_at]
    with_call = [t for t in result.meetings if t.call and t.call.outcome != CallOutcome.FALSE_ALARM]
    # Per signal: the total counts each meeting once, as the meetings table does.
    assert result.total.meetings_booked.k == len(texted_traces) == 3
    assert sum(row.meetings_booked.k for row in result.by_signal) == result.total.meetings_booked.k
    assert result.total.meetings_held.k == sum(1 for t in texted_traces if t.held) == 1
    # Per opener: the meetings that followed a call, each once.
    assert sum(row.meetings_booked.k for row in result.by_opener) == len(with_call) == 2
    assert sum(row.meetings_held.k for row in result.by_opener) == sum(1 for t in with_call if t.held) == 1


def test_any_meeting_can_be_marked_held_no_show_or_cancelled_by_hand(staff_client):
    prospect = ProspectFactory()
    meeting = Meeting.objects.create(
        prospect=prospect,
        tool=BookingTool.CALCOM,
        external_id="bk-9",
        starts_at=timezone.now() - timedelta(hours=2),
        match_method=MatchMethod.EMAIL,
        booked_at=timezone.now() - timedelta(days=1),
    )
    url = reverse("backoffice-mark-meeting", args=[meeting.pk])
    page = staff_client.post(url, {"status": "no_show"}, follow=True)
    meeting.refresh_from_db()
    assert meeting.status == "no_show" and "RDV noté : Absent." in page.content.decode()
    assert not ledger().meetings[0].held  # past, but the founder said nobody came
    staff_client.post(url, {"status": "held"})
    meeting.refresh_from_db()
    assert meeting.status == "held" and ledger().meetings[0].held
    staff_client.post(url, {"status": "rescheduled"})  # not a person's to set
    meeting.refresh_from_db()
    assert meeting.status == "held"
    # The admin's list has the same, as actions.
    staff_client.post(
        reverse("admin:tracking_meeting_changelist"),
        {"action": "mark_cancelled", "_selected_action": [meeting.pk]},
    )
    meeting.refresh_from_db()
    assert meeting.status == "cancelled"


def test_marking_a_meeting_as_it_already_is_says_there_is_nothing_to_do(staff_client):
    """Marked held twice: the second time the founder reads "nothing to do", and the admin's action
    counts no meeting changed."""
    meeting = Meeting.objects.create(
        prospect=ProspectFactory(),
        tool=BookingTool.CALCOM,
        external_id="bk-twice",
        starts_at=timezone.now() - timedelta(hours=2),
        match_method=MatchMethod.AK,
        booked_at=timezone.now() - timedelta(days=1),
    )
    url = reverse("backoffice-mark-meeting", args=[meeting.pk])
    assert "RDV noté : Tenu." in staff_client.post(url, {"status": "held"}, follow=True).content.decode()
    again = staff_client.post(url, {"status": "held"}, follow=True).content.decode()
    assert "Rien à faire : le RDV l&#x27;indique déjà." in again and "RDV noté" not in again
    assert not meeting_mark(meeting=Meeting.objects.get(pk=meeting.pk), status=Meeting.Status.HELD)


def test_a_meeting_marked_by_hand_says_when_on_its_page(staff_client):
    """Marked held the day after it was booked: the meeting's page says it was changed then."""
    with time_machine.travel(paris(2026, 12, 7, 9, 0), tick=False):
        meeting = Meeting.objects.create(
            prospect=ProspectFactory(),
            tool=BookingTool.CALCOM,
            external_id="bk-marked",
            starts_at=paris(2026, 12, 8, 10, 0),
            match_method=MatchMethod.AK,
            booked_at=timezone.now(),
        )
    with time_machine.travel(paris(2026, 12, 8, 11, 30), tick=False):
        assert meeting_mark(meeting=meeting, status=Meeting.Status.HELD)
    page = staff_client.get(reverse("admin:tracking_meeting_change", args=[meeting.pk])).content.decode()
    assert "Mis à jour" in page and '<div class="readonly">8 décembre 2026 11:30</div>' in page


# --- Texts that keep what matters ----------------------------------------------------------------


def fits(text: str) -> bool:
    return is_gsm7(text) and gsm7_units(text) <= 160 and gsm7_segments(text) == 1


def test_the_alert_sms_filled_to_its_budget_keeps_the_number_and_the_link():
    text = compose_alert_sms(
        signal="cta_click",
        evidence={"cta_id": "cta_reserver_audit"},
        name=LONG["name"],
        company=LONG["company"],
        phone=LONG["phone"],
        pain_point=LONG["pain_point"],
        alert_id=123456,
    )
    assert fits(text) and "Appeler +33 1 99 00 12 34" in text and text.endswith("/l/123456")


def test_the_reminder_filled_to_its_budget_keeps_the_leads_link():
    """docs/how-it-works.md: the number and the link are always kept; the reminder used to cut the link."""
    alert = texted_alert(ProspectFactory(**LONG), at=timezone.now())
    text = reminder_text(alert)
    assert text.startswith("Rappel, personne n'a encore appelé : A cliqué")
    assert fits(text), text
    assert "Appeler +33 1 99 00 12 34" in text
    assert text.endswith(f"https://track.example.com/l/{alert.pk}")


def test_the_call_back_sms_filled_to_its_budget_keeps_the_number_and_the_link():
    prospect = ProspectFactory(**LONG)
    text = compose_callback_sms(prospect=prospect, callback_at=paris(2026, 12, 10, 10, 0), note=LONG["pain_point"])
    assert fits(text), text
    assert text.startswith("Rappel prévu 10:00: ") and "Appeler +33 1 99 00 12 34" in text
    assert text.endswith(f"/admin/backoffice/timeline/{prospect.pk}/")


def test_the_digest_names_company_and_number_strongest_first_and_says_quiet_hours_in_the_evening(settings):
    """Quiet days (the weekend) end at midnight: the digest leaves in the evening, and never says "du matin"."""
    settings.ALERT_QUIET_HOURS = ""
    settings.ALERT_QUIET_DAYS = ["sat", "sun"]
    strongest = ProspectFactory(name="Jean Clicker", company="Acme", phone="+33199001234")
    reader = ProspectFactory(name="Marie Reader", company="Beta", phone="+33199001235")
    others = [ProspectFactory(**{**LONG, "name": f"{LONG['name']} {n}"}) for n in range(10)]
    notice = SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=paris(2026, 12, 7, 0, 0))
    at = paris(2026, 12, 6, 15, 0)
    for prospect in others:
        texted_alert(prospect, signal="page_dwell", at=at, status="quiet")
    texted_alert(reader, signal="page_dwell", at=at + timedelta(minutes=30), status="quiet")
    texted_alert(strongest, signal="cta_click", at=at - timedelta(hours=2), status="quiet")
    from alerts.outbox.models import Alert

    Alert.objects.update(detected_at=at)
    text = notice_text(notice)
    assert fits(text), text
    assert text.startswith(
        "ArkWatch, pendant les heures calmes : 12 leads à appeler : Jean Clicker (Acme, clic) +33199001234"
    )
    assert ", +" in text and text.endswith("/admin/backoffice/hot-leads/")
    assert "matin" not in text and "matin" not in notice_title(notice)
    assert "matin" not in str(Alert.Status.QUIET.label) and "matin" not in str(SmsNotice.Kind.DIGEST.label)


# --- Data a founder can trust --------------------------------------------------------------------


def test_a_phone_number_with_letters_is_refused_not_turned_into_keypad_digits(staff_client):
    report = prospects_import(
        content='[{"name": "Typo", "email": "typo@acme.example", "phone": "06 12 34 AB CD"}]', filename="p.json"
    )
    assert not Prospect.objects.filter(email="typo@acme.example").exists()
    assert "« 06 12 34 AB CD » contient des lettres" in report.errors[0].message
    response = staff_client.post(
        reverse("admin:prospects_prospect_add"),
        {"name": "Typo", "email": "typo@acme.example", "phone": "06 12 34 AB CD", "status": "new"},
    )
    assert "contient des lettres : un numéro de téléphone s&#x27;écrit avec des chiffres seulement" in (
        response.content.decode()
    )
    assert not Prospect.objects.filter(phone="+33639982223").exists()


def test_a_duplicate_email_in_the_admin_says_so_in_a_sentence(staff_client):
    ProspectFactory(email="cto@acme.example")
    response = staff_client.post(
        reverse("admin:prospects_prospect_add"), {"name": "Again", "email": "CTO@acme.example", "status": "new"}
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Un prospect avec cette adresse email existe déjà." in content
    assert "prospect_email_unique_ci" not in content and Prospect.objects.count() == 1


# --- The list, out ----------------------------------------------------------------------------


def seeded_list():
    prospect = ProspectFactory(name="Jean Dupont", company="Acme", phone="+33199001234", status="hot")
    texted_alert(prospect, at=timezone.now() - timedelta(hours=1))
    call_record(
        prospect=prospect,
        user=None,
        outcome=CallOutcome.MEETING_BOOKED,
        meeting_at=timezone.now() + timedelta(days=2),
    )
    call_record(prospect=prospect, user=None, outcome=CallOutcome.REACHED, callback_at=paris(2030, 1, 10, 10, 0))
    ProspectFactory(name="Quiet One", company="Beta")
    return prospect


def test_the_prospects_export_has_status_last_signal_calls_meetings_and_call_back(tmp_path):
    seeded_list()
    out = io.StringIO()
    call_command("export_prospects", "--output", str(tmp_path / "list.xlsx"), stdout=out)
    assert "2 prospects exportés" in out.getvalue()
    sheet = load_workbook(tmp_path / "list.xlsx").active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:6] == ["email", "name", "company", "title", "phone", "status"]
    assert first["name"] == "Jean Dupont" and first["status"] == "Appelé"
    assert first["last_signal"] == "A cliqué « Réserver audit »" and first["calls"] == 2
    assert first["last_call_outcome"] == "Joint" and first["meetings"] == 1
    assert first["next_meeting_at"] and first["callback_at"] == "2030-01-10 10:00"

    call_command("export_prospects", "--format", "csv", "--output", str(tmp_path / "list.csv"), stdout=io.StringIO())
    raw = (tmp_path / "list.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfemail;name;company;")  # French Excel: BOM and ";"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["last_signal"] == "A cliqué « Réserver audit »"


def test_the_prospects_export_is_an_admin_action(staff_client):
    seeded_list()
    response = staff_client.post(
        reverse("admin:prospects_prospect_changelist"),
        {"action": "export_xlsx", "_selected_action": list(Prospect.objects.values_list("pk", flat=True))},
    )
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3


def test_an_empty_list_says_so(tmp_path):
    with pytest.raises(CommandError, match="Aucun prospect à exporter"):
        call_command("export_prospects", "--output", str(tmp_path / "x.xlsx"))


# --- The first hour ----------------------------------------------------------------------------


def test_send_test_sms_works_in_the_default_development_setup(settings):
    """`make run` without OVH: the console backend and its pseudo-recipient "console"."""
    settings.SMS_BACKEND = "console"
    settings.ALERT_SMS_RECIPIENTS = ["console"]
    out = io.StringIO()
    call_command("send_test_sms", stdout=out)
    assert "pas envoyé : SMS_BACKEND vaut console" in out.getvalue()  # the SMS itself is printed above it


def test_the_demo_prospect_is_clearly_a_demo_and_leaves_without_a_trace():
    call_command("demo_prospect", stdout=io.StringIO())
    call_command("demo_prospect", stdout=io.StringIO())
    demo = Prospect.objects.get()
    assert "DÉMO" in demo.company and demo.name == "Démo ArkWatch"
    call_command("demo_prospect", "--remove", stdout=io.StringIO())
    assert not Prospect.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_calcom_or_calendly_test_booking_is_one_command(live_server, settings, run_on_commit):
    settings.CALCOM_WEBHOOK_SECRET = "calcom-secret-for-tests-only"
    settings.CALENDLY_WEBHOOK_SIGNING_KEY = "calendly-key-for-tests-only"
    prospect = ProspectFactory(name="Jean Dupont", email="cto@acme-corp.example")
    for tool in ("calcom", "calendly"):
        out = io.StringIO()
        call_command(
            "send_test_booking", "--tool", tool, "--email", prospect.email, "--url", live_server.url, stdout=out
        )
        assert "acceptée" in out.getvalue()
    meetings = Meeting.objects.filter(prospect=prospect)
    assert sorted(meetings.values_list("tool", flat=True)) == ["calcom", "calendly"]
    assert set(meetings.values_list("match_method", flat=True)) == {"ak"}  # as a link from ArkWatch carries
    settings.CALCOM_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="CALCOM_WEBHOOK_SECRET n'est pas défini"):
        call_command("send_test_booking", "--tool", "calcom", "--url", live_server.url)
