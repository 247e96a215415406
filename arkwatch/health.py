"""GET /healthz: is the product able to text the founder right now (database, detection, cluster).

It says "down" (503) only for a real failure, never because a burst made a check slow: a check that
fails is tried once more after a short pause (a busy SQLite file or a full PostgreSQL connection pool
clears in milliseconds; a database that is down fails twice), and a deployment whose first scheduled
cycle has not run yet is late only once its schedule is more than 3 intervals overdue (a fresh start
is not an outage). The public answer names the failed checks (`reasons`); the error text, which may
hold hosts and user names, goes to the log only. The live counters (SMS failed, alerts queued…) say
how the founder's pipeline is doing: only a caller with `Authorization: Bearer <TRACKING_API_KEY>`
(the operator's monitor) reads them.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_q.models import Schedule

from alerts.cycle import detection_is_late
from alerts.outbox.models import Alert, AlertDelivery
from alerts.selectors import unacknowledged_failures
from arkwatch.schedules import DETECTION_SCHEDULE
from core.bearer import carries_bearer_key
from core.shared_redis import redis_problem

logger = logging.getLogger(__name__)

# How long a failed check waits before its second try.
RETRY_PAUSE_SECONDS = 0.25
T = TypeVar("T")


def cluster_alive(detection_late: bool) -> bool:
    """With the Redis broker each cluster publishes its stats there; otherwise (ORM broker and a
    per-process cache) the best evidence is the scheduler's own work: a fresh detection run."""
    if settings.REDIS_URL:
        from django_q.status import Stat

        try:
            return any(stat.status != "Stopped" for stat in Stat.get_all())
        except Exception:
            return False
    return not detection_late


def _twice(check: Callable[[], T]) -> T:
    """A check's answer, asked once more after a pause if the first try failed."""
    try:
        return check()
    except DatabaseError:
        time.sleep(RETRY_PAUSE_SECONDS)
        return check()


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _detection_state() -> tuple[datetime | None, bool]:
    """(last finished run, late?). With no run yet, late only when the detection schedule itself is
    more than 3 intervals overdue (or missing): right after a deploy, the first cycle is ~30 s away."""
    last_run, late = detection_is_late()
    if last_run is None:
        next_run = Schedule.objects.filter(name=DETECTION_SCHEDULE).values_list("next_run", flat=True).first()
        overdue = timedelta(minutes=3 * settings.DETECTION_INTERVAL_MINUTES)
        late = next_run is None or timezone.now() - next_run > overdue
    return last_run, late


def _redis_problem() -> str | None:
    problem = redis_problem()
    if problem:
        time.sleep(RETRY_PAUSE_SECONDS)
        problem = redis_problem()
    return problem


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, detection ran within 3 intervals, Redis (the broker) answers and
    no alert failed unseen; 503 with the failed checks' names otherwise."""
    try:
        _twice(_select_one)
        last_run, late = _twice(_detection_state)
        day_ago = timezone.now() - timedelta(days=1)
        failed, queued, unseen_failures, retrying = _twice(
            lambda: (
                AlertDelivery.objects.filter(status=AlertDelivery.Status.FAILED, updated_at__gte=day_ago).count(),
                Alert.objects.filter(status=Alert.Status.QUEUED).count(),
                unacknowledged_failures().count(),
                # Waiting for the provider (an outage): not a failure yet, retried until SMS_GIVE_UP_AFTER_MINUTES.
                AlertDelivery.objects.filter(status=AlertDelivery.Status.RETRY).count(),
            )
        )
    except DatabaseError:
        logger.exception("healthz: the database did not answer twice")
        return JsonResponse(
            {
                "ok": False,
                "database": "unreachable",
                "reasons": ["database_unreachable"],
                "reason": "database_unreachable",
            },
            status=503,
        )
    # Ingest keeps accepting without Redis (its limits live beside the database), but the operator
    # must know: the broker is down, so tasks wait for it and the SMS with them.
    redis_down = _redis_problem()
    if redis_down:
        logger.error("healthz: %s", redis_down)
    if unseen_failures:
        logger.error(
            "healthz: %s alert(s) reached nobody (SMS failed); acknowledge or resend them on the hot-leads page",
            unseen_failures,
        )
    reasons = [
        name
        for name, failing in (
            ("redis_unreachable", redis_down),
            ("detection_late", late),
            ("alerts_failed_unacknowledged", unseen_failures),
        )
        if failing
    ]
    body = {
        "ok": not reasons,
        "database": "ok",
        "last_detection_run": last_run.isoformat() if last_run else None,
        "detection_late": late,
    }
    if carries_bearer_key(request, settings.TRACKING_API_KEY):
        body |= {
            "detection_interval_minutes": settings.DETECTION_INTERVAL_MINUTES,
            "cluster_alive": cluster_alive(late),
            "sms_failed_last_24h": failed,
            "alerts_queued": queued,
            "alerts_failed_unacknowledged": unseen_failures,
            "sms_retrying": retrying,
            "redis": "not configured" if not settings.REDIS_URL else ("unreachable" if redis_down else "ok"),
        }
    if reasons:
        body["reasons"] = reasons
        body["reason"] = ", ".join(reasons)
    return JsonResponse(body, status=503 if reasons else 200)
