"""Booking tools' webhooks (docs/interface.md): Cal.com and Calendly deliveries of the shapes they document,
signed as they sign, become meetings of the prospect; a booking texts the founder "X a pris RDV …", and
a prospect with a meeting ahead is not texted for its other signals."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert
from alerts.outcomes.calls import call_record
from alerts.outcomes.models import CallOutcome
from alerts.signals.models import Signal
from prospects.models import Prospect
from tests.factories import CtaClickFactory, ProspectFactory, VisitorFactory
from tracking.models import BookingDelivery, Meeting, WebhookUnknownRecipients, meeting_is_over, silencing_meetings
from tracking.privacy import prospect_forget
from tracking.webhooks import meetings

pytestmark = pytest.mark.django_db

CALCOM_SECRET = "calcom-secret-for-tests-only"
CALENDLY_KEY = "calendly-key-for-tests-only"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.CALCOM_WEBHOOK_SECRET = CALCOM_SECRET
    settings.CALENDLY_WEBHOOK_SIGNING_KEY = CALENDLY_KEY


@pytest.fixture
def prospect():
    return ProspectFactory(name="Jean Dupont", company="Acme", email="cto@acme-corp.example", phone="+33199001234")


def in_days(days: float, hour: int = 10) -> str:
    moment = timezone.localtime(timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0)
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Cal.com ----------------------------------------------------------------------------------


def calcom_body(trigger="BOOKING_CREATED", *, uid="bk-1", email="cto@acme-corp.example", start=None, **payload):
    start = start or in_days(2)
    end = start.replace("T10:", "T10:").replace(":00:00Z", ":30:00Z")
    data = {
        "triggerEvent": trigger,
        "createdAt": timezone.now().isoformat(),
        "payload": {
            "type": "audit-30min",
            "title": "Audit monitoring between ArkWatch and Jean Dupont",
            "startTime": start,
            "endTime": end,
            "organizer": {"name": "Founder", "email": "founder@arkwatch.example", "timeZone": "Europe/Paris"},
            "attendees": [
                {"name": "Jean Dupont", "email": email, "timeZone": "Europe/Paris", "language": {"locale": "fr"}}
            ],
            "uid": uid,
            "bookingId": 81,
            "responses": {"name": {"label": "your_name", "value": "Jean Dupont"}, "email": {"value": email}},
            "metadata": {"videoCallUrl": "https://app.cal.com/video/bk-1"},
            "status": "ACCEPTED",
            **payload,
        },
    }
    return json.dumps(data).encode()


def calcom_post(client, body: bytes, *, secret=CALCOM_SECRET):
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/webhooks/calcom", data=body, content_type="application/json", HTTP_X_CAL_SIGNATURE_256=signature
    )


def test_it_maps_a_signed_calcom_booking_carrying_the_ak_to_a_verified_meeting(client, prospect, run_on_commit):
    body = calcom_body(responses={"ak": {"value": prospect.identity_token}, "email": {"value": "other@gmail.com"}})
    response = run_on_commit(calcom_post, client, body)
    assert response.status_code == 200
    assert response.json()["stored"] == 1
    meeting = Meeting.objects.get()
    assert (meeting.prospect, meeting.tool, meeting.external_id, meeting.status) == (
        prospect,
        "calcom",
        "bk-1",
        "booked",
    )
    assert meeting.match_method == "ak" and meeting.identification == "verified"
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.MEETING_BOOKED
    # The booking is a signal of its own, texted at once: name first, then the meeting's day and time.
    alert = Alert.objects.get(signal=Signal.MEETING_BOOKED)
    assert alert.status == Alert.Status.SENT
    assert len(sms.outbox) == 1
    text = sms.outbox[0].body
    assert text.startswith("Jean Dupont (Acme) a pris RDV ")
    assert "10:00" in text and "non vérifié" not in text
    # The alert page says which calendar holds it.
    assert alert.evidence_sentence.startswith("A pris RDV ") and alert.evidence_sentence.endswith(" — Cal.com")


@pytest.mark.parametrize(
    "phone, start",
    [("+33199001234", "cto@acme-corp.example a pris RDV "), ("", "A pris RDV ")],
)
def test_a_booking_by_a_prospect_known_only_by_email_names_them(client, run_on_commit, phone, start):
    ProspectFactory(name="", company="", email="cto@acme-corp.example", phone=phone)
    run_on_commit(calcom_post, client, calcom_body())
    text = sms.outbox[0].body
    assert text.startswith(start) and "10:00" in text and "cto@acme-corp.example" in text


def test_it_reads_the_ak_from_calcom_metadata_too(client, prospect):
    body = calcom_body(email="someone@elsewhere.example", metadata={"ak": prospect.identity_token})
    assert calcom_post(client, body).status_code == 200
    assert Meeting.objects.get().prospect == prospect


def test_a_calcom_booking_matched_by_email_only_is_unverified_and_says_so(client, prospect, run_on_commit):
    run_on_commit(calcom_post, client, calcom_body())
    meeting = Meeting.objects.get()
    assert meeting.match_method == "email" and meeting.identification == "unverified"
    assert "(non vérifié)" in sms.outbox[0].body


def test_a_bad_calcom_signature_is_refused_and_nothing_stored(client, prospect):
    response = calcom_post(client, calcom_body(), secret="not-the-secret")
    assert response.status_code == 401
    assert "X-Cal-Signature-256" in response.json()["error"]
    response = client.post("/api/webhooks/calcom", data=calcom_body(), content_type="application/json")
    assert response.status_code == 401
    assert not Meeting.objects.exists() and not BookingDelivery.objects.exists()


def test_a_replayed_calcom_delivery_is_stored_once(client, prospect, run_on_commit):
    body = calcom_body()
    assert run_on_commit(calcom_post, client, body).json()["stored"] == 1
    again = run_on_commit(calcom_post, client, body)
    assert again.status_code == 200 and again.json() == {
        "ok": True,
        "stored": 0,
        "duplicates": 1,
        "unknown_recipients": 0,
    }
    assert Meeting.objects.count() == 1 and BookingDelivery.objects.count() == 1
    assert len(sms.outbox) == 1


def test_a_delivery_another_worker_stores_first_is_counted_a_duplicate_and_changes_nothing(
    client, prospect, run_on_commit, monkeypatch
):
    """The tool's retry reaches a second web worker while the first is storing it: both found no key, the
    other one inserted it first. This one answers "duplicate", stores no meeting and texts nothing."""
    matched = meetings.booking_match

    def other_worker_stores_it_now(event):
        BookingDelivery.objects.create(tool="calcom", key=event.key, event=event.event)
        return matched(event)

    monkeypatch.setattr(meetings, "booking_match", other_worker_stores_it_now)
    response = run_on_commit(calcom_post, client, calcom_body())
    assert response.status_code == 200 and response.json() == {
        "ok": True,
        "stored": 0,
        "duplicates": 1,
        "unknown_recipients": 0,
    }
    assert not Meeting.objects.exists() and BookingDelivery.objects.count() == 1
    assert sms.outbox == []


def test_the_endpoint_does_not_exist_without_its_secret(client, settings, prospect):
    settings.CALCOM_WEBHOOK_SECRET = ""
    settings.CALENDLY_WEBHOOK_SIGNING_KEY = ""
    assert calcom_post(client, calcom_body(), secret="x").status_code == 404
    assert client.post("/api/webhooks/calendly", data=b"{}", content_type="application/json").status_code == 404


def test_a_stranger_booking_answers_200_and_is_only_counted(client, prospect):
    response = calcom_post(client, calcom_body(email="nobody@unknown.example"))
    assert response.status_code == 200 and response.json()["unknown_recipients"] == 1
    assert not Meeting.objects.exists() and not BookingDelivery.objects.exists()
    assert WebhookUnknownRecipients.objects.get(provider="calcom").count == 1


def test_a_malformed_calcom_payload_is_400_with_a_sentence(client, prospect):
    body = json.dumps({"triggerEvent": "BOOKING_CREATED", "payload": {"uid": "bk-1", "startTime": "jeudi"}}).encode()
    response = calcom_post(client, body)
    assert response.status_code == 400
    assert "startTime" in response.json()["error"]
    assert not Meeting.objects.exists()


def test_calcom_cancellation_reschedule_no_show_and_end_follow_the_meeting(client, prospect, run_on_commit):
    # Booked from the prospect's own link (verified): its new time texts whatever the cooldown.
    ak = {"ak": prospect.identity_token}
    run_on_commit(calcom_post, client, calcom_body(uid="bk-1", metadata=ak))
    moved = calcom_body("BOOKING_RESCHEDULED", uid="bk-2", start=in_days(3, hour=15), rescheduleUid="bk-1", metadata=ak)
    run_on_commit(calcom_post, client, moved)
    assert dict(Meeting.objects.values_list("external_id", "status")) == {"bk-1": "rescheduled", "bk-2": "booked"}
    # The new time texts again: the founder's calendar changed.
    assert len(sms.outbox) == 2 and "15:00" in sms.outbox[1].body
    calcom_post(client, calcom_body("BOOKING_NO_SHOW_UPDATED", uid="bk-2", start=in_days(3, hour=15)))
    assert Meeting.objects.get(external_id="bk-2").status == "no_show"
    calcom_post(client, calcom_body("MEETING_ENDED", uid="bk-2", start=in_days(3, hour=15)))
    assert Meeting.objects.get(external_id="bk-2").status == "no_show"  # a late "ended" does not undo it
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-2", start=in_days(3, hour=15)))
    assert Meeting.objects.get(external_id="bk-2").status == "cancelled"


def calcom_no_show(uid: str, no_show: bool, email="cto@acme-corp.example") -> bytes:
    """BOOKING_NO_SHOW_UPDATED as Cal.com documents it: the attendees it changed, each with its noShow
    flag, and the booking's uid; no times."""
    verb = "marked" if no_show else "unmarked"
    data = {
        "triggerEvent": "BOOKING_NO_SHOW_UPDATED",
        "createdAt": timezone.now().isoformat(),
        "payload": {
            "message": f"{email} {verb} as no-show",
            "attendees": [{"email": email, "noShow": no_show}],
            "bookingUid": uid,
            "bookingId": 31,
        },
    }
    return json.dumps(data).encode()


def test_calcom_unmarking_a_no_show_restores_the_meeting(client, prospect, run_on_commit):
    run_on_commit(calcom_post, client, calcom_body(uid="bk-past", start=in_days(-1)))
    run_on_commit(calcom_post, client, calcom_body(uid="bk-ahead", start=in_days(2)))
    texted = len(sms.outbox)
    for uid in ("bk-past", "bk-ahead"):
        assert calcom_post(client, calcom_no_show(uid, True)).json()["stored"] == 1
    assert set(Meeting.objects.values_list("status", flat=True)) == {"no_show"}
    # They came after all: the past meeting was held, the one ahead is booked again; nothing texted.
    for uid in ("bk-past", "bk-ahead"):
        assert calcom_post(client, calcom_no_show(uid, False)).json()["stored"] == 1
    assert dict(Meeting.objects.values_list("external_id", "status")) == {"bk-past": "held", "bk-ahead": "booked"}
    assert len(sms.outbox) == texted
    # "They came" never revives a cancelled meeting.
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-ahead", start=in_days(2)))
    assert calcom_post(client, calcom_no_show("bk-ahead", False)).json()["stored"] == 1
    assert Meeting.objects.get(external_id="bk-ahead").status == "cancelled"


# --- Calendly ---------------------------------------------------------------------------------


def calendly_body(
    event="invitee.created", *, invitee="INV1", email="cto@acme-corp.example", utm_content=None, **payload
):
    start = in_days(2)
    data = {
        "created_at": timezone.now().isoformat(),
        "created_by": "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
        "event": event,
        "payload": {
            "cancel_url": f"https://calendly.com/cancellations/{invitee}",
            "created_at": timezone.now().isoformat(),
            "email": email,
            "event": "https://api.calendly.com/scheduled_events/EVT1",
            "name": "Jean Dupont",
            "new_invitee": None,
            "old_invitee": None,
            "questions_and_answers": [],
            "reschedule_url": f"https://calendly.com/reschedulings/{invitee}",
            "rescheduled": False,
            "status": "active",
            "timezone": "Europe/Paris",
            "tracking": {
                "utm_campaign": "audit",
                "utm_source": "email",
                "utm_medium": None,
                "utm_content": utm_content,
                "utm_term": None,
                "salesforce_uuid": None,
            },
            "uri": f"https://api.calendly.com/scheduled_events/EVT1/invitees/{invitee}",
            "scheduled_event": {
                "uri": "https://api.calendly.com/scheduled_events/EVT1",
                "name": "Audit monitoring 30 min",
                "status": "active",
                "start_time": start.replace("Z", ".000000Z"),
                "end_time": start.replace(":00:00Z", ":30:00.000000Z"),
                "event_type": "https://api.calendly.com/event_types/TYPE1",
            },
            **payload,
        },
    }
    return json.dumps(data).encode()


def calendly_post(client, body: bytes, *, key=CALENDLY_KEY, t=None):
    t = str(int(time.time()) if t is None else t)
    v1 = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/webhooks/calendly",
        data=body,
        content_type="application/json",
        HTTP_CALENDLY_WEBHOOK_SIGNATURE=f"t={t},v1={v1}",
    )


def test_it_maps_a_signed_calendly_booking_by_utm_content(client, prospect, run_on_commit):
    body = calendly_body(email="jean.perso@gmail.com", utm_content=prospect.identity_token)
    response = run_on_commit(calendly_post, client, body)
    assert response.status_code == 200 and response.json()["stored"] == 1
    meeting = Meeting.objects.get()
    assert meeting.prospect == prospect and meeting.tool == "calendly"
    assert meeting.external_id == "https://api.calendly.com/scheduled_events/EVT1"
    assert meeting.identification == "verified"
    assert sms.outbox[0].body.startswith("Jean Dupont (Acme) a pris RDV ")
    assert Alert.objects.get(signal=Signal.MEETING_BOOKED).evidence_sentence.endswith(" — Calendly")


def test_a_calendly_booking_matched_by_email(client, prospect):
    assert calendly_post(client, calendly_body()).status_code == 200
    assert Meeting.objects.get().match_method == "email"


def test_a_stale_or_forged_calendly_signature_is_refused(client, prospect):
    body = calendly_body()
    assert calendly_post(client, body, t=int(time.time()) - 10 * 60).status_code == 401
    assert calendly_post(client, body, key="wrong-key").status_code == 401
    now = int(time.time())
    signed = hmac.new(CALENDLY_KEY.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    tampered = client.post(
        "/api/webhooks/calendly",
        data=body.replace(b"Jean", b"Jane"),
        content_type="application/json",
        HTTP_CALENDLY_WEBHOOK_SIGNATURE=f"t={now},v1={signed}",
    )
    assert tampered.status_code == 401


def test_a_calendly_reschedule_cancels_the_old_event_as_moved(client, prospect):
    calendly_post(client, calendly_body())
    calendly_post(client, calendly_body("invitee.canceled", rescheduled=True))
    assert Meeting.objects.get().status == "rescheduled"


def test_a_calendly_no_show_and_its_unmarking(client, prospect):
    calendly_post(client, calendly_body())
    calendly_post(client, calendly_body("invitee_no_show.created"))
    assert Meeting.objects.get().status == "no_show"
    # Unmarked (they came after all): the meeting ahead is booked again, nothing texted a second time.
    texted = len(sms.outbox)
    assert calendly_post(client, calendly_body("invitee_no_show.deleted")).json()["stored"] == 1
    assert Meeting.objects.get().status == "booked" and len(sms.outbox) == texted


# --- What a booking changes in the alerts --------------------------------------------------------


def test_a_booked_prospects_later_read_does_not_text_but_stays_on_the_timeline(client, prospect, run_on_commit):
    run_on_commit(calcom_post, client, calcom_body(responses={"ak": {"value": prospect.identity_token}}))
    assert len(sms.outbox) == 1
    VisitorFactory(visitor_id="visitor-booked", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-booked", prospect=prospect, ak=prospect.identity_token)
    run_on_commit(detection_cycle_run)
    click = Alert.objects.get(signal=Signal.CTA_CLICK)
    assert click.status == Alert.Status.MEETING
    assert len(sms.outbox) == 1


def test_once_the_meeting_is_past_other_signals_text_again(client, prospect, run_on_commit):
    Meeting.objects.create(
        prospect=prospect,
        tool="calcom",
        external_id="old",
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=2),
        match_method="ak",
        booked_at=timezone.now() - timedelta(days=2),
    )
    VisitorFactory(visitor_id="visitor-after", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-after", prospect=prospect, ak=prospect.identity_token)
    run_on_commit(detection_cycle_run)
    assert Alert.objects.get(signal=Signal.CTA_CLICK).status == Alert.Status.SENT


def test_hot_leads_shows_the_meeting_instead_of_to_call(client, staff_client, prospect, run_on_commit):
    VisitorFactory(visitor_id="visitor-hot", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-hot", prospect=prospect, ak=prospect.identity_token)
    run_on_commit(detection_cycle_run)
    page = staff_client.get("/admin/backoffice/hot-leads/").content.decode()
    assert "À appeler" in page
    run_on_commit(calcom_post, client, calcom_body(responses={"ak": {"value": prospect.identity_token}}))
    page = staff_client.get("/admin/backoffice/hot-leads/").content.decode()
    assert "À appeler" not in page
    assert "RDV " in page and "10:00" in page


# --- Off the happy path (issue 33): a meeting that no longer holds silences nothing ---------------------


def clicked_again(prospect, run_on_commit) -> Alert:
    VisitorFactory(visitor_id="visitor-again", prospect=prospect)
    CtaClickFactory(visitor_id="visitor-again", prospect=prospect, ak=prospect.identity_token)
    run_on_commit(detection_cycle_run)
    return Alert.objects.get(signal=Signal.CTA_CLICK)


def test_a_cancelled_booking_then_a_new_click_texts(client, prospect, run_on_commit):
    ak = {"ak": prospect.identity_token}
    run_on_commit(calcom_post, client, calcom_body(uid="bk-1", metadata=ak))
    run_on_commit(calcom_post, client, calcom_body("BOOKING_CANCELLED", uid="bk-1", metadata=ak))
    assert Meeting.objects.get().status == "cancelled" and not silencing_meetings(timezone.now()).exists()
    texted = len(sms.outbox)
    assert clicked_again(prospect, run_on_commit).status == Alert.Status.SENT
    assert len(sms.outbox) == texted + 1 and "Jean Dupont" in sms.outbox[-1].body


def test_a_meeting_moved_beyond_the_horizon_no_longer_silences(client, prospect, run_on_commit, settings):
    """Moved from the day after tomorrow to a month ahead: the old time (row "moved") silences nothing,
    and the new one is past MEETING_SILENCE_MAX_DAYS, so a click today texts."""
    ak = {"ak": prospect.identity_token}
    run_on_commit(calcom_post, client, calcom_body(uid="bk-1", metadata=ak))
    assert silencing_meetings(timezone.now()).count() == 1
    far = in_days(settings.MEETING_SILENCE_MAX_DAYS + 16)
    run_on_commit(
        calcom_post,
        client,
        calcom_body("BOOKING_RESCHEDULED", uid="bk-2", start=far, rescheduleUid="bk-1", metadata=ak),
    )
    assert dict(Meeting.objects.values_list("external_id", "status")) == {"bk-1": "rescheduled", "bk-2": "booked"}
    assert not silencing_meetings(timezone.now()).exists()
    assert clicked_again(prospect, run_on_commit).status == Alert.Status.SENT


# --- What survived the mutation run of issue 33 (docs/mutation-survivors.md) --------------------------


def booked_via_link(client, run_on_commit, prospect, uid, **fields):
    """A Cal.com booking from the prospect's own link (its ak): verified."""
    body = calcom_body(uid=uid, metadata={"ak": prospect.identity_token}, **fields)
    assert run_on_commit(calcom_post, client, body).json()["stored"] == 1
    return Meeting.objects.get(tool="calcom", external_id=uid)


def status_of(prospect) -> str:
    return Prospect.objects.values_list("status", flat=True).get(pk=prospect.pk)


def test_a_cancellation_without_the_ak_still_cancels_the_booking_it_names(client, prospect, run_on_commit):
    """Booked from the prospect's link by a colleague typing their own address; the cancellation names
    the booking but carries no ak: it cancels that meeting (the prospect the booking was matched to),
    and the admin's meeting page keeps who booked."""
    meeting = booked_via_link(client, run_on_commit, prospect, "bk-colleague", email="colleague@elsewhere.example")
    assert meeting.invitee_email == "colleague@elsewhere.example" and status_of(prospect) == "meeting_booked"
    cancel = calcom_body("BOOKING_CANCELLED", uid="bk-colleague", email="colleague@elsewhere.example")
    assert calcom_post(client, cancel).json() == {"ok": True, "stored": 1, "duplicates": 0, "unknown_recipients": 0}
    assert Meeting.objects.get().status == "cancelled" and status_of(prospect) == "new"


def test_a_booking_moved_under_its_own_uid_texts_the_new_time_once(client, prospect, run_on_commit):
    """Cal.com may move a booking keeping its uid: the meeting takes the new start and end and the
    founder is texted the new time; the same booking reported again unchanged texts nothing more."""
    meeting = booked_via_link(client, run_on_commit, prospect, "bk-1")
    start = in_days(3, hour=15)
    moved = calcom_body("BOOKING_RESCHEDULED", uid="bk-1", start=start, rescheduleUid="bk-1")
    assert run_on_commit(calcom_post, client, moved).json()["stored"] == 1
    again = Meeting.objects.get()
    assert again.pk == meeting.pk and again.booked_at > meeting.booked_at
    assert (again.starts_at.isoformat(), again.ends_at - again.starts_at) == (
        start.replace("Z", "+00:00"),
        timedelta(minutes=30),
    )
    assert len(sms.outbox) == 2 and "15:00" in sms.outbox[1].body
    same = calcom_body("BOOKING_CREATED", uid="bk-1", start=start)
    assert run_on_commit(calcom_post, client, same).json()["stored"] == 1
    assert len(sms.outbox) == 2 and Meeting.objects.get().booked_at == again.booked_at


def test_a_cancellation_arriving_before_its_booking_is_a_cancelled_meeting(client, prospect, run_on_commit):
    """Deliveries out of order: the tool's cancellation reaches us first. The meeting is stored
    cancelled: nothing texted, and it silences none of the prospect's signals."""
    body = calcom_body("BOOKING_CANCELLED", uid="bk-late", metadata={"ak": prospect.identity_token})
    assert run_on_commit(calcom_post, client, body).json()["stored"] == 1
    assert Meeting.objects.get().status == "cancelled" and sms.outbox == []
    assert not silencing_meetings(timezone.now()).exists()


def test_a_booked_meeting_keeps_its_end(client, prospect, run_on_commit):
    """The tool's end time is kept: a 30-minute meeting is over 30 minutes after its start (the ledger
    counts it held then), not an hour after as for a meeting whose end nobody gave."""
    meeting = booked_via_link(client, run_on_commit, prospect, "bk-30")
    assert meeting.ends_at - meeting.starts_at == timedelta(minutes=30)
    assert meeting_is_over(meeting, meeting.starts_at + timedelta(minutes=31))


def test_a_no_show_or_the_meetings_end_leaves_the_prospect_at_meeting_booked(client, prospect, run_on_commit):
    """Only a cancellation puts the prospect back where it was before the booking."""
    booked_via_link(client, run_on_commit, prospect, "bk-1", start=in_days(-1))
    assert status_of(prospect) == "meeting_booked"
    for trigger in ("BOOKING_NO_SHOW_UPDATED", "MEETING_ENDED"):
        assert calcom_post(client, calcom_body(trigger, uid="bk-1", start=in_days(-1))).json()["stored"] == 1
        assert status_of(prospect) == "meeting_booked"


def test_a_cancellation_moves_back_its_own_prospect_only_and_never_a_won_one(client, run_on_commit):
    """Two prospects booked; one cancels: it goes back to where it was, the other keeps its meeting. An
    unverified booking ahead (an email typed in) does not hold the status; a prospect won since its
    booking stays won when the booking is cancelled."""
    jean = ProspectFactory(email="jean@acme.example", status=Prospect.Status.HOT)
    marie = ProspectFactory(email="marie@initech.example", status=Prospect.Status.CONTACTED)
    booked_via_link(client, run_on_commit, jean, "bk-jean", email="jean@acme.example")
    booked_via_link(client, run_on_commit, marie, "bk-marie", email="marie@initech.example")
    run_on_commit(calcom_post, client, calcom_body(uid="bk-jean-typed", email="jean@acme.example"))
    assert Meeting.objects.get(external_id="bk-jean-typed").match_method == "email"
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-jean", email="jean@acme.example"))
    assert (status_of(jean), status_of(marie)) == ("hot", "meeting_booked")
    Prospect.objects.filter(pk=marie.pk).update(status=Prospect.Status.WON)
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-marie", email="marie@initech.example"))
    assert status_of(marie) == "won"


def test_a_second_link_booking_remembers_the_status_before_the_first(client, prospect, run_on_commit):
    """Booked from the link, then an email-only booking, then the link again: cancelling the first
    link booking leaves the prospect at meeting booked (the second one is still ahead); cancelling
    both puts it back to its status before the first one, not to nothing."""
    Prospect.objects.filter(pk=prospect.pk).update(status=Prospect.Status.CONTACTED)
    booked_via_link(client, run_on_commit, prospect, "bk-a")
    run_on_commit(calcom_post, client, calcom_body(uid="bk-b"))
    booked_via_link(client, run_on_commit, prospect, "bk-c")
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-a"))
    assert status_of(prospect) == "meeting_booked"
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-c"))
    assert status_of(prospect) == "contacted"


def test_a_link_booking_after_a_meeting_set_on_the_phone_is_stored(client, prospect, run_on_commit):
    """The founder recorded "RDV pris" on the phone (the prospect is at meeting booked, with nothing to
    remember before it); the prospect then also books through the link: both meetings are there."""
    call_record(
        prospect=prospect, user=None, outcome=CallOutcome.MEETING_BOOKED, meeting_at=timezone.now() + timedelta(days=1)
    )
    assert status_of(prospect) == "meeting_booked"
    booked_via_link(client, run_on_commit, prospect, "bk-after-call")
    assert Meeting.objects.count() == 2


def test_a_cancelled_booking_reported_again_leaves_the_meeting_set_since_by_phone(client, prospect, run_on_commit):
    """Booked from the link, then cancelled: the prospect is back at contacted. The founder then gets
    "RDV pris" on the phone (a reply "3", no date yet): meeting booked. Cal.com reporting the cancelled
    booking again (its cancellation once more, or "they came" on it) moves the prospect nowhere."""
    Prospect.objects.filter(pk=prospect.pk).update(status=Prospect.Status.CONTACTED)
    booked_via_link(client, run_on_commit, prospect, "bk-1")
    calcom_post(client, calcom_body("BOOKING_CANCELLED", uid="bk-1"))
    assert status_of(prospect) == "contacted"
    call_record(prospect=prospect, user=None, outcome=CallOutcome.MEETING_BOOKED)
    for again in (calcom_body("BOOKING_CANCELLED", uid="bk-1"), calcom_no_show("bk-1", False)):
        assert calcom_post(client, again).json()["stored"] == 1
        assert Meeting.objects.get().status == "cancelled" and status_of(prospect) == "meeting_booked"


def test_forgetting_a_prospect_takes_the_deliveries_of_its_bookings(client, prospect, run_on_commit):
    """A delivery's record holds the tool's ids of the booking (Calendly's invitee address): it goes
    with the meeting when the prospect is forgotten."""
    run_on_commit(calendly_post, client, calendly_body(utm_content=prospect.identity_token))
    calendly_post(client, calendly_body("invitee.canceled"))
    assert BookingDelivery.objects.filter(meeting__prospect=prospect).count() == 2
    prospect_forget(prospect=prospect)
    assert not Meeting.objects.exists() and not BookingDelivery.objects.exists()


def test_a_booking_moved_to_a_new_uid_says_when_on_the_old_ones_page(client, staff_client, prospect, run_on_commit):
    """Cal.com moves a booking under a new uid a day later: the old booking's page says when it moved."""
    with time_machine.travel(datetime(2026, 12, 7, 8, 0, tzinfo=UTC), tick=False):
        booked_via_link(client, run_on_commit, prospect, "bk-1")
    with time_machine.travel(datetime(2026, 12, 8, 10, 30, tzinfo=UTC), tick=False):
        moved = calcom_body("BOOKING_RESCHEDULED", uid="bk-2", start=in_days(3, hour=15), rescheduleUid="bk-1")
        assert run_on_commit(calcom_post, client, moved).json()["stored"] == 1
    old = Meeting.objects.get(external_id="bk-1")
    page = staff_client.get(reverse("admin:tracking_meeting_change", args=[old.pk])).content.decode()
    assert old.status == "rescheduled" and '<div class="readonly">8 décembre 2026 11:30</div>' in page
