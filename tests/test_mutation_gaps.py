"""Behaviours the mutation run (`make mutants`) found unguarded, each one a founder or an operator
would notice: acknowledging one failed SMS silencing every other, a resend that keeps the old
failure's state, one page view's start or crossing shared with the next, an http:// referrer or a
number where a string belongs turning an event away."""

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from alerts.outbox import delivery, sms
from alerts.outbox.actions import alert_dismiss, alert_failure_acknowledge, alert_release, alert_resend
from alerts.outbox.admission import alert_record_signal
from alerts.outbox.delivery import deliveries_needing_relay, reminder_deliveries_add
from alerts.outbox.gsm import gsm7_segments, gsm7_units, truncate_units
from alerts.outbox.models import Alert, AlertDelivery, HourlySmsBudget
from alerts.outbox.notices import hour_of
from alerts.selectors import unacknowledged_failures
from alerts.signals import dwell
from alerts.signals.detected import DetectedSignal
from alerts.signals.dwell import forget_page_views, not_a_reading, page_view_crossed_threshold
from tests.factories import (
    BROWSER_UA,
    AlertDeliveryFactory,
    AlertFactory,
    CallFactory,
    CtaClickFactory,
    EmailEventFactory,
    ProspectFactory,
    SignalCooldownFactory,
    VisitEventFactory,
    aware,
)
from tests.test_composer import compose as compose_lead
from tracking.matching import visitors_match
from tracking.models import VisitEvent, Visitor
from tracking.schemas import Invalid, aware_datetime, http_url, message_id
from tracking.tokens import add_query_param, email_links_for, is_http_url

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


@pytest.mark.django_db
def test_a_long_read_is_seen_when_the_shared_store_keeps_no_first_times(monkeypatch):
    # PostgreSQL's store keeps none, and an unwritable LMDB file answers None: the page view's start
    # then comes from this process's memory and the stored events.
    monkeypatch.setattr(dwell, "remember_first", lambda *args: None)
    monkeypatch.setattr(dwell, "recall", lambda *args: None)
    at = T0.timestamp()
    with time_machine.travel(at, tick=False):
        assert not page_view_crossed_threshold("pv-alone-00001", T0, opens=True)
    with time_machine.travel(at + 89, tick=False):
        assert not page_view_crossed_threshold("pv-alone-00001", T0 + timedelta(seconds=89), engaged_ms=89_000)
    with time_machine.travel(at + 90, tick=False):
        assert page_view_crossed_threshold("pv-alone-00001", T0 + timedelta(seconds=90), engaged_ms=90_000)


@pytest.mark.django_db
@pytest.mark.parametrize(("heartbeat_s", "crossed"), [(5, False), (None, True), (15, True)])
def test_visible_time_is_judged_by_the_pages_own_heartbeat(heartbeat_s, crossed):
    # 80 s visible out of 90: a page beating every 5 s may lag 5 s, not 15 (a tab mostly in the background).
    at = T0.timestamp()
    with time_machine.travel(at, tick=False):
        page_view_crossed_threshold("pv-rhythm-0001", T0, opens=True, heartbeat_s=heartbeat_s)
    with time_machine.travel(at + 90, tick=False):
        moment = T0 + timedelta(seconds=90)
        verdict = page_view_crossed_threshold("pv-rhythm-0001", moment, engaged_ms=80_000, heartbeat_s=heartbeat_s)
    assert verdict is crossed


def _page_view(prospect, events: list[tuple[int, str, bool]]) -> str:
    """A page view of `prospect`'s browser: (seconds after T0, event, is_bot) each; no visible time reported."""
    for offset, event, is_bot in events:
        VisitEventFactory(
            visitor_id="reader-000001",
            page_view_id="pv-reader-0001",
            prospect=prospect,
            event=event,
            is_bot=is_bot,
            received_at=T0 + timedelta(seconds=offset),
        )
    return "pv-reader-0001"


@pytest.mark.django_db
def test_machine_events_in_a_page_view_do_not_lengthen_the_read():
    # 30 s of reading, then a scanner's events carrying the same page view until 105 s: no long read.
    human = [(0, "pageview", False), (15, "heartbeat", False), (30, "heartbeat", False)]
    machine = [(45 + 15 * n, "heartbeat", True) for n in range(5)]
    page_view = _page_view(ProspectFactory(), human + machine)
    assert dwell.find_dwell_signals({page_view}, T0 + timedelta(minutes=5)) == []


@pytest.mark.django_db
def test_a_long_read_names_the_network_it_came_from():
    # What the forged-traffic hold compares: two claimed long reads from one network within the hour.
    events = [(0, "pageview", False), *[(15 * (n + 1), "heartbeat", False) for n in range(7)]]
    page_view = _page_view(ProspectFactory(), events)
    VisitEvent.objects.update(client_network="203.0.113.0")
    [signal] = dwell.find_dwell_signals({page_view}, T0 + timedelta(minutes=5))
    assert signal.client_network == "203.0.113.0"


@pytest.mark.django_db
@pytest.mark.parametrize(("beats", "found"), [(4, False), (5, True)])
def test_without_visible_time_only_heartbeats_show_the_page_in_view(beats, found):
    # 90 s at 15 s a beat needs 5 heartbeats; the page view's open and its leave are not heartbeats.
    events = [(0, "pageview", False), *[(15 * (n + 1), "heartbeat", False) for n in range(beats)], (95, "leave", False)]
    page_view = _page_view(ProspectFactory(), events)
    assert bool(dwell.find_dwell_signals({page_view}, T0 + timedelta(minutes=5))) is found


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
    text = compose_lead(company=company, email="camille@exemple-logistique.fr")
    assert "()" not in text
    assert ("(Exemple Logistique)" in text) is bool(company)
    # The name stays, company or not; the email stands in only for a lead with neither.
    assert "Camille Martin" in text and "camille@" not in text


def test_an_sms_about_a_lead_known_only_by_email_reads_cleanly():
    text = compose_lead(name="", company="", phone="", pain_point="", email="bob@beta.io")
    assert text == 'A cliqué "Réserver audit". bob@beta.io. https://track.example.com/l/42'


def test_an_sms_whose_reach_alone_overflows_drops_even_the_link_and_still_leaves():
    # No phone, a 184-character address: every other part is shortened away, then the link.
    text = compose_lead(phone="", email="a" * 60 + "@" + "b" * 120 + ".fr")
    assert text.startswith('A cliqué "Réserver audit". aaaa') and gsm7_units(text) <= 160
    assert "https://" not in text


@pytest.mark.parametrize("local_part", [60, 90, 95, 100, 105, 110])
def test_an_sms_carries_its_whole_link_or_none_of_it(local_part):
    # No phone, a long address: name, company and pain point give way first; when the link still does
    # not fit, it goes whole. Half a link opens nothing, and the founder would tap it at 9:14.
    link = "https://track.example.com/l/42"
    address = "a" * local_part + "@exemple-logistique.fr"
    text = compose_lead(phone="", email=address)
    assert gsm7_units(text) <= 160 and address in text
    assert text.endswith(address + ". " + link) or (text.endswith(address) and "track." not in text)


def test_a_two_part_sms_with_an_escaped_character_on_the_boundary_is_shortened_and_keeps_its_link(settings):
    # 304 units would fit two parts of 153, but the "{" (escape + character) straddles them: the pain
    # point gives up a little more and the SMS still leaves in two parts, its link last.
    settings.SMS_MAX_SEGMENTS = 2
    text = compose_lead(pain_point=("x" * 61 + "{" + "y" * 300)[:182])
    assert gsm7_segments(text) == 2 and gsm7_units(text) <= 306
    assert text.endswith("y... https://track.example.com/l/42")


def test_a_line_break_in_a_field_becomes_one_space_an_sms_is_one_line():
    assert "Xavier veut moins d'astreintes" in compose_lead(pain_point="Xavier veut\r\nmoins d'astreintes")


@pytest.mark.django_db
def test_a_delivery_being_sent_is_not_handed_over_again_until_its_lease_ends():
    row = AlertDeliveryFactory(alert__prospect=ProspectFactory(), status="pending")
    assert delivery._claim(row.pk, T0)
    assert deliveries_needing_relay(T0 + timedelta(minutes=1, seconds=59)) == []
    assert deliveries_needing_relay(T0 + timedelta(minutes=2, seconds=1)) == [(row.alert_id, None)]


@pytest.mark.django_db
def test_delivering_an_alert_with_nobody_to_text_keeps_its_status():
    alert = AlertFactory(prospect=ProspectFactory(), status=Alert.Status.MUTED)
    assert delivery.alert_deliver(alert_id=alert.pk) == "muted"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hint", "method", "sentence"),
    [
        ({"email": "cto@acme-corp.example"}, "email", "A donné l'email cto@acme-corp.example"),
        (
            {"email": "dev@acme-corp.example"},
            "company_domain",
            "A donné dev@acme-corp.example, une adresse du domaine de l'entreprise acme-corp.example",
        ),
    ],
)
def test_the_prospect_page_says_how_each_browser_was_recognised(hint, method, sentence):
    ProspectFactory(email="cto@acme-corp.example")
    VisitEventFactory(visitor_id="reader-000001", **hint)
    visitors_match(["reader-000001"])
    visitor = Visitor.objects.get(visitor_id="reader-000001")
    assert (visitor.match_method, visitor.match_evidence_sentence) == (method, sentence)


# --- Staff actions on one alert (mutation run of 2026-12-03) ----------------------------------------


def _held_alert(**fields) -> Alert:
    return AlertFactory(status=Alert.Status.HELD, **fields)


@pytest.mark.django_db
def test_dismissing_one_held_alert_leaves_the_others_waiting_for_review():
    dismissed, other = _held_alert(), _held_alert()
    assert alert_dismiss(alert=dismissed) is True
    assert dict(Alert.objects.values_list("pk", "status")) == {dismissed.pk: "dismissed", other.pk: "held"}


@pytest.mark.django_db
def test_only_a_held_alert_can_be_released_or_dismissed(django_capture_on_commit_callbacks):
    sent = AlertFactory(status=Alert.Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_release(alert=sent) is False, "the page says the alert changed meanwhile"
        assert alert_dismiss(alert=sent) is False
    sent.refresh_from_db()
    assert sent.status == "sent" and not sms.outbox and not AlertDelivery.objects.exists()


@pytest.mark.django_db
def test_a_released_alert_is_texted_at_once_and_says_so(django_capture_on_commit_callbacks):
    held = _held_alert(message="Clic CTA: Carla. Appeler")
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_release(alert=held) is True
    held.refresh_from_db()
    assert held.status == "sent" and [m.body for m in sms.outbox] == ["Clic CTA: Carla. Appeler"]


@pytest.mark.django_db
def test_a_released_alert_respects_the_prospects_cooldown(django_capture_on_commit_callbacks):
    """The founder was texted about this prospect's click an hour ago: a release is not a second SMS."""
    held = _held_alert()
    SignalCooldownFactory(
        prospect=held.prospect, signal=held.signal, last_alerted_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_release(alert=held) is True
    held.refresh_from_db()
    assert held.status == "cooldown" and not sms.outbox


@pytest.mark.django_db
@override_settings(ALERT_SMS_MAX_PER_HOUR=1)
def test_a_released_alert_is_sent_even_when_the_hours_budget_is_spent(django_capture_on_commit_callbacks):
    """Someone chose to send it: the hourly budget, which groups automatic SMS, does not hold it back."""
    HourlySmsBudget.objects.create(hour=hour_of(timezone.now()), used=1)
    held = _held_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_release(alert=held)
    held.refresh_from_db()
    assert held.status == "sent" and len(sms.outbox) == 1


@pytest.mark.django_db
def test_a_resent_alert_shows_as_on_its_way_until_the_worker_sends_it():
    alert = _failed_alert()
    assert alert_resend(alert=alert) is True  # the worker has not run yet (no commit callbacks)
    alert.refresh_from_db()
    assert alert.status == "queued", "hot leads must not still say 'failed' after the click"


@pytest.mark.django_db
def test_resending_an_old_failure_gets_a_new_give_up_window(django_capture_on_commit_callbacks):
    """The SMS failed during a 3-hour outage: once it is over, a resend goes out, not given up at once."""
    alert = _failed_alert()
    AlertDelivery.objects.filter(alert=alert).update(
        created_at=timezone.now() - timedelta(hours=3), retry_at=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_resend(alert=alert)
    delivery = AlertDelivery.objects.get(alert=alert)
    assert delivery.status == "sent" and len(sms.outbox) == 1


@pytest.mark.django_db
def test_resending_one_alert_leaves_the_other_failed_alerts_alone(django_capture_on_commit_callbacks):
    resent, other = _failed_alert(), _failed_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_resend(alert=resent)
    assert AlertDelivery.objects.get(alert=other).status == "failed"
    assert len(sms.outbox) == 1


@pytest.mark.django_db
def test_a_failure_is_acknowledged_once_and_only_on_a_failed_alert():
    sent = AlertFactory(status=Alert.Status.SENT)
    assert alert_failure_acknowledge(alert=sent) is False
    failed = _failed_alert()
    assert alert_failure_acknowledge(alert=failed) is True
    failed.refresh_from_db()
    first = failed.failure_acknowledged_at
    assert alert_failure_acknowledge(alert=failed) is False, "a second click changes nothing"
    failed.refresh_from_db()
    assert failed.failure_acknowledged_at == first


@pytest.mark.django_db
def test_reminding_one_lead_leaves_the_others_reminders_due():
    first, second = AlertFactory(), AlertFactory()
    now = timezone.now()
    assert reminder_deliveries_add(first, now) is True
    assert reminder_deliveries_add(second, now) is True, "the second lead still gets its one reminder"
    assert reminder_deliveries_add(first, now) is False, "never two"
    reminders = AlertDelivery.objects.filter(purpose=AlertDelivery.Purpose.REMINDER)
    assert sorted(reminders.values_list("alert_id", flat=True)) == sorted([first.pk, second.pk])
    assert all(r.label == r.recipient for r in reminders), "the outbox says whom each reminder went to"


@pytest.mark.django_db
def test_a_lead_already_called_gets_no_reminder():
    called = AlertFactory()
    Alert.objects.filter(pk=called.pk).update(call=CallFactory(prospect=called.prospect))
    assert reminder_deliveries_add(called, timezone.now()) is False
    assert not AlertDelivery.objects.exists()


# --- What an integrator is told (mutation run of 2026-12-03) -----------------------------------------


_NOT_A_DATE = "Donnez une date ISO 8601 avec son décalage, par ex. 2026-11-24T09:14:00+01:00."


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2000-01-01T00:00:00+00:00", True),
        ("1999-12-31T23:59:59+00:00", False),
        ("2026-13-45T09:00:00+00:00", False),  # the shape of a date, not a date
    ],
)
def test_an_event_time_is_accepted_from_the_year_2000(value, accepted):
    try:
        aware_datetime(value)
    except Invalid as refused:
        assert not accepted and str(refused) in ("Cette date est hors limites.", _NOT_A_DATE)
    else:
        assert accepted


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ahead", "accepted"), [(timedelta(minutes=5), True), (timedelta(minutes=5, seconds=1), False)]
)
def test_an_event_time_may_be_at_most_five_minutes_ahead_of_our_clock(ahead, accepted):
    with time_machine.travel(T0, tick=False):
        value = (T0 + ahead).isoformat()
        if accepted:
            assert aware_datetime(value) == T0 + ahead
        else:
            with pytest.raises(Invalid, match="plus de 5 minutes dans le futur"):
                aware_datetime(value)


def test_a_url_of_2048_characters_is_accepted_and_one_more_is_refused():
    base = "https://example.com/"
    assert http_url(base + "a" * (2048 - len(base)))
    with pytest.raises(Invalid, match="2048"):
        http_url(base + "a" * (2049 - len(base)))


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("m" * 200, True),
        ("m" * 201, False),
        ("", False),
        ("   ", False),
        ("<abc\x07@mail>", False),
        ("<abc@mail>", True),
    ],
)
def test_a_message_id_is_1_to_200_printable_characters(value, accepted):
    if accepted:
        assert message_id(value) == value
    else:
        with pytest.raises(Invalid, match="1 à 200 caractères imprimables"):
            message_id(value)


@pytest.mark.django_db
def test_detect_signals_json_gives_the_window_it_read():
    out = StringIO()
    call_command("detect_signals", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert datetime.fromisoformat(report["window_end"]) <= timezone.now()
    assert datetime.fromisoformat(report["started_at"]) == datetime.fromisoformat(report["window_end"])


@pytest.mark.django_db
def test_a_dry_run_reports_the_alerts_it_would_make_without_an_id_and_texts_nobody():
    CtaClickFactory(prospect=ProspectFactory(), visitor_id="reader-000001", ak="")
    out = StringIO()
    call_command("detect_signals", "--dry-run", "--json", stdout=out)
    report = json.loads(out.getvalue())
    [would] = report["alerts"]  # the alert it would make, with the SMS it would send, but no id: none is kept
    assert (would["signal"], would["status"], would["alert_id"]) == ("cta_click", "queued", None)
    assert not Alert.objects.exists() and sms.outbox == []


@pytest.mark.django_db
def test_a_reopen_alert_names_the_mail_client_it_was_read_in():
    sent = EmailEventFactory(prospect__consented=True, occurred_at=timezone.now() - timedelta(hours=30))
    thunderbird = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
    EmailEventFactory(prospect=sent.prospect, message_id=sent.message_id, event="opened", user_agent=thunderbird)
    call_command("detect_signals", stdout=StringIO())
    assert Alert.objects.get().evidence_sentence == "A rouvert l'email 30 h après l'envoi — Thunderbird"


# --- Tracked links: what the sender is told, and links already in inboxes ----------------------------

# A link minted on 2026-11-24 by an earlier version (SECRET_KEY below, prospect 4242, its ak
# "ak-golden-0123456789abcdef"). Links sit in inboxes for weeks: an upgrade must not turn them into
# links that no longer hand out the ak (which is what a changed fingerprint would do).
GOLDEN_SECRET = "golden-secret-for-links-minted-by-an-earlier-version-0001"
GOLDEN_LINK = (
    ".eJw1ykEKgCAQQNG7zFoyRUokoqtMaiU5JaQQRHfPTdv_3wMJjJJKMiAwMJCY0JJv_I2Uoh-BQal9yzldhvOIhwvH-u_GnsSxuJCr26uzTsy4eK"
    "la2Wmne3g_pQgd1g:1xVmNc:sno74kF8kW1Vqtee2Pm5gZ3NLrSUetXLsoGPSbLW-Zs"
)


@pytest.mark.django_db
def test_a_link_minted_by_an_earlier_version_still_hands_out_its_ak(client):
    ProspectFactory(pk=4242, identity_token="ak-golden-0123456789abcdef")
    with override_settings(SECRET_KEY=GOLDEN_SECRET), time_machine.travel(T0 + timedelta(days=3), tick=False):
        response = client.get(f"/t/c/{GOLDEN_LINK}", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302
    assert response["Location"] == "https://landing.example.com/audit?ak=ak-golden-0123456789abcdef"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("http://[::1", "« http://[::1 » n'est pas une adresse http(s) absolue."),
        ("ftp://landing.example.com/a", "« ftp://landing.example.com/a » n'est pas une adresse http(s) absolue."),
        ("https://evil.example.net/x", "evil.example.net n'est pas l'une de nos pages"),
        ("https://:443/x", "https://:443/x n'est pas l'une de nos pages"),
    ],
)
def test_a_refused_destination_is_named_in_the_sentence_the_sender_reads(url, sentence):
    with pytest.raises(ValueError) as refused:
        email_links_for(ProspectFactory(), message_id="m1", url=url)
    assert str(refused.value).startswith(sentence)


@pytest.mark.django_db
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
def test_the_refusal_lists_the_hosts_a_link_may_lead_to(allowed, listed):
    settings = {"PUBLIC_BASE_URL": "https://track.example.com", "LANDING_PAGE_URL": "", **allowed}
    with override_settings(**settings), pytest.raises(ValueError) as refused:
        email_links_for(ProspectFactory(), message_id="m1", url="https://evil.example.net/x")
    assert str(refused.value).endswith(listed)


@pytest.mark.django_db
def test_a_link_to_our_host_written_with_its_final_dot_is_ours():
    # "www.example.com." is the fully qualified spelling of www.example.com.
    with override_settings(TRACKING_ALLOWED_ORIGINS=["https://www.example.com"], TRACKING_LINK_HOSTS=[]):
        links = email_links_for(ProspectFactory(), message_id="m1", url="https://www.example.com./audit")
    assert links.link_url and links.link_url.startswith("https://track.example.com/t/c/")


# --- The relay schedule: which SMS it hands to a worker -----------------------------------------------


@pytest.mark.django_db
def test_the_relay_hands_over_exactly_the_sms_waiting_for_a_worker():
    now = T0

    def row(status: str, **fields) -> int:
        row = AlertDeliveryFactory(alert__prospect=ProspectFactory(), status=status)
        AlertDelivery.objects.filter(pk=row.pk).update(**{"retry_at": None, "updated_at": now, **fields})
        return row.alert_id

    task_lost = row("pending", updated_at=now - timedelta(seconds=90))
    task_on_its_way = row("pending", updated_at=now - timedelta(seconds=30))
    retry_due = row("retry", retry_at=now - timedelta(seconds=1))
    retry_later = row("retry", retry_at=now + timedelta(minutes=1), updated_at=now - timedelta(minutes=5))
    worker_died = row("sending", lease_until=now - timedelta(seconds=1))
    being_sent = row("sending", lease_until=now + timedelta(minutes=1))
    sent = row("sent", lease_until=now - timedelta(hours=1), retry_at=now - timedelta(hours=1))

    relayed = [alert_id for alert_id, _notice in deliveries_needing_relay(now)]

    assert relayed == sorted([task_lost, retry_due, worker_died])
    assert {alert: AlertDelivery.objects.get(alert_id=alert).status for alert in (being_sent, sent, retry_later)} == {
        being_sent: "sending",
        sent: "sent",
        retry_later: "retry",
    }
    abandoned = AlertDelivery.objects.get(alert_id=worker_died)
    # The SMS may have left before the worker died: the provider is asked before any re-send.
    assert (abandoned.status, abandoned.needs_check, abandoned.lease_until) == ("retry", True, None)
    assert task_on_its_way not in relayed


# --- The long read's rules at their edges (SIGNAL_DWELL_SECONDS 90, a heartbeat every 15 s) ----------


@pytest.mark.parametrize(
    ("span", "engaged_ms", "heartbeats", "heartbeat_s", "verdict"),
    [
        # Heartbeats no faster than the tracker sends them: one per half period, plus 4 (16 in 90 s).
        (90, 90_000, 16, 15, ""),
        (90, 90_000, 17, 15, "17 heartbeats in 90 s: faster than the tracker sends them"),
        # The page's own period, bounded to 1–60 s: a page claiming 61 s is judged at 60 (7 in 90 s).
        (90, 90_000, 7, 61, ""),
        (90, 90_000, 184, 0.5, ""),  # judged at 1 s: 90 / 0.5 + 4
        # No visible time reported: about one heartbeat per period across the threshold (5 of 6).
        (90, None, 5, 15, ""),
        (90, None, 4, 15, "4 heartbeats (visible time not reported): the page was not in view"),
        # Visible at least the threshold less one period (75 s)…
        (90, 75_000, 6, 15, ""),
        (90, 74_900, 6, 15, "visible 74.9 s of 90 s: a background tab"),
        # …and not longer than the page existed plus one period (105 s).
        (90, 105_000, 6, 15, ""),
        (90, 105_100, 6, 15, "reports 105 s visible in a 90 s page view"),
        (90, 105_600, 6, 15, "reports 106 s visible in a 90 s page view"),
    ],
)
def test_a_long_read_is_judged_at_the_edges_of_each_rule(span, engaged_ms, heartbeats, heartbeat_s, verdict):
    assert (
        not_a_reading(span_seconds=span, engaged_ms=engaged_ms, heartbeats=heartbeats, heartbeat_s=heartbeat_s)
        == verdict
    )


@pytest.mark.django_db
def test_a_web_process_remembers_a_bounded_number_of_page_views_the_oldest_forgotten(monkeypatch):
    # Heartbeats keep coming for as long as the product runs: the memory must stay bounded and working.
    monkeypatch.setattr(dwell, "MEMORY_SIZE", 3)
    for n in range(5):
        page_view_crossed_threshold(f"pv-bounded-{n}", T0, opens=True)
    assert list(dwell._FirstSeen.times) == ["pv-bounded-2", "pv-bounded-3", "pv-bounded-4"]


# --- The outbox's own numbers and words --------------------------------------------------------------


def test_an_outage_is_retried_at_a_growing_pace_capped_at_a_minute(monkeypatch):
    # OVH down: 2 s, 6 s, 18 s, 54 s, then every minute until SMS_GIVE_UP_AFTER_MINUTES.
    monkeypatch.setattr(delivery, "RETRY_BACKOFF_SECONDS", 2.0)
    assert [delivery._backoff(attempts) for attempts in range(1, 7)] == [2, 6, 18, 54, 60, 60]


@pytest.mark.django_db
def test_an_sms_row_is_labelled_with_its_number_and_an_alert_with_nobody_to_text_says_why():
    with override_settings(ALERT_SMS_RECIPIENTS=["+33600000009"], ALERT_CHANNELS=[]):
        alert = AlertFactory(status=Alert.Status.QUEUED, message="Clic CTA")
        delivery.alert_deliveries_add(alert)
    assert list(alert.deliveries.values_list("recipient", "label")) == [("+33600000009", "+33600000009")]
    with override_settings(ALERT_SMS_RECIPIENTS=[], ALERT_CHANNELS=[]):
        lonely = AlertFactory(status=Alert.Status.QUEUED, message="Clic CTA")
        delivery.alert_deliveries_add(lonely)
    assert lonely.status == Alert.Status.FAILED
    assert lonely.message == "Clic CTA [ALERT_SMS_RECIPIENTS and ALERT_CHANNELS are empty: nobody to alert]"


# --- The rules that decide whether the founder is texted, between prospects --------------------------


def _signal(prospect, n: int, **fields) -> DetectedSignal:
    return DetectedSignal(
        prospect_id=prospect.pk,
        signal=fields.pop("signal", "cta_click"),
        dedup_key=f"gap-{prospect.pk}-{n}",
        occurred_at=fields.pop("occurred_at", T0),
        evidence={"cta_id": "cta_reserver_audit"},
        **fields,
    )


def _record(detected: DetectedSignal, now: datetime, capture) -> Alert:
    with time_machine.travel(now, tick=False), capture(execute=True):
        alert = alert_record_signal(detected=detected, now=now)
    alert.refresh_from_db()  # as the page shows it, once the SMS went
    return alert


@pytest.mark.django_db
def test_a_cooldown_is_one_prospects_and_one_signals(django_capture_on_commit_callbacks):
    alice, bob = ProspectFactory(), ProspectFactory()
    later = T0 + timedelta(hours=25)  # Alice's first cooldown is over
    _record(_signal(alice, 1), T0, django_capture_on_commit_callbacks)
    assert _record(_signal(bob, 2, occurred_at=later), later, django_capture_on_commit_callbacks).status == "sent"
    assert (
        _record(
            _signal(alice, 3, signal="page_dwell", occurred_at=later), later, django_capture_on_commit_callbacks
        ).status
        == "sent"
    )
    # Neither Bob's click nor Alice's long read took Alice's click cooldown: her new click texts.
    assert _record(_signal(alice, 4, occurred_at=later), later, django_capture_on_commit_callbacks).status == "sent"


@pytest.mark.django_db
def test_the_hours_budget_is_this_hours(django_capture_on_commit_callbacks):
    HourlySmsBudget.objects.create(hour=T0 - timedelta(hours=1), used=0)  # an hour with SMS left, gone
    HourlySmsBudget.objects.create(hour=T0, used=1)  # this hour's one SMS already went
    with override_settings(ALERT_SMS_MAX_PER_HOUR=1):
        alert = _record(_signal(ProspectFactory(), 1), T0, django_capture_on_commit_callbacks)
    assert alert.status == "grouped"


@pytest.mark.django_db
def test_a_verified_visit_from_a_network_that_forged_claims_is_still_texted(django_capture_on_commit_callbacks):
    network = "203.0.113.0"
    for n in range(2):  # claims for two prospects from one network: forged, held
        forged = _signal(ProspectFactory(), n, identification="unverified", client_network=network)
        assert _record(forged, T0, django_capture_on_commit_callbacks).status in ("held", "sent")
    real = _signal(ProspectFactory(), 9, client_network=network)  # the prospect's own link: verified
    assert _record(real, T0, django_capture_on_commit_callbacks).status == "sent"


@pytest.mark.django_db
def test_claims_from_one_network_more_than_an_hour_apart_are_two_readers(django_capture_on_commit_callbacks):
    network = "198.51.100.0"
    early = _signal(ProspectFactory(), 1, identification="unverified", client_network=network)
    assert _record(early, T0, django_capture_on_commit_callbacks).status == "sent"
    later = T0 + timedelta(hours=1, minutes=1)
    second = _signal(ProspectFactory(), 2, identification="unverified", client_network=network, occurred_at=later)
    assert _record(second, later, django_capture_on_commit_callbacks).status == "sent"


@pytest.mark.django_db
def test_the_sms_of_a_prospect_without_a_phone_gives_the_email_and_the_lead_link(django_capture_on_commit_callbacks):
    lead = ProspectFactory(phone="", email="cto@acme-corp.example", name="Alice Martin")
    alert = _record(_signal(lead, 1), T0, django_capture_on_commit_callbacks)
    assert "cto@acme-corp.example" in alert.message and f"/l/{alert.pk}" in alert.message
    web_only = ProspectFactory(phone="", email="", website="https://www.linkedin.com/in/bob-martin")
    assert "linkedin.com/in/bob-martin" in _record(_signal(web_only, 2), T0, django_capture_on_commit_callbacks).message


@pytest.mark.django_db
def test_a_texted_signal_makes_its_prospect_hot(django_capture_on_commit_callbacks):
    lead = ProspectFactory()
    _record(_signal(lead, 1), T0, django_capture_on_commit_callbacks)
    lead.refresh_from_db()
    assert lead.status == "hot"


@pytest.mark.django_db
def test_a_colleagues_verified_visit_does_not_make_the_next_claim_look_forged(django_capture_on_commit_callbacks):
    office = "192.0.2.0"
    colleague = _signal(ProspectFactory(), 1, client_network=office)  # came by their own link
    assert _record(colleague, T0, django_capture_on_commit_callbacks).status == "sent"
    claim = _signal(ProspectFactory(), 2, identification="unverified", client_network=office)
    assert _record(claim, T0, django_capture_on_commit_callbacks).status == "sent"


@pytest.mark.django_db
def test_the_held_alerts_notice_waits_a_minute_to_count_the_whole_burst(django_capture_on_commit_callbacks):
    network = "203.0.113.0"
    for n in range(2):  # claims for two prospects from one network: the second is held
        _record(
            _signal(ProspectFactory(), n, identification="unverified", client_network=network),
            T0,
            django_capture_on_commit_callbacks,
        )
    notice_rows = AlertDelivery.objects.filter(notice__kind="held")
    assert notice_rows.exists() and {row.retry_at for row in notice_rows} == {T0 + timedelta(minutes=1)}


def test_a_text_of_exactly_the_budget_is_kept_whole_its_final_period_too():
    text = "x" * 159 + "."
    assert truncate_units(text, 160) == text
    assert truncate_units(text + " y", 160) == "x" * 159  # cut, and the dangling period goes with it
    assert truncate_units("REF-XXX" * 30, 160).endswith("X")  # only punctuation is dropped at the cut
