from dataclasses import dataclass, field
from datetime import datetime

from alerts.outbox.errors import DeliveryError


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    body: str
    # Carried to the provider so an ambiguous failure can be checked before any re-send.
    tag: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_ids: list[str] = field(default_factory=list)


class SmsError(DeliveryError):
    """An SMS backend's failure (see DeliveryError for `permanent` and `ambiguous`)."""


@dataclass(frozen=True)
class IncomingSms:
    """A message someone sent to our sender (a reply to an alert SMS)."""

    provider_id: str
    sender: str  # as the provider gives it; normalised by the reader
    text: str
    received_at: datetime | None = None


class BaseSmsBackend:
    #: Whether find_sent() can tell if a tagged message already left.
    can_check_sent = False
    #: Whether handset_receipt() can tell if a sent SMS reached the phone.
    can_check_receipt = False
    #: Whether incoming() reads the replies sent to our sender (OVH_SMS_REPLIES).
    can_read_replies = False

    def incoming(self) -> list[IncomingSms]:
        """The replies waiting at the provider, oldest first."""
        return []

    def incoming_forget(self, provider_id: str) -> None:
        """Delete a reply at the provider once it has been recorded."""

    def handset_receipt(self, provider_id: str) -> bool | None:
        """True when the phone acknowledged the SMS, False when the operator gave up, None while unknown."""
        return None

    def send(self, message: SmsMessage) -> SendResult:
        raise NotImplementedError

    def find_sent(self, message: SmsMessage) -> list[str] | None:
        """Provider ids of messages already sent with this tag to this recipient; None when unknown."""
        return None
