from dataclasses import dataclass, field


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    body: str
    # Carried to the provider so an ambiguous failure can be checked before any re-send.
    tag: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_ids: list[str] = field(default_factory=list)


class SmsError(Exception):
    """A failed send. `permanent`: retrying cannot help (bad number, bad credentials).
    `ambiguous`: the provider may have sent it (timeout, broken answer): check before re-sending."""

    def __init__(self, message: str, *, permanent: bool = False, ambiguous: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.ambiguous = ambiguous


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
