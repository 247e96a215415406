"""Forgery bounded at the alert: unverified signals say so, a burst of unverified signals for several
prospects from one network is held for review with one notice, and an hourly budget groups the rest
into one summary — nothing is dropped."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alerts.outbox import sms
from alerts.outbox.actions import alert_dismiss, alert_release
from alerts.outbox.delivery import deliveries_left_behind_relay
from alerts.outbox.models import Alert, AlertDelivery, HourlySmsBudget, SmsNotice
from alerts.outbox.notices import hour_of, notice_text
from prospects.models import Prospect
from tests.factories import BROWSER_UA, AlertFactory, ProspectFactory, SignalCooldownFactory
from tests.test_detection import T0, detected, recorded

pytestmark = pytest.mark.django_db


def cta(client, *, visitor_id, ip, email="", ak=""):
    body = {"visitor_id": visitor_id, "page": "/audit", "cta_id": "cta_reserver_audit"}
    body |= {"email": email} if email else {}
    body |= {"ak": ak} if ak else {}
    response = client.post("/api/track/cta", json.dumps(body), "text/plain", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=ip)
    assert response.status_code == 202


@pytest.fixture
def live(run_on_commit):
    """What the request triggers (detection, then delivery) runs as the cluster would (sync in tests)."""
    return run_on_commit


def test_an_unverified_click_texts_and_says_unverified_a_verified_one_does_not(client, live):
    ProspectFactory(email="cto@acme-corp.example", name="Alice Claimed")
    verified = ProspectFactory(email="cto@initech.example", name="Bob Verified")
    live(cta, client, visitor_id="visitor-claim1", ip="203.0.113.5", email="someone@acme-corp.example")
    live(cta, client, visitor_id="visitor-verif1", ip="198.51.100.5", ak=verified.identity_token)
    assert len(sms.outbox) == 2
    assert 'Réserver audit" (non vérifié): Alice Claimed' in sms.outbox[0].body, sms.outbox[0].body
    assert "non vérifié" not in sms.outbox[1].body and "Bob Verified" in sms.outbox[1].body
    assert dict(Alert.objects.values_list("prospect__name", "identification")) == {
        "Alice Claimed": "unverified",
        "Bob Verified": "verified",
    }


def test_the_forged_click_attack_reaches_the_phone_at_most_twice_and_the_rest_waits_for_review(client, live):
    """20 prospects' domains, a CTA each from one address, three rounds: one SMS for the first, then
    one notice saying how many are held; nobody is marked hot but the first."""
    for n in range(20):
        ProspectFactory(email=f"cto@company{n:02d}.example", name=f"Prospect {n:02d}")
    for round_ in range(3):
        for n in range(20):
            email = f"anyone{round_}@company{n:02d}.example"
            live(cta, client, visitor_id=f"forged-{round_}-{n:02d}", ip="203.0.113.66", email=email)
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
        live(deliveries_left_behind_relay)
    assert len(sms.outbox) == 2, [m.body for m in sms.outbox]
    notice = sms.outbox[1].body
    assert notice.startswith("ArkWatch : 59 alertes retenues"), notice  # 19 + 20 + 20, all on the page
    assert Alert.objects.filter(status="held").count() == 59
    assert Prospect.objects.filter(status="hot").count() == 1
    assert SmsNotice.objects.filter(kind="held").count() == 1


def test_two_unverified_readers_from_different_networks_are_not_an_anomaly(client, live):
    ProspectFactory(email="cto@acme-corp.example")
    ProspectFactory(email="cto@initech.example")
    live(cta, client, visitor_id="visitor-a0001", ip="203.0.113.5", email="a@acme-corp.example")
    live(cta, client, visitor_id="visitor-b0001", ip="198.51.100.9", email="b@initech.example")
    assert len(sms.outbox) == 2 and not Alert.objects.filter(status="held").exists()


def test_staff_release_or_dismiss_a_held_alert_from_hot_leads(client, live, admin_client):
    first = ProspectFactory(email="cto@acme-corp.example")
    second = ProspectFactory(email="cto@initech.example", name="Carla Held")
    third = ProspectFactory(email="cto@globex.example")
    for n, email in enumerate(["x@acme-corp.example", "x@initech.example", "x@globex.example"]):
        live(cta, client, visitor_id=f"visitor-h{n:04d}", ip="203.0.113.66", email=email)
    held = {a.prospect_id: a for a in Alert.objects.filter(status="held")}
    assert set(held) == {second.pk, third.pk} and first.pk not in held
    page = admin_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert "Retenue" in page and "non vérifié" in page
    url = reverse("backoffice-alert-action", args=[held[second.pk].pk])
    live(admin_client.post, url, {"action": "release"})
    live(admin_client.post, reverse("backoffice-alert-action", args=[held[third.pk].pk]), {"action": "dismiss"})
    statuses = dict(Alert.objects.values_list("prospect_id", "status"))
    assert statuses == {first.pk: "sent", second.pk: "sent", third.pk: "dismissed"}
    assert any("Carla Held" in m.body for m in sms.outbox)


@override_settings(ALERT_SMS_MAX_PER_HOUR=3)
def test_past_the_hourly_budget_alerts_are_grouped_into_one_summary_at_the_end_of_the_hour(client, live):
    prospects = [ProspectFactory(name=f"Lead {n}") for n in range(5)]
    start = timezone.localtime().replace(minute=10, second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        for n, prospect in enumerate(prospects):
            live(cta, client, visitor_id=f"visitor-b{n:04d}", ip=f"198.51.{n}.9", ak=prospect.identity_token)
    assert len(sms.outbox) == 3
    assert Alert.objects.filter(status="grouped").count() == 2
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        live(deliveries_left_behind_relay)
    assert len(sms.outbox) == 3, "the summary waits for the end of the hour"
    with time_machine.travel(start + timedelta(minutes=51), tick=False):
        live(deliveries_left_behind_relay)
    assert len(sms.outbox) == 4
    summary = sms.outbox[-1].body
    # The strongest lead with its company and number, the next one named as room allows.
    assert "2 signaux de plus" in summary and "Lead 3 (" in summary and ("Lead 4 (clic)" in summary or "+1" in summary)


def test_the_admin_shows_how_each_visitor_and_alert_was_identified(client, live, admin_client):
    unverified, verified = ProspectFactory(email="cto@acme-corp.example"), ProspectFactory()
    live(cta, client, visitor_id="visitor-adm01", ip="203.0.113.5", email="x@acme-corp.example")
    live(cta, client, visitor_id="visitor-adm02", ip="198.51.100.5", ak=verified.identity_token)
    visitors = admin_client.get("/admin/tracking/visitor/").content.decode()
    alerts = admin_client.get("/admin/alerts/alert/").content.decode()
    for page in (visitors, alerts):
        # One of each: "non vérifié" once, and "vérifié" once more on its own.
        assert page.count("non vérifié") >= 1 and page.count("vérifié") > page.count("non vérifié")
    assert unverified.alerts.get().identification == "unverified"


# --- A held alert, released or dismissed by staff ------------------------------------------------


def held_alert(**fields) -> Alert:
    return AlertFactory(status=Alert.Status.HELD, **fields)


def test_dismissing_one_held_alert_leaves_the_others_waiting_for_review():
    dismissed, other = held_alert(), held_alert()
    assert alert_dismiss(alert=dismissed) is True
    assert dict(Alert.objects.values_list("pk", "status")) == {dismissed.pk: "dismissed", other.pk: "held"}


def test_only_a_held_alert_can_be_released_or_dismissed(django_capture_on_commit_callbacks):
    sent = AlertFactory(status=Alert.Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_release(alert=sent) is False, "the page says the alert changed meanwhile"
        assert alert_dismiss(alert=sent) is False
    sent.refresh_from_db()
    assert sent.status == "sent" and not sms.outbox and not AlertDelivery.objects.exists()


def test_a_released_alert_is_texted_at_once_and_says_so(django_capture_on_commit_callbacks):
    held = held_alert(message="Clic CTA: Carla. Appeler")
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_release(alert=held) is True
    held.refresh_from_db()
    assert held.status == "sent" and [m.body for m in sms.outbox] == ["Clic CTA: Carla. Appeler"]


def test_a_released_alert_respects_the_prospects_cooldown(django_capture_on_commit_callbacks):
    """The founder was texted about this prospect's click an hour ago: a release is not a second SMS."""
    held = held_alert()
    SignalCooldownFactory(
        prospect=held.prospect, signal=held.signal, last_alerted_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_release(alert=held) is True
    held.refresh_from_db()
    assert held.status == "cooldown" and not sms.outbox


@override_settings(ALERT_SMS_MAX_PER_HOUR=1)
def test_a_released_alert_is_sent_even_when_the_hours_budget_is_spent(django_capture_on_commit_callbacks):
    """Someone chose to send it: the hourly budget, which groups automatic SMS, does not hold it back."""
    HourlySmsBudget.objects.create(hour=hour_of(timezone.now()), used=1)
    held = held_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_release(alert=held)
    held.refresh_from_db()
    assert held.status == "sent" and len(sms.outbox) == 1


# --- Which claims look forged: one network, one hour, verified visits apart; the hour's budget -------


def test_the_hours_budget_is_this_hours(django_capture_on_commit_callbacks):
    HourlySmsBudget.objects.create(hour=T0 - timedelta(hours=1), used=0)  # an hour with SMS left, gone
    HourlySmsBudget.objects.create(hour=T0, used=1)  # this hour's one SMS already went
    with override_settings(ALERT_SMS_MAX_PER_HOUR=1):
        alert = recorded(detected(ProspectFactory(), 1), T0, django_capture_on_commit_callbacks)
    assert alert.status == "grouped"


def test_a_verified_visit_from_a_network_that_forged_claims_is_still_texted(django_capture_on_commit_callbacks):
    network = "203.0.113.0"
    for n in range(2):  # claims for two prospects from one network: forged, held
        forged = detected(ProspectFactory(), n, identification="unverified", client_network=network)
        assert recorded(forged, T0, django_capture_on_commit_callbacks).status in ("held", "sent")
    real = detected(ProspectFactory(), 9, client_network=network)  # the prospect's own link: verified
    assert recorded(real, T0, django_capture_on_commit_callbacks).status == "sent"


def test_claims_from_one_network_more_than_an_hour_apart_are_two_readers(django_capture_on_commit_callbacks):
    network = "198.51.100.0"
    early = detected(ProspectFactory(), 1, identification="unverified", client_network=network)
    assert recorded(early, T0, django_capture_on_commit_callbacks).status == "sent"
    later = T0 + timedelta(hours=1, minutes=1)
    second = detected(ProspectFactory(), 2, identification="unverified", client_network=network, occurred_at=later)
    assert recorded(second, later, django_capture_on_commit_callbacks).status == "sent"


def test_a_colleagues_verified_visit_does_not_make_the_next_claim_look_forged(django_capture_on_commit_callbacks):
    office = "192.0.2.0"
    colleague = detected(ProspectFactory(), 1, client_network=office)  # came by their own link
    assert recorded(colleague, T0, django_capture_on_commit_callbacks).status == "sent"
    claim = detected(ProspectFactory(), 2, identification="unverified", client_network=office)
    assert recorded(claim, T0, django_capture_on_commit_callbacks).status == "sent"


def test_the_held_alerts_notice_waits_a_minute_to_count_the_whole_burst(django_capture_on_commit_callbacks):
    network = "203.0.113.0"
    for n in range(2):  # claims for two prospects from one network: the second is held
        recorded(
            detected(ProspectFactory(), n, identification="unverified", client_network=network),
            T0,
            django_capture_on_commit_callbacks,
        )
    notice_rows = AlertDelivery.objects.filter(notice__kind="held")
    assert notice_rows.exists() and {row.retry_at for row in notice_rows} == {T0 + timedelta(minutes=1)}


def grouped_alert(name: str, at, signal="cta_click", **prospect) -> Alert:
    alert = AlertFactory(prospect=ProspectFactory(name=name, **prospect), signal=signal, status=Alert.Status.GROUPED)
    Alert.objects.filter(pk=alert.pk).update(detected_at=at, occurred_at=at)
    return alert


def test_the_hourly_summary_lists_its_own_hour_strongest_first_and_nobody_who_said_stop():
    """Grouped between 10:00 and 11:00, a read then a click; one of the hour's leads said stop since; the
    hours before and after have their own; the hour's texted and held alerts are not grouped ones.
    Written when it leaves: it says 10h-11h, the click first, then the read, and counts two — even
    written an hour late (the relay was down)."""
    ten = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    grouped_alert("Anne Before", ten - timedelta(minutes=10), company="", phone="")
    grouped_alert("Bruno Reader", ten + timedelta(minutes=10), "page_dwell", company="", phone="")
    grouped_alert("Chloe Stop", ten + timedelta(minutes=15), company="", phone="", status="do_not_contact")
    grouped_alert("David Clicker", ten + timedelta(minutes=20), company="", phone="")
    grouped_alert("Emma After", ten + timedelta(minutes=70), company="", phone="")
    # Texted at once within the hour's budget, or held: not one of the "more signals".
    for name, status in (("Felix Texted", Alert.Status.SENT), ("Gina Held", Alert.Status.HELD)):
        Alert.objects.filter(pk=grouped_alert(name, ten + timedelta(minutes=5), company="", phone="").pk).update(
            status=status
        )
    notice = SmsNotice.objects.create(kind=SmsNotice.Kind.SUMMARY, period_start=ten)
    with time_machine.travel(ten + timedelta(hours=2, minutes=5), tick=False):
        text = notice_text(notice)
    assert text == (
        "ArkWatch : 2 signaux de plus 10h-11h (au-delà de 10 SMS/h) : David Clicker (clic), Bruno Reader (lecture). "
        "https://track.example.com/admin/backoffice/hot-leads/"
    )


def test_a_cycle_that_crosses_the_hour_spends_the_hour_its_sms_leaves_in(settings, django_capture_on_commit_callbacks):
    """ALERT_SMS_MAX_PER_HOUR=1. Anne's SMS at 10:30 spends 10h's. A cycle started at 10:59:59 records
    Chloe's click at 11:00:01: her SMS leaves at 11h and spends 11h's, so Bruno's at 11:05 is grouped, and
    the 11h-12h summary names him. (Spending 10h's, Chloe was grouped into a 10h summary that lists the
    alerts recorded in 10h only: "0 signal", her name in no SMS.)"""
    from alerts.outbox.admission import alert_record_signal
    from tests.test_detection import detected

    settings.ALERT_SMS_MAX_PER_HOUR = 1
    ten = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    for n, (name, cycle_at, recorded_at) in enumerate(
        [
            ("Anne Texted", ten + timedelta(minutes=30), ten + timedelta(minutes=30)),
            ("Chloe Boundary", ten + timedelta(minutes=59, seconds=59), ten + timedelta(hours=1, seconds=1)),
            ("Bruno Grouped", ten + timedelta(hours=1, minutes=5), ten + timedelta(hours=1, minutes=5)),
        ]
    ):
        prospect = ProspectFactory(name=name, company="", phone="")
        with time_machine.travel(recorded_at, tick=False), django_capture_on_commit_callbacks(execute=True):
            alert_record_signal(detected=detected(prospect, n, occurred_at=cycle_at), now=cycle_at)
    assert dict(Alert.objects.values_list("prospect__name", "status")) == {
        "Anne Texted": "sent",
        "Chloe Boundary": "sent",
        "Bruno Grouped": "grouped",
    }
    notice = SmsNotice.objects.get(kind=SmsNotice.Kind.SUMMARY)
    with time_machine.travel(ten + timedelta(hours=2, minutes=1), tick=False):
        assert notice_text(notice) == (
            "ArkWatch : 1 signal de plus 11h-12h (au-delà de 1 SMS/h) : Bruno Grouped (clic). "
            "https://track.example.com/admin/backoffice/hot-leads/"
        )
