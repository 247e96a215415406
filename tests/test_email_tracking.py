import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.factories import BROWSER_UA, EmailEventFactory, ProspectFactory
from tracking.models import EmailEvent
from tracking.tokens import LINK_SALT, PIXEL_SALT, email_links_for, make_link_token, make_pixel_token

pytestmark = pytest.mark.django_db
AUTH = {"HTTP_AUTHORIZATION": "Bearer test-api-key"}


def post_email(client, body, **headers):
    return client.post("/api/track/email", data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def prospect():
    return ProspectFactory(email="cto@acme-corp.example", consented=True)  # identifying opens need it


def test_an_email_event_with_the_key_is_stored(client, prospect):
    response = post_email(
        client,
        {
            "email": "CTO@acme-corp.example",
            "message_id": "<m1@x>",
            "event": "sent",
            "occurred_at": "2026-11-20T09:00:00+01:00",
        },
        **AUTH,
    )
    assert response.status_code == 202
    event = EmailEvent.objects.get()
    assert (event.prospect, event.event, event.occurred_at.isoformat()) == (
        prospect,
        "sent",
        "2026-11-20T08:00:00+00:00",
    )


@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "test-api-key"}]
)
def test_a_missing_or_wrong_key_gets_401_and_stores_nothing(client, prospect, headers):
    response = post_email(client, {"email": prospect.email, "message_id": "m", "event": "sent"}, **headers)
    assert response.status_code == 401 and response.json()["error"]
    assert EmailEvent.objects.count() == 0


def test_an_unknown_prospect_gets_404_and_stores_nothing(client, prospect):
    response = post_email(client, {"email": "nobody@else.example", "message_id": "m", "event": "sent"}, **AUTH)
    assert response.status_code == 404
    assert EmailEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message_id": "m", "event": "sent"}, "email"),
        ({"email": "cto@acme-corp.example", "event": "sent"}, "message_id"),
        ({"email": "cto@acme-corp.example", "message_id": "m" * 201, "event": "sent"}, "message_id"),
        ({"email": "cto@acme-corp.example", "message_id": "m", "event": "read"}, "event"),
        (
            {"email": "cto@acme-corp.example", "message_id": "m", "event": "sent", "occurred_at": "yesterday"},
            "occurred_at",
        ),
        (
            {
                "email": "cto@acme-corp.example",
                "message_id": "m",
                "event": "sent",
                "occurred_at": "2026-11-20T09:00:00",
            },
            "occurred_at",
        ),
    ],
)
def test_a_malformed_email_event_gets_400(client, prospect, body, field):
    response = post_email(client, body, **AUTH)
    assert response.status_code == 400 and field in response.json()["fields"]
    assert EmailEvent.objects.count() == 0


def test_an_event_more_than_5_minutes_in_the_future_is_refused(client, prospect):
    future = (timezone.now() + timedelta(minutes=6)).isoformat()
    response = post_email(
        client, {"email": prospect.email, "message_id": "m", "event": "opened", "occurred_at": future}, **AUTH
    )
    assert response.status_code == 400 and "occurred_at" in response.json()["fields"]


def test_the_user_agent_an_email_service_passes_on_is_read_and_checked(client, prospect):
    # An open the service saw from a link scanner is not the CTO reading the email again.
    opened = {"email": prospect.email, "message_id": "m", "event": "opened", "occurred_at": "2026-11-20T09:00:00Z"}
    response = post_email(client, {**opened, "user_agent": "Mozilla/5.0 Barracuda Sentinel"}, **AUTH)
    assert response.status_code == 202
    event = EmailEvent.objects.get()
    assert event.is_machine and event.user_agent == "Mozilla/5.0 Barracuda Sentinel"
    for wrong in (12, ["Thunderbird"]):
        response = post_email(client, {**opened, "message_id": "m2", "user_agent": wrong}, **AUTH)
        assert response.status_code == 400 and "user_agent" in response.json()["fields"]
    assert EmailEvent.objects.count() == 1


# --- pixel ------------------------------------------------------------------------------------


def test_the_pixel_records_an_open_for_a_valid_token(client, prospect):
    token = make_pixel_token(prospect_id=prospect.pk, message_id="<m1@x>")
    response = client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert "no-store" in response["Cache-Control"] and response.content.startswith(b"GIF89a")
    event = EmailEvent.objects.get()
    assert (event.prospect, event.message_id, event.event, event.source) == (prospect, "<m1@x>", "opened", "pixel")


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "garbage", lambda t: t.replace(":", ".")])
def test_a_forged_pixel_still_answers_the_gif_but_stores_nothing(client, prospect, mangle):
    token = mangle(make_pixel_token(prospect_id=prospect.pk, message_id="m"))
    response = client.get(f"/t/o/{token}.gif")
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert EmailEvent.objects.count() == 0


def test_a_link_token_is_not_a_pixel_token(client, prospect):
    token = make_link_token(prospect_id=prospect.pk, message_id="m", url="https://example.com/")
    client.get(f"/t/o/{token}.gif")
    assert EmailEvent.objects.count() == 0
    assert PIXEL_SALT != LINK_SALT


# --- tracked link -----------------------------------------------------------------------------


def test_the_link_redirects_to_its_sealed_destination_with_ak(client, prospect):
    token = make_link_token(prospect_id=prospect.pk, message_id="m1", url="https://www.example.com/offre?x=1")
    response = client.get(f"/t/c/{token}?url=https://evil.example/", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "www.example.com", "/offre")
    assert parse_qs(location.query) == {"x": ["1"], "ak": [prospect.identity_token]}
    event = EmailEvent.objects.get()
    assert (event.event, event.url) == ("clicked", "https://www.example.com/offre?x=1")


def test_a_plain_http_destination_is_followed_too(client, prospect):
    token = make_link_token(prospect_id=prospect.pk, message_id="m1", url="http://intranet.example.com/offre")
    response = client.get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    assert response["Location"] == f"http://intranet.example.com/offre?ak={prospect.identity_token}"


def test_a_forged_link_gets_404_and_stores_nothing(client, prospect):
    token = make_link_token(prospect_id=prospect.pk, message_id="m1", url="https://www.example.com/")
    response = client.get(f"/t/c/{token[:-3]}abc")
    assert response.status_code == 404
    assert EmailEvent.objects.count() == 0


# --- machine opens ----------------------------------------------------------------------------


def test_an_open_seconds_after_delivery_is_a_machine(client, prospect):
    EmailEventFactory(prospect=prospect, message_id="m1", event="delivered", occurred_at=timezone.now())
    token = make_pixel_token(prospect_id=prospect.pk, message_id="m1")
    client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT=BROWSER_UA)
    event = EmailEvent.objects.get(event="opened")
    assert event.is_machine and "after delivery" in event.machine_reason


def test_apple_privacy_proxy_and_scanners_are_machines(client, prospect):
    EmailEventFactory(prospect=prospect, message_id="m1", occurred_at=timezone.now() - timedelta(hours=30))
    token = make_pixel_token(prospect_id=prospect.pk, message_id="m1")
    client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.58.1.2")
    client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT="Mozilla/5.0 Barracuda Sentinel", REMOTE_ADDR="198.51.100.1")
    client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.2")
    opens = EmailEvent.objects.filter(event="opened").order_by("pk")
    assert [o.is_machine for o in opens] == [True, True, False]
    assert "Apple" in opens[0].machine_reason


# --- email_links ------------------------------------------------------------------------------


def test_email_links_prints_working_absolute_urls(client, prospect, capsys):
    call_command(
        "email_links", "--email", prospect.email, "--message-id", "m9", "--url", "https://example.com/a", "--json"
    )
    links = json.loads(capsys.readouterr().out)
    assert links["ak"] == prospect.identity_token
    assert links["pixel_url"].startswith("https://track.example.com/t/o/")
    pixel_path = urlsplit(links["pixel_url"]).path
    client.get(pixel_path, HTTP_USER_AGENT=BROWSER_UA)
    assert EmailEvent.objects.get().message_id == "m9"
    assert client.get(urlsplit(links["link_url"]).path).status_code == 302


def test_email_links_without_url_gives_null_link(prospect):
    assert email_links_for(prospect, message_id="m").link_url is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "x@unknown.example", "--message-id", "m"], "Aucun prospect"),
        (["--email", "cto@acme-corp.example", "--message-id", "m", "--url", "javascript:x"], "http"),
    ],
)
def test_email_links_explains_bad_arguments(prospect, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("email_links", *args)
