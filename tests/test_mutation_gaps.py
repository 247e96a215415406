"""Behaviours the mutation run (`make mutants`) found unguarded, each one a founder or an operator
would notice: acknowledging one failed SMS silencing every other, a resend that keeps the old
failure's state, one page view's start or crossing shared with the next, an http:// referrer or a
number where a string belongs turning an event away."""

import json
from datetime import timedelta

import pytest
import time_machine

from alerts import sms
from alerts.actions import alert_failure_acknowledge, alert_resend
from alerts.dwell import forget_page_views, page_view_crossed_threshold
from alerts.models import Alert, AlertDelivery
from alerts.selectors import unacknowledged_failures
from tests.factories import AlertDeliveryFactory, ProspectFactory, aware
from tests.test_composer import compose as compose_lead
from tracking.tokens import add_query_param, is_http_url

T0 = aware(2026, 11, 24, 9, 0, 0)


def _failed_alert() -> Alert:
    delivery = AlertDeliveryFactory(alert__prospect=ProspectFactory(), alert__status=Alert.Status.FAILED)
    AlertDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=4, last_error="OVH 500")
    return delivery.alert


@pytest.mark.django_db
def test_acknowledging_one_failed_sms_leaves_the_others_reported():
    seen, unseen = _failed_alert(), _failed_alert()
    assert alert_failure_acknowledge(alert=seen)
    assert list(unacknowledged_failures()) == [unseen]


@pytest.mark.django_db
def test_a_resent_alert_starts_afresh(django_capture_on_commit_callbacks):
    alert = _failed_alert()
    alert_failure_acknowledge(alert=alert)
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_resend(alert=alert)
    delivery = AlertDelivery.objects.get(alert=alert)
    assert (delivery.status, delivery.attempts) == ("sent", 1), "the resend's own attempt, counted from zero"
    assert len(sms.outbox) == 1
    alert.refresh_from_db()
    assert alert.failure_acknowledged_at is None, "should the resend fail too, /healthz reports it again"


@pytest.mark.django_db
def test_a_page_views_start_is_its_own_not_the_previous_ones():
    # pv-first opened at T0, pv-second 95 s later; a heartbeat of pv-second, served by another web
    # process (forget_page_views), 5 s after it opened is 5 s of reading, not 100 (a snippet that
    # reports no visible time: the span alone decides).
    at = T0.timestamp()
    with time_machine.travel(at, tick=False):
        page_view_crossed_threshold("pv-first-00001", T0, opens=True)
    with time_machine.travel(at + 95, tick=False):
        assert not page_view_crossed_threshold("pv-second-0001", T0 + timedelta(seconds=95), opens=True)
    forget_page_views()
    with time_machine.travel(at + 100, tick=False):
        assert not page_view_crossed_threshold("pv-second-0001", T0 + timedelta(seconds=100))


@pytest.mark.django_db
def test_each_page_view_crossing_the_threshold_fires_for_itself():
    at = T0.timestamp()
    for page_view, opened in (("pv-first-00001", 0), ("pv-second-0001", 10)):
        with time_machine.travel(at + opened, tick=False):
            page_view_crossed_threshold(page_view, T0 + timedelta(seconds=opened), opens=True)
    with time_machine.travel(at + 90, tick=False):
        assert page_view_crossed_threshold("pv-first-00001", T0 + timedelta(seconds=90), engaged_ms=90_000)
    with time_machine.travel(at + 100, tick=False):
        assert page_view_crossed_threshold("pv-second-0001", T0 + timedelta(seconds=100), engaged_ms=90_000)


def _visit(client, **fields):
    body = {"visitor_id": "reader-000001", "page": "/audit", "event": "pageview", **fields}
    return client.post("/api/track/visit", json.dumps(body), content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("referrer", ["http://blog.example.org/post", "https://www.example.org/"])
def test_an_http_or_https_referrer_is_accepted(client, referrer):
    assert _visit(client, referrer=referrer).status_code == 202


@pytest.mark.django_db
@pytest.mark.parametrize("value", [12345678, 1.5, True, ["reader-000001"], {"id": "reader-000001"}])
def test_a_visitor_id_that_is_not_a_string_is_a_400_with_a_sentence(client, value):
    response = _visit(client, visitor_id=value)
    assert response.status_code == 400
    assert response.json()["fields"]["visitor_id"]


@pytest.mark.django_db
def test_an_unknown_event_names_the_ones_allowed_in_french(client):
    response = _visit(client, event="scroll")
    assert response.status_code == 400
    assert response.json()["fields"]["event"] == "Utilisez une valeur parmi : pageview, heartbeat, leave."


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://landing.example.com/audit?ref=&utm_source=mail",
            "https://landing.example.com/audit?ref=&utm_source=mail&ak=T0K",
        ),
        ("https://landing.example.com/audit?ak=old", "https://landing.example.com/audit?ak=T0K"),
    ],
)
def test_the_ak_joins_a_destination_without_dropping_its_empty_parameters(url, expected):
    assert add_query_param(url, "ak", "T0K") == expected


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://landing.example.com/audit", True),
        ("http://landing.example.com/", True),
        ("ftp://landing.example.com/file", False),
        ("https://", False),
        ("https:/audit", False),
        ("//landing.example.com/audit", False),
    ],
)
def test_a_tracked_link_leads_only_to_an_http_address_with_a_host(url, accepted):
    assert is_http_url(url) is accepted


@pytest.mark.parametrize("company", ["", "Exemple Logistique"])
def test_an_sms_names_the_company_only_when_there_is_one(company):
    text = compose_lead(company=company)
    assert "()" not in text
    assert ("(Exemple Logistique)" in text) is bool(company)
