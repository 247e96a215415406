"""Every periodic job of the product, created idempotently (django-q2's schedule() is not)."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django_q.models import Schedule

from alerts.tasks import (
    read_sms_replies_task,
    relay_deliveries_task,
    retention_task,
    run_detection_cycle_task,
    task_path,
)
from core.ratelimit import purge_expired_counters
from tracking.tasks import read_mailbox_task

DETECTION_SCHEDULE = "arkwatch: detect signals"
PURGE_SCHEDULE = "arkwatch: purge old events"  # and erase inactive prospects (the name stays for upgrades)
RELAY_SCHEDULE = "arkwatch: retry SMS deliveries"
REPLIES_SCHEDULE = "arkwatch: read SMS replies"
COUNTERS_SCHEDULE = "arkwatch: forget expired rate-limit counters"
MAILBOX_SCHEDULE = "arkwatch: read replies in the mailbox (IMAP)"


def ensure_schedules() -> list[str]:
    """Create or update the schedules; never touches next_run, so a deploy does not reset it."""
    changed = []
    detection, created = Schedule.objects.get_or_create(
        name=DETECTION_SCHEDULE,
        defaults={
            "func": task_path(run_detection_cycle_task),
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.DETECTION_INTERVAL_MINUTES,
            "repeats": -1,
        },
    )
    if created or detection.minutes != settings.DETECTION_INTERVAL_MINUTES:
        Schedule.objects.filter(pk=detection.pk).update(minutes=settings.DETECTION_INTERVAL_MINUTES)
        changed.append(DETECTION_SCHEDULE)
    # Expired counters: traffic purges them as it goes; this schedule is for the quiet hours.
    for name, func in ((RELAY_SCHEDULE, relay_deliveries_task), (COUNTERS_SCHEDULE, purge_expired_counters)):
        changed += _every_minute_while(True, name, func)
    # Replies to the alert SMS (OVH_SMS_REPLIES), and to the prospecting emails in the mailbox (IMAP_URL).
    changed += _every_minute_while(bool(settings.OVH_SMS_REPLIES), REPLIES_SCHEDULE, read_sms_replies_task)
    changed += _every_minute_while(bool(settings.IMAP_URL), MAILBOX_SCHEDULE, read_mailbox_task)
    # Old events and inactive prospects, daily (alerts/tasks.py retention_task); a schedule made by an
    # earlier version (purge_events_task) is pointed at it.
    if settings.EVENT_RETENTION_DAYS or settings.PROSPECT_INACTIVE_ERASE_DAYS:
        purge, created = Schedule.objects.get_or_create(
            name=PURGE_SCHEDULE,
            defaults={"func": task_path(retention_task), "schedule_type": Schedule.DAILY, "repeats": -1},
        )
        if created or purge.func != task_path(retention_task):
            Schedule.objects.filter(pk=purge.pk).update(func=task_path(retention_task))
            changed.append(PURGE_SCHEDULE)
    else:
        if Schedule.objects.filter(name=PURGE_SCHEDULE).delete()[0]:
            changed.append(PURGE_SCHEDULE)
    return changed


def _every_minute_while(enabled: bool, name: str, func: Callable[..., Any]) -> list[str]:
    """A one-minute schedule that exists while its setting is on, and is deleted when it goes off."""
    if not enabled:
        return [name] if Schedule.objects.filter(name=name).delete()[0] else []
    _, created = Schedule.objects.get_or_create(
        name=name,
        defaults={"func": task_path(func), "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    return [name] if created else []


def ensure_schedules_after_migrate(using: str = "default", **kwargs: Any) -> None:
    ensure_schedules()
