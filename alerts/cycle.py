"""One detection cycle, step by step: match new visitors and find the signals new evidence completes
(alerts/signals/detection.py `signals_find`), then record each new one as an alert and decide its SMS
(alerts/outbox/admission.py `alert_record_signal`, which hands the SMS to the outbox's worker when its
transaction commits: alerts/outbox/delivery.py `delivery_enqueue`).

Idempotent and safe in parallel: each signal has an evidence key with a unique constraint, and the
SMS cooldown is a conditional UPDATE (alerts/outbox/admission.py). Running it twice changes nothing.
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from alerts.outbox.admission import alert_record_signal
from alerts.outbox.models import Alert
from alerts.signals.detected import DetectedSignal
from alerts.signals.detection import signals_find
from alerts.signals.models import DetectionRun

# Covers the gap between an event's received_at (set in the request) and its commit.
WINDOW_OVERLAP = timedelta(seconds=60)


@dataclass
class CycleReport:
    started_at: datetime
    window_start: datetime | None
    window_end: datetime
    dry_run: bool
    events_scanned: int = 0
    visitors_matched: int = 0
    signals: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("started_at", "window_start", "window_end"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def _cursor() -> datetime | None:
    # The newest window first, on its index: the unfinished ones (one running) are skipped, not scanned.
    finished = DetectionRun.objects.filter(finished_at__isnull=False).order_by("-window_end")
    last = finished.values_list("window_end", flat=True).first()
    return last - WINDOW_OVERLAP if last else None


def detection_cycle_run(*, dry_run: bool = False, trigger: str = "manual", now: datetime | None = None) -> CycleReport:
    """Run one cycle. With dry_run everything happens inside a transaction that is rolled back:
    nothing is written and, since on_commit callbacks are dropped, nothing is sent."""
    now = now or timezone.now()
    window_start = _cursor()
    report = CycleReport(started_at=now, window_start=window_start, window_end=now, dry_run=dry_run)
    if dry_run:
        with transaction.atomic():
            _detect_and_record(report, now, dry_run=True)
            transaction.set_rollback(True)
        return report
    run = DetectionRun.objects.create(started_at=now, window_start=window_start, window_end=now, trigger=trigger)
    try:
        _detect_and_record(report, now, dry_run=False)
    except Exception as exc:
        DetectionRun.objects.filter(pk=run.pk).update(error=repr(exc)[:2000], finished_at=timezone.now())
        raise
    DetectionRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        events_scanned=report.events_scanned,
        visitors_matched=report.visitors_matched,
        signals_found=len(report.signals),
        alerts_created=len(report.alerts),
    )
    return report


def _detect_and_record(report: CycleReport, now: datetime, *, dry_run: bool) -> None:
    found = signals_find(report.window_start, now)
    report.events_scanned, report.visitors_matched = found.events_scanned, found.visitors_matched
    signals = found.signals
    known = set(Alert.objects.filter(dedup_key__in=[s.dedup_key for s in signals]).values_list("dedup_key", flat=True))
    by_key: dict[str, DetectedSignal] = {}
    for detected in signals:
        by_key.setdefault(detected.dedup_key, detected)
    for detected in by_key.values():
        entry = {
            "prospect_id": detected.prospect_id,
            "signal": detected.signal,
            "occurred_at": detected.occurred_at.isoformat(),
            "evidence": detected.evidence,
            "new": detected.dedup_key not in known,
        }
        report.signals.append(entry)
        if detected.dedup_key in known:
            continue
        alert = alert_record_signal(detected=detected, now=now)
        if alert is not None:
            report.alerts.append(
                {
                    "alert_id": None if dry_run else alert.pk,
                    "prospect_id": alert.prospect_id,
                    "signal": alert.signal,
                    "status": alert.status,
                    "message": alert.message,
                }
            )


# A cycle that found nothing is kept a day (the runs list shows the product watching); one that found a
# signal, or failed, two weeks. A flood runs a thousand cycles a minute: kept two weeks, they would be
# tens of millions of rows.
EMPTY_RUNS_KEPT = timedelta(days=1)


def detection_runs_prune(keep_days: int = 14) -> int:
    now = timezone.now()
    old = DetectionRun.objects.filter(started_at__lt=now - timedelta(days=keep_days))
    empty = DetectionRun.objects.filter(started_at__lt=now - EMPTY_RUNS_KEPT, signals_found=0, error="")
    return old.delete()[0] + empty.delete()[0]


def detection_is_late(now: datetime | None = None) -> tuple[datetime | None, bool]:
    now = now or timezone.now()
    last = DetectionRun.objects.filter(finished_at__isnull=False).aggregate(last=Max("finished_at"))["last"]
    interval = timedelta(minutes=settings.DETECTION_INTERVAL_MINUTES)
    return last, last is None or now - last > 3 * interval
