from django.conf import settings

from tracking.retention import purge_events


def purge_events_task() -> dict:
    return purge_events(older_than_days=settings.EVENT_RETENTION_DAYS)
