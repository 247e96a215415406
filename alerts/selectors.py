"""Reads of the alerts app: the live monitoring state (`monitoring_status`: counts, the last cycle, every lead)."""

from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from alerts.cycle import detection_is_late
from alerts.outbox.models import Alert, AlertDelivery
from alerts.outcomes.ledger import ledger
from alerts.signals.models import DetectionRun
from prospects.models import Prospect


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def monitoring_status() -> dict:
    last_run, late = detection_is_late()
    first = DetectionRun.objects.aggregate(first=Min("started_at"))["first"]
    counts = Alert.objects.aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status=Alert.Status.SENT)),
        failed=Count("pk", filter=Q(status=Alert.Status.FAILED)),
    )
    leads: dict[int, dict] = {}
    alerts = Alert.objects.select_related("prospect", "call").order_by("-occurred_at")
    for alert in alerts.iterator(chunk_size=500):
        prospect = alert.prospect
        lead = leads.setdefault(
            prospect.pk,
            {
                "prospect_id": prospect.pk,
                "prospect": prospect.name or prospect.email,
                "email": prospect.email,
                "company": prospect.company,
                "phone": prospect.phone,
                "status": prospect.status,
                "signals": [],
                "acknowledged": True,
            },
        )
        lead["signals"].append(
            {
                "signal": alert.signal,
                "at": _iso(alert.occurred_at),
                "alert_id": alert.pk,
                "alert_status": alert.status,
                "acknowledged_at": _iso(alert.call.called_at) if alert.call else None,
                "call_outcome": alert.call.outcome if alert.call else None,
                "evidence": alert.evidence,
            }
        )
        lead["acknowledged"] = lead["acknowledged"] and alert.call_id is not None
    return {
        "monitoring_start": _iso(first),
        "total_prospects_tracked": Prospect.objects.exclude(status=Prospect.Status.DO_NOT_CONTACT).count(),
        "hot_signals_detected": counts["total"],
        "alerts_sent": counts["sent"],
        "alerts_failed": counts["failed"],
        "sms_deliveries_failed": AlertDelivery.objects.filter(status=AlertDelivery.Status.FAILED).count(),
        "last_detection_run": _iso(last_run),
        "detection_late": late,
        "generated_at": _iso(timezone.now()),
        "leads": list(leads.values()),
        # From signal to meeting, per signal type and per call opener (alerts/outcomes/ledger.py).
        "ledger": ledger().as_dict(),
    }


def unacknowledged_failures() -> "QuerySet[Alert]":
    """Alerts that reached nobody and that nobody has seen since: a call recorded for it counts."""
    return Alert.objects.filter(status=Alert.Status.FAILED, failure_acknowledged_at__isnull=True, call__isnull=True)
