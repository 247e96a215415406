"""Tracked links lead only to our pages, and only to people allowed to make them (issue 18, point 3):
the mail merge needs the change permission, a destination off our hosts is refused by both commands
and the admin action, a leaked `ak` can be replaced, and tokens expire with a page a person reads."""

import csv
import html
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from backoffice.roles import CALLER_GROUP
from backoffice.timeline import prospect_timeline
from prospects.services import prospect_rotate_identity_token
from tests.factories import BROWSER_UA, ProspectFactory
from tracking.matching import visitors_match
from tracking.models import EmailEvent, Visitor
from tracking.tokens import email_links_for, make_link_token, make_pixel_token

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/prospects/prospect/"
EVIL = "https://evil.example/phish"


@pytest.fixture
def prospect():
    return ProspectFactory(email="cto@acme-corp.example")


@pytest.fixture
def caller_client(client, django_user_model):
    user = django_user_model.objects.create_user("caller", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=CALLER_GROUP))
    client.force_login(user)
    return client


def mail_merge(client, prospect, url: str):
    return client.post(
        CHANGELIST,
        {
            "action": "export_email_links",
            "_selected_action": [prospect.pk],
            "apply": "1",
            "message_id": "m1",
            "url": url,
            "file_format": "csv",
        },
    )


def test_a_caller_cannot_export_links_at_all(caller_client, prospect):
    """The attack of the issue: a Caller exported a signed link to evil.example. Now the action is
    not theirs, for any destination."""
    for url in (EVIL, "https://landing.example.com/audit"):
        response = mail_merge(caller_client, prospect, url)
        assert not response.get("Content-Type", "").startswith("text/csv")
    assert b"export_email_links" not in caller_client.get(CHANGELIST).content


def test_the_admin_action_refuses_a_destination_off_our_pages(staff_client, prospect):
    response = mail_merge(staff_client, prospect, EVIL)
    assert response.status_code == 200 and b"errorlist" in response.content
    assert "evil.example n'est pas l'une de nos pages" in html.unescape(response.content.decode())
    ok = mail_merge(staff_client, prospect, "https://landing.example.com/audit")
    row = next(csv.DictReader(io.StringIO(ok.content.decode("utf-8-sig")), delimiter=";"))
    assert row["link_url"].startswith("https://track.example.com/t/c/")


@pytest.mark.parametrize("command", ["email_links", "export_email_links"])
def test_both_commands_refuse_a_destination_off_our_pages(prospect, command):
    args = ["--message-id", "m1", "--url", EVIL] + (["--email", prospect.email] if command == "email_links" else [])
    with pytest.raises(CommandError, match="evil.example n'est pas l'une de nos pages"):
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize(
    "url",
    [
        "https://landing.example.com/audit",  # TRACKING_ALLOWED_ORIGINS
        "https://track.example.com/audit-gratuit-monitoring.html",  # PUBLIC_BASE_URL
        "https://www.example.com/offre",  # TRACKING_LINK_HOSTS = [".example.com"]
    ],
)
def test_our_pages_are_allowed_destinations(prospect, url):
    out = io.StringIO()
    call_command("email_links", "--email", prospect.email, "--message-id", "m1", "--url", url, "--json", stdout=out)
    assert json.loads(out.getvalue())["link_url"].startswith("https://track.example.com/t/c/")


@pytest.mark.parametrize("url", [EVIL, "https://example.com.evil.example/", "https://evilexample.com/"])
def test_a_signed_link_to_another_host_is_not_followed_and_hands_out_no_ak(client, prospect, url):
    """A link signed before destinations were checked: no redirect, no `ak`, nothing stored."""
    token = make_link_token(prospect_id=prospect.pk, message_id="m1", url=url, ak=prospect.identity_token)
    response = client.get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 404 and "Location" not in response
    assert "hors de nos pages" in response.content.decode()
    assert prospect.identity_token not in response.content.decode()
    assert not EmailEvent.objects.exists()


# --- A replaced ak -------------------------------------------------------------------------------


def test_a_rotated_ak_turns_old_links_into_unmatched_visits_and_the_timeline_says_so(client, staff_client, prospect):
    old_ak = prospect.identity_token
    old_link = email_links_for(prospect, message_id="m1", url="https://landing.example.com/audit").link_url
    response = staff_client.post(CHANGELIST, {"action": "rotate_identity_token", "_selected_action": [prospect.pk]})
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert prospect.identity_token != old_ak

    # The old tracked link leads to the page, without any ak, and clicks nothing for the prospect.
    redirect = client.get(urlsplit(old_link).path, HTTP_USER_AGENT=BROWSER_UA)
    assert redirect.status_code == 302 and redirect["Location"] == "https://landing.example.com/audit"
    assert not EmailEvent.objects.exists()
    # A page opened with the old ak (a forwarded email) matches nobody.
    visit = {"visitor_id": "forwarded-1", "page_view_id": "pv-forwarded-1", "page": "/audit", "ak": old_ak}
    client.post("/api/track/visit", data=json.dumps({**visit, "event": "pageview"}), content_type="text/plain")
    visitors_match(["forwarded-1"])
    assert Visitor.objects.get(visitor_id="forwarded-1").prospect is None
    # The new link works and hands out the new ak.
    new_link = email_links_for(prospect, message_id="m2", url="https://landing.example.com/audit").link_url
    location = client.get(urlsplit(new_link).path, HTTP_USER_AGENT=BROWSER_UA)["Location"]
    assert parse_qs(urlsplit(location).query)["ak"] == [prospect.identity_token]

    entry = next(e for e in prospect_timeline(prospect) if e.kind == "token")
    assert "comptent désormais comme des visites non identifiées" in entry.title
    assert entry.detail == "boss · 1 page vue avec l'ancien lien depuis, non attribuée"


def test_a_link_made_before_fingerprints_stops_handing_out_the_ak_after_a_rotation(client, prospect):
    legacy = make_link_token(prospect_id=prospect.pk, message_id="m1", url="https://landing.example.com/a")
    assert "ak=" in client.get(f"/t/c/{legacy}", HTTP_USER_AGENT=BROWSER_UA)["Location"]
    prospect_rotate_identity_token(prospect=prospect)
    assert client.get(f"/t/c/{legacy}", HTTP_USER_AGENT=BROWSER_UA)["Location"] == "https://landing.example.com/a"


# --- Expiry --------------------------------------------------------------------------------------


def test_an_expired_link_shows_a_french_page_and_an_expired_pixel_still_answers_its_gif(client, settings, prospect):
    settings.TRACKING_TOKEN_MAX_AGE_DAYS = 30
    link = email_links_for(prospect, message_id="m1", url="https://landing.example.com/audit").link_url
    pixel = make_pixel_token(prospect_id=prospect.pk, message_id="m1")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        page = client.get(urlsplit(link).path, HTTP_USER_AGENT=BROWSER_UA)
        gif = client.get(f"/t/o/{pixel}.gif", HTTP_USER_AGENT=BROWSER_UA)
    assert page.status_code == 410 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "Ce lien a expiré." in text and '<html lang="fr">' in text
    assert prospect.identity_token not in text and "Location" not in page
    assert gif.status_code == 200 and gif["Content-Type"] == "image/gif"
    assert not EmailEvent.objects.exists()


def test_a_link_within_its_age_still_works(client, settings, prospect):
    settings.TRACKING_TOKEN_MAX_AGE_DAYS = 30
    link = email_links_for(prospect, message_id="m1", url="https://landing.example.com/audit").link_url
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert client.get(urlsplit(link).path, HTTP_USER_AGENT=BROWSER_UA).status_code == 302
