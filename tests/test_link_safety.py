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
from django.test import override_settings
from django.utils import timezone

from backoffice.roles import CALLER_GROUP
from backoffice.timeline import prospect_timeline
from prospects.services import prospect_rotate_identity_token
from tests.factories import BROWSER_UA, ProspectFactory, aware
from tracking.matching import visitors_match
from tracking.models import EmailEvent, Visitor
from tracking.tokens import add_query_param, email_links_for, is_http_url, make_link_token, make_pixel_token

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


# --- The destination a link leads to, and the sentence that refuses one ------------------------------


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


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("http://[::1", "« http://[::1 » n'est pas une adresse http(s) absolue."),
        ("ftp://landing.example.com/a", "« ftp://landing.example.com/a » n'est pas une adresse http(s) absolue."),
        ("https://evil.example.net/x", "evil.example.net n'est pas l'une de nos pages"),
        ("https://:443/x", "https://:443/x n'est pas l'une de nos pages"),
    ],
)
def test_a_refused_destination_is_named_in_the_sentence_the_sender_reads(prospect, url, sentence):
    with pytest.raises(ValueError) as refused:
        email_links_for(prospect, message_id="m1", url=url)
    assert str(refused.value).startswith(sentence)


@pytest.mark.parametrize(
    ("allowed", "listed"),
    [
        (
            {"TRACKING_ALLOWED_ORIGINS": ["https://landing.example.com"], "TRACKING_LINK_HOSTS": ["offre.example.org"]},
            "(actuellement : landing.example.com, track.example.com, offre.example.org).",
        ),
        (
            {"TRACKING_ALLOWED_ORIGINS": [], "TRACKING_LINK_HOSTS": [], "PUBLIC_BASE_URL": "", "LANDING_PAGE_URL": ""},
            "(actuellement : —).",
        ),
    ],
)
def test_the_refusal_lists_the_hosts_a_link_may_lead_to(prospect, allowed, listed):
    settings = {"PUBLIC_BASE_URL": "https://track.example.com", "LANDING_PAGE_URL": "", **allowed}
    with override_settings(**settings), pytest.raises(ValueError) as refused:
        email_links_for(prospect, message_id="m1", url="https://evil.example.net/x")
    assert str(refused.value).endswith(listed)


def test_a_link_to_our_host_written_with_its_final_dot_is_ours(prospect):
    # "www.example.com." is the fully qualified spelling of www.example.com.
    with override_settings(TRACKING_ALLOWED_ORIGINS=["https://www.example.com"], TRACKING_LINK_HOSTS=[]):
        links = email_links_for(prospect, message_id="m1", url="https://www.example.com./audit")
    assert links.link_url and links.link_url.startswith("https://track.example.com/t/c/")


# --- Links already in inboxes ----------------------------------------------------------------------

# A link minted on 2026-11-24 by an earlier version (SECRET_KEY below, prospect 4242, its ak
# "ak-golden-0123456789abcdef"). Links sit in inboxes for weeks: an upgrade must not turn them into
# links that no longer hand out the ak (which is what a changed fingerprint would do).
GOLDEN_SECRET = "golden-secret-for-links-minted-by-an-earlier-version-0001"
GOLDEN_LINK = (
    ".eJw1ykEKgCAQQNG7zFoyRUokoqtMaiU5JaQQRHfPTdv_3wMJjJJKMiAwMJCY0JJv_I2Uoh-BQal9yzldhvOIhwvH-u_GnsSxuJCr26uzTsy4eK"
    "la2Wmne3g_pQgd1g:1xVmNc:sno74kF8kW1Vqtee2Pm5gZ3NLrSUetXLsoGPSbLW-Zs"
)
GOLDEN_MINTED_AT = aware(2026, 11, 24, 9, 0, 0)


def test_a_link_minted_by_an_earlier_version_still_hands_out_its_ak(client):
    ProspectFactory(pk=4242, identity_token="ak-golden-0123456789abcdef")
    with (
        override_settings(SECRET_KEY=GOLDEN_SECRET),
        time_machine.travel(GOLDEN_MINTED_AT + timedelta(days=3), tick=False),
    ):
        response = client.get(f"/t/c/{GOLDEN_LINK}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    assert response["Location"] == "https://landing.example.com/audit?ak=ak-golden-0123456789abcdef"
