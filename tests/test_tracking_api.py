"""Every status-code path of the tracking endpoints (docs/interface.md), and that a rejected request stores nothing."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from tests.factories import ProspectFactory
from tracking.models import CtaClick, EmailEvent, VisitEvent, Visitor

pytestmark = pytest.mark.django_db

# Rate-limit tests run in one fixed window: a real minute boundary mid-test would reset the counters.
MID_MINUTE = datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC)

VISIT = {
    "visitor_id": "visitor-0001",
    "page_view_id": "pv-000001",
    "page": "/audit-gratuit-monitoring.html",
    "event": "pageview",
    "engaged_ms": 0,
}
CTA = {
    "visitor_id": "visitor-0001",
    "page_view_id": "pv-000001",
    "page": "/audit-gratuit-monitoring.html",
    "cta_id": "cta_reserver_audit",
}


def stored() -> int:
    return VisitEvent.objects.count() + CtaClick.objects.count() + EmailEvent.objects.count() + Visitor.objects.count()


def post(client, url, body, content_type="application/json", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type, **extra)


@pytest.mark.parametrize("url", ["/api/page/view", "/api/track/visit", "/api/track_visitor_audit_gratuit"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain;charset=UTF-8"])
def test_a_valid_visit_is_accepted_on_every_url_and_content_type(client, browser_headers, url, content_type):
    response = post(client, url, VISIT, content_type, **browser_headers)
    # A page view's answer says more (tracking/page_view_answer.py); {"ok": true} stays.
    assert response.status_code == 202 and response.json()["ok"] is True
    event = VisitEvent.objects.get()
    assert (event.visitor_id, event.event, event.is_bot) == ("visitor-0001", "pageview", False)
    assert event.client_network == "198.51.100.0", "the raw IP must never be stored"


@pytest.mark.parametrize("url", ["/api/track/cta", "/api/track_cta_click"])
def test_a_valid_cta_click_is_accepted(client, browser_headers, url):
    response = post(client, url, CTA, **browser_headers)
    assert response.status_code == 202
    assert CtaClick.objects.get().cta_id == "cta_reserver_audit"


def test_heartbeat_is_the_default_event(client, browser_headers):
    body = {k: v for k, v in VISIT.items() if k != "event"}
    assert post(client, "/api/track/visit", body, **browser_headers).status_code == 202
    assert VisitEvent.objects.get().event == "heartbeat"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VISIT, "visitor_id": "short"}, "visitor_id"),
        ({**VISIT, "visitor_id": "bad id with spaces"}, "visitor_id"),
        ({**VISIT, "visitor_id": 12345678}, "visitor_id"),
        ({k: v for k, v in VISIT.items() if k != "visitor_id"}, "visitor_id"),
        ({k: v for k, v in VISIT.items() if k != "page"}, "page"),
        ({**VISIT, "page": "javascript:alert(1)"}, "page"),
        ({**VISIT, "page": "/" + "a" * 2048}, "page"),
        ({**VISIT, "event": "scroll"}, "event"),
        ({**VISIT, "engaged_ms": -1}, "engaged_ms"),
        ({**VISIT, "engaged_ms": "12"}, "engaged_ms"),
        ({**VISIT, "engaged_ms": True}, "engaged_ms"),
        ({**VISIT, "page_view_id": "x"}, "page_view_id"),
        ({**VISIT, "referrer": "ftp://example.com"}, "referrer"),
        ({**VISIT, "email": "not-an-email"}, "email"),
        ({**VISIT, "ak": ["list"]}, "ak"),
    ],
)
def test_a_malformed_visit_gets_400_with_the_field_and_stores_nothing(client, browser_headers, body, field):
    response = post(client, "/api/track/visit", body, **browser_headers)
    assert response.status_code == 400
    payload = response.json()
    assert field in payload["fields"] and payload["error"]
    assert stored() == 0


@pytest.mark.parametrize(
    "body",
    [
        {**CTA, "cta_id": "Réserver"},
        {**CTA, "cta_id": ""},
        {**CTA, "cta_id": "x" * 65},
        {k: v for k, v in CTA.items() if k != "cta_id"},
    ],
)
def test_a_malformed_cta_gets_400_and_stores_nothing(client, browser_headers, body):
    response = post(client, "/api/track/cta", body, **browser_headers)
    assert response.status_code == 400 and "cta_id" in response.json()["fields"]
    assert stored() == 0


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "null", b"\xff\xfe\x00"])
def test_a_body_that_is_not_a_json_object_gets_400(client, browser_headers, raw):
    response = post(client, "/api/track/visit", raw, **browser_headers)
    assert response.status_code == 400 and response.json()["error"]
    assert stored() == 0


def test_a_body_over_8_kib_gets_413(client, browser_headers):
    body = {**VISIT, "padding": "x" * 9000}
    response = post(client, "/api/track/visit", body, **browser_headers)
    assert response.status_code == 413 and response.json()["error"]
    assert stored() == 0


def test_a_form_encoded_body_gets_415(client, browser_headers):
    response = client.post("/api/track/visit", VISIT, **browser_headers)  # multipart form
    assert response.status_code == 415
    assert stored() == 0


def test_get_gets_405(client):
    response = client.get("/api/track/visit")
    assert response.status_code == 405 and response.json()["error"]


@override_settings(TRACKING_RATE_LIMIT="3/m")
@time_machine.travel(MID_MINUTE, tick=False)  # one rate window for the whole test, whatever the real clock
def test_a_client_over_the_rate_limit_gets_429_and_others_do_not(client, browser_headers):
    codes = [post(client, "/api/track/visit", VISIT, **browser_headers).status_code for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    other = post(
        client, "/api/track/visit", VISIT, HTTP_USER_AGENT=browser_headers["HTTP_USER_AGENT"], REMOTE_ADDR="203.0.113.9"
    )
    assert other.status_code == 202
    assert VisitEvent.objects.count() == 4


@override_settings(TRACKING_RATE_LIMIT="2/m", TRACKING_TRUSTED_PROXIES=["10.0.0.1"])
@time_machine.travel(MID_MINUTE, tick=False)
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(client, browser_headers):
    # Through the trusted proxy: each real client has its own budget.
    for n in range(3):
        r = post(
            client,
            "/api/track/visit",
            VISIT,
            HTTP_USER_AGENT="Mozilla/5.0",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
        assert r.status_code == 202
    # From anyone else, a forged header changes nothing.
    forged = [
        post(client, "/api/track/visit", VISIT, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        for n in range(3)
    ]
    assert [r.status_code for r in forged] == [202, 202, 429]


def test_bots_are_stored_flagged_for_audit(client):
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36"
    assert post(client, "/api/track/visit", VISIT, HTTP_USER_AGENT=ua).status_code == 202
    assert VisitEvent.objects.get().is_bot is True


def test_do_not_track_visitors_are_answered_but_not_stored(client, browser_headers):
    response = post(client, "/api/track/visit", VISIT, HTTP_DNT="1", **browser_headers)
    assert response.status_code == 202
    assert stored() == 0


def test_cors_allows_only_the_listed_origins(client, browser_headers):
    ok = post(client, "/api/track/visit", VISIT, HTTP_ORIGIN="https://landing.example.com", **browser_headers)
    assert ok["Access-Control-Allow-Origin"] == "https://landing.example.com"
    other = post(client, "/api/track/visit", VISIT, HTTP_ORIGIN="https://evil.example", **browser_headers)
    assert "Access-Control-Allow-Origin" not in other


def test_control_characters_never_reach_stored_headers(client):
    post(client, "/api/track/visit", VISIT, HTTP_USER_AGENT="Mozilla/5.0\r\nInjected: yes\tx\x1b[31m\x7fz")
    # CR, LF, TAB, ESC and DEL each become a space: a log line or an admin cell cannot be forged.
    assert VisitEvent.objects.get().user_agent == "Mozilla/5.0  Injected: yes x [31m z"


# --- identify ---------------------------------------------------------------------------------


def test_identify_links_the_visitor_by_email(client, browser_headers, django_capture_on_commit_callbacks):
    prospect = ProspectFactory(email="cto@acme-corp.example")
    with django_capture_on_commit_callbacks(execute=True):  # the worker matches it (Q sync in tests)
        response = post(
            client,
            "/api/track/identify",
            {"visitor_id": "visitor-0001", "email": "CTO@acme-corp.example"},
            **browser_headers,
        )
    assert response.status_code == 202
    visitor = Visitor.objects.get(visitor_id="visitor-0001")
    assert (visitor.prospect, visitor.match_method) == (prospect, "email")


def test_identify_uses_the_company_domain_but_never_free_mail(
    client, browser_headers, django_capture_on_commit_callbacks
):
    prospect = ProspectFactory(email="cto@acme-corp.example")
    with django_capture_on_commit_callbacks(execute=True):
        post(
            client,
            "/api/track/identify",
            {"visitor_id": "visitor-0001", "email": "dev@acme-corp.example"},
            **browser_headers,
        )
    assert Visitor.objects.get(visitor_id="visitor-0001").prospect == prospect
    ProspectFactory(email="someone@gmail.com")
    with django_capture_on_commit_callbacks(execute=True):
        post(
            client, "/api/track/identify", {"visitor_id": "visitor-0002", "email": "other@gmail.com"}, **browser_headers
        )
    assert Visitor.objects.get(visitor_id="visitor-0002").prospect is None


def test_identify_does_the_same_work_whatever_the_email(client, browser_headers):
    """No timing oracle: a prospect's domain and an unknown one cost the request the same queries
    (matching runs in the worker)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ProspectFactory(email="cto@acme-corp.example")
    shapes = []
    for n, email in enumerate(["dev@acme-corp.example", "dev@unknown-corp.example"]):
        with CaptureQueriesContext(connection) as queries:
            post(client, "/api/track/identify", {"visitor_id": f"visitor-q{n:04d}", "email": email}, **browser_headers)
        shapes.append([q["sql"].split()[0] for q in queries.captured_queries])
    assert shapes[0] == shapes[1] and "prospects_prospect" not in str(queries.captured_queries)
    assert not Visitor.objects.filter(prospect__isnull=False).exists(), "not matched in the request"


@pytest.mark.parametrize(
    "body", [{"visitor_id": "visitor-0001"}, {"email": "a@b.example"}, {"visitor_id": "visitor-0001", "email": "nope"}]
)
def test_identify_needs_visitor_and_email(client, browser_headers, body):
    response = post(client, "/api/track/identify", body, **browser_headers)
    assert response.status_code == 400 and response.json()["fields"]
    assert stored() == 0
