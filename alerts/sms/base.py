from dataclasses import dataclass, field

from alerts.errors import DeliveryError


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


class BaseSmsBackend:
    #: Whether find_sent() can tell if a tagged message already left.
    can_check_sent = False
    #: Whether handset_receipt() can tell if a sent SMS reached the phone.
    can_check_receipt = False

    def handset_receipt(self, provider_id: str) -> bool | None:
        """True when the phone acknowledged the SMS, False when the operator gave up, None while unknown."""
        return None

    def send(self, message: SmsMessage) -> SendResult:
        raise NotImplementedError

    def find_sent(self, message: SmsMessage) -> list[str] | None:
        """Provider ids of messages already sent with this tag to this recipient; None when unknown."""
        return None
