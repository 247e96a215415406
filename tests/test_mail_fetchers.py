"""Mail opens judged by who fetched: people's mail clients (and their image proxies) count, Apple's
prefetches and security gateways do not — and a Gmail or Outlook re-open texts the founder."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from tests.factories import BROWSER_UA, EmailEventFactory, ProspectFactory
from tracking.models import EmailEvent
from tracking.tokens import make_link_token, make_pixel_token

pytestmark = pytest.mark.django_db

GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
OUTLOOK_DESKTOP = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)"
OUTLOOK_IOS = "Outlook-iOS/723.4027091.prod.iphone (4.2406.0)"
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"
APPLE_MAIL = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"

HUMAN_FETCHERS = [
    (GMAIL, "66.249.93.10", "Gmail"),
    (OUTLOOK_DESKTOP, "198.51.100.7", "Outlook"),
    (OUTLOOK_IOS, "198.51.100.8", "Outlook iOS"),
    (YAHOO, "98.136.1.1", "Yahoo Mail"),
    (THUNDERBIRD, "203.0.113.5", "Thunderbird"),
    (APPLE_MAIL, "90.12.1.1", "Apple Mail"),
]
MACHINE_FETCHERS = [
    (APPLE_MAIL, "17.58.100.1", "Apple Mail Privacy Protection"),
    ("Mozilla/5.0 (compatible; Mimecast-URL-Protect)", "203.0.113.9", "Mimecast"),
    ("Mozilla/5.0 Proofpoint URL Defense", "203.0.113.10", "Proofpoint"),
    ("Barracuda Sentinel (EE)", "203.0.113.11", "Barracuda"),
    ("python-requests/2.32.3", "203.0.113.12", "crawler"),
]


@pytest.fixture
def sent_30_hours_ago():
    prospect = ProspectFactory(email="cto@acme-corp.example", name="Alice Martin", consented=True)
    EmailEventFactory(
        prospect=prospect, message_id="m1", event=EmailEvent.Kind.SENT, occurred_at=timezone.now() - timedelta(hours=30)
    )
    return prospect


def open_pixel(client, prospect, user_agent, ip):
    token = make_pixel_token(prospect_id=prospect.pk, message_id="m1")
    assert client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip).status_code == 200
    return EmailEvent.objects.filter(event=EmailEvent.Kind.OPENED).latest("pk")


@pytest.mark.parametrize(("user_agent", "ip", "client_name"), HUMAN_FETCHERS)
def test_a_reopen_through_a_person_s_mail_client_texts_the_founder(
    client, sent_30_hours_ago, user_agent, ip, client_name, django_capture_on_commit_callbacks
):
    event = open_pixel(client, sent_30_hours_ago, user_agent, ip)
    assert event.machine_reason == ""
    with django_capture_on_commit_callbacks(execute=True):
        report = detection_cycle_run()
    assert [a["signal"] for a in report.alerts] == ["email_reopen"]
    assert len(sms.outbox) == 1 and "Alice Martin" in sms.outbox[0].body
    assert report.signals[0]["evidence"]["client"] == client_name


@pytest.mark.parametrize(("user_agent", "ip", "reason"), MACHINE_FETCHERS)
def test_prefetches_and_security_gateways_are_machines_and_text_nobody(
    client, sent_30_hours_ago, user_agent, ip, reason, django_capture_on_commit_callbacks
):
    event = open_pixel(client, sent_30_hours_ago, user_agent, ip)
    assert reason in event.machine_reason
    with django_capture_on_commit_callbacks(execute=True):
        detection_cycle_run()
    assert sms.outbox == []


def test_every_link_of_a_message_clicked_within_a_second_is_a_scanner(client, sent_30_hours_ago):
    prospect = sent_30_hours_ago
    for destination in ("https://www.example.com/audit", "https://www.example.com/pricing"):
        token = make_link_token(prospect_id=prospect.pk, message_id="m1", url=destination)
        client.get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
    clicks = EmailEvent.objects.filter(event=EmailEvent.Kind.CLICKED)
    assert [c.machine_reason for c in clicks] == ["every link of the message clicked within a second"] * 2


def test_one_link_clicked_by_a_reader_stays_human(client, sent_30_hours_ago):
    token = make_link_token(prospect_id=sent_30_hours_ago.pk, message_id="m1", url="https://www.example.com/audit")
    client.get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
    assert EmailEvent.objects.get(event=EmailEvent.Kind.CLICKED).machine_reason == ""


def test_the_timeline_shows_why_an_open_was_a_machine(admin_client, client, sent_30_hours_ago):
    open_pixel(client, sent_30_hours_ago, APPLE_MAIL, "17.58.100.1")
    page = admin_client.get(f"/admin/backoffice/timeline/{sent_30_hours_ago.pk}/").content.decode()
    assert "Apple Mail Privacy Protection" in page


def test_machine_reasons_are_read_in_the_product_s_language(admin_client, sent_30_hours_ago):
    stored = ["12s after delivery", "every link of the message clicked within a second", "security scanner (Mimecast)"]
    for reason in stored:
        EmailEventFactory(prospect=sent_30_hours_ago, message_id="m1", event="opened", machine_reason=reason)
    page = admin_client.get(f"/admin/backoffice/timeline/{sent_30_hours_ago.pk}/").content.decode()
    for french in ("12 s après la livraison", "tous les liens du message cliqués", "scanner de sécurité (Mimecast)"):
        assert french in page
    assert "after delivery" not in page and "within a second" not in page
