"""Issue 28, points 3 and 5: without the consent the policy asks, nothing identifying — the pixel counts
a message's opens in aggregate, the link carries no `ak`, a pixel or link sent before a refusal records
nothing identifying from the very next fetch, and no alert can be built on data collected without it.
And the way to ask and the way out, in every email: the consent and opt-out pages."""

import html
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert
from prospects.consent import NOTICE_VERSION, prospect_consent_record
from prospects.models import ConsentChange, ConsentSource, ConsentState, Prospect
from tests.factories import BROWSER_UA, EmailEventFactory, ProspectFactory, VisitEventFactory
from tracking.exports import email_link_rows
from tracking.models import EmailEvent, MessageOpenCount, Visitor
from tracking.tokens import (
    LINK_SALT,
    PIXEL_SALT,
    email_links_for,
    make_consent_token,
    make_link_token,
    make_pixel_token,
    read_token,
)

pytestmark = pytest.mark.django_db

DESTINATION = "https://www.example.com/audit"
READER = {"HTTP_USER_AGENT": BROWSER_UA, "REMOTE_ADDR": "198.51.100.23"}
STRICT = ["pixel", "storage", "link"]


def path_of(url: str) -> str:
    return urlsplit(url).path


def identifying_rows() -> int:
    """What ties an email event or a visit to a person."""
    return (
        EmailEvent.objects.filter(event__in=["opened", "clicked"]).count()
        + Visitor.objects.filter(prospect__isnull=False).count()
    )


def answer(client: Client, url: str) -> str:
    """Load the consent page as a person does and press its one button (the form's CSRF token included)."""
    page = client.get(path_of(url), **READER)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    done = client.post(path_of(url), {"csrfmiddlewaretoken": token}, **READER)
    assert done.status_code == 200
    return html.unescape(done.content.decode())


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def people():
    return Client(enforce_csrf_checks=True)


# --- The pixel ------------------------------------------------------------------------------------


def test_without_consent_the_pixel_counts_the_message_and_names_nobody(client):
    prospect = ProspectFactory()  # not asked yet: the default policy asks consent for the pixel
    links = email_links_for(prospect, message_id="relance-1")
    token = path_of(links.pixel_url).rsplit("/", 1)[1].removesuffix(".gif")
    assert read_token(token, salt=PIXEL_SALT) is None  # the URL carries no prospect
    for _fetch in range(3):
        response = client.get(path_of(links.pixel_url), **READER)
        assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert EmailEvent.objects.count() == 0
    assert MessageOpenCount.objects.values_list("message_id", "opens").get() == ("relance-1", 3)


def test_with_consent_the_pixel_is_the_prospects_own():
    prospect = ProspectFactory(consented=True)
    token = path_of(email_links_for(prospect, message_id="m").pixel_url).rsplit("/", 1)[1].removesuffix(".gif")
    assert read_token(token, salt=PIXEL_SALT) == {"p": prospect.pk, "m": "m"}


def test_a_forged_message_pixel_counts_nothing(client):
    prospect = ProspectFactory()
    url = path_of(email_links_for(prospect, message_id="m").pixel_url)
    forged = url.replace(".gif", "x.gif")
    assert client.get(forged, **READER).status_code == 200
    assert MessageOpenCount.objects.count() == 0 and EmailEvent.objects.count() == 0


def test_an_open_reported_by_the_sender_for_a_prospect_without_consent_is_only_counted(client):
    ProspectFactory(email="cto@acme.example")
    response = client.post(
        "/api/track/email",
        json.dumps({"email": "cto@acme.example", "message_id": "m1", "event": "opened"}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer test-api-key",
    )
    assert response.status_code == 202
    assert EmailEvent.objects.count() == 0 and MessageOpenCount.objects.get().opens == 1


# --- Asking, and the way out -----------------------------------------------------------------------


# Signed links carry their signing second: the three ways of asking for them run at one instant.
@time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), tick=False)
def test_the_email_links_carry_a_consent_and_an_opt_out_link(capsys):
    prospect = ProspectFactory(email="cto@acme.example")
    call_command("email_links", "--email", prospect.email, "--message-id", "m1", "--json")
    links = json.loads(capsys.readouterr().out)
    assert links["consent_url"].startswith("https://track.example.com/consentement/")
    assert links["optout_url"].startswith("https://track.example.com/consentement/")
    call_command("email_links", "--email", prospect.email, "--message-id", "m1")
    text = capsys.readouterr().out
    assert links["consent_url"] in text and links["optout_url"] in text
    rows = list(email_link_rows([prospect], message_id="m1", url=None))
    assert (rows[0]["consent_url"], rows[0]["optout_url"]) == (links["consent_url"], links["optout_url"])


def test_opening_a_consent_link_changes_nothing_only_its_button_does(people):
    """Link scanners (Safe Links, gateways) fetch every link of an email: the GET must record nothing."""
    prospect = ProspectFactory()
    links = email_links_for(prospect, message_id="m1")
    for url in (links.consent_url, links.optout_url):
        page = people.get(path_of(url), **READER)
        assert page.status_code == 200 and '<form method="post">' in page.content.decode()
    assert (
        "Oui, vous pouvez suivre l'ouverture de mes emails" in people.get(path_of(links.consent_url)).content.decode()
    )
    assert "Ne plus me suivre" in people.get(path_of(links.optout_url)).content.decode()
    assert ConsentChange.objects.count() == 0
    assert Prospect.objects.get().tracking_consent == ConsentState.UNKNOWN


def test_the_consent_button_records_it_with_its_proof_and_the_next_open_is_identifying(people, client):
    prospect = ProspectFactory()
    before = email_links_for(prospect, message_id="m1")
    page = answer(people, before.consent_url)
    assert "Votre accord est enregistré et s'applique dès maintenant" in page
    assert 'audit-gratuit-monitoring.html">Continuer vers notre page</a>' in page  # then the landing page
    change = ConsentChange.objects.get()
    assert (change.state, change.source, change.network, change.notice_version) == (
        "granted",
        "consent_link",
        "198.51.100.0/24",
        NOTICE_VERSION,
    )
    # Effective at once: the links of the next email are the prospect's own.
    after = email_links_for(Prospect.objects.get(), message_id="m2")
    client.get(path_of(after.pixel_url), **READER)
    assert EmailEvent.objects.get().prospect_id == prospect.pk


def test_an_opt_out_click_then_an_old_pixel_and_link_record_nothing_identifying(people, client):
    prospect = ProspectFactory(consented=True)
    sent = email_links_for(prospect, message_id="m1", url=DESTINATION)
    answer(people, sent.optout_url)
    assert Prospect.objects.get().tracking_consent == ConsentState.REFUSED
    # The pixel of the email sent before the refusal: still the GIF, nothing identifying.
    response = client.get(path_of(sent.pixel_url), **READER)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    # Its link: still the page, without the ak.
    response = client.get(path_of(sent.link_url), **READER)
    assert response.status_code == 302 and response["Location"] == DESTINATION
    assert EmailEvent.objects.count() == 0
    assert MessageOpenCount.objects.get(message_id="m1").opens == 1


def test_a_refusal_says_so_in_french_and_records_the_opt_out(people):
    prospect = ProspectFactory(consented=True)
    page = answer(people, email_links_for(prospect, message_id="m1").optout_url)
    assert "nous ne vous suivons plus" in page and "dès maintenant" in page
    assert ConsentChange.objects.get().source == ConsentSource.OPTOUT_LINK


def test_the_button_without_the_pages_csrf_token_records_nothing(people):
    prospect = ProspectFactory(consented=True)
    url = email_links_for(prospect, message_id="m1").optout_url
    assert people.post(path_of(url), **READER).status_code == 403
    assert ConsentChange.objects.count() == 0


@pytest.mark.parametrize("mangle", [lambda t: t[:-2], lambda t: t + "x", lambda t: "x" * 600, lambda t: "abc"])
def test_a_forged_or_altered_consent_link_is_a_page_saying_so(people, mangle):
    prospect = ProspectFactory()
    token = make_consent_token(prospect_id=prospect.pk, answer="refused")
    response = people.get(f"/consentement/{mangle(token)}", **READER)
    assert response.status_code == 404
    assert "Ce lien n'est pas valide" in text_of(response)
    assert people.post(f"/consentement/{mangle(token)}", **READER).status_code in (403, 404)
    assert ConsentChange.objects.count() == 0


def test_a_consent_link_of_an_erased_prospect_says_so(people):
    prospect = ProspectFactory()
    url = email_links_for(prospect, message_id="m1").optout_url
    prospect.delete()
    response = people.get(path_of(url), **READER)
    assert response.status_code == 404 and "déjà été effacées" in text_of(response)


def test_the_consent_page_is_rate_limited_like_the_other_public_endpoints(people, settings):
    settings.TRACKING_RATE_LIMIT = "2/m"
    url = path_of(email_links_for(ProspectFactory(), message_id="m1").consent_url)
    codes = [people.get(url, **READER).status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and codes[-1] == 429


def test_the_demo_landing_page_shows_its_notice(client):
    page = text_of(client.get("/audit-gratuit-monitoring.html"))
    assert 'id="privacy-notice"' in page
    assert "Ne plus me suivre" in page and "Conservation" in page


# --- The personal link under the strictest policy --------------------------------------------------


def test_under_the_strictest_policy_links_carry_no_ak_until_consent(settings):
    settings.TRACKING_CONSENT_FOR = STRICT
    unknown, granted = ProspectFactory(), ProspectFactory(consented=True)
    plain = email_links_for(unknown, message_id="m1", url=DESTINATION)
    assert (plain.ak, plain.link_url) == ("", DESTINATION)
    personal = email_links_for(granted, message_id="m1", url=DESTINATION)
    assert personal.ak == granted.identity_token
    assert read_token(path_of(personal.link_url).rsplit("/", 1)[1], salt=LINK_SALT)["p"] == granted.pk


def _read_page(client: Client, ak: str, visitor: str, at) -> None:
    """A landing-page session with tracker.js: pageview, heartbeats for 100 s, a CTA click, all with ak."""
    common = {"visitor_id": visitor, "page_view_id": f"pv-{visitor}", "page": "/audit-gratuit-monitoring.html"}
    for seconds in (0, 15, 30, 45, 60, 75, 90, 100):
        with time_machine.travel(at + timedelta(seconds=seconds), tick=False):
            event = "pageview" if seconds == 0 else "heartbeat"
            body = {**common, "ak": ak, "event": event, "engaged_ms": seconds * 1000}
            assert client.post("/api/track/visit", json.dumps(body), "text/plain", **READER).status_code == 202
    with time_machine.travel(at + timedelta(seconds=101), tick=False):
        body = {**common, "ak": ak, "cta_id": "cta_reserver_audit"}
        assert client.post("/api/track/cta", json.dumps(body), "text/plain", **READER).status_code == 202


def test_under_the_strictest_policy_a_visit_is_not_identified_by_the_ak_of_a_prospect_who_did_not_consent(
    client, settings, django_capture_on_commit_callbacks
):
    settings.TRACKING_CONSENT_FOR = STRICT
    prospect = ProspectFactory()  # its ak came from an old link, or was typed
    now = timezone.now()
    _read_page(client, prospect.identity_token, "visitor-strict", now)
    with (
        time_machine.travel(now + timedelta(seconds=102), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        detection_cycle_run()
    assert Visitor.objects.filter(prospect__isnull=False).count() == 0
    assert Alert.objects.count() == 0 and sms.outbox == []


def test_a_refused_prospects_old_tracked_link_lands_on_the_page_without_ak_under_every_policy(client, settings):
    for policy in ([], ["pixel", "storage"], STRICT):
        settings.TRACKING_CONSENT_FOR = policy
        prospect = ProspectFactory(tracking_consent="refused")
        token = make_link_token(prospect_id=prospect.pk, message_id="m1", url=DESTINATION, ak=prospect.identity_token)
        response = client.get(f"/t/c/{token}", **READER)
        assert response.status_code == 302 and "ak" not in parse_qs(urlsplit(response["Location"]).query)
    assert EmailEvent.objects.count() == 0


# --- Where alerts are made -------------------------------------------------------------------------

T0 = timezone.now().replace(microsecond=0) - timedelta(days=3)


def _reopen(prospect: Prospect) -> None:
    """A re-open as an email service's webhook or an old row would have stored it: the alert must check."""
    EmailEventFactory(prospect=prospect, message_id="m1", event="sent", occurred_at=T0)
    at = T0 + timedelta(hours=30)
    EmailEventFactory(prospect=prospect, message_id="m1", event="opened", occurred_at=at, received_at=at)


def _cycle(capture, at) -> None:
    with time_machine.travel(at, tick=False), capture(execute=True):
        detection_cycle_run()


def test_no_reopen_alert_for_a_prospect_who_did_not_consent_to_the_pixel(django_capture_on_commit_callbacks):
    _reopen(ProspectFactory())
    _cycle(django_capture_on_commit_callbacks, T0 + timedelta(hours=30, seconds=1))
    assert Alert.objects.count() == 0 and sms.outbox == []


def test_a_reopen_collected_before_the_consent_was_given_texts_nobody(django_capture_on_commit_callbacks):
    prospect = ProspectFactory()
    _reopen(prospect)
    prospect_consent_record(
        prospect=prospect, state="granted", source=ConsentSource.CONSENT_LINK, at=T0 + timedelta(hours=31)
    )
    _cycle(django_capture_on_commit_callbacks, T0 + timedelta(hours=31, seconds=1))
    assert Alert.objects.count() == 0 and sms.outbox == []


def test_a_reopen_collected_under_consent_texts_the_founder(django_capture_on_commit_callbacks):
    prospect = ProspectFactory()
    prospect_consent_record(prospect=prospect, state="granted", source=ConsentSource.CONSENT_LINK, at=T0)
    _reopen(prospect)
    _cycle(django_capture_on_commit_callbacks, T0 + timedelta(hours=30, seconds=1))
    assert Alert.objects.get().signal == "email_reopen" and len(sms.outbox) == 1


def test_a_refusal_stops_the_alerts_of_a_visitor_linked_before_it(django_capture_on_commit_callbacks):
    """The visitor was linked by the personal link while it was allowed; a refusal makes its later reading
    of the page text nobody, whatever the policy."""
    prospect = ProspectFactory(consented=True)
    Visitor.objects.create(visitor_id="visitor-1", prospect=prospect, match_method="ak", matched_at=T0)
    prospect_consent_record(prospect=prospect, state="refused", source=ConsentSource.OPTOUT_LINK, at=T0)
    for seconds in (0, 15, 30, 45, 60, 75, 90, 100):
        VisitEventFactory(
            visitor_id="visitor-1",
            page_view_id="pv-1",
            event="pageview" if seconds == 0 else "heartbeat",
            received_at=T0 + timedelta(minutes=1, seconds=seconds),
            engaged_ms=seconds * 1000,
        )
    _cycle(django_capture_on_commit_callbacks, T0 + timedelta(minutes=1, seconds=101))
    assert Alert.objects.count() == 0 and sms.outbox == []


def test_the_default_policy_still_texts_a_personal_link_reading_without_asking(
    client, django_capture_on_commit_callbacks
):
    """The link is not in the default policy: the product's main signal still works for everyone."""
    prospect = ProspectFactory()
    now = timezone.now()
    _read_page(client, prospect.identity_token, "visitor-default", now)
    _cycle(django_capture_on_commit_callbacks, now + timedelta(seconds=102))
    assert {a.signal for a in Alert.objects.all()} == {"page_dwell", "cta_click"} and sms.outbox
    assert identifying_rows() == 1


def test_a_grant_recorded_for_a_pixel_minted_earlier_makes_its_next_fetch_identifying(client):
    prospect = ProspectFactory()
    token = make_pixel_token(prospect_id=prospect.pk, message_id="m1")  # minted under another policy
    client.get(f"/t/o/{token}.gif", **READER)
    assert EmailEvent.objects.count() == 0
    prospect_consent_record(prospect=prospect, state="granted", source=ConsentSource.STAFF)
    client.get(f"/t/o/{token}.gif", **READER)
    assert EmailEvent.objects.get().prospect_id == prospect.pk


def test_a_refusal_during_quiet_hours_keeps_the_signal_out_of_the_morning_digest(settings, run_on_commit):
    """The CTA click came at night, under consent; the prospect opts out before the morning: the digest
    must not name them (the refusal takes effect at once)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from alerts.outbox.models import SmsNotice
    from alerts.tasks import relay_deliveries_task
    from tests.factories import CtaClickFactory, VisitorFactory

    settings.ALERT_QUIET_HOURS, settings.ALERT_QUIET_DAYS, settings.ALERT_QUIET_BREAKERS = "20:00-08:00", [], []
    paris = ZoneInfo("Europe/Paris")
    leaving, staying = ProspectFactory(name="Jean Partant"), ProspectFactory(name="Marie Restante")
    for prospect, visitor in ((leaving, "visitor-l"), (staying, "visitor-s")):
        VisitorFactory(visitor_id=visitor, prospect=prospect)
        at = datetime(2026, 11, 25, 1, 0, tzinfo=paris)
        CtaClickFactory(visitor_id=visitor, prospect=prospect, ak=prospect.identity_token, received_at=at)
    with time_machine.travel(datetime(2026, 11, 25, 1, 5, tzinfo=paris), tick=False):
        run_on_commit(detection_cycle_run)
    assert Alert.objects.filter(status="quiet").count() == 2 and SmsNotice.objects.count() == 1
    prospect_consent_record(prospect=leaving, state="refused", source=ConsentSource.OPTOUT_LINK)
    assert Alert.objects.get(prospect=leaving).status == "no_consent"
    with time_machine.travel(datetime(2026, 11, 25, 8, 0, 30, tzinfo=paris), tick=False):
        run_on_commit(relay_deliveries_task)
    assert len(sms.outbox) == 1
    assert "Marie Restante" in sms.outbox[0].body and "Jean Partant" not in sms.outbox[0].body
