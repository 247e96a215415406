"""Issue 18, point 2: detection coalesces. However many events ask for a cycle, at most one detection
task waits in the queue; an event that arrives while a cycle runs is read by the next cycle, never
lost; and one cycle runs at a time, so the other workers are free to deliver SMS."""

import json
from unittest import mock

import pytest

from alerts import tasks
from alerts.outbox import sms
from alerts.signals.models import DetectionRun
from core.ratelimit import claim, release
from tests.factories import BROWSER_UA, ProspectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    """django-q2's queue, held instead of run: the tasks the product asks for, in order."""
    queued: list[tuple] = []
    with mock.patch.object(tasks, "async_task", side_effect=lambda func, *args, **kw: queued.append((func, args))):
        yield queued


def run_queued(queued: list[tuple]) -> None:
    while queued:
        func, args = queued.pop(0)
        func(*args)


def cta_click(client, visitor_id: str, **fields) -> None:
    body = {"visitor_id": visitor_id, "page": "/audit.html", "cta_id": "cta_reserver_audit", **fields}
    response = client.post(
        "/api/track/cta", json.dumps(body), "text/plain", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.9"
    )
    assert response.status_code == 202


def test_three_hundred_anonymous_clicks_queue_one_detection_task(client, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(300):
            cta_click(client, f"anonymous-{n:04d}")
    assert len(queue) == 1
    run_queued(queue)
    assert DetectionRun.objects.count() == 1
    # The request was taken by that cycle: the next event asks again.
    tasks.detection_enqueue("cta")
    assert len(queue) == 1


def test_a_click_during_a_cycle_is_read_by_the_next_cycle_and_texts(client, queue, django_capture_on_commit_callbacks):
    prospect = ProspectFactory(email="cto@acme.example", phone="+33199000042")
    real_cycle = tasks.detection_cycle_run
    clicked = []

    def cycle_while_the_prospect_clicks(**kwargs):
        report = real_cycle(**kwargs)
        if not clicked:  # the prospect clicks while the first cycle runs (after it read its window)
            with django_capture_on_commit_callbacks(execute=True):
                cta_click(client, "prospect-visitor-1", ak=prospect.identity_token)
            clicked.append(True)
        return report

    with (
        mock.patch.object(tasks, "detection_cycle_run", side_effect=cycle_while_the_prospect_clicks),
        django_capture_on_commit_callbacks(execute=True),  # the alert's delivery is queued on commit
    ):
        tasks.detection_enqueue("cta")
        run_queued(queue)
    assert DetectionRun.objects.count() == 2, "the click asked for the next cycle, which read it"
    assert len(sms.outbox) == 1


def test_a_task_that_finds_a_cycle_running_leaves_the_worker_at_once(queue):
    assert claim(tasks.RUNNING, 60)  # another worker runs a cycle
    claim(tasks.WANTED, 60)  # a request made, and its task queued, just before that cycle started
    tasks._queue_detection("cta")
    assert tasks.run_requested_detection_task("cta")["cycles"] == 0
    assert DetectionRun.objects.count() == 0
    # The runner, when its cycle ends, finds the request and runs for it.
    release(tasks.RUNNING)
    assert tasks.run_requested_detection_task("cta")["cycles"] == 1


def test_events_during_a_running_cycle_queue_nothing_and_the_runner_takes_them(queue):
    assert claim(tasks.RUNNING, 60)  # a runner is in its cycle
    for _ in range(50):
        tasks.detection_enqueue("cta")
    assert queue == [], "the runner will take the request: no task to queue"
    # The runner's cycle ends: it releases RUNNING, finds the request and runs for it.
    release(tasks.RUNNING)
    assert tasks.run_requested_detection_task("cta")["cycles"] == 1
    assert DetectionRun.objects.count() == 1
