"""What staff do to an alert from the hot-leads page: release or dismiss a held one, resend a failed
one, acknowledge a failure. Each returns False when the alert is not in the state the action needs
(someone else acted first), so a double click does nothing twice."""

from django.db import transaction
from django.utils import timezone

from alerts.outbox.admission import alert_text_unless_throttled
from alerts.outbox.delivery import failed_deliveries_retry
from alerts.outbox.models import Alert


def alert_release(*, alert: Alert) -> bool:
    """A held alert is a real lead after all: text it now. The cooldown still applies, not the hourly
    budget (someone chose to send it)."""
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, status=Alert.Status.HELD).update(status=Alert.Status.QUEUED):
            return False
        alert.refresh_from_db()
        alert_text_unless_throttled(
            alert=alert, prospect=alert.prospect, now=timezone.now(), throttled=True, budget=False
        )
    return True


def alert_dismiss(*, alert: Alert) -> bool:
    """A held alert was not a person's intent: keep it, text nobody."""
    return bool(Alert.objects.filter(pk=alert.pk, status=Alert.Status.HELD).update(status=Alert.Status.DISMISSED))


def alert_resend(*, alert: Alert) -> bool:
    """Try a failed alert's messages again. Still never twice: a row whose last try may have left is
    checked with the provider by tag first (alerts/outbox/delivery.py). False when nothing failed."""
    with transaction.atomic():
        if not failed_deliveries_retry(alert):
            return False
        Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.QUEUED, failure_acknowledged_at=None)
    return True


def alert_failure_acknowledge(*, alert: Alert) -> bool:
    """Someone saw that this alert reached nobody: /healthz stops reporting it."""
    return bool(
        Alert.objects.filter(pk=alert.pk, status=Alert.Status.FAILED, failure_acknowledged_at__isnull=True).update(
            failure_acknowledged_at=timezone.now()
        )
    )
