"""Several detection workers at once over the same events: exactly one Alert and one SMS per
(prospect, signal). Runs on SQLite and, in CI's second pass, on PostgreSQL (real row locks)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert, AlertDelivery, SmsNotice
from tests.factories import CtaClickFactory, EmailEventFactory, ProspectFactory, VisitEventFactory

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 8


def seed(prospects: int) -> None:
    now = timezone.now()
    for n in range(prospects):
        prospect = ProspectFactory(consented=True)  # its re-opens count
        visitor = f"visitor-c{n:04d}"
        VisitEventFactory(
            visitor_id=visitor,
            page_view_id=f"pv-c{n:04d}",
            event="pageview",
            ak=prospect.identity_token,
            received_at=now - timedelta(seconds=120),
        )
        VisitEventFactory(
            visitor_id=visitor,
            page_view_id=f"pv-c{n:04d}",
            received_at=now - timedelta(seconds=5),
            engaged_ms=115_000,  # read in the foreground: visible the whole time
        )
        CtaClickFactory(visitor_id=visitor, page_view_id=f"pv-c{n:04d}", received_at=now - timedelta(seconds=4))
        # A second click in another page view: same signal, must not text twice.
        CtaClickFactory(visitor_id=visitor, page_view_id=f"pv-d{n:04d}", received_at=now - timedelta(seconds=3))
        EmailEventFactory(prospect=prospect, message_id=f"m{n}", event="sent", occurred_at=now - timedelta(hours=30))
        EmailEventFactory(
            prospect=prospect,
            message_id=f"m{n}",
            event="opened",
            occurred_at=now - timedelta(seconds=2),
            received_at=now - timedelta(seconds=2),
        )


def run_in_parallel_workers() -> None:
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            detection_cycle_run(trigger="test")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@override_settings(ALERT_SMS_MAX_PER_HOUR=100)
def test_parallel_detection_runs_text_once_per_prospect_and_signal():
    seed(prospects=5)
    run_in_parallel_workers()
    sent = Alert.objects.filter(status="sent")
    pairs = list(sent.values_list("prospect_id", "signal"))
    assert len(pairs) == len(set(pairs)) == 15, f"{connection.vendor}: {pairs}"
    # The second CTA page view is recorded once, as a cooldown, never texted.
    assert Alert.objects.filter(status="cooldown").count() == 5
    assert Alert.objects.count() == 20
    assert len(sms.outbox) == 15
    assert len({(m.to, m.tag) for m in sms.outbox}) == 15
    assert AlertDelivery.objects.filter(status="sent").count() == 15


@override_settings(ALERT_SMS_MAX_PER_HOUR=7)
def test_parallel_workers_never_go_over_the_hourly_sms_budget_and_group_the_rest():
    seed(prospects=5)  # 15 alerts that would text
    run_in_parallel_workers()
    assert Alert.objects.filter(status="sent").count() == 7 and len(sms.outbox) == 7
    assert Alert.objects.filter(status="grouped").count() == 8, "nothing dropped: grouped for the summary"
    notice = SmsNotice.objects.get()
    assert notice.kind == "summary" and notice.deliveries.count() == 1
