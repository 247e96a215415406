"""Inbound-email webhooks (/api/inbound/<provider>): SendGrid Inbound Parse, Mailgun routes, Postmark
inbound, Brevo inbound parsing — bodies of the shapes each documents, authenticated as each documents.
404 when not configured, 401 on wrong authentication, 400 with a sentence on a bad body, stored once."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from email.utils import format_datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from alerts.outbox import sms
from tests.factories import ProspectFactory
from tracking.models import InboundReply, ReplyKind, WebhookUnknownRecipients

pytestmark = pytest.mark.django_db
FRENCH = Path(__file__).resolve().parent / "data" / "replies-fr"
MAILGUN_KEY = "mailgun-inbound-key-for-tests"
BREVO_TOKEN = "brevo-inbound-token-for-tests"
POSTMARK = ("inbound-hook", "pw-for-tests-only")
CLAIRE = "claire.dubois@acme-industrie.fr"


@pytest.fixture(scope="module")
def sendgrid_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(autouse=True)
def _configured(settings, sendgrid_key):
    der = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.SENDGRID_INBOUND_PUBLIC_KEY = base64.b64encode(der).decode()
    settings.MAILGUN_INBOUND_SIGNING_KEY = MAILGUN_KEY
    settings.BREVO_INBOUND_TOKEN = BREVO_TOKEN
    settings.POSTMARK_INBOUND_USER, settings.POSTMARK_INBOUND_PASSWORD = POSTMARK


@pytest.fixture
def claire():
    return ProspectFactory(name="Claire Dubois", company="Acme Industrie", email=CLAIRE)


def raw_reply(name: str = "person-oui-jeudi.eml") -> str:
    raw = (FRENCH / name).read_text()
    date_line = next(line for line in raw.splitlines() if line.startswith("Date:"))
    return raw.replace(date_line, "Date: " + format_datetime(timezone.now()))


# --- SendGrid Inbound Parse (multipart/form-data, signed by the Parse security policy) ----------------


def post_sendgrid(client, key, fields: dict, *, sign: bool = True):
    boundary = "xYzZY"
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    body = (body + f"--{boundary}--\r\n").encode()
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256())) if sign else b"nope"
    return client.post(
        "/api/inbound/sendgrid",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=base64.b64encode(signature).decode(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )


def test_sendgrid_raw_reply_texts_once(client, claire, sendgrid_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sendgrid(client, sendgrid_key, {"email": raw_reply(), "dkim": "{@acme-industrie.fr : pass}"})
    assert response.status_code == 200 and response.json()["stored"] == 1
    assert len(sms.outbox) == 1
    reply = InboundReply.objects.get()
    assert reply.source == "sendgrid" and reply.identification == "verified"  # SendGrid's own DKIM verdict
    again = post_sendgrid(client, sendgrid_key, {"email": raw_reply()})
    assert again.json()["duplicates"] == 1 and InboundReply.objects.count() == 1


def test_sendgrid_parsed_fields_are_read_too(client, claire, sendgrid_key):
    headers = (
        f"From: Claire <{CLAIRE}>\r\nSubject: Re: Audit\r\nMessage-ID: <sg-parsed@acme>\r\nAuto-Submitted: auto-replied"
    )
    response = post_sendgrid(client, sendgrid_key, {"headers": headers, "text": "Je suis absente."})
    assert response.status_code == 200
    assert InboundReply.objects.get().kind == ReplyKind.AUTO


def test_sendgrid_wrong_signature_is_401_and_stores_nothing(client, claire, sendgrid_key):
    response = post_sendgrid(client, sendgrid_key, {"email": raw_reply()}, sign=False)
    assert response.status_code == 401 and "signature" in response.json()["error"]
    assert not InboundReply.objects.exists()


def test_sendgrid_body_without_a_message_is_400(client, sendgrid_key):
    response = post_sendgrid(client, sendgrid_key, {"to": "x@y"})
    assert response.status_code == 400 and "Rien n'a été enregistré" in response.json()["error"]


# --- Mailgun routes ------------------------------------------------------------------------------------


def mailgun_signed(**fields) -> dict:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex
    digest = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest, **fields}


def test_mailgun_parsed_route_post(client, claire, django_capture_on_commit_callbacks):
    headers = [["From", f"Claire Dubois <{CLAIRE}>"], ["Subject", "Re: Audit"], ["Message-Id", "<mg-1@acme>"]]
    fields = mailgun_signed(**{"message-headers": json.dumps(headers), "body-plain": "Pas intéressée, merci."})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/inbound/mailgun", fields)
    assert response.status_code == 200
    assert InboundReply.objects.get().kind == ReplyKind.NOT_INTERESTED and sms.outbox == []


def test_mailgun_mime_route_and_replayed_token(client, claire):
    fields = mailgun_signed(**{"body-mime": raw_reply("person-tarif.eml")})
    assert client.post("/api/inbound/mailgun/mime", fields).status_code == 200
    assert InboundReply.objects.get().kind == ReplyKind.PERSON
    assert client.post("/api/inbound/mailgun/mime", fields).status_code == 401  # the same token again


def test_mailgun_bad_headers_field_is_400(client):
    response = client.post("/api/inbound/mailgun", mailgun_signed(**{"message-headers": "{not json"}))
    assert response.status_code == 400 and "message-headers" in response.json()["error"]


# --- Postmark inbound -------------------------------------------------------------------------------------


def postmark_auth(user: str = POSTMARK[0], password: str = POSTMARK[1]) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def postmark_message(**extra) -> dict:
    return {
        "FromFull": {"Email": CLAIRE, "Name": "Claire Dubois"},
        "Subject": "Re: Audit monitoring",
        "Date": format_datetime(timezone.now()),
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "Headers": [{"Name": "Message-ID", "Value": "<pm-1@acme-industrie.fr>"}],
        "TextBody": "Oui, appelez-moi jeudi.",
        **extra,
    }


def test_postmark_inbound_texts(client, claire, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/inbound/postmark", postmark_message(), content_type="application/json", **postmark_auth()
        )
    assert response.status_code == 200 and response.json()["stored"] == 1
    assert len(sms.outbox) == 1


def test_postmark_wrong_password_is_401(client, claire):
    response = client.post(
        "/api/inbound/postmark", postmark_message(), content_type="application/json", **postmark_auth(password="x")
    )
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")


def test_postmark_without_sender_is_400(client):
    body = postmark_message(FromFull=None)
    response = client.post("/api/inbound/postmark", body, content_type="application/json", **postmark_auth())
    assert response.status_code == 400 and "expéditeur" in response.json()["error"]


# --- Brevo inbound parsing -----------------------------------------------------------------------------------


def brevo_item(**extra) -> dict:
    return {
        "Uuid": [str(uuid.uuid4())],
        "MessageId": "<brevo-1@acme-industrie.fr>",
        "InReplyTo": "<audit-001@arkwatch-demo.fr>",
        "From": {"Name": "Claire Dubois", "Address": CLAIRE},
        "Subject": "Re: Audit monitoring",
        "SentAtDate": format_datetime(timezone.now()),
        "RawTextBody": "Merci de me retirer de votre liste.",
        "Headers": {"Precedence": "normal"},
        **extra,
    }


def test_brevo_inbound_unsubscribe(client, claire):
    response = client.post(
        f"/api/inbound/brevo?token={BREVO_TOKEN}", {"items": [brevo_item()]}, content_type="application/json"
    )
    assert response.status_code == 200
    claire.refresh_from_db()
    assert claire.status == "do_not_contact"


def test_brevo_wrong_token_is_401(client):
    response = client.post("/api/inbound/brevo?token=nope", {"items": []}, content_type="application/json")
    assert response.status_code == 401


def test_brevo_body_without_items_is_400(client):
    response = client.post(
        "/api/inbound/brevo", {"data": 1}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {BREVO_TOKEN}"
    )
    assert response.status_code == 400 and "items" in response.json()["error"]


def test_a_stranger_is_counted_and_answered_200(client):
    response = client.post(
        f"/api/inbound/brevo?token={BREVO_TOKEN}", {"items": [brevo_item()]}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["unknown_senders"] == 1
    assert WebhookUnknownRecipients.objects.get().provider == "inbound-brevo"


# --- every provider alike ----------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["sendgrid", "mailgun", "postmark", "brevo"])
def test_an_unconfigured_provider_is_404(client, settings, provider):
    settings.SENDGRID_INBOUND_PUBLIC_KEY = settings.MAILGUN_INBOUND_SIGNING_KEY = settings.BREVO_INBOUND_TOKEN = ""
    settings.POSTMARK_INBOUND_USER = ""
    response = client.post(f"/api/inbound/{provider}", {}, content_type="application/json")
    assert response.status_code == 404 and response.json()["error"]


@pytest.mark.parametrize("provider", ["sendgrid", "mailgun", "postmark", "brevo"])
@pytest.mark.parametrize(
    "body, content_type",
    [(b"\xff\xfe", "application/json"), (b"--x\r\nbroken", "multipart/form-data; boundary=x"), (b"[]", "text/plain")],
)
def test_garbage_is_never_a_server_error(client, provider, body, content_type):
    response = client.post(f"/api/inbound/{provider}", data=body, content_type=content_type)
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("provider", ["sendgrid", "mailgun", "postmark", "brevo"])
def test_a_body_too_large_or_a_length_that_is_no_number_is_refused_as_the_event_webhooks_do(client, settings, provider):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    too_large = client.post(f"/api/inbound/{provider}", data=b"x" * 101, content_type="text/plain")
    no_number = client.post(f"/api/inbound/{provider}", b"{}", content_type="application/json", CONTENT_LENGTH="2 kB")
    assert too_large.status_code == 413 and "100" in too_large.json()["error"]
    assert no_number.status_code == 400 and "Content-Length" in no_number.json()["error"]
