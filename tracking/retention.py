from datetime import timedelta

from django.utils import timezone

from tracking.models import CtaClick, EmailEvent, VisitEvent


def purge_events(*, older_than_days: int, dry_run: bool = False) -> dict[str, int]:
    """Delete events received more than N days ago (GDPR retention). Alerts keep their evidence."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    counts: dict[str, int] = {}
    for model in (VisitEvent, CtaClick, EmailEvent):
        old = model.objects.filter(received_at__lt=cutoff)
        counts[model._meta.label_lower.split(".")[1]] = old.count() if dry_run else old.delete()[0]
    return counts
