"""Store a reply once, tied to its prospect, and do what its kind means for the prospect.

- a person's reply: announced after commit (reason "reply"); detection makes it the `email_reply` signal;
- an auto-reply: kept for the timeline (and its return date for hot leads); it never texts;
- a bounce: the address is marked undeliverable (a `bounced` email event of the message it returns);
- an unsubscribe: the prospect becomes do-not-contact;
- "not interested": the prospect's outcome becomes lost (never back from won or do-not-contact).

A message about nobody the product knows is counted, never kept (the founder's other mail is not ours)."""

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from prospects.do_not_contact import prospect_do_not_contact
from prospects.models import ConsentSource, Prospect
from prospects.services import FINAL_STATUSES, prospects_set_status
from tracking.announcements import announce_event
from tracking.models import EmailEvent, Identification
from tracking.replies.models import InboundReply, ReplyKind, ReplyMatch
from tracking.replies.reading import Letter
from tracking.replies.sorting import Sorted, sort_letter
from tracking.webhooks.services import RecordOutcome, webhook_unknown_recipients_count

# What the answers (the inbound webhook's, the mailbox poll's) call the replies about nobody known.
UNKNOWN_SENDERS = "unknown_senders"


# --- who it is about ------------------------------------------------------------------------------------
_RESULT = re.compile(r"\b(dkim|dmarc)\s*=\s*(\w+)([^;]*)", re.I)
_DOMAIN_PROPERTY = re.compile(r"header\.(?:d|i|from)\s*=\s*@?([A-Za-z0-9.-]+)", re.I)


def authenticated_domains(letter: Letter) -> set[str]:
    """The domains for which the receiving server says DKIM or DMARC passed: its Authentication-Results
    header (RFC 8601), the topmost one only — the receiving server adds its own on top, anything below
    came with the message and could be written by anyone. Email services that parse mail for us say it
    in their own header (Mailgun's X-Mailgun-Dkim-Check-Result, SendGrid's dkim field, see the providers)."""
    header = letter.header("Authentication-Results")
    domains = set()
    for _method, result, properties in _RESULT.findall(header):
        if result.lower() != "pass":
            continue
        for domain in _DOMAIN_PROPERTY.findall(properties):
            domains.add(domain.lower().strip("."))
    return domains


def _aligned(sender_domain: str, domains: set[str]) -> bool:
    return any(sender_domain == d or sender_domain.endswith("." + d) for d in domains)


def _by_thread(ids: list[str]) -> Prospect | None:
    if not ids:
        return None
    candidates = [*ids, *(f"<{i}>" for i in ids)]
    event = (
        EmailEvent.objects.filter(message_id__in=candidates, event=EmailEvent.Kind.SENT)
        .select_related("prospect")
        .order_by("-occurred_at")
        .first()
    ) or EmailEvent.objects.filter(message_id__in=candidates).select_related("prospect").order_by(
        "-occurred_at"
    ).first()
    return event.prospect if event else None


def reply_match(
    letter: Letter, sorted_as: Sorted, extra_domains: frozenset[str] = frozenset()
) -> tuple[Prospect, str, str] | None:
    """(prospect, how matched, verified|unverified), or None for a message about nobody known.

    The thread (In-Reply-To / References of a message ArkWatch knows, or the message a bounce returns)
    first, then the sender's address, then for a bounce the address it could not deliver to. Verified
    only when the sender is the prospect's own address and the receiving server authenticated its domain."""
    sender = letter.sender
    prospect = _by_thread(letter.thread_ids + letter.returned_ids)
    method = ReplyMatch.THREAD
    if prospect is None and sender:
        prospect = Prospect.objects.filter(email=sender).first()
        method = ReplyMatch.SENDER
    if prospect is None and sorted_as.kind == ReplyKind.BOUNCE:
        recipients = [address for address, _action in letter.dsn if address]
        prospect = Prospect.objects.filter(email__in=recipients).first() if recipients else None
        method = ReplyMatch.RECIPIENT
    if prospect is None:
        return None
    domain = sender.rpartition("@")[2]
    own = sender == prospect.email
    verified = own and bool(domain) and _aligned(domain, authenticated_domains(letter) | set(extra_domains))
    return prospect, method, Identification.VERIFIED if verified else Identification.UNVERIFIED


# --- storing it ----------------------------------------------------------------------------------------
def _occurred_at(letter: Letter, now: datetime) -> datetime:
    """When the reply was written (its Date), never after it reached us: an old message read on a first
    poll is old, and detection leaves old evidence untexted (SIGNAL_MAX_AGE_MINUTES)."""
    sent = letter.sent_at
    if sent is None or sent > now or sent < now - timedelta(days=3650):
        return now
    return sent


def inbound_reply_record(
    *, letter: Letter, source: str, now: datetime | None = None, extra_domains: frozenset[str] = frozenset()
) -> RecordOutcome:
    """Store one message once, if it is about a prospect; apply what its kind means."""
    now = now or timezone.now()
    key = letter.key()
    if InboundReply.objects.filter(key=key).exists():
        return RecordOutcome(duplicates=1)
    sorted_as = sort_letter(letter)
    match = reply_match(letter, sorted_as, extra_domains)
    if match is None:
        webhook_unknown_recipients_count(provider=f"inbound-{source}"[:20], count=1)
        return RecordOutcome(unknown=1)
    prospect, method, identification = match
    try:
        with transaction.atomic():
            reply = InboundReply.objects.create(
                prospect=prospect,
                key=key,
                source=source,
                kind=sorted_as.kind,
                sorted_kind=sorted_as.kind,
                reason=sorted_as.reason[:300],
                undeliverable=sorted_as.undeliverable,
                sender=letter.sender,
                subject=letter.subject,
                excerpt=letter.excerpt if sorted_as.kind != ReplyKind.BOUNCE else "",
                match_method=method,
                identification=identification,
                back_on=sorted_as.back_on,
                sent_at=_occurred_at(letter, now),
                received_at=now,
            )
            reply_kind_apply(reply=reply, thread_ids=letter.returned_ids + letter.thread_ids, now=now)
    except IntegrityError:  # the same message read at once by the poll and a webhook
        return RecordOutcome(duplicates=1)
    return RecordOutcome(stored=1)


def reply_kind_apply(*, reply: InboundReply, thread_ids: list[str] | None = None, now: datetime | None = None) -> None:
    """What a reply's kind means for its prospect (also after a correction by hand, see the admin)."""
    now = now or timezone.now()
    prospect = reply.prospect
    if reply.kind == ReplyKind.PERSON:
        announce_event("reply")
    elif reply.kind == ReplyKind.UNSUBSCRIBE:
        # The one way a "stop" is honoured: do-not-contact and tracking refused, with its proof.
        prospect_do_not_contact(
            prospect=prospect, source=ConsentSource.EMAIL_REPLY, detail=f"{reply.source}:{reply.reason}"[:200], at=now
        )
    elif reply.kind == ReplyKind.NOT_INTERESTED:
        prospects_set_status(prospect_ids=[prospect.pk], status=Prospect.Status.LOST, not_from=FINAL_STATUSES)
    elif reply.kind == ReplyKind.BOUNCE and reply.undeliverable:
        # The bounce as an email event of the message it returns (or of the latest one sent): the funnel,
        # the timeline and the mail-merge export already read bounced events.
        message_id = _bounced_message_id(prospect, thread_ids or [])
        if message_id:
            EmailEvent.objects.get_or_create(
                provider_event_id=f"reply:{reply.key}"[:200],
                defaults={
                    "prospect": prospect,
                    "message_id": message_id,
                    "event": EmailEvent.Kind.BOUNCED,
                    "occurred_at": reply.sent_at or now,
                    "received_at": now,
                    "source": EmailEvent.Source.REPLY,
                },
            )


def _bounced_message_id(prospect: Prospect, ids: list[str]) -> str:
    sent = EmailEvent.objects.filter(prospect=prospect, event=EmailEvent.Kind.SENT)
    candidates = [*ids, *(f"<{i}>" for i in ids)]
    known = sent.filter(message_id__in=candidates).values_list("message_id", flat=True).first() if ids else None
    return known or sent.order_by("-occurred_at").values_list("message_id", flat=True).first() or ""


def reply_correct(*, reply: InboundReply, kind: str, user: object | None) -> InboundReply:
    """Staff say the sorter was wrong: the reply takes the kind they chose, keeps the one it was sorted
    as (the ledger counts corrections), and the new kind's effect applies (an unsubscribe makes the
    prospect do-not-contact, a refusal lost, a bounce marks the address). A reply corrected into a
    person's reply is not texted now: the founder is the one who just read it."""
    if kind not in ReplyKind.values:
        raise ValueError(f"unknown reply kind {kind!r}")
    if kind == reply.kind:
        return reply
    with transaction.atomic():
        reply.kind = kind
        reply.undeliverable = kind == ReplyKind.BOUNCE
        reply.corrected_by = user if getattr(user, "pk", None) else None  # type: ignore[assignment]
        reply.corrected_at = timezone.now()
        reply.save(update_fields=["kind", "undeliverable", "corrected_by", "corrected_at"])
        if kind != ReplyKind.PERSON:
            reply_kind_apply(reply=reply)
    return reply
