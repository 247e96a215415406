from django.conf import settings

from tracking.retention import purge_events


def purge_events_task() -> dict:
    """Kept for schedules created before the retention task (alerts/tasks.py retention_task)."""
    return purge_events(older_than_days=settings.EVENT_RETENTION_DAYS) if settings.EVENT_RETENTION_DAYS else {}
