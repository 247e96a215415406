"""Property: no body, however malformed, makes an email-service webhook answer 5xx, even when it is
authenticated (signed, with a fresh Mailgun token, with the Brevo token or Postmark's credentials)."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db

KEY = ec.generate_private_key(ec.SECP256R1())
MAILGUN_KEY = "fuzz-mailgun-key"
PROVIDERS = ["sendgrid", "mailgun", "brevo", "postmark"]
FIELDS = [
    # SendGrid
    "email", "timestamp", "event", "sg_event_id", "sg_message_id", "ip", "useragent", "url", "sg_machine_open",
    # Mailgun (inside event-data)
    "id", "recipient", "message", "client-info", "severity",
    # Brevo
    "message-id", "ts_epoch", "ts_event", "link", "user_agent",
    # Postmark
    "RecordType", "MessageID", "Recipient", "Email", "ReceivedAt", "DeliveredAt", "BouncedAt", "Type", "ID", "Geo",
    "UserAgent", "OriginalLink",
]  # fmt: skip
EVENTS = [
    "processed", "delivered", "open", "click", "bounce", "dropped", "accepted", "opened", "clicked", "failed",
    "request", "proxy_open", "unique_opened", "hard_bounce", "Delivery", "Open", "Click", "Bounce", "x",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=60)
    | st.sampled_from(EVENTS + ["cto@acme-corp.example", "2026-11-24T09:00:00Z", "17.1.2.3", "permanent"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
events = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10)
near_valid = st.fixed_dictionaries(
    {
        "email": st.just("cto@acme-corp.example"),
        "Recipient": st.just("cto@acme-corp.example"),
        "recipient": st.just("cto@acme-corp.example"),
        "event": st.sampled_from(EVENTS),
        "RecordType": st.sampled_from(EVENTS),
        "timestamp": scalars,
        "ts_epoch": scalars,
        "ReceivedAt": scalars,
        "sg_message_id": scalars,
        "message-id": scalars,
        "MessageID": scalars,
        "message": st.fixed_dictionaries({"headers": st.dictionaries(st.just("message-id"), scalars)}) | json_values,
        "ip": scalars,
        "Geo": st.fixed_dictionaries({"IP": scalars}) | json_values,
    }
)
payloads = st.one_of(json_values, events, near_valid, st.lists(events | near_valid, max_size=4))
fuzz = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def configured(client, settings):
    der = KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(der).decode()
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = MAILGUN_KEY
    settings.BREVO_WEBHOOK_TOKEN = "fuzz-brevo-token"
    settings.POSTMARK_WEBHOOK_USER, settings.POSTMARK_WEBHOOK_PASSWORD = "fuzz", "fuzz-password"
    ProspectFactory(email="cto@acme-corp.example")
    return client


def authenticated(provider: str, payload: object) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a request the provider would have authenticated."""
    if provider == "mailgun":
        timestamp, token = str(int(time.time())), uuid.uuid4().hex
        digest = hmac.new(MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
        payload = {"signature": {"timestamp": timestamp, "token": token, "signature": digest}, "event-data": payload}
    body = json.dumps(payload).encode()
    if provider == "sendgrid":
        timestamp = str(int(time.time()))
        signature = KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return body, {
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(signature).decode(),
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
        }
    if provider == "brevo":
        return body, {"HTTP_AUTHORIZATION": "Bearer fuzz-brevo-token"}
    if provider == "postmark":
        return body, {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"fuzz:fuzz-password").decode()}
    return body, {}


@fuzz
@given(provider=st.sampled_from(PROVIDERS), payload=payloads)
def test_authenticated_arbitrary_json_never_gets_a_5xx(configured, provider, payload):
    body, headers = authenticated(provider, payload)
    response = configured.post(f"/api/webhooks/{provider}", data=body, content_type="application/json", **headers)
    assert response.status_code in (200, 400), response.content
    assert response.json().get("error") or response.json().get("ok")


@fuzz
@given(
    provider=st.sampled_from(PROVIDERS),
    body=st.binary(max_size=3000),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "HTTP_AUTHORIZATION",
                "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE",
                "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP",
                # not CONTENT_LENGTH: a length longer than the body trips the test client itself
            ]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    ),
)
def test_arbitrary_bytes_and_headers_never_get_a_5xx(configured, provider, body, headers):
    response = configured.post(f"/api/webhooks/{provider}", data=body, content_type="application/json", **headers)
    assert response.status_code < 500
