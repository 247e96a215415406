"""django-q2 tasks of the alerts app: thin wrappers over the services, and how they are queued.

Tasks are queued as function objects (django-q2 pickles the reference), so the path from an event to
a worker reads in the imports; the schedule's dotted path is derived from the same function
(`task_path`), never written by hand.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django_q.tasks import async_task

from alerts.cycle import detection_cycle_run, detection_runs_prune
from alerts.outbox.delivery import deliveries_left_behind_relay
from alerts.outbox.receipts import receipts_check
from alerts.outbox.reminders import reminders_send
from alerts.outcomes.callbacks import callbacks_send
from alerts.outcomes.inactive import inactive_prospects_erase
from alerts.outcomes.replies import sms_replies_read
from core.ratelimit import claim, held, release
from tracking.retention import events_purge

logger = logging.getLogger(__name__)


def task_path(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


# Detection coalesces (issue 18, point 2). Events ask for *a* cycle: the first asker claims WANTED in
# core's shared store and queues one task; until a cycle takes the request, later askers find it
# claimed and queue nothing, so at most one detection task waits however many events arrive. One
# cycle runs at a time (RUNNING): a task that finds a cycle running leaves, and the runner, which
# takes each request as it starts a cycle, runs again for a request made while it ran. So detection
# holds at most one worker, and the others deliver SMS, whose tasks never queue behind a pile of
# detection tasks. An event that asks while a cycle runs queues nothing: the runner takes the request.
WANTED = "detection:wanted"
RUNNING = "detection:running"
# A runner hands over (queues itself again) after this long, well within django-q2's task timeout.
RUNNER_SECONDS = 60
# RUNNING outlives a runner killed mid-cycle by at most the task timeout; WANTED outlives a lost task
# by one detection interval, as the scheduled cycle would.
RUNNING_TTL_SECONDS = 130


def _wanted_ttl() -> float:
    return settings.DETECTION_INTERVAL_MINUTES * 60


def run_detection_cycle_task(trigger: str = "schedule") -> dict[str, int]:
    """The scheduled cycle: asks for a cycle like any event, then runs it unless one is running (that
    one then runs again for it)."""
    claim(WANTED, _wanted_ttl())
    result = run_requested_detection_task(trigger)
    if trigger == "schedule":
        detection_runs_prune()
    return result


def run_requested_detection_task(trigger: str = "schedule") -> dict[str, int]:
    """Run cycles while they are asked for, one process at a time, for at most RUNNER_SECONDS."""
    totals = {"cycles": 0, "signals": 0, "alerts": 0}
    started = time.monotonic()
    while claim(RUNNING, RUNNING_TTL_SECONDS) is not False:  # None: the store failed, run anyway
        try:
            while True:
                # The request is taken before the cycle starts: an event after this asks for the next.
                taken = release(WANTED)
                if taken is False:
                    break
                report = detection_cycle_run(trigger=trigger)
                totals["cycles"] += 1
                totals["signals"] += len(report.signals)
                totals["alerts"] += len(report.alerts)
                if taken is None or time.monotonic() - started > RUNNER_SECONDS:
                    break  # the store failed (one cycle, as before coalescing), or it is time to hand over
        finally:
            release(RUNNING)
        # A request made while this runner held RUNNING found it running and left it the work.
        if not held(WANTED):
            break
        if time.monotonic() - started > RUNNER_SECONDS:
            _queue_detection(trigger)  # behind the tasks queued meanwhile (SMS among them)
            break
    return totals


def relay_deliveries_task() -> int:
    """Every minute: queue the reminders and call-backs that are due, hand over the SMS whose time has come (a retry
    after an outage, a summary, the digest at the end of quiet hours) and those a dead worker left
    behind, and ask for the handset receipts still open."""
    reminders_send()
    callbacks_send()
    relayed = deliveries_left_behind_relay()
    receipts_check()
    return relayed


def read_sms_replies_task() -> int:
    """Every minute with OVH_SMS_REPLIES: replies to the alert SMS become calls."""
    return sms_replies_read().calls


def detection_enqueue(reason: str) -> None:
    """Ask for a cycle now (an event may have completed a signal): queue one unless a cycle is already
    asked for and not yet started. Never fails the caller: the scheduled cycle is the safety net if
    the broker is briefly unavailable."""
    if claim(WANTED, _wanted_ttl()) is False:
        return  # the cycle asked for earlier has not started: it will read this event
    if held(RUNNING):
        # The runner looks for a request after it releases RUNNING, and this checks RUNNING after
        # making the request: whatever the interleaving, one of the two sees the other, so nothing
        # is lost — and a flood costs no task per cycle, each leaving at once.
        return
    if not _queue_detection(reason):
        release(WANTED)  # nothing will take it: let the next event ask again


def _queue_detection(reason: str) -> bool:
    try:
        async_task(run_requested_detection_task, reason, task_name=f"detect:{reason}", group="detection")
    except Exception:
        logger.exception("could not enqueue detection (%s); the scheduled cycle will catch up", reason)
        return False
    return True


def retention_task() -> dict[str, Any]:
    """Daily: events older than EVENT_RETENTION_DAYS go (each prospect's last contact kept first), then
    prospects silent for PROSPECT_INACTIVE_ERASE_DAYS are erased (alerts/outcomes/inactive.py). Either 0: skipped."""
    done: dict[str, Any] = {}
    if settings.EVENT_RETENTION_DAYS:
        done["events"] = events_purge(older_than_days=settings.EVENT_RETENTION_DAYS)
    if settings.PROSPECT_INACTIVE_ERASE_DAYS:
        done["inactive_prospects"] = inactive_prospects_erase().as_dict()
    logger.info("retention: %s", done)
    return done
