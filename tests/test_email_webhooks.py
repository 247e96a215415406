"""Native webhooks of SendGrid, Mailgun, Brevo and Postmark: payloads of the shapes the
providers document, authenticated the way they authenticate."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from tests.factories import BROWSER_UA, EmailEventFactory, ProspectFactory
from tracking.models import EmailEvent, WebhookUnknownRecipients
from tracking.webhooks import brevo

pytestmark = pytest.mark.django_db

MAILGUN_KEY = "key-for-tests-only-0123456789"
BREVO_TOKEN = "brevo-token-for-tests-only"
POSTMARK_USER, POSTMARK_PASSWORD = "postmark-hook", "pw-for-tests-only"
APPLE_MPP_IP = "17.58.101.7"
PERSON_IP = "198.51.100.23"


@pytest.fixture(scope="module")
def sendgrid_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(autouse=True)
def _secrets(settings, sendgrid_key):
    public_der = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(public_der).decode()
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = MAILGUN_KEY
    settings.BREVO_WEBHOOK_TOKEN = BREVO_TOKEN
    settings.POSTMARK_WEBHOOK_USER = POSTMARK_USER
    settings.POSTMARK_WEBHOOK_PASSWORD = POSTMARK_PASSWORD


@pytest.fixture
def prospect():
    return ProspectFactory(email="cto@acme-corp.example")


def ago(**delta) -> int:
    return int((timezone.now() - timedelta(**delta)).timestamp())


# --- SendGrid ---------------------------------------------------------------------------------


def sendgrid_headers(key, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(signature).decode(),
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
    }


def post_sendgrid(client, key, events, **extra):
    body = json.dumps(events).encode()
    headers = sendgrid_headers(key, body)
    headers.update(extra)
    return client.post("/api/webhooks/sendgrid", data=body, content_type="application/json", **headers)


def sendgrid_event(event: str, *, email="cto@acme-corp.example", at=None, **fields):
    return {
        "email": email,
        "timestamp": at if at is not None else ago(hours=30),
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": event,
        "category": ["relance"],
        "sg_event_id": f"sg-{uuid.uuid4().hex}",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **fields,
    }


def test_sendgrid_signed_batch_is_stored_under_the_send_apis_message_id(client, sendgrid_key, prospect):
    events = [
        sendgrid_event("processed", at=ago(hours=30)),
        sendgrid_event("delivered", at=ago(hours=30), response="250 OK"),
        sendgrid_event("open", at=ago(hours=2), useragent=BROWSER_UA, ip=PERSON_IP, sg_machine_open=False),
        sendgrid_event("click", at=ago(hours=1), useragent=BROWSER_UA, ip=PERSON_IP, url="https://www.example.com/x"),
        sendgrid_event("deferred", response="400 try again later", attempt="5"),
    ]
    response = post_sendgrid(client, sendgrid_key, events)
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "stored": 4, "duplicates": 0, "unknown_recipients": 0}
    stored = {e.event: e for e in EmailEvent.objects.all()}
    assert set(stored) == {"sent", "delivered", "opened", "clicked"}
    assert {e.message_id for e in stored.values()} == {"14c5d75ce93"}
    assert {e.source for e in stored.values()} == {"hook"}
    assert stored["opened"].machine_reason == "" and stored["opened"].client_network == "198.51.100.0"
    assert stored["clicked"].url == "https://www.example.com/x"
    assert stored["sent"].provider_event_id == f"sendgrid:{events[0]['sg_event_id']}"


def test_sendgrid_delivered_twice_is_stored_once(client, sendgrid_key, prospect):
    events = [sendgrid_event("delivered"), sendgrid_event("open", useragent=BROWSER_UA)]
    assert post_sendgrid(client, sendgrid_key, events).json()["stored"] == 2
    again = post_sendgrid(client, sendgrid_key, events)
    assert again.status_code == 200 and again.json()["duplicates"] == 2
    assert EmailEvent.objects.count() == 2


def test_sendgrid_machine_open_flag_makes_a_machine_open(client, sendgrid_key, prospect):
    post_sendgrid(client, sendgrid_key, [sendgrid_event("open", useragent=BROWSER_UA, sg_machine_open=True)])
    assert EmailEvent.objects.get().machine_reason == "SendGrid machine open (sg_machine_open)"


def test_sendgrid_opens_are_judged_like_the_pixel(client, sendgrid_key, prospect):
    delivered = timezone.now() - timedelta(seconds=10)
    EmailEventFactory(prospect=prospect, message_id="14c5d75ce93", event="delivered", occurred_at=delivered)
    post_sendgrid(
        client,
        sendgrid_key,
        [
            sendgrid_event("open", at=ago(hours=3), ip=APPLE_MPP_IP, useragent="Mozilla/5.0"),
            sendgrid_event("click", at=ago(hours=2), ip=PERSON_IP, useragent="Mimecast Security Scanner"),
            sendgrid_event("open", at=int(time.time()), ip=PERSON_IP, useragent=BROWSER_UA),
        ],
    )
    apple, scanner, soon = EmailEvent.objects.filter(source="hook").order_by("occurred_at")
    assert apple.machine_reason.startswith("Apple Mail Privacy Protection")
    assert "mimecast" in scanner.machine_reason.lower()
    assert soon.machine_reason.endswith("s after delivery")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda headers, body: ({}, body),
        lambda headers, body: ({**headers, "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": "1"}, body),
        lambda headers, body: (headers, body.replace(b"delivered", b"processed")),
        lambda headers, body: ({**headers, "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": "bm90IGEgc2ln"}, body),
        lambda headers, body: ({**headers, "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": "%%%"}, body),
    ],
    ids=["no headers", "other timestamp", "altered body", "wrong signature", "not base64"],
)
def test_sendgrid_missing_or_wrong_signature_gets_401(client, sendgrid_key, prospect, tamper):
    body = json.dumps([sendgrid_event("delivered")]).encode()
    headers, body = tamper(sendgrid_headers(sendgrid_key, body), body)
    response = client.post("/api/webhooks/sendgrid", data=body, content_type="application/json", **headers)
    assert response.status_code == 401 and "signature SendGrid" in response.json()["error"]
    assert EmailEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("signed_ago", "status"),
    [(9 * 60, 200), (-9 * 60, 200), (11 * 60, 401), (-11 * 60, 401), (time.time() - 1577836800, 401)],
    ids=["9 min old", "9 min ahead", "11 min old", "11 min ahead", "signed in 2020"],
)
def test_sendgrid_signed_timestamp_must_be_within_ten_minutes(client, sendgrid_key, prospect, signed_ago, status):
    body = json.dumps([sendgrid_event("delivered")]).encode()
    headers = sendgrid_headers(sendgrid_key, body, timestamp=str(int(time.time() - signed_ago)))
    response = client.post("/api/webhooks/sendgrid", data=body, content_type="application/json", **headers)
    assert response.status_code == status
    assert EmailEvent.objects.count() == (1 if status == 200 else 0)


def test_sendgrid_signed_by_another_key_gets_401(client, prospect):
    other = ec.generate_private_key(ec.SECP256R1())
    assert post_sendgrid(client, other, [sendgrid_event("delivered")]).status_code == 401


def test_a_misconfigured_sendgrid_key_refuses_instead_of_crashing(client, settings, sendgrid_key, prospect):
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = "not-a-key"
    assert post_sendgrid(client, sendgrid_key, [sendgrid_event("delivered")]).status_code == 401


@pytest.mark.parametrize(
    ("events", "words"),
    [
        ({"event": "delivered"}, "tableau JSON"),
        (["delivered"], "événement 0 doit être un objet JSON"),
        ([{"event": "delivered", "timestamp": 1700000000, "sg_message_id": "m"}], "« email »"),
        ([{"event": ["open"]}], "« event »"),
        ([{"event": "open", "email": "cto@acme-corp.example", "sg_message_id": "m", "timestamp": "soon"}], "Unix"),
    ],
)
def test_sendgrid_wrong_shapes_get_400_and_store_nothing(client, sendgrid_key, prospect, events, words):
    response = post_sendgrid(client, sendgrid_key, events)
    assert response.status_code == 400 and words in response.json()["error"]
    assert EmailEvent.objects.count() == 0


def test_sendgrid_bad_json_gets_400(client, sendgrid_key):
    body = b'[{"event": "open",'
    response = client.post(
        "/api/webhooks/sendgrid", data=body, content_type="application/json", **sendgrid_headers(sendgrid_key, body)
    )
    assert response.status_code == 400 and "JSON" in response.json()["error"]


def test_events_for_unknown_addresses_are_counted_not_stored(client, sendgrid_key, prospect, staff_client):
    events = [sendgrid_event("delivered", email="someone@else.example"), sendgrid_event("open", email="x@y.example")]
    response = post_sendgrid(client, sendgrid_key, events)
    assert response.status_code == 200 and response.json()["unknown_recipients"] == 2
    post_sendgrid(client, sendgrid_key, [sendgrid_event("delivered", email="third@else.example")])
    assert EmailEvent.objects.count() == 0
    assert WebhookUnknownRecipients.objects.get().count == 3
    page = staff_client.get("/admin/tracking/webhookunknownrecipients/")
    assert page.status_code == 200 and b"sendgrid" in page.content


# --- Mailgun ----------------------------------------------------------------------------------


def mailgun_signature(timestamp: int | None = None, token: str | None = None, key: str = MAILGUN_KEY) -> dict:
    timestamp_text = str(timestamp or int(time.time()))
    token = token or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    digest = hmac.new(key.encode(), (timestamp_text + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp_text, "token": token, "signature": digest}


def mailgun_event(event: str, *, email="cto@acme-corp.example", **fields) -> dict:
    return {
        "id": uuid.uuid4().hex[:22],
        "timestamp": time.time() - 3600,
        "log-level": "info",
        "event": event,
        "recipient": email,
        "recipient-domain": email.split("@")[1],
        "tags": [],
        "message": {"headers": {"message-id": "20261124103000.1.ABCDEF@mg.example.com", "subject": "Audit"}},
        "user-variables": {},
        **fields,
    }


def post_mailgun(client, event_data, signature=None):
    body = {"signature": signature or mailgun_signature(), "event-data": event_data}
    return client.post("/api/webhooks/mailgun", data=json.dumps(body), content_type="application/json")


def test_mailgun_signed_events_are_stored(client, prospect):
    opened = mailgun_event(
        "opened", ip=PERSON_IP, **{"client-info": {"client-type": "browser", "user-agent": BROWSER_UA}}
    )
    for event in (mailgun_event("accepted"), mailgun_event("delivered"), opened):
        response = post_mailgun(client, event)
        assert response.status_code == 200 and response.json()["stored"] == 1
    events = {e.event: e for e in EmailEvent.objects.all()}
    assert set(events) == {"sent", "delivered", "opened"}
    assert events["opened"].message_id == "20261124103000.1.ABCDEF@mg.example.com"
    assert events["opened"].user_agent == BROWSER_UA


def test_mailgun_permanent_failures_are_bounces_and_temporary_ones_are_not(client, prospect):
    post_mailgun(client, mailgun_event("failed", severity="temporary", reason="generic"))
    post_mailgun(client, mailgun_event("failed", severity="permanent", reason="bounce"))
    assert list(EmailEvent.objects.values_list("event", flat=True)) == ["bounced"]


def test_mailgun_same_event_in_two_deliveries_is_stored_once(client, prospect):
    event = mailgun_event("delivered")
    post_mailgun(client, event)
    assert post_mailgun(client, event).json()["duplicates"] == 1
    assert EmailEvent.objects.count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        lambda: None,
        lambda: {**mailgun_signature(), "signature": "0" * 64},
        lambda: mailgun_signature(key="another-key"),
        lambda: mailgun_signature(timestamp=int(time.time()) - 16 * 60),
        lambda: "a string",
    ],
    ids=["missing", "wrong", "other key", "stale", "not an object"],
)
def test_mailgun_missing_wrong_or_stale_signature_gets_401(client, prospect, signature):
    body = {"event-data": mailgun_event("delivered")}
    if signature() is not None:
        body["signature"] = signature()
    response = client.post("/api/webhooks/mailgun", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 401 and response.json()["error"]
    assert EmailEvent.objects.count() == 0


def test_mailgun_replayed_token_gets_401(client, prospect):
    signature = mailgun_signature()
    assert post_mailgun(client, mailgun_event("delivered"), signature).status_code == 200
    replay = post_mailgun(client, mailgun_event("opened"), signature)
    assert replay.status_code == 401
    assert list(EmailEvent.objects.values_list("event", flat=True)) == ["delivered"]


def test_mailgun_wrong_shapes_get_400(client, prospect):
    assert post_mailgun(client, "not an object").status_code == 400
    no_headers = mailgun_event("delivered", message={"headers": "x"})
    response = post_mailgun(client, no_headers)
    assert response.status_code == 400 and "headers" in response.json()["error"]
    assert EmailEvent.objects.count() == 0


# --- Brevo ------------------------------------------------------------------------------------


def brevo_event(event: str, *, email="cto@acme-corp.example", **fields) -> dict:
    return {
        "event": event,
        "email": email,
        "id": 1234567,
        "date": "2026-11-24 10:00:00",
        "ts": 1795510800,
        "message-id": "<202611240900.12345678901@smtp-relay.mailin.fr>",
        "ts_event": int(time.time()) - 7200,
        "subject": "Audit gratuit",
        "tag": "relance",
        "sending_ip": "185.41.28.109",
        "ts_epoch": (int(time.time()) - 7200) * 1000,
        "tags": ["relance"],
        **fields,
    }


def post_brevo(client, payload, *, query="", **headers):
    if not headers and not query:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {BREVO_TOKEN}"}
    return client.post(
        f"/api/webhooks/brevo{query}", data=json.dumps(payload), content_type="application/json", **headers
    )


def test_brevo_events_are_stored_with_the_bearer_token_or_the_query_token(client, prospect):
    assert post_brevo(client, brevo_event("request")).json()["stored"] == 1
    assert post_brevo(client, brevo_event("delivered"), query=f"?token={BREVO_TOKEN}").json()["stored"] == 1
    click = brevo_event("click", link="https://www.example.com/audit")
    assert post_brevo(client, [brevo_event("opened"), click]).json()["stored"] == 2
    events = {e.event: e for e in EmailEvent.objects.all()}
    assert set(events) == {"sent", "delivered", "opened", "clicked"}
    assert events["clicked"].url == "https://www.example.com/audit"
    assert events["opened"].message_id == "<202611240900.12345678901@smtp-relay.mailin.fr>"
    assert abs((timezone.now() - events["opened"].occurred_at).total_seconds() - 7200) < 5


def test_brevo_proxy_opens_are_machine_opens(client, prospect):
    post_brevo(client, [brevo_event("proxy_open"), brevo_event("unique_proxy_open"), brevo_event("unique_opened")])
    reasons = sorted(EmailEvent.objects.values_list("machine_reason", flat=True))
    assert reasons == ["", "Brevo proxy open", "Brevo proxy open"]


def test_brevo_same_event_twice_is_stored_once(client, prospect):
    event = brevo_event("delivered")
    post_brevo(client, event)
    assert post_brevo(client, event).json() == {"ok": True, "stored": 0, "duplicates": 1, "unknown_recipients": 0}


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": f"Basic {BREVO_TOKEN}"},
        {"query": "?token=wrong"},
    ],
)
def test_brevo_missing_or_wrong_token_gets_401(client, prospect, auth):
    auth = dict(auth)
    query = auth.pop("query", "")
    response = client.post(
        f"/api/webhooks/brevo{query}",
        data=json.dumps(brevo_event("delivered")),
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 401 and "jeton Brevo" in response.json()["error"]
    assert EmailEvent.objects.count() == 0


def test_brevo_wrong_shapes_get_400(client, prospect):
    assert post_brevo(client, "delivered").status_code == 400
    response = post_brevo(client, brevo_event("delivered", **{"message-id": 12}))
    assert response.status_code == 400 and "message-id" in response.json()["error"]


# --- Postmark ---------------------------------------------------------------------------------


def postmark_auth(user=POSTMARK_USER, password=POSTMARK_PASSWORD) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def post_postmark(client, record, auth=None):
    return client.post(
        "/api/webhooks/postmark",
        data=json.dumps(record),
        content_type="application/json",
        **(postmark_auth() if auth is None else auth),
    )


POSTMARK_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


def postmark_delivery():
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": POSTMARK_ID,
        "Recipient": "cto@acme-corp.example",
        "Tag": "relance",
        "DeliveredAt": "2026-11-24T09:00:01.1234567Z",
        "Details": "Test delivery webhook details",
        "Metadata": {},
    }


def postmark_open(ip=PERSON_IP, user_agent=BROWSER_UA):
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Chrome", "Company": "Google", "Family": "Chrome"},
        "OS": {"Name": "Windows 10", "Company": "Microsoft", "Family": "Windows"},
        "Platform": "WebMail",
        "UserAgent": user_agent,
        "ReadSeconds": 5,
        "Geo": {"CountryISOCode": "FR", "Country": "France", "IP": ip},
        "MessageID": POSTMARK_ID,
        "Metadata": {},
        "ReceivedAt": "2026-11-24T15:20:30.1234567+01:00",
        "Tag": "relance",
        "Recipient": "CTO@acme-corp.example",
    }


def postmark_bounce(kind="HardBounce", bounce_id=4323372036854775807):
    return {
        "RecordType": "Bounce",
        "ID": bounce_id,
        "Type": kind,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "relance",
        "MessageID": POSTMARK_ID,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "Test bounce details",
        "Email": "cto@acme-corp.example",
        "From": "founder@arkwatch.example",
        "BouncedAt": "2026-11-24T09:00:05Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Audit gratuit",
    }


def test_postmark_records_are_stored(client, prospect):
    click = {**postmark_open(), "RecordType": "Click", "OriginalLink": "https://www.example.com/audit"}
    for record in (postmark_delivery(), postmark_open(), click, postmark_bounce()):
        response = post_postmark(client, record)
        assert response.status_code == 200 and response.json()["stored"] == 1, response.content
    events = {e.event: e for e in EmailEvent.objects.all()}
    assert set(events) == {"delivered", "opened", "clicked", "bounced"}
    assert {e.message_id for e in events.values()} == {POSTMARK_ID}
    assert events["opened"].occurred_at.isoformat() == "2026-11-24T14:20:30.123456+00:00"
    assert events["bounced"].provider_event_id == "postmark:4323372036854775807"


def test_postmark_soft_bounces_are_not_bounces_and_apple_opens_are_machines(client, prospect):
    post_postmark(client, postmark_bounce("SoftBounce"))
    post_postmark(client, postmark_open(ip=APPLE_MPP_IP, user_agent="Mozilla/5.0"))
    assert EmailEvent.objects.get().machine_reason.startswith("Apple Mail Privacy Protection")


def test_postmark_same_record_twice_is_stored_once(client, prospect):
    post_postmark(client, postmark_open())
    assert post_postmark(client, postmark_open()).json()["duplicates"] == 1


@pytest.mark.parametrize(
    "auth",
    [
        {},
        postmark_auth(password="wrong"),
        postmark_auth(user="wrong"),
        {"HTTP_AUTHORIZATION": "Basic !!!"},
        {"HTTP_AUTHORIZATION": f"Bearer {POSTMARK_PASSWORD}"},
    ],
)
def test_postmark_missing_or_wrong_credentials_get_401(client, prospect, auth):
    response = post_postmark(client, postmark_delivery(), auth=auth)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")
    assert EmailEvent.objects.count() == 0


def test_postmark_wrong_shapes_get_400(client, prospect):
    response = post_postmark(client, {**postmark_delivery(), "DeliveredAt": "2026-11-24 09:00"})
    assert response.status_code == 400 and "DeliveredAt" in response.json()["error"]
    assert post_postmark(client, [postmark_delivery()]).status_code == 400


# --- All four ---------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["sendgrid", "mailgun", "brevo", "postmark"])
def test_an_endpoint_without_its_secret_answers_404(client, settings, provider):
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = settings.MAILGUN_WEBHOOK_SIGNING_KEY = ""
    settings.BREVO_WEBHOOK_TOKEN = settings.POSTMARK_WEBHOOK_PASSWORD = ""
    response = client.post(f"/api/webhooks/{provider}", data="[]", content_type="application/json")
    assert response.status_code == 404 and response.json()["error"]


@pytest.mark.parametrize("provider", ["sendgrid", "mailgun", "brevo", "postmark"])
def test_get_is_refused_and_large_bodies_get_413(client, settings, provider):
    assert client.get(f"/api/webhooks/{provider}").status_code == 405
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    response = client.post(f"/api/webhooks/{provider}", data="[" + "1," * 100 + "1]", content_type="application/json")
    assert response.status_code == 413


def test_repeated_authentication_failures_are_rate_limited(client, settings, prospect):
    settings.TRACKING_RATE_LIMIT = "3/m"
    codes = [post_brevo(client, brevo_event("delivered"), query="?token=guess").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    # The real sender, from its own address, is not slowed by the guesser.
    assert post_brevo(client, brevo_event("delivered"), REMOTE_ADDR=PERSON_IP, **BREVO_BEARER).status_code == 200


BREVO_BEARER = {"HTTP_AUTHORIZATION": f"Bearer {BREVO_TOKEN}"}


def test_a_guesser_past_the_limit_gets_no_answer_even_for_the_right_token(client, settings, prospect, monkeypatch):
    """The limit is counted before the secret is compared: the 4th try is refused unread, so a
    user-chosen token cannot be guessed at line rate."""
    settings.TRACKING_RATE_LIMIT = "3/m"
    compared = []
    real = brevo.authenticate
    monkeypatch.setattr(brevo, "authenticate", lambda request, body: compared.append(1) or real(request, body))
    codes = [post_brevo(client, brevo_event("delivered"), query="?token=guess").status_code for _ in range(3)]
    right = post_brevo(client, brevo_event("delivered"), query=f"?token={BREVO_TOKEN}")
    assert codes == [401, 401, 401] and right.status_code == 429
    assert len(compared) == 3  # the right token was never compared
    assert not EmailEvent.objects.exists()


def test_a_busy_provider_is_never_counted_as_a_guesser(client, settings, prospect):
    settings.TRACKING_RATE_LIMIT = "3/m"
    codes = [post_brevo(client, brevo_event("delivered", id=n)).status_code for n in range(6)]
    assert codes == [200] * 6


def test_a_human_webhook_open_announces_the_open_and_a_machine_one_does_not(
    client, prospect, django_capture_on_commit_callbacks, monkeypatch
):
    announced = []
    monkeypatch.setattr("tracking.services.announce_event", announced.append)
    with django_capture_on_commit_callbacks(execute=True):
        post_brevo(client, [brevo_event("opened"), brevo_event("proxy_open")])
    assert announced == ["email_open"]


@pytest.mark.parametrize("bad", ["\ud800", "\x00"])
@pytest.mark.parametrize("field", ["email", "sg_message_id", "useragent"])
def test_sendgrid_unstorable_text_is_a_400_naming_the_field_or_is_left_out(client, sendgrid_key, prospect, field, bad):
    event = sendgrid_event("open", useragent=BROWSER_UA, ip=PERSON_IP)
    event[field] = event[field][:5] + bad + event[field][5:]
    response = post_sendgrid(client, sendgrid_key, [event])
    if field == "useragent":  # it only describes the open: the open is kept without it
        assert response.status_code == 200 and EmailEvent.objects.get().user_agent == ""
    else:
        assert response.status_code == 400 and field in response.json()["error"]
        assert not EmailEvent.objects.exists()


@pytest.mark.parametrize("bad", ["\ud800", "\x00"])
def test_brevo_unstorable_message_id_is_a_400(client, prospect, bad):
    response = post_brevo(client, brevo_event("opened", **{"message-id": "<abc" + bad + "@x>"}))
    assert response.status_code == 400 and "message-id" in response.json()["error"]


@pytest.mark.parametrize(
    ("language", "words", "foreign"),
    [
        ("fr", "événement 0 doit être un objet JSON. Rien n'a été enregistré.", "must be"),
        ("en", "event 0 must be a JSON object. Nothing was stored.", "doit"),
    ],
)
def test_a_refusal_speaks_the_settings_language_not_the_senders(
    client, settings, sendgrid_key, language, words, foreign
):
    settings.LANGUAGE_CODE = language
    other = "en-US,en;q=0.9" if language == "fr" else "fr-FR,fr;q=0.9"
    error = post_sendgrid(client, sendgrid_key, ["delivered"], HTTP_ACCEPT_LANGUAGE=other).json()["error"]
    assert words in error and foreign not in error
