"""Replies to the alert SMS as call outcomes (OVH_SMS_REPLIES): the founder answers an alert with a
short code and ArkWatch records the call on the alert it answers, without answering back.

    1 appelé · 2 pas de réponse · 3 RDV pris · 9 fausse alerte

A reply answers the most recent SMS sent to the number it came from, whatever that SMS was: it applies
only when that SMS was one lead's own (its alert, or its reminder), sent within
OVH_SMS_REPLY_WINDOW_HOURS. A "3" sent in answer to the morning digest, the hourly summary, the held
notice or a test SMS, or to an SMS of last week, must not mark some other lead "RDV pris". Each reply is
kept by its provider id before anything else (unique), so a reply is recorded once even if deleting it
at the provider fails; it is deleted at the provider once recorded. A reply that changes nothing is
kept with the reason (`SmsReply.ignored`), shown in the back office."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.outbox.models import AlertDelivery
from alerts.outbox.sms import SmsError, get_sms_backend
from alerts.outbox.sms.base import IncomingSms
from alerts.outcomes.calls import call_record
from alerts.outcomes.models import Call, CallOutcome, SmsReply

logger = logging.getLogger(__name__)
# OVH's clock (the reply's creationDatetime) and ours (sent_at) are both NTP-set: a reply may carry a
# time a few seconds before the SMS it answers. Kept small: an SMS sent to the same phone within the
# slack after a reply would otherwise take that reply.
CLOCK_SLACK = timedelta(minutes=1)

CODES = {
    "1": CallOutcome.REACHED,
    "2": CallOutcome.NO_ANSWER,
    "3": CallOutcome.MEETING_BOOKED,
    "9": CallOutcome.FALSE_ALARM,
}
# The code is the first thing in the reply ("3", "3 jeudi 10h", " 3."); anything else is no code.
CODE = re.compile(r"^\s*([1239])(?!\d)")


@dataclass
class RepliesReport:
    read: int = 0
    calls: int = 0
    ignored: int = 0


def reply_outcome(text: str) -> str | None:
    match = CODE.match(text or "")
    return CODES[match.group(1)] if match else None


def _e164(number: str) -> str:
    """OVH gives senders as +33…, 0033… or 06…: the recipients' E.164 form, to find the alert."""
    number = number.strip()
    if number.startswith("00"):
        number = "+" + number[2:]
    try:
        parsed = phonenumbers.parse(number, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def reply_record(sms: IncomingSms) -> SmsReply | None:
    """Record one reply (once per provider id); None when it was recorded before."""
    sender = _e164(sms.sender)
    outcome = reply_outcome(sms.text)
    with transaction.atomic():
        try:
            with transaction.atomic():
                reply = SmsReply.objects.create(
                    provider_id=sms.provider_id[:64],
                    sender=sender[:32],
                    text=sms.text[:160],
                    received_at=sms.received_at or timezone.now(),
                )
        except IntegrityError:
            return None
        reply.last_sms = _last_sms_to(sender, before=reply.received_at + CLOCK_SLACK)
        reply.ignored = _why_ignored(reply, outcome)
        if not reply.ignored and outcome is not None and reply.last_sms and reply.last_sms.alert:
            alert = reply.last_sms.alert
            reply.alert = alert
            reply.call = call_record(
                prospect=alert.prospect,
                user=None,
                outcome=outcome,
                note=_("Reply “%(text)s” to the alert SMS, from %(number)s")
                % {"text": sms.text[:40], "number": sender},
                via=Call.Via.SMS_REPLY,
            )
        reply.save(update_fields=["last_sms", "ignored", "alert", "call"])
    return reply


def _last_sms_to(number: str, *, before: datetime) -> AlertDelivery | None:
    """The most recent SMS sent to `number` before the reply (with room for the provider's clock):
    a lead's alert or reminder, or a notice (digest, summary, held notice, test SMS)."""
    return (
        AlertDelivery.objects.filter(
            channel=AlertDelivery.Channel.SMS, recipient=number, sent_at__isnull=False, sent_at__lte=before
        )
        .select_related("alert__prospect", "notice")
        .order_by("-sent_at", "-pk")
        .first()
    )


def _why_ignored(reply: SmsReply, outcome: str | None) -> str:
    """Why this reply changes nothing ("" when it applies to the lead of the last SMS)."""
    last = reply.last_sms
    if outcome is None:
        return SmsReply.Ignored.NO_CODE
    if last is None:
        return SmsReply.Ignored.UNKNOWN_NUMBER
    if last.sent_at and last.sent_at > reply.received_at and _another_sms_before(last, reply):
        # The last SMS left after the reply by our clock (within the slack), and an earlier one was
        # there to answer: which one the founder answered, nobody can tell.
        return SmsReply.Ignored.AMBIGUOUS
    if last.alert_id is None:
        return SmsReply.Ignored.NOT_A_LEAD
    if last.sent_at and last.sent_at < reply.received_at - timedelta(hours=settings.OVH_SMS_REPLY_WINDOW_HOURS):
        return SmsReply.Ignored.TOO_OLD
    return ""


def _another_sms_before(last: AlertDelivery, reply: SmsReply) -> bool:
    window = timedelta(hours=settings.OVH_SMS_REPLY_WINDOW_HOURS)
    return (
        AlertDelivery.objects.filter(
            channel=AlertDelivery.Channel.SMS,
            recipient=last.recipient,
            sent_at__lte=reply.received_at,
            sent_at__gte=reply.received_at - window,
        )
        .exclude(pk=last.pk)
        .exists()
    )


def sms_replies_read() -> RepliesReport:
    """Read the replies waiting at the provider, record them, delete them there. Quiet when the setting
    is off or the backend cannot read replies; a provider that cannot be reached is tried next minute."""
    report = RepliesReport()
    if not settings.OVH_SMS_REPLIES:
        return report
    try:
        backend = get_sms_backend()
        if not backend.can_read_replies:
            return report
        waiting = backend.incoming()
    except SmsError as exc:
        logger.warning("SMS replies not read: %s", exc)
        return report
    for sms in waiting:
        report.read += 1
        reply = reply_record(sms)
        if reply is not None and reply.call_id:
            report.calls += 1
        elif reply is not None:
            report.ignored += 1
        try:
            backend.incoming_forget(sms.provider_id)
        except SmsError as exc:
            logger.warning("SMS reply %s recorded, not deleted at the provider: %s", sms.provider_id, exc)
    return report
