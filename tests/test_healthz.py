from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_q.models import Schedule

from arkwatch.schedules import DETECTION_SCHEDULE, ensure_schedules
from tests.factories import AlertDeliveryFactory, DetectionRunFactory

pytestmark = pytest.mark.django_db


def record_run(minutes_ago: float) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    DetectionRunFactory(started_at=at)


def test_healthy_when_detection_ran_recently(client):
    record_run(minutes_ago=2)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["database"] == "ok" and body["detection_late"] is False and body["last_detection_run"]


def test_503_when_detection_is_more_than_three_intervals_late(client):
    record_run(minutes_ago=16)  # interval 5 min
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["detection_late"] is True


def test_503_when_the_database_is_unreachable(client):
    with mock.patch("arkwatch.health.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_failed_sms_are_reported(client):
    record_run(minutes_ago=1)
    AlertDeliveryFactory(alert__status="failed", status="failed", last_error="OVH 500")
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer test-api-key").json()["sms_failed_last_24h"] == 1


def test_503_while_a_failed_alert_is_unacknowledged_and_a_recorded_call_counts_as_seen(client):
    from tests.factories import CallFactory

    record_run(minutes_ago=1)
    delivery = AlertDeliveryFactory(alert__status="failed", status="failed", last_error="OVH 500")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["alerts_failed_unacknowledged"]
    alert = delivery.alert
    alert.call = CallFactory(prospect=alert.prospect)
    alert.save()
    assert client.get("/healthz").status_code == 200


# Issue 18, points 7 and 10: the public sees the status and the failed checks' names, never error
# text; a check slowed or refused once by a burst does not make the product "down".

LEAKY_ERROR = 'connection to server at "db.internal.example" (10.0.0.5), port 5432 failed: password for user "arkwatch"'


def test_the_public_answer_names_the_failed_check_and_the_log_keeps_the_error(client, caplog):
    with mock.patch("arkwatch.health.connection.cursor", side_effect=OperationalError(LEAKY_ERROR)):
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["reasons"] == ["database_unreachable"]
    text = response.content.decode()
    assert "db.internal.example" not in text and "10.0.0.5" not in text and "arkwatch" not in text
    assert "db.internal.example" in caplog.text


def test_redis_error_text_goes_to_the_log_not_the_public(client, caplog, settings):
    record_run(minutes_ago=1)
    settings.REDIS_URL = "redis://10.0.0.9:6379/0"
    with mock.patch(
        "arkwatch.health.redis_problem", return_value="Redis unreachable: Error 111 connecting to 10.0.0.9"
    ):
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["reasons"] == ["redis_unreachable"]
    assert "10.0.0.9" not in response.content.decode() and "10.0.0.9" in caplog.text


def test_a_check_refused_once_by_a_busy_database_is_not_an_outage(client):
    record_run(minutes_ago=1)
    real_cursor = connection.cursor
    refusals = [OperationalError("database is locked")]

    def busy_once():
        if refusals:
            raise refusals.pop()
        return real_cursor()

    with mock.patch("arkwatch.health.connection.cursor", side_effect=busy_once):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


def test_a_fresh_deployment_is_not_late_before_its_first_scheduled_cycle(client):
    ensure_schedules()
    Schedule.objects.filter(name=DETECTION_SCHEDULE).update(next_run=timezone.now())
    assert client.get("/healthz").status_code == 200


def test_a_deployment_whose_scheduler_never_ran_is_late(client):
    ensure_schedules()
    Schedule.objects.filter(name=DETECTION_SCHEDULE).update(next_run=timezone.now() - timedelta(minutes=16))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["reasons"] == ["detection_late"]


# Issue 29, point 12: the public reads whether the product is up and why not (the contract's status,
# last detection run, lateness and reason names); the live counters need the operator's key.

PUBLIC_FIELDS = {"ok", "database", "last_detection_run", "detection_late"}
COUNTERS = {"sms_failed_last_24h", "alerts_queued", "alerts_failed_unacknowledged", "sms_retrying", "cluster_alive"}


def test_the_public_reads_the_status_and_the_reason_names_not_the_counters(client):
    record_run(minutes_ago=1)
    AlertDeliveryFactory(alert__status="failed", status="failed", last_error="OVH 500")
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong-key"}, {"HTTP_AUTHORIZATION": "Bearer é"}):
        response = client.get("/healthz", **headers)
        assert response.status_code == 503
        body = response.json()
        assert set(body) == PUBLIC_FIELDS | {"reasons", "reason"}
        assert body["reasons"] == ["alerts_failed_unacknowledged"] and body["database"] == "ok"


def test_the_operators_key_reads_the_counters(client):
    record_run(minutes_ago=1)
    AlertDeliveryFactory(alert__status="failed", status="failed", last_error="OVH 500")
    body = client.get("/healthz", HTTP_AUTHORIZATION="Bearer test-api-key").json()
    assert COUNTERS <= set(body) and PUBLIC_FIELDS <= set(body)
    assert body["sms_failed_last_24h"] == 1 and body["alerts_failed_unacknowledged"] == 1
