"""Store what a provider's webhook reported: each event once, about prospects only."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.client import ClientInfo, anonymize_ip
from prospects.do_not_contact import prospect_do_not_contact
from prospects.models import ConsentSource, Prospect
from tracking.models import EmailEvent, WebhookUnknownRecipients
from tracking.services import email_event_record
from tracking.webhooks.events import ProviderEvent

# Opens and clicks are judged like the pixel's (a ClientInfo from the provider's ip and user agent);
# a delivery or a bounce says nothing about who fetched what.
ENGAGEMENT = (EmailEvent.Kind.OPENED, EmailEvent.Kind.CLICKED)


@dataclass(frozen=True)
class RecordOutcome:
    """What recording a delivery came to, for every intake that answers with counts (the email and
    booking webhooks, the inbound replies and the mailbox poll): stored, duplicates (stored before),
    unknown (about nobody the product knows: counted, never kept). The answer names the unknown after
    who they are (docs/interface.md): `unknown_recipients` for events, `unknown_senders` for replies."""

    stored: int = 0
    duplicates: int = 0
    unknown: int = 0

    def as_dict(self, unknown: str = "unknown_recipients") -> dict[str, int]:
        return {"stored": self.stored, "duplicates": self.duplicates, unknown: self.unknown}

    def __add__(self, other: "RecordOutcome") -> "RecordOutcome":
        return RecordOutcome(
            self.stored + other.stored, self.duplicates + other.duplicates, self.unknown + other.unknown
        )


def provider_events_record(*, provider: str, events: list[ProviderEvent]) -> RecordOutcome:
    emails = {event.email for event in events}
    prospects = {p.email: p for p in Prospect.objects.filter(email__in=emails)} if emails else {}
    known = {event.key for event in events if event.email in prospects}
    seen = set(EmailEvent.objects.filter(provider_event_id__in=known).values_list("provider_event_id", flat=True))
    stored = duplicates = unknown = 0
    for event in events:
        prospect = prospects.get(event.email)
        if prospect is None:
            unknown += 1
            continue
        if event.key in seen:
            duplicates += 1
            continue
        seen.add(event.key)  # the same event twice in one batch
        if _record(prospect, event, provider=provider):
            stored += 1
        else:
            duplicates += 1
    if unknown:
        webhook_unknown_recipients_count(provider=provider, count=unknown)
    return RecordOutcome(stored=stored, duplicates=duplicates, unknown=unknown)


def _record(prospect: Prospect, event: ProviderEvent, *, provider: str) -> bool:
    engagement = event.kind in ENGAGEMENT
    try:
        # A savepoint: a concurrent delivery of the same event that inserted first makes this INSERT
        # fail on the unique provider_event_id, and only this one event is undone (its "stop" with it:
        # the delivery that inserted first has recorded it).
        with transaction.atomic():
            email_event_record(
                prospect=prospect,
                message_id=event.message_id,
                event=event.kind,
                occurred_at=event.occurred_at,
                source=EmailEvent.Source.WEBHOOK,
                client=ClientInfo(ip=event.ip, user_agent=event.user_agent) if engagement else None,
                url=event.url if event.kind == EmailEvent.Kind.CLICKED else "",
                provider_event_id=event.key,
                provider_machine_reason=event.machine_reason if engagement else "",
            )
            if event.kind in EmailEvent.OPT_OUTS:
                # The person said stop: honoured in this delivery, with its proof (docs/privacy.md).
                prospect_do_not_contact(
                    prospect=prospect,
                    source=ConsentSource.EMAIL_PROVIDER,
                    detail=f"{provider}:{event.provider_event}",
                    # Where the person clicked "unsubscribe", when the provider says (SendGrid's
                    # group_unsubscribe, Mailgun's unsubscribed), truncated like every network we keep.
                    network=anonymize_ip(event.ip) or "",
                    at=event.occurred_at,
                )
    except IntegrityError:
        return False
    return True


def webhook_unknown_recipients_count(*, provider: str, count: int) -> None:
    now = timezone.now()
    row, _created = WebhookUnknownRecipients.objects.get_or_create(provider=provider, day=timezone.localdate(now))
    # F(): two deliveries counting at once both count.
    WebhookUnknownRecipients.objects.filter(pk=row.pk).update(count=F("count") + count, last_seen_at=now)
