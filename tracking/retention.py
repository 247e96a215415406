from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from tracking.models import CtaClick, EmailEvent, VisitEvent, Visitor


def purge_events(*, older_than_days: int, dry_run: bool = False) -> dict[str, int]:
    """Delete events received more than N days ago (GDPR retention), then the visitors first seen
    before then that have no event left (their email given and match evidence with them). Alerts keep
    their evidence."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    counts: dict[str, int] = {}
    for model in (VisitEvent, CtaClick, EmailEvent):
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
