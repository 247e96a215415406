"""Why a delivery failed, whatever carried it: each channel family raises its own subclass (SmsError
for the SMS backends, ChannelError for Apprise), and the outbox decides on these two flags alone."""


class DeliveryError(Exception):
    """A failed send. `permanent`: retrying cannot help (bad number, bad credentials, unknown channel).
    `ambiguous`: the message may have left (timeout, broken answer): check before sending again."""

    def __init__(self, message: str, *, permanent: bool = False, ambiguous: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.ambiguous = ambiguous
