"""OVH SMS through the official `ovh` library: POST /sms/{serviceName}/jobs.

OVH_ENDPOINT may be a name the library knows (ovh-eu, ovh-ca, …) or a full base URL
(https://host/1.0) for a gateway or a test double: the library only accepts names, so a URL is
registered under its own name in ovh.client.ENDPOINTS before the client is built.
"""

from datetime import datetime

import ovh
import ovh.client
from django.conf import settings
from django.utils.translation import gettext as _
from ovh import exceptions as ovh_errors
from requests.exceptions import ConnectTimeout
from urllib3.exceptions import NewConnectionError

from alerts.outbox.sms.base import BaseSmsBackend, IncomingSms, SendResult, SmsError, SmsMessage

PERMANENT_ERRORS = (
    ovh_errors.BadParametersError,
    ovh_errors.NotGrantedCall,
    ovh_errors.InvalidKey,
    ovh_errors.InvalidCredential,
    ovh_errors.Forbidden,
    ovh_errors.ResourceNotFoundError,
    ovh_errors.InvalidRegion,
    ovh_errors.NotCredential,
    ovh_errors.InvalidConfiguration,
)
# The request may have reached OVH and the SMS left: check by tag before sending again.
AMBIGUOUS_ERRORS = (ovh_errors.HTTPError, ovh_errors.NetworkError, ovh_errors.InvalidResponse)
# Failures to open a connection at all (refused, unknown name, connect timeout): nothing reached OVH.
NOT_CONNECTED = (NewConnectionError, ConnectTimeout)


def never_reached_ovh(exc: BaseException) -> bool:
    """True when the ovh library's HTTPError wraps a failure to connect: an ordinary retry, no check.
    requests wraps urllib3's NewConnectionError (refused, name resolution) in a MaxRetryError's
    `reason`, inside a ConnectionError: walk the chain."""
    seen: list[object] = [exc]
    while seen:
        current = seen.pop()
        if isinstance(current, NOT_CONNECTED):
            return True
        if isinstance(current, BaseException):
            seen += [arg for arg in current.args if isinstance(arg, BaseException)]
            seen += [getattr(current, "reason", None), current.__cause__]
    return False


# How long one call to OVH may take: a send that times out is checked (by its tag) before any retry.
TIMEOUT_SECONDS = 10.0


def build_client() -> ovh.Client:
    endpoint = settings.OVH_ENDPOINT
    if endpoint.startswith(("http://", "https://")):
        ovh.client.ENDPOINTS.setdefault(endpoint, endpoint.rstrip("/"))
    return ovh.Client(
        endpoint=endpoint,
        application_key=settings.OVH_APPLICATION_KEY,
        application_secret=settings.OVH_APPLICATION_SECRET,
        consumer_key=settings.OVH_CONSUMER_KEY,
        timeout=TIMEOUT_SECONDS,
    )


class OvhSmsBackend(BaseSmsBackend):
    can_check_sent = True
    can_check_receipt = True
    can_read_replies = True

    def __init__(self) -> None:
        self.service = settings.OVH_SMS_SERVICE_NAME
        if not self.service:
            raise SmsError(_("OVH_SMS_SERVICE_NAME is not set."), permanent=True)
        try:
            self.client = build_client()
        except ovh_errors.APIError as exc:
            raise SmsError(_("OVH client: %(error)s") % {"error": exc}, permanent=True) from exc

    def send(self, message: SmsMessage) -> SendResult:
        payload = {
            "message": message.body,
            "receivers": [message.to],
            "noStopClause": True,  # transactional alert to our own staff, not marketing
            "priority": "high",
            "coding": "7bit",
            "tag": message.tag,
        }
        if settings.OVH_SMS_SENDER:
            payload["sender"] = settings.OVH_SMS_SENDER
        else:
            payload["senderForResponse"] = True
        try:
            answer = self.client.post(f"/sms/{self.service}/jobs", **payload)
        except PERMANENT_ERRORS as exc:
            raise SmsError(_("OVH refused the SMS: %(error)s") % {"error": exc}, permanent=True) from exc
        except AMBIGUOUS_ERRORS as exc:
            if never_reached_ovh(exc):
                raise SmsError(_("OVH could not be reached: %(error)s") % {"error": exc}) from exc
            raise SmsError(_("OVH did not answer clearly: %(error)s") % {"error": exc}, ambiguous=True) from exc
        except ovh_errors.APIError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", 500)
            # Other 4xx answers (but 429) will not change on retry; 5xx and 429 may.
            raise SmsError(
                _("OVH error %(status)s: %(error)s") % {"status": status, "error": exc},
                permanent=400 <= status < 500 and status != 429,
            ) from exc
        if not isinstance(answer, dict):
            raise SmsError(
                (_("OVH answered something unexpected: %(answer)r") % {"answer": answer})[:300], ambiguous=True
            )
        if message.to in (answer.get("invalidReceivers") or []):
            raise SmsError(_("OVH says %(number)s is not a valid receiver.") % {"number": message.to}, permanent=True)
        return SendResult(provider_ids=[str(i) for i in answer.get("ids") or []])

    def find_sent(self, message: SmsMessage) -> list[str] | None:
        try:
            ids = self.client.get(f"/sms/{self.service}/outgoing", tag=message.tag, receiver=message.to)
        except PERMANENT_ERRORS:
            return None  # e.g. the token lacks GET /sms/*/outgoing: we cannot know, ever
        except ovh_errors.APIError as exc:
            # OVH unreachable or failing right now: ask again later (until SMS_GIVE_UP_AFTER_MINUTES).
            raise SmsError(_("could not ask OVH whether the SMS already left: %(error)s") % {"error": exc}) from exc
        return [str(i) for i in ids] if isinstance(ids, list) else None

    def handset_receipt(self, provider_id: str) -> bool | None:
        """GET /sms/{service}/outgoing/{id}: `deliveredAt` (or deliveryReceipt 1) once the phone
        acknowledged it; deliveryReceipt 2 when the operator reports a failure; otherwise not yet."""
        try:
            state = self.client.get(f"/sms/{self.service}/outgoing/{provider_id}")
        except ovh_errors.APIError as exc:
            raise SmsError(_("could not read the delivery receipt: %(error)s") % {"error": exc}) from exc
        if not isinstance(state, dict):
            return None
        if state.get("deliveredAt") or state.get("deliveryReceipt") == 1:
            return True
        if state.get("deliveryReceipt") == 2:
            return False
        return None

    def incoming(self) -> list[IncomingSms]:
        """GET /sms/{service}/incoming (ids), then /incoming/{id} for each: `sender`, `message`,
        `creationDatetime`. Needs the token rights GET and DELETE /sms/*/incoming*."""
        try:
            ids = self.client.get(f"/sms/{self.service}/incoming")
            found = []
            for sms_id in ids if isinstance(ids, list) else []:
                data = self.client.get(f"/sms/{self.service}/incoming/{sms_id}")
                if not isinstance(data, dict):
                    continue
                found.append(
                    IncomingSms(
                        provider_id=str(sms_id),
                        sender=str(data.get("sender") or ""),
                        text=str(data.get("message") or ""),
                        received_at=_ovh_time(data.get("creationDatetime")),
                    )
                )
        except ovh_errors.APIError as exc:
            raise SmsError(_("could not read the replies: %(error)s") % {"error": exc}) from exc
        return sorted(found, key=lambda sms: (sms.received_at is None, sms.received_at, sms.provider_id))

    def incoming_forget(self, provider_id: str) -> None:
        try:
            self.client.delete(f"/sms/{self.service}/incoming/{provider_id}")
        except ovh_errors.APIError as exc:
            raise SmsError(_("could not delete the reply: %(error)s") % {"error": exc}) from exc


def _ovh_time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
