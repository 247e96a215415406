"""Replies to the prospecting emails (issue 30, point 1): sorted as a person would sort them, tied to the
prospect, and only a person's reply texts the founder — never an auto-reply or a bounce.

Real messages from ../shared/data/replies (public fixtures: bounces of many mail servers, auto-replies,
list mail, people's replies) and French ones written for this product in tests/data/replies-fr."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from alerts.outbox import sms
from alerts.outbox.gsm import gsm7_segments, to_gsm7
from alerts.outbox.models import Alert
from alerts.signals.models import Signal
from alerts.tasks import relay_deliveries_task
from prospects.do_not_contact import do_not_contact_reasons
from prospects.models import Prospect
from tests.factories import EmailEventFactory, ProspectFactory
from tracking.models import EmailEvent, InboundReply, ReplyKind
from tracking.replies.reading import read_raw
from tracking.replies.services import inbound_reply_record, reply_correct
from tracking.replies.sorting import return_date, sort_letter
from tracking.retention import event_contacts, events_purge

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the repository; `make mutants` runs the tests from a copy one level down (mutants/).
SHARED = next((up / "shared" for up in ROOT.parents if (up / "shared" / "data").is_dir()), ROOT.parent / "shared")
SHARED = SHARED / "data" / "replies"
FRENCH = ROOT / "tests" / "data" / "replies-fr"
LABEL = {"human": ReplyKind.PERSON, "auto": ReplyKind.AUTO, "bounce": ReplyKind.BOUNCE}


def _labels(folder: Path) -> list[dict]:
    if not (folder / "labels.json").exists():
        return []
    return json.loads((folder / "labels.json").read_text())


shared_cases = _labels(SHARED)
french_cases = _labels(FRENCH)
needs_shared = pytest.mark.skipif(not shared_cases, reason=f"the shared replies are not at {SHARED}")


@needs_shared
@pytest.mark.parametrize("case", shared_cases, ids=lambda c: c["file"])
def test_each_real_message_is_sorted_as_labelled(case):
    letter = read_raw((SHARED / case["file"]).read_bytes())
    assert sort_letter(letter).kind == LABEL[case["label"]]


@pytest.mark.parametrize("case", french_cases, ids=lambda c: c["file"])
def test_each_french_message_is_sorted_as_a_french_founder_would(case):
    letter = read_raw((FRENCH / case["file"]).read_bytes())
    assert sort_letter(letter).kind == case["label"]


def test_the_french_cases_cover_every_kind():
    assert {c["label"] for c in french_cases} == set(ReplyKind.values)


def test_a_quoted_stop_in_the_founders_own_footer_is_not_an_unsubscribe():
    # The founder's email says "répondez STOP"; a yes quotes it below the answer.
    letter = read_raw((FRENCH / "person-proposition.eml").read_bytes())
    assert "STOP" in letter.text
    assert sort_letter(letter).kind == ReplyKind.PERSON


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Je suis absente du bureau jusqu'au 14 décembre inclus.", (2026, 12, 14)),
        ("Je serai absente du 21 décembre au 3 janvier.", (2027, 1, 3)),
        ("De retour le 08/01/2027.", (2027, 1, 8)),
        ("I am away until May 5th.", (2027, 5, 5)),
        ("Je suis en déplacement cette semaine.", None),
    ],
)
def test_an_out_of_office_says_when_they_are_back(text, expected):
    found = return_date(text, today=timezone.now().date().replace(year=2026, month=12, day=1))
    assert (found.timetuple()[:3] if found else None) == expected


# --- stored, matched, and what each kind does -------------------------------------------------------------


def _letter(name: str, **replace: str):
    raw = (FRENCH / name).read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return read_raw(raw)


CLAIRE = "claire.dubois@acme-industrie.fr"
WRITTEN = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)


@pytest.fixture
def claire(db):
    return ProspectFactory(name="Claire Dubois", company="Acme Industrie", email=CLAIRE, phone="+33639981234")


@pytest.fixture
def read_now(run_on_commit):
    """Record a message a minute after it was written, as the poll or a webhook would, and run what its
    commit triggers (detection, the SMS)."""

    def record(letter, source="imap", **kwargs):
        with time_machine.travel(WRITTEN + timedelta(minutes=1), tick=False):
            return run_on_commit(inbound_reply_record, letter=letter, source=source, **kwargs)

    return record


@pytest.mark.django_db
def test_a_persons_reply_texts_once_with_their_first_words(claire, read_now):
    outcome = read_now(_letter("person-oui-jeudi.eml"))
    assert outcome.stored == 1
    assert len(sms.outbox) == 1
    body = sms.outbox[0].body
    assert body.startswith('Claire Dubois (Acme Industrie) a répondu : "Oui, appelez-moi jeudi')
    assert gsm7_segments(body) == 1 and to_gsm7(body) == body
    alert = Alert.objects.get()
    assert alert.signal == Signal.EMAIL_REPLY and alert.status == Alert.Status.SENT
    # The same message again (a webhook and the poll both saw it): stored once, texted once.
    assert read_now(_letter("person-oui-jeudi.eml")).duplicates == 1
    assert len(sms.outbox) == 1 and InboundReply.objects.count() == 1


@pytest.mark.django_db
def test_a_long_reply_still_fits_one_segment_with_the_number_to_call(claire, read_now):
    letter = _letter("person-signature-longue.eml", **{"luc.moreau@": "claire.dubois@"})
    read_now(letter)
    body = sms.outbox[0].body
    assert gsm7_segments(body) == 1
    assert "+33 6 39 98 12 34" in body and "..." in body


@pytest.mark.django_db
@pytest.mark.parametrize("name", [c["file"] for c in french_cases if c["label"] != "person"])
def test_no_auto_reply_bounce_unsubscribe_or_refusal_texts(claire, read_now, name):
    # The thread ties a helpdesk's or a colleague's answer to the prospect.
    EmailEventFactory(prospect=claire, message_id="<audit-001@arkwatch-demo.fr>")
    assert read_now(_letter(name)).stored == 1
    assert sms.outbox == [] and not Alert.objects.exists()


@pytest.mark.django_db
def test_an_unsubscribe_makes_the_prospect_do_not_contact(claire, read_now):
    read_now(_letter("unsubscribe-stop.eml"))
    claire.refresh_from_db()
    assert claire.status == Prospect.Status.DO_NOT_CONTACT
    reply = InboundReply.objects.get()
    assert reply.kind == ReplyKind.UNSUBSCRIBE and reply.reason == "« STOP »"


@pytest.mark.django_db
def test_not_interested_is_recorded_as_the_lead_lost(claire, read_now):
    read_now(_letter("not_interested-pas-interesse.eml"))
    claire.refresh_from_db()
    assert claire.status == Prospect.Status.LOST
    assert InboundReply.objects.get().reason == "« pas interesse »"


@pytest.mark.django_db
def test_an_auto_reply_keeps_the_return_date_and_the_header_that_decided(claire, read_now):
    read_now(_letter("auto-gmail-absence.eml"))
    reply = InboundReply.objects.get()
    assert reply.reason == "Auto-Submitted: auto-replied"
    assert reply.back_on is not None and (reply.back_on.month, reply.back_on.day) == (1, 4)


@needs_shared
@pytest.mark.django_db
def test_a_bounce_marks_the_address_undeliverable(read_now):
    # Postfix's DSN for kijitora@example.jp, returning the message ArkWatch sent.
    letter = read_raw((SHARED / "bounce-01-sisimai-postfix-crlf.eml").read_bytes())
    recipient = next(address for address, _action in letter.dsn if address)
    prospect = ProspectFactory(email=recipient)
    EmailEventFactory(prospect=prospect, message_id="<sent-1@arkwatch-demo.fr>")
    read_now(letter)
    reply = InboundReply.objects.get()
    assert reply.kind == ReplyKind.BOUNCE and reply.undeliverable and reply.prospect == prospect
    assert EmailEvent.objects.filter(prospect=prospect, event=EmailEvent.Kind.BOUNCED).count() == 1
    assert sms.outbox == []


@pytest.mark.django_db
def test_a_bounce_naming_no_known_message_bounces_the_latest_one_sent(read_now):
    """Two campaign emails sent, the bounce returns neither by its id: the newest one is marked bounced
    (issue 33: "the latest one" with two rows), the one the funnel and the mail-merge export show."""
    letter = read_raw((SHARED / "bounce-01-sisimai-postfix-crlf.eml").read_bytes())
    prospect = ProspectFactory(email=next(address for address, _action in letter.dsn if address))
    for days_ago, message_id in ((9, "<first-step@unknown.example>"), (2, "<second-step@unknown.example>")):
        EmailEventFactory(prospect=prospect, message_id=message_id, occurred_at=WRITTEN - timedelta(days=days_ago))
    read_now(letter)
    bounced = EmailEvent.objects.get(prospect=prospect, event=EmailEvent.Kind.BOUNCED)
    assert bounced.message_id == "<second-step@unknown.example>"


@pytest.mark.django_db
def test_a_colleague_answering_the_thread_belongs_to_the_prospect_unverified(claire, read_now):
    EmailEventFactory(prospect=claire, message_id="<audit-001@arkwatch-demo.fr>")
    letter = _letter("person-transfert-dsi.eml", **{CLAIRE: "marc.petit@acme-industrie.fr"})
    read_now(letter)
    reply = InboundReply.objects.get()
    assert reply.prospect == claire and reply.match_method == "thread" and reply.identification == "unverified"
    assert "non vérifié" in sms.outbox[0].body


@pytest.mark.django_db
def test_a_sender_authenticated_by_the_receiving_server_is_verified(claire, read_now):
    header = (
        "Authentication-Results: mx.google.com; dkim=pass header.i=@acme-industrie.fr;"
        " dmarc=pass header.from=acme-industrie.fr\n"
    )
    raw = header.encode() + (FRENCH / "person-tarif.eml").read_bytes()
    read_now(read_raw(raw))
    assert InboundReply.objects.get().identification == "verified"
    assert "non vérifié" not in sms.outbox[0].body


@pytest.mark.django_db
def test_an_authentication_result_lower_down_is_not_believed(claire, read_now):
    # The receiving server's verdict is the topmost header; one the sender wrote below it proves nothing.
    raw = (
        b"Authentication-Results: mx.example.net; dkim=fail header.d=acme-industrie.fr\n"
        b"Authentication-Results: forged; dkim=pass header.d=acme-industrie.fr\n"
    ) + (FRENCH / "person-tarif.eml").read_bytes()
    read_now(read_raw(raw))
    assert InboundReply.objects.get().identification == "unverified"


@pytest.mark.django_db
def test_a_message_about_nobody_known_is_counted_not_kept(read_now):
    assert read_now(_letter("person-tarif.eml")).unknown == 1
    assert not InboundReply.objects.exists() and sms.outbox == []


@pytest.mark.django_db
def test_an_old_reply_read_late_does_not_text(claire, run_on_commit):
    with time_machine.travel(WRITTEN + timedelta(days=2), tick=False):
        run_on_commit(inbound_reply_record, letter=_letter("person-oui-jeudi.eml"), source="imap")
    assert Alert.objects.get().status == Alert.Status.STALE and sms.outbox == []


@pytest.mark.django_db
def test_quiet_hours_hold_a_reply_unless_it_is_a_breaker(claire, read_now, settings):
    settings.ALERT_QUIET_HOURS = "00:00-23:59"
    read_now(_letter("person-oui-jeudi.eml"))
    assert Alert.objects.get().status == Alert.Status.QUIET and sms.outbox == []
    settings.ALERT_QUIET_BREAKERS = ["email_reply"]
    read_now(_letter("person-tarif.eml"))
    assert len(sms.outbox) == 1 and "tarif" in sms.outbox[0].body


@pytest.mark.django_db
def test_a_second_reply_within_the_cooldown_does_not_text_again(claire, read_now):
    read_now(_letter("person-oui-jeudi.eml"))
    read_now(_letter("person-tarif.eml"))
    assert [a.status for a in Alert.objects.order_by("pk")] == [Alert.Status.SENT, Alert.Status.COOLDOWN]
    assert len(sms.outbox) == 1


# --- the founder sees why, and corrects --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_timeline_shows_an_auto_reply_then_a_persons_reply_with_the_words_that_decided(
    claire, read_now, staff_client
):
    read_now(_letter("auto-gmail-absence.eml"))
    read_now(_letter("person-oui-jeudi.eml", **{"person-oui-jeudi@": "later@"}))
    page = staff_client.get(f"/admin/backoffice/timeline/{claire.pk}/").content.decode()
    assert "Réponse automatique — Auto-Submitted: auto-replied" in page
    assert "de retour le 4 janvier 2027" in page
    assert "Réponse d&#x27;une personne — « Oui, appelez-moi jeudi" in page


@pytest.mark.django_db
def test_a_wrong_sort_corrected_by_hand_is_counted_in_the_ledger(claire, read_now, staff_client):
    read_now(_letter("person-question-courte.eml"))
    reply = InboundReply.objects.get()
    response = staff_client.post(
        f"/admin/tracking/inboundreply/{reply.pk}/change/", {"kind": ReplyKind.NOT_INTERESTED}, follow=True
    )
    assert response.status_code == 200
    reply.refresh_from_db()
    claire.refresh_from_db()
    assert reply.kind == ReplyKind.NOT_INTERESTED and reply.sorted_kind == ReplyKind.PERSON
    assert reply.corrected_by == staff_client.user and claire.status == Prospect.Status.LOST
    page = staff_client.get("/admin/backoffice/ledger/").content.decode()
    assert 'data-reply-kind="person"><th>Réponse d&#x27;une personne</th><td>0</td><td>1</td>' in page
    assert 'data-signal="email_reply"' in page


@pytest.mark.django_db
def test_hot_leads_show_when_an_away_prospect_is_back(claire, read_now, staff_client):
    read_now(_letter("person-oui-jeudi.eml"))
    read_now(_letter("auto-outlook-reponse-automatique.eml"))
    with time_machine.travel(WRITTEN + timedelta(minutes=5), tick=False):
        page = staff_client.get("/admin/backoffice/hot-leads/").content.decode()
    assert "Absent, de retour lundi 14 décembre" in page


def test_correcting_to_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        reply_correct(reply=InboundReply(kind=ReplyKind.PERSON), kind="spam", user=None)


@needs_shared
@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in shared_cases if c["label"] == "human"], ids=lambda c: c["file"])
def test_each_real_persons_reply_from_a_prospect_texts(case, run_on_commit):
    letter = read_raw((SHARED / case["file"]).read_bytes())
    ProspectFactory(email=letter.sender)
    written = letter.sent_at or WRITTEN
    with time_machine.travel(written + timedelta(minutes=1), tick=False):
        run_on_commit(inbound_reply_record, letter=letter, source="imap")
    assert len(sms.outbox) == 1 and "a répondu" in sms.outbox[0].body


@needs_shared
@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in shared_cases if c["label"] != "human"], ids=lambda c: c["file"])
def test_no_real_auto_reply_or_bounce_texts_even_from_a_prospects_address(case, run_on_commit):
    letter = read_raw((SHARED / case["file"]).read_bytes())
    if letter.sender:
        ProspectFactory(email=letter.sender)
    written = letter.sent_at or WRITTEN
    with time_machine.travel(written + timedelta(minutes=1), tick=False):
        run_on_commit(inbound_reply_record, letter=letter, source="imap")
    assert sms.outbox == [] and not Alert.objects.filter(signal=Signal.EMAIL_REPLY).exists()


@pytest.mark.django_db
def test_a_night_reply_is_listed_first_in_the_morning_digest(claire, settings, run_on_commit):
    settings.ALERT_QUIET_HOURS = "20:00-08:00"
    settings.TIME_ZONE = "UTC"
    night = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    raw = (
        (FRENCH / "person-oui-jeudi.eml")
        .read_bytes()
        .replace(b"Tue, 01 Dec 2026 10:05:00", b"Wed, 02 Dec 2026 02:00:00")
    )
    with time_machine.travel(night, tick=False):
        run_on_commit(inbound_reply_record, letter=read_raw(raw), source="imap")
    assert Alert.objects.get().status == Alert.Status.QUIET and sms.outbox == []
    with time_machine.travel(datetime(2026, 12, 2, 8, 0, 30, tzinfo=UTC), tick=False):
        run_on_commit(relay_deliveries_task)
    assert len(sms.outbox) == 1 and "Claire Dubois" in sms.outbox[0].body and "réponse" in sms.outbox[0].body


@pytest.mark.django_db
def test_replies_live_no_longer_than_the_events_and_count_as_contact_from_them(claire, read_now):
    read_now(_letter("person-oui-jeudi.eml"))
    read_now(_letter("auto-gmail-absence.eml"))
    # A person's reply is contact from them (inactive prospects are erased three years after the last).
    assert event_contacts(prospect_ids=[claire.pk])[claire.pk] == WRITTEN + timedelta(minutes=1)
    with time_machine.travel(WRITTEN + timedelta(days=400), tick=False):
        assert events_purge(older_than_days=395)["inboundreply"] == 2
    assert not InboundReply.objects.exists()


@pytest.mark.django_db
def test_an_unsubscribe_by_reply_refuses_tracking_with_its_proof_and_hot_leads_say_why(claire, read_now):
    read_now(_letter("unsubscribe-retirez-moi.eml"))
    claire.refresh_from_db()
    assert claire.status == Prospect.Status.DO_NOT_CONTACT and claire.tracking_consent == "refused"
    reason = str(do_not_contact_reasons([claire])[claire.pk])
    assert "désinscrit par réponse" in reason and "retirer de votre liste" in reason
