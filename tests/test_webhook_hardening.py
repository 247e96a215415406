"""Issue 29, points 8 and 9: a signature with letters outside ASCII is a wrong signature (401 with a
sentence), never a 500; a signed Cal.com delivery is accepted only while it is fresh, as Calendly's
signed `t=` is, so a delivery copied from a log cannot be played again later."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ProspectFactory
from tests.test_booking_webhooks import CALCOM_SECRET, CALENDLY_KEY, calcom_body, calcom_post
from tests.test_email_webhooks import MAILGUN_KEY, mailgun_event
from tracking.models import EmailEvent, Meeting

pytestmark = pytest.mark.django_db

NON_ASCII = "é" * 64  # as long as a hex SHA-256, in letters hmac.compare_digest refuses on str


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.CALCOM_WEBHOOK_SECRET = CALCOM_SECRET
    settings.CALENDLY_WEBHOOK_SIGNING_KEY = CALENDLY_KEY
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = MAILGUN_KEY


@pytest.fixture
def prospect():
    return ProspectFactory(email="cto@acme-corp.example")


def test_a_non_ascii_calcom_signature_is_refused_with_401(client, prospect):
    response = client.post(
        "/api/webhooks/calcom", data=calcom_body(), content_type="application/json", HTTP_X_CAL_SIGNATURE_256=NON_ASCII
    )
    assert response.status_code == 401 and "Cal.com" in response.json()["error"]
    assert not Meeting.objects.exists()


def test_a_non_ascii_calendly_signature_is_refused_with_401(client, prospect):
    response = client.post(
        "/api/webhooks/calendly",
        data=b"{}",
        content_type="application/json",
        HTTP_CALENDLY_WEBHOOK_SIGNATURE=f"t={int(time.time())},v1={NON_ASCII}",
    )
    assert response.status_code == 401 and "Calendly" in response.json()["error"]


def test_a_non_ascii_mailgun_signature_is_refused_with_401(client, prospect):
    signature = {"timestamp": str(int(time.time())), "token": "t" * 50, "signature": NON_ASCII}
    body = {"signature": signature, "event-data": mailgun_event("delivered")}
    response = client.post("/api/webhooks/mailgun", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 401 and "Mailgun" in response.json()["error"]
    assert not EmailEvent.objects.exists()


def _calcom_sent(ago: timedelta) -> bytes:
    data = json.loads(calcom_body())
    data["createdAt"] = (timezone.now() - ago).isoformat()
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "ago",
    [timedelta(days=400), timedelta(minutes=6), -timedelta(minutes=6)],
    ids=["a year old", "six minutes old", "six minutes ahead"],
)
def test_a_signed_calcom_delivery_that_is_not_fresh_is_refused(client, prospect, ago):
    response = calcom_post(client, _calcom_sent(ago))
    assert response.status_code == 400
    assert "createdAt" in response.json()["error"] and "5 minutes" in response.json()["error"]
    assert not Meeting.objects.exists()


def test_a_signed_calcom_delivery_without_its_date_is_refused(client, prospect):
    data = json.loads(calcom_body())
    del data["createdAt"]
    body = json.dumps(data).encode()
    response = calcom_post(client, body)
    assert response.status_code == 400 and "createdAt" in response.json()["error"]
    assert not Meeting.objects.exists()


def test_a_calcom_delivery_a_minute_old_is_accepted(client, prospect):
    response = calcom_post(client, _calcom_sent(timedelta(minutes=1)))
    assert response.status_code == 200 and response.json()["stored"] == 1


def test_a_replayed_calcom_ping_is_refused_too(client, prospect):
    """Even a delivery that stores nothing (PING) says it is stale: the operator testing the webhook
    with a wrong clock learns it at once."""
    body = json.dumps({"triggerEvent": "PING", "createdAt": "2025-01-01T10:00:00.000Z", "payload": {}}).encode()
    signature = hmac.new(CALCOM_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        "/api/webhooks/calcom", data=body, content_type="application/json", HTTP_X_CAL_SIGNATURE_256=signature
    )
    assert response.status_code == 400 and "createdAt" in response.json()["error"]
