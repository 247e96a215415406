"""Property: no input, however malformed, makes a public endpoint answer 5xx."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db

POST_ENDPOINTS = [
    "/api/track/visit",
    "/api/track/cta",
    "/api/track/identify",
    "/api/track/email",
    "/api/track_visitor_audit_gratuit",
    "/api/track_cta_click",
]
FIELDS = [
    "visitor_id",
    "page_view_id",
    "page",
    "event",
    "engaged_ms",
    "ak",
    "email",
    "referrer",
    "cta_id",
    "message_id",
    "occurred_at",
    "user_agent",
]

# Text a JSON body can carry but no database column can hold: NUL and lone UTF-16 surrogates
# (json.dumps writes them as \\u escapes, as an attacker or a broken client would).
unstorable_text = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=20),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80"]),
    st.text(max_size=20),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=300) | unstorable_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
payloads = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)),
    st.fixed_dictionaries(
        {
            "visitor_id": st.from_regex(r"[A-Za-z0-9_-]{8,20}", fullmatch=True),
            "page": st.just("/p"),
            "email": st.emails(),
            "cta_id": st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
            "event": st.sampled_from(["pageview", "heartbeat", "leave", "sent", "opened", "x"]),
            "message_id": st.text(min_size=1, max_size=40),
            "occurred_at": st.text(max_size=40),
            "engaged_ms": st.integers(min_value=-(2**70), max_value=2**70),
        }
    ),
    json_values,
)
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def auth_client(client):
    ProspectFactory(email="cto@acme-corp.example")
    return client


@fuzz
@given(
    url=st.sampled_from(POST_ENDPOINTS),
    payload=payloads,
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_arbitrary_json_never_gets_a_5xx(auth_client, url, payload, content_type):
    response = auth_client.post(
        url,
        data=json.dumps(payload),
        content_type=content_type,
        HTTP_AUTHORIZATION="Bearer test-api-key",
        HTTP_USER_AGENT="Mozilla/5.0",
    )
    assert response.status_code < 500, response.content


@fuzz
@given(url=st.sampled_from(POST_ENDPOINTS), body=st.binary(max_size=9000))
def test_arbitrary_bytes_never_get_a_5xx(auth_client, url, body):
    response = auth_client.post(url, data=body, content_type="text/plain", HTTP_AUTHORIZATION="Bearer test-api-key")
    assert response.status_code < 500


@fuzz
@given(
    token=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#%"), min_size=1, max_size=300
    )
)
def test_arbitrary_pixel_and_link_tokens_never_get_a_5xx(auth_client, token):
    from urllib.parse import quote

    pixel = auth_client.get(f"/t/o/{quote(token)}.gif")
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    assert auth_client.get(f"/t/c/{quote(token)}").status_code in (302, 404)


VALID = {
    "/api/track/visit": {"visitor_id": "abcdefghij", "page": "/audit", "referrer": "https://www.example.org/"},
    "/api/track/cta": {"visitor_id": "abcdefghij", "page": "/audit", "cta_id": "cta_reserver_audit"},
    "/api/track/identify": {"visitor_id": "abcdefghij", "email": "cto@acme-corp.example", "page": "/audit"},
    "/api/track/email": {"email": "cto@acme-corp.example", "message_id": "m1", "event": "opened", "user_agent": "x"},
}
UNSTORABLE_CASES = [
    (url, field, bad)
    for url, payload in VALID.items()
    for field in ([*payload, "email"] if url in ("/api/track/visit", "/api/track/cta") else payload)
    for bad in ("\ud800", "\x00")
    if field not in ("cta_id", "event")
]


@pytest.mark.parametrize(("url", "field", "bad"), UNSTORABLE_CASES)
def test_unstorable_characters_are_a_400_naming_the_field_and_nothing_is_stored(auth_client, url, field, bad):
    from tracking.models import CtaClick, EmailEvent, VisitEvent, Visitor

    payload = {**VALID[url], field: "/x" + bad if field == "page" else "ab" + bad + "cdefghij"}
    response = auth_client.post(
        url,
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer test-api-key",
        HTTP_USER_AGENT="Mozilla/5.0",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    stored = VisitEvent.objects.count() + CtaClick.objects.count() + EmailEvent.objects.count()
    assert stored + Visitor.objects.count() == 0
