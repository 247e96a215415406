from alerts.outbox import sms
from alerts.outbox.sms.base import BaseSmsBackend, SendResult, SmsMessage


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: keeps every sent SMS in alerts.outbox.sms.outbox."""

    can_check_sent = True
    can_check_receipt = True

    def send(self, message: SmsMessage) -> SendResult:
        sms.outbox.append(message)
        return SendResult(provider_ids=[f"locmem-{len(sms.outbox)}"])

    def find_sent(self, message: SmsMessage) -> list[str] | None:
        return [
            f"locmem-{i}"
            for i, sent in enumerate(sms.outbox, start=1)
            if sent.tag == message.tag and sent.to == message.to
        ]

    def handset_receipt(self, provider_id: str) -> bool | None:
        # Tests say what each phone did: alerts.outbox.sms.receipts[provider id] = True / False.
        return sms.receipts.get(provider_id)
