"""django-q2 tasks of the alerts app: thin wrappers over the services, and how they are queued.

Tasks are queued as function objects (django-q2 pickles the reference), so the path from an event to
a worker reads in the imports; the schedule's dotted path is derived from the same function
(`task_path`), never written by hand.
"""

import logging
from collections.abc import Callable
from typing import Any

from django_q.tasks import async_task

from alerts.delivery import relay_left_behind_deliveries
from alerts.detection import prune_detection_runs, run_detection_cycle
from alerts.receipts import receipts_check
from alerts.reminders import reminders_send
from alerts.replies import sms_replies_read

logger = logging.getLogger(__name__)


def task_path(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def run_detection_cycle_task(trigger: str = "schedule") -> dict[str, int]:
    report = run_detection_cycle(trigger=trigger)
    if trigger == "schedule":
        prune_detection_runs()
    return {"signals": len(report.signals), "alerts": len(report.alerts)}


def relay_deliveries_task() -> int:
    """Every minute: queue the reminders that are due, hand over the SMS whose time has come (a retry
    after an outage, a summary, the digest at the end of quiet hours) and those a dead worker left
    behind, and ask for the handset receipts still open."""
    reminders_send()
    relayed = relay_left_behind_deliveries()
    receipts_check()
    return relayed


def read_sms_replies_task() -> int:
    """Every minute with OVH_SMS_REPLIES: replies to the alert SMS become calls."""
    return sms_replies_read().calls


def enqueue_detection(reason: str) -> None:
    """Ask for a cycle now (an event may have completed a signal). Never fails the caller: the
    scheduled cycle is the safety net if the broker is briefly unavailable."""
    try:
        async_task(run_detection_cycle_task, reason, task_name=f"detect:{reason}", group="detection")
    except Exception:
        logger.exception("could not enqueue detection (%s); the scheduled cycle will catch up", reason)
