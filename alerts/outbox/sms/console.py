import sys
import threading
from itertools import count
from typing import TextIO

from alerts.outbox.sms.base import BaseSmsBackend, SendResult, SmsMessage

_ids = count(1)
_lock = threading.Lock()


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: prints the SMS instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> SendResult:
        provider_id = f"console-{next(_ids)}"
        with _lock:
            self.stream.write(
                f"--- SMS to {message.to} [{message.tag}] ({len(message.body)} chars)\n{message.body}\n---\n"
            )
            self.stream.flush()
        return SendResult(provider_ids=[provider_id])
