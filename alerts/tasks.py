"""django-q2 tasks: thin wrappers over the services, and how the app enqueues them."""

import logging

from django_q.tasks import async_task

from alerts.detection import prune_detection_runs, run_detection_cycle
from alerts.services import alert_deliver

logger = logging.getLogger(__name__)


def run_detection_cycle_task(trigger: str = "schedule") -> dict:
    report = run_detection_cycle(trigger=trigger)
    if trigger == "schedule":
        prune_detection_runs()
    return {"signals": len(report.signals), "alerts": len(report.alerts)}


def deliver_alert_task(alert_id: int) -> str:
    return alert_deliver(alert_id=alert_id)


def enqueue_detection(reason: str) -> None:
    """Ask for a cycle now (an event may have completed a signal). Never fails the caller: the
    scheduled cycle is the safety net if the broker is briefly unavailable."""
    try:
        async_task("alerts.tasks.run_detection_cycle_task", reason, task_name=f"detect:{reason}", group="detection")
    except Exception:
        logger.exception("could not enqueue detection (%s); the scheduled cycle will catch up", reason)


def enqueue_delivery(alert_id: int) -> None:
    try:
        async_task("alerts.tasks.deliver_alert_task", alert_id, task_name=f"deliver:{alert_id}", group="delivery")
    except Exception:
        logger.exception("could not enqueue delivery of alert %s; the next cycle relays it", alert_id)
