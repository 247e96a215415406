"""Nothing kept forever: a prospect who has not reached out for PROSPECT_INACTIVE_ERASE_DAYS (1095, three
years, the CNIL's usual term for B2B prospects) is erased as `forget_prospect` erases (tracking/privacy.py).

"Reached out" means contact *from them*: a click by a person (a tracked link in an email, a CTA on the
landing page, a visit through their personal link), a reply (the email_reply signal), a booking, an
answered call, or their own answer about tracking (the consent or opt-out link, an unsubscribe). Opens
do not count: a pixel says an email was displayed, not that someone wanted anything. A prospect nobody
heard from is counted from the day they were added.

Events are kept EVENT_RETENTION_DAYS (395) only, fewer than three years: before the purge deletes them,
it carries each prospect's newest contact over to `Prospect.last_contact_at` (tracking/retention.py),
so a click two years ago still keeps them after its event is gone.
This lives in alerts because answered calls and replies are the alerts app's.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from alerts.outbox.models import Alert
from alerts.outcomes.models import Call, CallOutcome
from prospects.models import ConsentChange, ConsentSource, Prospect
from tracking.models import Meeting
from tracking.privacy import prospect_forget
from tracking.retention import event_contacts, newest_per_prospect

# A call that reached them: they answered (the ledger's "reached" outcomes).
ANSWERED = (CallOutcome.REACHED, CallOutcome.MEETING_BOOKED, CallOutcome.NOT_INTERESTED)
# Their own answers about tracking; an import column or staff by hand are not theirs.
THEIR_ANSWERS = (
    ConsentSource.CONSENT_LINK,
    ConsentSource.OPTOUT_LINK,
    ConsentSource.EMAIL_PROVIDER,
    ConsentSource.EMAIL_REPLY,
)
# A person answering a prospecting email (docs/interface.md §3); the signal of the replies module.
EMAIL_REPLY = "email_reply"


def contacts_from_them(*, prospect_ids: list[int] | None = None) -> dict[int, datetime]:
    """Each prospect's (or these prospects') newest contact from them in every row still stored: the
    events (before retention deletes them), bookings, answered calls, replies, their answers about
    tracking."""
    newest = event_contacts(prospect_ids=prospect_ids)
    durable: list[tuple[QuerySet, str]] = [
        (Meeting.objects.all(), "booked_at"),
        (Call.objects.filter(outcome__in=ANSWERED), "called_at"),
        (Alert.objects.filter(signal=EMAIL_REPLY), "occurred_at"),
        (ConsentChange.objects.filter(source__in=THEIR_ANSWERS), "changed_at"),
    ]
    for rows, column in durable:
        if prospect_ids is not None:
            rows = rows.filter(prospect_id__in=prospect_ids)
        for prospect_id, at in newest_per_prospect(rows, column).items():
            newest[prospect_id] = max(at, newest.get(prospect_id, at))
    return newest


@dataclass(frozen=True)
class InactiveProspect:
    prospect: Prospect
    last_contact_at: datetime | None  # None: never heard from them
    silent_since: datetime  # the last contact, or when they were added
    alerts: int
    calls: int
    meetings: int

    @property
    def silent_days(self) -> int:
        return (timezone.now() - self.silent_since).days


def inactive_prospects(*, now: datetime | None = None, days: int | None = None) -> list[InactiveProspect]:
    """Who goes now: silent for `days` (PROSPECT_INACTIVE_ERASE_DAYS; 0 = never) since their last contact
    or, if none, since they were added; oldest silence first. Reads the live rows too, so a click made
    since the last daily run keeps them."""
    days = settings.PROSPECT_INACTIVE_ERASE_DAYS if days is None else days
    if days <= 0:
        return []
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    candidates = list(
        Prospect.objects.filter(created_at__lt=cutoff).exclude(last_contact_at__gte=cutoff).order_by("created_at", "pk")
    )
    live = contacts_from_them(prospect_ids=[p.pk for p in candidates]) if candidates else {}
    found = []
    for prospect in candidates:
        known = [at for at in (prospect.last_contact_at, live.get(prospect.pk)) if at is not None]
        last = max(known) if known else None
        silent_since = max(prospect.created_at, last) if last else prospect.created_at
        if silent_since < cutoff:
            found.append(
                InactiveProspect(
                    prospect=prospect,
                    last_contact_at=last,
                    silent_since=silent_since,
                    alerts=Alert.objects.filter(prospect=prospect).count(),
                    calls=Call.objects.filter(prospect=prospect).count(),
                    meetings=Meeting.objects.filter(prospect=prospect).count(),
                )
            )
    return sorted(found, key=lambda item: item.silent_since)


@dataclass(frozen=True)
class ErasureReport:
    erased: int
    alerts: int
    calls: int
    meetings: int

    def as_dict(self) -> dict[str, int]:
        return {"erased": self.erased, "alerts": self.alerts, "calls": self.calls, "meetings": self.meetings}


def inactive_prospects_erase(
    *, now: datetime | None = None, gone: list[InactiveProspect] | None = None
) -> ErasureReport:
    """Erase every inactive prospect as forget_prospect does: its row, email events, alerts, calls and
    meetings go; its visits and clicks stay, anonymous. The funnel, ledger and charts count what is
    left: docs/privacy.md says which of their numbers an erasure lowers."""
    gone = inactive_prospects(now=now) if gone is None else gone  # `gone`: the list a caller just showed
    for item in gone:
        prospect_forget(prospect=item.prospect)
    return ErasureReport(
        erased=len(gone),
        alerts=sum(item.alerts for item in gone),
        calls=sum(item.calls for item in gone),
        meetings=sum(item.meetings for item in gone),
    )
