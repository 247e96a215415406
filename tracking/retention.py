from datetime import datetime, timedelta

from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from prospects.models import Prospect
from tracking.models import CtaClick, EmailEvent, InboundReply, ReplyKind, VisitEvent, Visitor


def newest_per_prospect(rows: QuerySet, column: str) -> dict[int, datetime]:
    """{prospect id: the newest `column`} over these rows, in one grouped query."""
    grouped = rows.filter(prospect__isnull=False).values("prospect_id").annotate(last=Max(column))
    return {row["prospect_id"]: row["last"] for row in grouped}


def event_contacts(*, before: datetime | None = None, prospect_ids: list[int] | None = None) -> dict[int, datetime]:
    """Each prospect's newest contact *from them* among the stored events (received before `before`):
    a person's click on a tracked link, a CTA click, a visit that came with their personal link (they
    clicked the email's link to get there). Opens are not contact (alerts/outcomes/inactive.py)."""
    sources: list[tuple[QuerySet, str]] = [
        (EmailEvent.objects.filter(event=EmailEvent.Kind.CLICKED, machine_reason=""), "occurred_at"),
        (CtaClick.objects.filter(is_bot=False), "received_at"),
        (VisitEvent.objects.filter(is_bot=False).exclude(ak=""), "received_at"),
        # A reply they wrote (not a machine's: an auto-reply or a bounce is no contact from them).
        (InboundReply.objects.exclude(kind__in=(ReplyKind.AUTO, ReplyKind.BOUNCE)), "received_at"),
    ]
    newest: dict[int, datetime] = {}
    for rows, column in sources:
        if before is not None:
            rows = rows.filter(received_at__lt=before)
        if prospect_ids is not None:  # only these: the (prospect, time) indexes, not the whole table
            rows = rows.filter(prospect_id__in=prospect_ids)
        for prospect_id, at in newest_per_prospect(rows, column).items():
            newest[prospect_id] = max(at, newest.get(prospect_id, at))
    return newest


def prospects_note_last_contact(*, contacts: dict[int, datetime]) -> int:
    """Move Prospect.last_contact_at forward to these contacts (never backwards); how many moved."""
    known = dict(Prospect.objects.filter(pk__in=contacts).values_list("pk", "last_contact_at"))
    moved = 0
    for prospect_id, at in contacts.items():
        if prospect_id not in known:
            continue
        previous = known[prospect_id]
        if previous is None or at > previous:
            moved += Prospect.objects.filter(pk=prospect_id).update(last_contact_at=at)
    return moved


def events_purge(*, older_than_days: int, dry_run: bool = False) -> dict[str, int]:
    """Delete events received more than N days ago (GDPR retention), then the visitors first seen
    before then that have no event left (their email given and match evidence with them). Alerts keep
    their evidence. The newest contact from each prospect among the deleted events is kept first, on
    the prospect (last_contact_at): inactive prospects are erased three years after it, not after the
    13 months events live."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    if not dry_run:
        prospects_note_last_contact(contacts=event_contacts(before=cutoff))
    counts: dict[str, int] = {}
    # Replies hold people's own words: kept no longer than the events.
    for model in (VisitEvent, CtaClick, EmailEvent, InboundReply):
        old = model.objects.filter(received_at__lt=cutoff)
        counts[model._meta.label_lower.split(".")[1]] = old.count() if dry_run else old.delete()[0]
    # Events since the cutoff are the ones left (or, in a dry run, the ones that would be).
    recent = [
        Exists(model.objects.filter(visitor_id=OuterRef("visitor_id"), received_at__gte=cutoff))
        for model in (VisitEvent, CtaClick)
    ]
    empty = Visitor.objects.filter(first_seen_at__lt=cutoff).exclude(recent[0]).exclude(recent[1])
    counts["visitor"] = empty.count() if dry_run else empty.delete()[0]
    return counts
