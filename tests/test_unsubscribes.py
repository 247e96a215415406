"""Unsubscribes and spam complaints reported by SendGrid, Mailgun, Brevo and Postmark (payloads of the
shapes they document): one delivery makes the prospect do-not-contact with tracking refused, with
its proof; from then on nothing about them texts anyone — no alert SMS, no digest line, no reminder —
and the hot-leads page says why."""

import json
import time
import uuid

import pytest
import time_machine

from alerts.outbox import sms
from alerts.outbox.actions import alert_release
from alerts.outbox.models import Alert
from alerts.outbox.reminders import reminders_send
from prospects.models import ConsentChange, Prospect
from tests import test_email_webhooks as hooks
from tests import test_quiet_hours as quiet
from tests.factories import BROWSER_UA, ProspectFactory
from tests.test_email_webhooks import (
    brevo_event,
    mailgun_event,
    post_brevo,
    post_mailgun,
    post_postmark,
    post_sendgrid,
    sendgrid_event,
)
from tests.test_quiet_hours import click, cycle, paris, relay
from tracking.models import EmailEvent

pytestmark = pytest.mark.django_db
# The providers' secrets and keys, quiet hours and reminders: the fixtures of those modules.
_secrets, sendgrid_key, night, remind = hooks._secrets, hooks.sendgrid_key, quiet.night, quiet.remind
EMAIL = "cto@acme-corp.example"
PERSON_IP = "198.51.100.23"


def postmark_subscription_change(*, suppress=True, reason="ManualSuppression", origin="Recipient"):
    # Postmark's documented SubscriptionChange record: an unsubscribe is a "ManualSuppression" whose
    # origin is the recipient; MessageID is null for suppressions made by the sender by hand.
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 123456,
        "MessageStream": "outbound",
        "ChangedAt": "2026-11-24T10:53:34.416071Z",
        "Recipient": EMAIL,
        "Origin": origin,
        "SuppressSending": suppress,
        "SuppressionReason": reason,
        "Tag": "relance",
        "Metadata": {},
    }


def postmark_spam_complaint():
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "relance",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 1234,
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": EMAIL,
        "From": "founder@arkwatch.example",
        "BouncedAt": "2026-11-24T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Audit gratuit",
        "Content": "<Abuse report dump>",
    }


def deliver(client, sendgrid_key, provider: str, event: str):
    """Post one provider's opt-out as that provider sends it; returns the response."""
    if provider == "sendgrid":
        extra = {"asm_group_id": 10, "useragent": BROWSER_UA, "ip": PERSON_IP} if event == "group_unsubscribe" else {}
        return post_sendgrid(client, sendgrid_key, [sendgrid_event(event, **extra)])
    if provider == "mailgun":
        return post_mailgun(client, mailgun_event(event, ip=PERSON_IP))
    if provider == "brevo":
        return post_brevo(client, brevo_event(event))
    record = postmark_spam_complaint() if event == "SpamComplaint" else postmark_subscription_change()
    return post_postmark(client, record)


OPT_OUTS = [
    ("sendgrid", "unsubscribe", "unsubscribed"),
    ("sendgrid", "group_unsubscribe", "unsubscribed"),
    ("sendgrid", "spamreport", "complained"),
    ("mailgun", "unsubscribed", "unsubscribed"),
    ("mailgun", "complained", "complained"),
    ("brevo", "unsubscribed", "unsubscribed"),
    ("brevo", "spam", "complained"),
    ("postmark", "SubscriptionChange", "unsubscribed"),
    ("postmark", "SpamComplaint", "complained"),
]


def cta(client, prospect):
    body = {"visitor_id": f"visitor-{uuid.uuid4().hex[:8]}", "page": "/audit", "cta_id": "cta_reserver_audit"}
    body["ak"] = prospect.identity_token
    response = client.post("/api/track/cta", json.dumps(body), "text/plain", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 202


@pytest.mark.parametrize(("provider", "event", "kind"), OPT_OUTS)
def test_one_delivery_makes_the_prospect_do_not_contact_and_a_later_click_texts_nobody(
    client, sendgrid_key, run_on_commit, provider, event, kind
):
    prospect = ProspectFactory(email=EMAIL, name="Camille Martin")
    response = deliver(client, sendgrid_key, provider, event)
    assert response.status_code == 200 and response.json()["stored"] == 1, response.content
    prospect.refresh_from_db()
    assert (prospect.status, prospect.tracking_consent) == ("do_not_contact", "refused")
    proof = ConsentChange.objects.get(prospect=prospect)
    expected_detail = {"SubscriptionChange": "postmark:SubscriptionChange:unsubscribe"}.get(
        event, f"{provider}:{event}"
    )
    assert (proof.state, proof.source, proof.detail) == ("refused", "email_provider", expected_detail)
    assert EmailEvent.objects.get(prospect=prospect).event == kind  # on the timeline, under its kind
    run_on_commit(cta, client, prospect)
    assert sms.outbox == []
    assert not Alert.objects.filter(prospect=prospect).exclude(status=Alert.Status.MUTED).exists()


def test_without_an_opt_out_the_same_click_texts_the_founder(client, sendgrid_key, run_on_commit):
    """The control of the test above: a delivery that says nothing of a "stop" changes nothing."""
    prospect = ProspectFactory(email=EMAIL, name="Camille Martin")
    post_brevo(client, brevo_event("delivered"))
    run_on_commit(cta, client, prospect)
    assert len(sms.outbox) == 1 and "Camille Martin" in sms.outbox[0].body
    prospect.refresh_from_db()
    assert prospect.tracking_consent == "unknown" and not ConsentChange.objects.exists()


def test_the_same_opt_out_delivered_twice_is_stored_and_proven_once(client, sendgrid_key):
    ProspectFactory(email=EMAIL)
    events = [sendgrid_event("unsubscribe")]
    assert post_sendgrid(client, sendgrid_key, events).json()["stored"] == 1
    again = post_sendgrid(client, sendgrid_key, events).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert EmailEvent.objects.count() == 1 and ConsentChange.objects.count() == 1


def test_group_unsubscribe_keeps_the_network_it_came_from_never_the_address(client, sendgrid_key):
    ProspectFactory(email=EMAIL)
    deliver(client, sendgrid_key, "sendgrid", "group_unsubscribe")
    assert ConsentChange.objects.get().network == "198.51.100.0"


@pytest.mark.parametrize(
    "record",
    [
        postmark_subscription_change(suppress=False),  # a reactivation
        postmark_subscription_change(reason="HardBounce"),  # a bounce's suppression: nobody said stop
    ],
)
def test_postmark_changes_that_are_no_stop_change_nothing(client, record):
    prospect = ProspectFactory(email=EMAIL)
    assert post_postmark(client, record).json()["stored"] == 0
    prospect.refresh_from_db()
    assert (prospect.status, prospect.tracking_consent) == ("new", "unknown")


def test_an_opt_out_without_a_message_id_is_honoured(client):
    prospect = ProspectFactory(email=EMAIL)
    record = postmark_subscription_change(origin="Customer") | {"MessageID": None}
    assert post_postmark(client, record).json()["stored"] == 1
    prospect.refresh_from_db()
    assert prospect.status == "do_not_contact"


def test_an_email_sender_cannot_post_an_unsubscribe_to_the_api(client):
    ProspectFactory(email=EMAIL)
    response = client.post(
        "/api/track/email",
        json.dumps({"email": EMAIL, "message_id": "m-1", "event": "unsubscribed"}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer test-api-key",
    )
    assert response.status_code == 400 and "event" in response.json()["fields"]
    assert not EmailEvent.objects.exists()


def test_the_timeline_shows_the_unsubscribe(client, staff_client, sendgrid_key):
    prospect = ProspectFactory(email=EMAIL)
    deliver(client, sendgrid_key, "mailgun", "complained")
    page = staff_client.get(f"/admin/backoffice/timeline/{prospect.pk}/").content.decode()
    assert "Signalé comme spam" in page


def test_hot_leads_says_why_a_lead_may_not_be_called(client, staff_client, run_on_commit, sendgrid_key):
    prospect = ProspectFactory(email=EMAIL, name="Camille Martin")
    with time_machine.travel(paris(2026, 11, 12, 9, 0), tick=False):
        run_on_commit(cta, client, prospect)
    assert len(sms.outbox) == 1
    # The unsubscribe came after the SMS: the lead is still on the page, no longer "to call".
    with time_machine.travel(paris(2026, 11, 12, 9, 14), tick=False):
        post_brevo(client, brevo_event("unsubscribed", ts_event=int(time.time()), ts_epoch=None))
    with time_machine.travel(paris(2026, 11, 12, 9, 20), tick=False):
        page = staff_client.get("/admin/backoffice/hot-leads/").content.decode()
        index = staff_client.get("/admin/").content.decode()
    assert "Ne pas contacter : désinscrit (Brevo, 12/11 09:14)" in page
    assert "Camille Martin" in page and "À appeler" not in page
    assert 'id="leads-to-call"' in index and "à appeler maintenant" not in index


def test_a_lead_marked_by_hand_says_so(staff_client, run_on_commit, client):
    prospect = ProspectFactory(email=EMAIL)
    run_on_commit(cta, client, prospect)
    staff_client.post(
        "/admin/prospects/prospect/",
        {"action": "mark_do_not_contact", "_selected_action": [prospect.pk]},
    )
    assert Prospect.objects.get(pk=prospect.pk).status == "do_not_contact"
    page = staff_client.get("/admin/backoffice/hot-leads/").content.decode()
    assert "Ne pas contacter : statut mis à la main" in page


def test_a_night_lead_who_unsubscribes_before_the_morning_is_not_in_the_digest(night, client, run_on_commit):
    reader = ProspectFactory(name="Marie Reader")
    quitter = ProspectFactory(email=EMAIL, name="Jean Quitter")
    click(reader, paris(2026, 11, 25, 1, 0), "visitor-r")
    click(quitter, paris(2026, 11, 25, 1, 10), "visitor-q")
    cycle(paris(2026, 11, 25, 1, 15), run_on_commit)
    assert set(Alert.objects.values_list("status", flat=True)) == {Alert.Status.QUIET}
    with time_machine.travel(paris(2026, 11, 25, 3, 0), tick=False):
        post_brevo(client, brevo_event("unsubscribed", ts_event=int(time.time()), ts_epoch=None))
    relay(paris(2026, 11, 25, 8, 0, 30), run_on_commit)
    assert len(sms.outbox) == 1
    assert "Marie Reader" in sms.outbox[0].body and "Jean Quitter" not in sms.outbox[0].body
    assert "1 lead à appeler" in sms.outbox[0].body


def test_a_lead_who_unsubscribes_after_the_sms_gets_no_reminder(remind, client, run_on_commit):
    prospect = ProspectFactory(email=EMAIL, name="Jean Quitter")
    click(prospect, paris(2026, 11, 25, 10, 0), "visitor-rem")
    cycle(paris(2026, 11, 25, 10, 1), run_on_commit)
    assert len(sms.outbox) == 1
    with time_machine.travel(paris(2026, 11, 25, 10, 10), tick=False):
        post_brevo(client, brevo_event("spam", ts_event=int(time.time()), ts_epoch=None))
    relay(paris(2026, 11, 25, 10, 32), run_on_commit)
    relay(paris(2026, 11, 25, 10, 45), run_on_commit)
    assert len(sms.outbox) == 1
    with time_machine.travel(paris(2026, 11, 25, 10, 50), tick=False):
        assert reminders_send() == 0


def test_a_held_alert_released_after_an_unsubscribe_texts_nobody(client, run_on_commit):
    prospect = ProspectFactory(email=EMAIL)
    alert = Alert.objects.create(
        prospect=prospect,
        signal="cta_click",
        dedup_key="held-1",
        occurred_at=paris(2026, 11, 25, 10, 0),
        evidence={"cta_id": "cta_reserver_audit"},
        identification="unverified",
        status=Alert.Status.HELD,
    )
    post_brevo(client, brevo_event("unsubscribed"))
    assert run_on_commit(alert_release, alert=alert)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.MUTED and sms.outbox == []
