"""The tracking endpoints are answered above the session, CSRF, user and frame middleware
(arkwatch/middleware.py): no session cookie or frame header on their answers, an unknown address is a
404 and not a 5xx, a connection that died since the last request is reopened by Django's health check,
and on PostgreSQL the event's statement is prepared once per connection."""

import json
from unittest import mock

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from arkwatch.middleware import TrackingEndpointsMiddleware
from tests.factories import BROWSER_UA
from tracking.models import VisitEvent

pytestmark = pytest.mark.django_db

VISIT = {"visitor_id": "visitor-lean-1", "page_view_id": "pv-lean-0001", "page": "/audit", "event": "pageview"}


def post(client):
    return client.post(
        "/api/track/visit",
        data=json.dumps(VISIT),
        content_type="text/plain",
        HTTP_USER_AGENT=BROWSER_UA,
        REMOTE_ADDR="198.51.100.23",
    )


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_since_the_last_request_is_reopened_and_the_event_stored_once(client):
    connection.ensure_connection()
    with mock.patch.object(connection, "health_check_enabled", True):
        with mock.patch.object(connection, "is_usable", return_value=False) as is_usable:
            # What Django's request_started does in production (the test client leaves it out).
            connection.health_check_done = False
            assert post(client).status_code == 202
        assert is_usable.call_count == 1
    assert VisitEvent.objects.count() == 1


def test_tracking_answers_carry_no_session_or_frame_headers_but_keep_cors(client, settings):
    response = client.post(
        "/api/track/visit",
        data=json.dumps(VISIT),
        content_type="text/plain",
        HTTP_USER_AGENT=BROWSER_UA,
        HTTP_ORIGIN="https://landing.example.com",
    )
    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == "https://landing.example.com"
    assert "X-Frame-Options" not in response and "Set-Cookie" not in response
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.parametrize("path", ["/api/track/nowhere", "/t/o/", "/t/x/abc"])
def test_an_unknown_tracking_address_gets_a_404_and_stores_nothing(client, path):
    response = client.post(path, data="{}", content_type="text/plain", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 404
    assert VisitEvent.objects.count() == 0


def test_other_pages_still_pass_through_the_whole_stack():
    passed_on = []

    def rest_of_the_stack(request):
        passed_on.append(request.path)
        return HttpResponse("page")

    middleware = TrackingEndpointsMiddleware(rest_of_the_stack)
    for path in ["/admin/", "/healthz", "/api/webhooks/brevo", "/audit-gratuit-monitoring.html"]:
        middleware(RequestFactory().get(path))
    assert passed_on == ["/admin/", "/healthz", "/api/webhooks/brevo", "/audit-gratuit-monitoring.html"]


@pytest.mark.parametrize("path", ["/api/webhooks/brevo", "/api/webhooks/calcom", "/api/inbound/postmark"])
def test_webhooks_and_inbound_mail_go_through_the_whole_stack_so_their_views_must_stay_csrf_exempt(path):
    # Unlike the tracking endpoints, a provider's delivery is not answered above the session, CSRF and
    # frame middleware: a POST without a CSRF token gets through only by its view's csrf_exempt, and
    # its answer carries the frame middleware's header.
    response = Client(enforce_csrf_checks=True).post(path, data="{}", content_type="application/json")
    assert response.status_code != 403, "CsrfViewMiddleware refused the provider's POST"
    assert response["X-Frame-Options"] == "DENY"


def test_the_routes_remembered_are_the_fixed_ones_only_so_a_flood_of_pixel_addresses_takes_no_memory():
    middleware = TrackingEndpointsMiddleware(lambda request: HttpResponse("not a tracking path"))
    for n in range(50):
        middleware(RequestFactory().get(f"/t/o/not-a-token-{n}.gif", HTTP_USER_AGENT=BROWSER_UA))
        middleware(RequestFactory().post("/api/track/visit", data="{}", content_type="text/plain"))
    assert list(middleware.fixed_routes) == ["/api/track/visit"]


def prepared_event_inserts() -> int:
    with connection.cursor() as cursor:
        statement = '%INSERT INTO "tracking_visitevent"%'
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [statement])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans each statement; SQLite caches its own")
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "pooler-safe"])
def test_the_event_statement_is_prepared_once_per_connection_unless_switched_off(client, prepared):
    # Planning the counters-and-INSERT statement cost PostgreSQL more than running it; a connection
    # pooler in transaction mode cannot carry prepared statements, hence the switch.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what earlier tests on this connection prepared
    with override_settings(DATABASE_PREPARED_STATEMENTS=prepared):
        for _ in range(3):
            assert post(client).status_code == 202
            assert prepared_event_inserts() == (1 if prepared else 0)
    assert VisitEvent.objects.count() == 3
