from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

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
    assert client.get("/healthz").json()["sms_failed_last_24h"] == 1


def test_503_while_a_failed_alert_is_unacknowledged_and_a_recorded_call_counts_as_seen(client):
    from tests.factories import CallFactory

    record_run(minutes_ago=1)
    delivery = AlertDeliveryFactory(alert__status="failed", status="failed", last_error="OVH 500")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["reason"].startswith("1 alert(s) reached nobody")
    alert = delivery.alert
    alert.call = CallFactory(prospect=alert.prospect)
    alert.save()
    assert client.get("/healthz").status_code == 200
