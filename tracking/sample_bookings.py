"""A booking tool's test delivery, as the tool would send it (`manage.py send_test_booking`): a
Cal.com or Calendly booking of one prospect, carrying its `ak` as a booking link from ArkWatch would,
signed with this server's configured secret and posted to its own webhook — the whole path from the
booking tool to the SMS, without a real booking."""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from prospects.models import Prospect

SECRETS = {"calcom": "CALCOM_WEBHOOK_SECRET", "calendly": "CALENDLY_WEBHOOK_SIGNING_KEY"}


@dataclass
class SignedDelivery:
    body: bytes
    headers: dict[str, str]


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _calcom(prospect: Prospect, starts: datetime, booking: str) -> dict:
    return {
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": _utc(timezone.now()),
        "payload": {
            "type": "arkwatch-test",
            "title": f"Test ArkWatch — {prospect}",
            "startTime": _utc(starts),
            "endTime": _utc(starts + timedelta(minutes=30)),
            "attendees": [{"name": prospect.name or prospect.email, "email": prospect.email}],
            "uid": booking,
            "responses": {"email": {"value": prospect.email}, "ak": {"value": prospect.identity_token}},
            "status": "ACCEPTED",
        },
    }


def _calendly(prospect: Prospect, starts: datetime, booking: str) -> dict:
    event = f"https://api.calendly.com/scheduled_events/{booking}"
    return {
        "event": "invitee.created",
        "created_at": _utc(timezone.now()),
        "payload": {
            "email": prospect.email,
            "name": prospect.name or prospect.email,
            "uri": f"{event}/invitees/{booking}",
            "status": "active",
            "rescheduled": False,
            "tracking": {"utm_content": prospect.identity_token},
            "scheduled_event": {
                "uri": event,
                "name": "Test ArkWatch",
                "status": "active",
                "start_time": _utc(starts),
                "end_time": _utc(starts + timedelta(minutes=30)),
            },
        },
    }


def sample_booking_delivery(*, tool: str, prospect: Prospect, starts: datetime) -> SignedDelivery:
    """The body and headers the tool would post, signed with the configured secret (which must be set)."""
    booking = f"arkwatch-test-{uuid.uuid4().hex[:12]}"
    data = (_calcom if tool == "calcom" else _calendly)(prospect, starts, booking)
    body = json.dumps(data).encode()
    secret = str(getattr(settings, SECRETS[tool])).encode()
    if tool == "calcom":
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        headers = {"X-Cal-Signature-256": signature}
    else:
        stamp = str(int(time.time()))
        signature = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"Calendly-Webhook-Signature": f"t={stamp},v1={signature}"}
    return SignedDelivery(body, {"Content-Type": "application/json", **headers})
