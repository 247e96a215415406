"""Where intake meets detection: receivers of tracking's signals (tracking/announcements.py), connected in
AlertsConfig.ready(). They run in the request, after its commit, so they only decide and enqueue."""

from datetime import datetime
from typing import Any

from alerts.outbox.admission import alerts_consent_withdraw
from alerts.signals.dwell import page_view_crossed_threshold
from alerts.tasks import detection_enqueue
from prospects.models import ConsentChange, ConsentState, Prospect


def detect_now(*, reason: str, **kwargs: Any) -> None:
    detection_enqueue(reason)


def detect_when_dwell_crossed(
    *,
    page_view_id: str,
    received_at: datetime,
    engaged_ms: int | None = None,
    event: str = "",
    heartbeat_s: float | None = None,
    **kwargs: Any,
) -> None:
    if page_view_crossed_threshold(
        page_view_id, received_at, engaged_ms, opens=event == "pageview", heartbeat_s=heartbeat_s
    ):
        detection_enqueue("dwell")


def stop_alerts_on_refusal(*, instance: ConsentChange, created: bool, **kwargs: Any) -> None:
    """A refusal (the opt-out link, staff) takes effect at once, in its transaction. A refusal that comes
    with do-not-contact (an unsubscribe, a complaint) is left to that status: its waiting alerts are muted
    where they would leave (digest, summary, release), and hot leads says why."""
    if not created or instance.state != ConsentState.REFUSED:
        return
    if not Prospect.objects.filter(pk=instance.prospect_id, status=Prospect.Status.DO_NOT_CONTACT).exists():
        alerts_consent_withdraw(prospect_id=instance.prospect_id)
