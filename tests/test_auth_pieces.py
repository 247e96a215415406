"""Every authentication check, one missing or wrong piece at a time: each header alone, each field
alone. A check that accepted a request with one piece gone (a SendGrid timestamp without its
signature, a Postmark password without its user) would let anyone inject opens and clicks.

Each test starts from a request that is accepted (200 or 202, one event stored) and changes one
piece: the answer is 401 and nothing is stored.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests import test_booking_webhooks as bookings
from tests import test_email_webhooks as hooks
from tests.test_email_webhooks import (
    BREVO_TOKEN,
    MAILGUN_KEY,
    POSTMARK_PASSWORD,
    POSTMARK_USER,
    brevo_event,
    mailgun_event,
    mailgun_signature,
    postmark_auth,
    postmark_delivery,
    sendgrid_event,
    sendgrid_headers,
)
from tracking.models import EmailEvent, Meeting
from tracking.webhooks.views import BOOKING_TOOLS, PROVIDERS

pytestmark = pytest.mark.django_db
# The webhook tests' fixtures: every provider's secret set (autouse), SendGrid's key, the prospect.
_secrets, sendgrid_key, prospect = hooks._secrets, hooks.sendgrid_key, hooks.prospect
_booking_secrets = bookings._secrets
# Every webhook endpoint has a section below; a new one fails test_every_webhook_has_a_section.
SECTIONS = {"sendgrid", "mailgun", "brevo", "postmark", "calcom", "calendly"}


def test_every_webhook_has_a_section():
    assert set(PROVIDERS) | set(BOOKING_TOOLS) == SECTIONS


SIGNATURE = "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE"
TIMESTAMP = "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"


def _stored() -> int:
    return EmailEvent.objects.count() + Meeting.objects.count()


def _refused(response) -> None:
    assert response.status_code == 401, response.content
    assert _stored() == 0, "nothing is stored"


def _accepted(response) -> None:
    assert response.status_code in (200, 202), response.content
    assert _stored() == 1


# --- SendGrid: ECDSA signature over timestamp + raw body, in two headers --------------------------


def _sendgrid(client, body: bytes, headers: dict):
    return client.post("/api/webhooks/sendgrid", data=body, content_type="application/json", **headers)


def _sendgrid_body() -> bytes:
    return json.dumps([sendgrid_event("delivered")]).encode()


def test_sendgrid_accepts_the_whole_signature(client, sendgrid_key, prospect):
    body = _sendgrid_body()
    _accepted(_sendgrid(client, body, sendgrid_headers(sendgrid_key, body)))


@pytest.mark.parametrize("header", [SIGNATURE, TIMESTAMP])
def test_sendgrid_refuses_either_header_alone(client, sendgrid_key, prospect, header):
    body = _sendgrid_body()
    headers = sendgrid_headers(sendgrid_key, body)
    del headers[header]
    _refused(_sendgrid(client, body, headers))


@pytest.mark.parametrize("header", [SIGNATURE, TIMESTAMP])
def test_sendgrid_refuses_either_header_empty(client, sendgrid_key, prospect, header):
    body = _sendgrid_body()
    headers = {**sendgrid_headers(sendgrid_key, body), header: ""}
    _refused(_sendgrid(client, body, headers))


def test_sendgrid_refuses_a_timestamp_other_than_the_signed_one(client, sendgrid_key, prospect):
    body = _sendgrid_body()
    headers = sendgrid_headers(sendgrid_key, body)
    headers[TIMESTAMP] = str(int(headers[TIMESTAMP]) + 1)
    _refused(_sendgrid(client, body, headers))


def test_sendgrid_refuses_a_body_other_than_the_signed_one(client, sendgrid_key, prospect):
    body = _sendgrid_body()
    headers = sendgrid_headers(sendgrid_key, body)
    _refused(_sendgrid(client, body.replace(b"delivered", b"open"), headers))


@pytest.mark.parametrize("signature", ["not base64!", base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()])
def test_sendgrid_refuses_a_malformed_signature(client, sendgrid_key, prospect, signature):
    body = _sendgrid_body()
    headers = {**sendgrid_headers(sendgrid_key, body), SIGNATURE: signature}
    _refused(_sendgrid(client, body, headers))


def test_sendgrid_refuses_another_keys_signature(client, prospect):
    body = _sendgrid_body()
    _refused(_sendgrid(client, body, sendgrid_headers(ec.generate_private_key(ec.SECP256R1()), body)))


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(0, True), (9 * 60, True), (10 * 60 - 5, True), (10 * 60 + 5, False), (-(10 * 60 + 5), False), (3600, False)],
)
def test_sendgrid_takes_a_signed_timestamp_up_to_10_minutes_off(client, sendgrid_key, prospect, age, accepted):
    body = _sendgrid_body()
    headers = sendgrid_headers(sendgrid_key, body, timestamp=str(int(time.time()) - age))
    (_accepted if accepted else _refused)(_sendgrid(client, body, headers))


# --- Mailgun: HMAC-SHA256 of timestamp + token in the body's "signature" object -------------------


def _mailgun(client, signature):
    body = {"event-data": mailgun_event("delivered")}
    if signature is not None:
        body["signature"] = signature
    return client.post("/api/webhooks/mailgun", data=json.dumps(body), content_type="application/json")


def test_mailgun_accepts_the_whole_signature(client, prospect):
    _accepted(_mailgun(client, mailgun_signature()))


def test_mailgun_refuses_a_body_without_a_signature(client, prospect):
    _refused(_mailgun(client, None))


@pytest.mark.parametrize("field", ["timestamp", "token", "signature"])
def test_mailgun_refuses_each_field_missing(client, prospect, field):
    signature = mailgun_signature()
    del signature[field]
    _refused(_mailgun(client, signature))


@pytest.mark.parametrize("field", ["timestamp", "token", "signature"])
def test_mailgun_refuses_each_field_empty(client, prospect, field):
    _refused(_mailgun(client, {**mailgun_signature(), field: ""}))


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("timestamp", lambda v: str(int(v) - 1)),
        ("token", lambda v: v[:-1] + ("0" if v[-1] != "0" else "1")),
        ("signature", lambda v: v[:-1] + ("0" if v[-1] != "0" else "1")),
    ],
)
def test_mailgun_refuses_each_field_changed_alone(client, prospect, field, change):
    signature = mailgun_signature()
    _refused(_mailgun(client, {**signature, field: change(signature[field])}))


def test_mailgun_refuses_another_keys_signature(client, prospect):
    _refused(_mailgun(client, mailgun_signature(key=MAILGUN_KEY + "x")))


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(0, True), (14 * 60, True), (15 * 60 - 5, True), (15 * 60 + 5, False), (-(15 * 60 + 5), False), (3600, False)],
)
def test_mailgun_takes_a_signed_timestamp_up_to_15_minutes_off(client, prospect, age, accepted):
    response = _mailgun(client, mailgun_signature(timestamp=int(time.time()) - age))
    (_accepted if accepted else _refused)(response)


def test_mailgun_refuses_a_token_seen_before(client, prospect):
    signature = mailgun_signature()
    _accepted(_mailgun(client, signature))
    replay = client.post(
        "/api/webhooks/mailgun",
        data=json.dumps({"signature": signature, "event-data": mailgun_event("opened")}),
        content_type="application/json",
    )
    assert replay.status_code == 401 and EmailEvent.objects.count() == 1


# --- Brevo: Authorization: Bearer <token>, or ?token=<token> --------------------------------------


def _brevo(client, *, query: str = "", **headers):
    return client.post(
        f"/api/webhooks/brevo{query}",
        data=json.dumps(brevo_event("delivered")),
        content_type="application/json",
        **headers,
    )


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {"HTTP_AUTHORIZATION": f"Bearer {BREVO_TOKEN}"}), (f"?token={BREVO_TOKEN}", {})],
)
def test_brevo_accepts_the_token_in_either_place(client, prospect, query, headers):
    _accepted(_brevo(client, query=query, **headers))


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?token=", {}),
        ("?token=wrong", {}),
        (f"?token={BREVO_TOKEN}x", {}),
        (f"?token={BREVO_TOKEN[:-1]}", {}),
        ("", {"HTTP_AUTHORIZATION": "Bearer "}),
        ("", {"HTTP_AUTHORIZATION": "Bearer wrong"}),
        ("", {"HTTP_AUTHORIZATION": f"Bearer {BREVO_TOKEN[:-1]}"}),
        ("", {"HTTP_AUTHORIZATION": BREVO_TOKEN}),  # no scheme
        ("", {"HTTP_AUTHORIZATION": f"Token {BREVO_TOKEN}"}),  # another scheme
        # A wrong bearer is not rescued by a right query token: the header, when given, decides.
        (f"?token={BREVO_TOKEN}", {"HTTP_AUTHORIZATION": "Bearer wrong"}),
        ("?TOKEN=" + BREVO_TOKEN, {}),
    ],
)
def test_brevo_refuses_a_missing_or_wrong_token(client, prospect, query, headers):
    _refused(_brevo(client, query=query, **headers))


# --- Postmark: HTTP basic auth, user and password ---------------------------------------------------


def _postmark(client, headers: dict):
    return client.post(
        "/api/webhooks/postmark", data=json.dumps(postmark_delivery()), content_type="application/json", **headers
    )


def _basic(raw: str, scheme: str = "Basic") -> dict:
    return {"HTTP_AUTHORIZATION": f"{scheme} " + base64.b64encode(raw.encode()).decode()}


def test_postmark_accepts_user_and_password(client, prospect):
    _accepted(_postmark(client, postmark_auth()))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        postmark_auth(user="wrong"),
        postmark_auth(password="wrong"),
        postmark_auth(user=""),
        postmark_auth(password=""),
        postmark_auth(user=POSTMARK_PASSWORD, password=POSTMARK_USER),  # swapped
        postmark_auth(password=POSTMARK_PASSWORD + "x"),
        postmark_auth(user=POSTMARK_USER[:-1]),
        _basic(POSTMARK_USER),  # no password at all
        _basic(f"{POSTMARK_USER}{POSTMARK_PASSWORD}"),  # no colon
        _basic(f"{POSTMARK_USER}:{POSTMARK_PASSWORD}", scheme="Bearer"),
        {"HTTP_AUTHORIZATION": f"Basic {POSTMARK_USER}:{POSTMARK_PASSWORD}"},  # not base64
        {"HTTP_AUTHORIZATION": "Basic"},
    ],
)
def test_postmark_refuses_each_piece_missing_or_wrong(client, prospect, headers):
    response = _postmark(client, headers)
    _refused(response)
    assert response["WWW-Authenticate"].startswith("Basic")


# --- The tracking API key: Authorization: Bearer <TRACKING_API_KEY> --------------------------------


def _track_email(client, headers: dict):
    body = {"email": "cto@acme-corp.example", "message_id": f"m-{uuid.uuid4().hex[:8]}", "event": "sent"}
    return client.post("/api/track/email", data=json.dumps(body), content_type="application/json", **headers)


def test_the_tracking_api_accepts_its_key(client, prospect):
    _accepted(_track_email(client, {"HTTP_AUTHORIZATION": "Bearer test-api-key"}))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": ""},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": "Bearer test-api-ke"},
        {"HTTP_AUTHORIZATION": "Bearer test-api-key2"},
        {"HTTP_AUTHORIZATION": "test-api-key"},  # no scheme
        {"HTTP_AUTHORIZATION": "Token test-api-key"},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"test-api-key:").decode()},
        {"HTTP_X_API_KEY": "test-api-key"},  # not where the contract puts it
    ],
)
def test_the_tracking_api_refuses_a_missing_or_wrong_key(client, prospect, headers):
    _refused(_track_email(client, headers))


def test_the_tracking_api_refuses_everyone_when_no_key_is_set(client, prospect, settings):
    settings.TRACKING_API_KEY = ""
    _refused(_track_email(client, {"HTTP_AUTHORIZATION": "Bearer "}))
    _refused(_track_email(client, {"HTTP_AUTHORIZATION": "Bearer test-api-key"}))


# --- Cal.com: X-Cal-Signature-256 = hex HMAC-SHA256 of the raw body ---------------------------------


def _calcom(client, body: bytes, headers: dict):
    return client.post("/api/webhooks/calcom", data=body, content_type="application/json", **headers)


def _calcom_signature(body: bytes, secret: str = bookings.CALCOM_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_calcom_accepts_its_signature(client, prospect):
    body = bookings.calcom_body()
    _accepted(_calcom(client, body, {"HTTP_X_CAL_SIGNATURE_256": _calcom_signature(body)}))


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "0" * 64,
        lambda body: _calcom_signature(body)[:-1],
        lambda body: _calcom_signature(body, secret=bookings.CALCOM_SECRET + "x"),
        lambda body: _calcom_signature(body + b" "),  # signed another body
    ],
)
def test_calcom_refuses_a_missing_or_wrong_signature(client, prospect, signature):
    body = bookings.calcom_body()
    if callable(signature):
        signature = signature(body)
    headers = {} if signature is None else {"HTTP_X_CAL_SIGNATURE_256": signature}
    _refused(_calcom(client, body, headers))


# --- Calendly: Calendly-Webhook-Signature: t=<unix>,v1=<hex HMAC of "t." + body>, t fresh -----------


def _calendly(client, body: bytes, header: str | None):
    headers = {} if header is None else {"HTTP_CALENDLY_WEBHOOK_SIGNATURE": header}
    return client.post("/api/webhooks/calendly", data=body, content_type="application/json", **headers)


def _v1(body: bytes, t: str, key: str = bookings.CALENDLY_KEY) -> str:
    return hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_calendly_accepts_its_signature(client, prospect):
    body, t = bookings.calendly_body(), str(int(time.time()))
    _accepted(_calendly(client, body, f"t={t},v1={_v1(body, t)}"))


@pytest.mark.parametrize(
    "header",
    [
        lambda body, t: None,
        lambda body, t: "",
        lambda body, t: f"v1={_v1(body, t)}",  # no t
        lambda body, t: f"t={t}",  # no v1
        lambda body, t: f"t=,v1={_v1(body, t)}",
        lambda body, t: f"t={t},v1=",
        lambda body, t: f"t={int(t) + 1},v1={_v1(body, t)}",  # another t than the signed one
        lambda body, t: f"t={t},v1={_v1(body, t)[:-1]}",
        lambda body, t: f"t={t},v1={_v1(body, t, key=bookings.CALENDLY_KEY + 'x')}",
        lambda body, t: f"t={t},v1={_v1(body + b' ', t)}",  # signed another body
        lambda body, t: f"t={t},v0={_v1(body, t)}",  # another scheme
    ],
)
def test_calendly_refuses_each_piece_missing_or_wrong(client, prospect, header):
    body, t = bookings.calendly_body(), str(int(time.time()))
    _refused(_calendly(client, body, header(body, t)))


@pytest.mark.parametrize(
    ("age", "accepted"), [(0, True), (4 * 60, True), (5 * 60 - 5, True), (5 * 60 + 5, False), (-(5 * 60 + 5), False)]
)
def test_calendly_takes_a_signed_t_up_to_5_minutes_off(client, prospect, age, accepted):
    body, t = bookings.calendly_body(), str(int(time.time()) - age)
    (_accepted if accepted else _refused)(_calendly(client, body, f"t={t},v1={_v1(body, t)}"))
