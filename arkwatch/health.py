"""GET /healthz: is the product able to text the founder right now (database, detection, cluster)."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from alerts.detection import detection_is_late
from alerts.models import Alert, AlertDelivery


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
    """200 when the database answers and detection ran within 3 intervals; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        last_run, late = detection_is_late()
        day_ago = timezone.now() - timedelta(days=1)
        failed = AlertDelivery.objects.filter(status=AlertDelivery.Status.FAILED, updated_at__gte=day_ago).count()
        queued = Alert.objects.filter(status=Alert.Status.QUEUED).count()
    except DatabaseError as exc:
        return JsonResponse({"ok": False, "database": "unreachable", "error": str(exc)[:200]}, status=503)
    body = {
        "ok": not late,
        "database": "ok",
        "last_detection_run": last_run.isoformat() if last_run else None,
        "detection_late": late,
        "detection_interval_minutes": settings.DETECTION_INTERVAL_MINUTES,
        "cluster_alive": cluster_alive(late),
        "sms_failed_last_24h": failed,
        "alerts_queued": queued,
    }
    return JsonResponse(body, status=503 if late else 200)
