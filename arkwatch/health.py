"""GET /healthz: is the product able to text the founder right now (database, detection, cluster)."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from alerts.detection import detection_is_late
from alerts.models import Alert, AlertDelivery
from alerts.selectors import unacknowledged_failures
from core.shared_redis import redis_problem


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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, detection ran within 3 intervals, Redis (the broker) answers and
    no alert failed unseen; 503 with the reason otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        last_run, late = detection_is_late()
        day_ago = timezone.now() - timedelta(days=1)
        failed = AlertDelivery.objects.filter(status=AlertDelivery.Status.FAILED, updated_at__gte=day_ago).count()
        queued = Alert.objects.filter(status=Alert.Status.QUEUED).count()
        unseen_failures = unacknowledged_failures().count()
        # Waiting for the provider (an outage): not a failure yet, retried until SMS_GIVE_UP_AFTER_MINUTES.
        retrying = AlertDelivery.objects.filter(status=AlertDelivery.Status.RETRY).count()
    except DatabaseError as exc:
        return JsonResponse({"ok": False, "database": "unreachable", "error": str(exc)[:200]}, status=503)
    # Ingest keeps accepting without Redis (its limits live beside the database), but the operator
    # must know: the broker is down, so tasks wait for it and the SMS with them.
    redis_down = redis_problem()
    body = {
        "ok": not late and not redis_down and not unseen_failures,
        "database": "ok",
        "last_detection_run": last_run.isoformat() if last_run else None,
        "detection_late": late,
        "detection_interval_minutes": settings.DETECTION_INTERVAL_MINUTES,
        "cluster_alive": cluster_alive(late),
        "sms_failed_last_24h": failed,
        "alerts_queued": queued,
        "alerts_failed_unacknowledged": unseen_failures,
        "sms_retrying": retrying,
        "redis": "not configured" if not settings.REDIS_URL else ("unreachable" if redis_down else "ok"),
    }
    failure = unseen_failures and (
        f"{unseen_failures} alert(s) reached nobody (SMS failed); acknowledge or resend them on the hot-leads page"
    )
    reasons = [r for r in (redis_down, late and "detection is more than 3 intervals late", failure) if r]
    if reasons:
        body["reason"] = "; ".join(reasons)
    return JsonResponse(body, status=503 if reasons else 200)
