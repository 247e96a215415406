"""The one seam between intake and detection.

`tracking` never imports `alerts`: when an event it stored may complete a signal, it sends one of
these Django signals after the event's transaction commits, and whoever detects signals listens.
`alerts.apps.AlertsConfig.ready()` connects the receivers (the project's wiring); with no receiver
connected, events are stored and the scheduled detection cycle still finds them.
"""

from datetime import datetime

from django.db import transaction
from django.dispatch import Signal

from tracking.models import VisitEvent

# Sent with reason="cta" | "email_open" | "identify" | "manual_link" | "meeting" | "reply": look for
# signals now. Received by alerts/receivers.py `detect_now` (connected in alerts/apps.py).
event_stored = Signal()

# Sent for every human page-view event with page_view_id, received_at, the browser's engaged_ms
# (None when the snippet does not report it), the event's kind ("pageview" opens a page view) and the
# tracker's period (heartbeat_s, None from old snippets), so
# that dwell detection can notice the event that carries the page view across its threshold. Nearly
# every request the product gets sends it: its receivers are looked up once (use_caching), which
# needs a sender that can be weakly referenced (VisitEvent). Received by alerts/receivers.py
# `detect_when_dwell_crossed` (connected in alerts/apps.py).
page_view_event_stored = Signal(use_caching=True)


def announce_event(reason: str) -> None:
    """After commit: a receiver that enqueues work must find the row this request wrote."""
    transaction.on_commit(lambda: event_stored.send(sender=None, reason=reason))


def announce_page_view_event(
    page_view_id: str,
    received_at: datetime,
    engaged_ms: int | None = None,
    event: str = "heartbeat",
    heartbeat_s: float | None = None,
) -> None:
    transaction.on_commit(
        lambda: page_view_event_stored.send(
            sender=VisitEvent,
            page_view_id=page_view_id,
            received_at=received_at,
            engaged_ms=engaged_ms,
            event=event,
            heartbeat_s=heartbeat_s,
        )
    )
