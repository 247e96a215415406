from django.conf import settings

from tracking.replies.imap import mailbox_poll
from tracking.retention import events_purge


def purge_events_task() -> dict:
    """Kept for schedules created before the retention task (alerts/tasks.py retention_task)."""
    return events_purge(older_than_days=settings.EVENT_RETENTION_DAYS) if settings.EVENT_RETENTION_DAYS else {}


def read_mailbox_task() -> dict:
    """Every minute with IMAP_URL: the replies that arrived in the founder's mailbox."""
    return mailbox_poll().as_dict()
