"""One language at a time (issue 11 point 4): French by default, English when LANGUAGE_CODE says so, on
the pages people work in, in command output and errors, in the SMS; evidence as sentences, CTA labels,
phones grouped for reading, times in TIME_ZONE. Each run looks for telltale words of the other language
and for raw data (ids, JSON, E.164, UTC ISO times) a person should not have to read."""

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alerts.outbox.composer import compose_alert_sms
from alerts.outbox.models import Alert, SmsNotice
from alerts.outbox.notices import notice_text
from alerts.signals.evidence import evidence_sentence
from core.display import cta_label, phone_display
from tests.factories import (
    AlertDeliveryFactory,
    AlertFactory,
    CallFactory,
    CtaClickFactory,
    DetectionRunFactory,
    EmailEventFactory,
    ProspectFactory,
    SignalCooldownFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tracking.models import MatchMethod

pytestmark = pytest.mark.django_db

# Words that only one of the two languages writes (matched as whole words, case-sensitive).
FRENCH = [
    "Appeler",
    "A cliqué",
    "A rouvert",
    "Lu",
    "après",
    "Dernière",
    "jamais",
    "Surveillance",
    "envoyé",
    "signaux",
    "délai",
    "déclencheur",
    "Visite",
    "événements",
    "Fichier introuvable",
    "Leads chauds",
    "Rattaché",
    "lien personnel",
    "Compte administrateur",
    "existe déjà",
    "Lien suivi",
]
ENGLISH = [
    "Call",
    "Clicked",
    "Reopened",
    "Read",
    "after",
    "Last detection",
    "never",
    "Monitoring since",
    "sent",
    "signals",
    "cooldowns",
    "trigger",
    "Visit",
    "events",
    "No such file",
    "Hot leads",
    "Linked by hand",
    "personal link",
    "evidence key",
    "Created",
    "already exists",
    "Schedules",
    "Tracked link",
]
# Raw data a person should never have to read, in either language.
RAW = [
    "cta_reserver_audit",
    "(cta)",
    "+33199001234",
    "dwell_seconds",
    "{'",
    '["',
    "+00:00",
    "page_dwell",
    "email_reopen",
]


def visible_text(page: str) -> str:
    """What a person reads: no scripts, styles, templates, tags or attributes."""
    page = re.sub(r"(?s)<(script|style|template)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))


def assert_one_language(text: str, language: str) -> None:
    foreign = ENGLISH if language == "fr" else FRENCH
    found = [word for word in foreign if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]
    raw = [value for value in RAW if value in text]
    assert (found, raw) == ([], []), text


@pytest.fixture
def lead():
    now = timezone.now()
    prospect = ProspectFactory(name="Hugo Lambert", company="Fictif SaaS", pain_point="", phone="+33199001234")
    VisitorFactory(visitor_id="visitor-lang1", prospect=prospect, match_evidence={"ak": prospect.identity_token})
    VisitEventFactory(prospect=prospect, page_view_id="pv-lang1", received_at=now - timedelta(minutes=12))
    VisitEventFactory(prospect=prospect, page_view_id="pv-lang1", received_at=now - timedelta(minutes=10))
    CtaClickFactory(prospect=prospect, visitor_id="visitor-lang1", received_at=now - timedelta(minutes=9))
    EmailEventFactory(prospect=prospect, event="opened", occurred_at=now - timedelta(hours=30))
    dwell = {"dwell_seconds": 104, "page": "/audit-gratuit-monitoring.html", "page_view_id": "pv-lang1"}
    reopen = {"hours_after_sent": 30.0, "client": "Thunderbird", "message_id": "m1"}
    for minutes, signal, evidence in [(3, "page_dwell", dwell), (4, "cta_click", None), (5, "email_reopen", reopen)]:
        fields = {"evidence": evidence} if evidence else {}
        AlertDeliveryFactory(
            alert=AlertFactory(
                prospect=prospect,
                signal=signal,
                occurred_at=now - timedelta(minutes=minutes),
                message="",
                **fields,
            ),
            recipient="+33199000001",
            provider_ids=["console-1"],
        )
    SignalCooldownFactory(prospect=prospect, signal="cta_click", last_alerted_at=now)
    DetectionRunFactory(started_at=now - timedelta(minutes=1), trigger="cta")
    CallFactory(prospect=prospect, outcome="voicemail", note="")
    return prospect


def pages(prospect) -> list[str]:
    alert = Alert.objects.filter(prospect=prospect).first()
    run = prospect.alerts.model._meta.apps.get_model("alerts", "DetectionRun").objects.get()
    visitor = prospect.visitors.get()
    return [
        reverse("backoffice-hot-leads"),
        reverse("backoffice-timeline", args=[prospect.pk]),
        reverse("admin:prospects_prospect_change", args=[prospect.pk]),
        reverse("admin:prospects_prospect_changelist"),
        reverse("admin:alerts_alert_changelist"),
        reverse("admin:alerts_alert_change", args=[alert.pk]),
        reverse("admin:alerts_alertdelivery_changelist"),
        reverse("admin:alerts_signalcooldown_changelist"),
        reverse("admin:alerts_detectionrun_changelist"),
        reverse("admin:alerts_detectionrun_change", args=[run.pk]),
        reverse("admin:tracking_visitor_change", args=[visitor.pk]),
    ]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_pages_speak_one_language_and_show_no_raw_data(staff_client, lead, language):
    browser = "en-US,en;q=0.9" if language == "fr" else "fr-FR,fr;q=0.9"  # LANGUAGE_CODE wins over it
    with override_settings(LANGUAGE_CODE=language):
        for url in pages(lead):
            response = staff_client.get(url, HTTP_ACCEPT_LANGUAGE=browser)
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            assert_one_language(text, language)
            if url == reverse("backoffice-hot-leads"):
                reads = "A cliqué « Réserver audit »" if language == "fr" else "Clicked “Réserver audit”"
                assert reads in text and "01 99 00 12 34" in text
                assert 'href="tel:+33199001234"' in response.content.decode()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_commands_speak_one_language_with_local_times(lead, language, capsys):
    alert = Alert.objects.filter(prospect=lead).order_by("-occurred_at").first()
    local = timezone.localtime(alert.occurred_at)
    with override_settings(LANGUAGE_CODE=language):
        call_command("monitoring_status")
        call_command("detect_signals", "--dry-run")
        call_command("purge_events", "--older-than", "30", "--dry-run")
        call_command("email_links", "--email", lead.email, "--message-id", "m2")
        out = capsys.readouterr().out
        with pytest.raises(CommandError) as missing:
            call_command("import_prospects", "/nonexistent/prospects.json")
    assert_one_language(out + str(missing.value), language)
    assert f"{local:%H:%M}" in out  # in TIME_ZONE, 24 h in both languages
    assert "01 99 00 12 34" in out
    if language == "fr":
        assert "À APPELER" in out and "Lu 104 s sur /audit-gratuit-monitoring.html" in out
        assert "A rouvert l'email 30 h après l'envoi — Thunderbird" in out
    else:
        assert "TO CALL" in out and "Read 104 s on /audit-gratuit-monitoring.html" in out
        assert "Reopened the email 30 h after it was sent — Thunderbird" in out


def test_json_output_stays_machine_readable_iso(lead, capsys):
    call_command("monitoring_status", "--json")
    out = capsys.readouterr().out
    assert '"signal": "page_dwell"' in out and "+00:00" in out and "+33199001234" in out


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ['A cliqué "Réserver audit"', "Appeler +33 1 99 00 12 34"]),
        ("en", ['Clicked "Réserver audit"', "Call +33 1 99 00 12 34"]),
    ],
)
def test_the_sms_speaks_one_language_in_one_segment(language, expected):
    with override_settings(LANGUAGE_CODE=language):
        text = compose_alert_sms(
            signal="cta_click",
            evidence={"cta_id": "cta_reserver_audit"},
            name="Hugo Lambert",
            company="Fictif SaaS",
            phone="+33199001234",
            pain_point="",
            alert_id=7,
            unverified=True,
        )
    assert all(words in text for words in expected), text
    assert ("non vérifié" in text) == (language == "fr") and ("unverified" in text) == (language == "en")
    assert len(text) <= 160


@pytest.mark.parametrize(
    ("language", "signal", "evidence", "sentence"),
    [
        (
            "fr",
            "page_dwell",
            {"dwell_seconds": 104, "page": "/audit-gratuit-monitoring.html"},
            "Lu 104 s sur /audit-gratuit-monitoring.html",
        ),
        (
            "en",
            "page_dwell",
            {"dwell_seconds": 104, "page": "/audit-gratuit-monitoring.html"},
            "Read 104 s on /audit-gratuit-monitoring.html",
        ),
        ("fr", "page_dwell", {"dwell_seconds": 95}, "A lu la page 95 s"),
        ("fr", "page_dwell", {"dwell_seconds": 95, "page": "/offre?utm_source=mail#haut"}, "Lu 95 s sur /offre"),
        ("fr", "cta_click", {"cta_id": "cta_reserver_audit"}, "A cliqué « Réserver audit »"),
        ("en", "cta_click", {"cta_id": "cta_reserver_audit"}, "Clicked “Réserver audit”"),
        ("fr", "cta_click", {"cta_id": "cta_demo_call"}, "A cliqué « Demo call »"),
        (
            "fr",
            "email_reopen",
            {"hours_after_sent": 30.0, "client": "Thunderbird"},
            "A rouvert l'email 30 h après l'envoi — Thunderbird",
        ),
        ("fr", "email_reopen", {"hours_after_sent": 26.5, "client": ""}, "A rouvert l'email 26,5 h après l'envoi"),
        ("en", "email_reopen", {"hours_after_sent": 26.5}, "Reopened the email 26.5 h after it was sent"),
        ("fr", "email_reopen", {}, "A rouvert l'email"),
    ],
)
def test_evidence_reads_as_a_sentence(language, signal, evidence, sentence):
    with override_settings(LANGUAGE_CODE=language):
        assert evidence_sentence(signal, evidence) == sentence


def test_a_long_page_is_shortened():
    text = evidence_sentence("page_dwell", {"dwell_seconds": 100, "page": "/" + "a" * 200})
    assert len(text) < 60 and text.endswith("…")


@override_settings(SIGNAL_CTA_LABELS={"cta_reserver_audit": "Book the audit"})
def test_cta_labels_come_from_the_setting():
    assert cta_label("cta_reserver_audit") == "Book the audit"
    assert cta_label("cta_newsletter") == "Newsletter"


@pytest.mark.parametrize(
    ("number", "international", "shown"),
    [
        ("+33199001234", False, "01 99 00 12 34"),
        ("+33639981234", False, "06 39 98 12 34"),
        ("+33199001234", True, "+33 1 99 00 12 34"),
        ("+447700900123", False, "+44 7700 900123"),
        ("+14155550123", False, "+1 415-555-0123"),
        ("", False, ""),
        ("console", False, "console"),
    ],
)
def test_phones_are_grouped_for_reading(number, international, shown):
    assert phone_display(number, international=international) == shown


@override_settings(PHONE_REGION="GB")
def test_the_home_region_is_a_setting():
    assert phone_display("+442079460000") == "020 7946 0000"
    assert phone_display("+33199001234") == "+33 1 99 00 12 34"


def test_a_visitor_match_reads_as_a_sentence():
    prospect = ProspectFactory()
    visitor = VisitorFactory(
        visitor_id="visitor-lang2",
        prospect=prospect,
        match_method=MatchMethod.COMPANY_DOMAIN,
        match_evidence={"email": "ana@acme.example", "domain": "acme.example"},
    )
    assert visitor.match_evidence_sentence == (
        "A donné ana@acme.example, une adresse du domaine de l'entreprise acme.example"
    )


PRODUCT_COMMANDS = [
    ("alerts", "detect_signals"),
    ("alerts", "monitoring_status"),
    ("alerts", "send_test_alert"),
    ("alerts", "send_test_sms"),
    ("prospects", "import_prospects"),
    ("tracking", "email_links"),
    ("tracking", "export_email_links"),
    ("tracking", "purge_events"),
    ("tracking", "forget_prospect"),
]


@pytest.mark.parametrize(("app", "name"), PRODUCT_COMMANDS)
def test_command_help_is_in_the_one_language(app, name):
    from django.core.management import load_command_class
    from django.utils import translation

    command = load_command_class(app, name)
    with translation.override("fr"):
        french = command.create_parser("manage.py", name).format_help()
    with translation.override("en"):
        english = command.create_parser("manage.py", name).format_help()
    assert command.help.split()[0] in english  # the English description, as written
    assert command.help.split(":")[0] not in french and french != english


@pytest.mark.parametrize("language", ["fr", "en"])
def test_commands_normal_output_speaks_one_language(lead, language, capsys, tmp_path, monkeypatch):
    """Not only the errors: what the first hour prints (the admin account, the schedules, the links,
    an import) is in the one language too."""
    listing = tmp_path / "prospects.csv"
    listing.write_text("email,name\nnew@new-co.example,New Person\n", encoding="utf-8")
    monkeypatch.setenv("ADMIN_PASSWORD", "pw-for-tests-only-42")
    with override_settings(LANGUAGE_CODE=language):
        call_command("ensure_admin")
        call_command("ensure_admin")  # the second time: it exists
        call_command("setup_schedules")
        call_command(
            "email_links", "--email", lead.email, "--message-id", "m3", "--url", "https://landing.example.com/offre"
        )
        call_command("import_prospects", str(listing))
    out = capsys.readouterr().out
    assert_one_language(out, language)
    words = ["Compte administrateur", "existe déjà", "Lien suivi", "Pixel d'ouverture", "créé"]
    if language == "fr":
        assert all(word in out for word in words), out
    else:
        assert "Created admin account" in out and "Tracked link:" in out


LEADS_EN = "Marie Click (click), Jean Read (read)"


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("digest", Alert.Status.QUIET, f"ArkWatch, during quiet hours: 2 leads to call: {LEADS_EN}"),
        ("held", Alert.Status.HELD, "ArkWatch: 2 alerts held: unverified signals for several prospects within an hour"),
        ("summary", Alert.Status.GROUPED, f"ArkWatch: 2 more signals 10h-11h (over 10 SMS/h): {LEADS_EN}"),
    ],
)
def test_the_notices_speak_english_in_the_plural_too(settings, kind, status, expected):
    """LANGUAGE_CODE=en, two leads: the digest, the held-alerts notice and the hourly summary say so in
    English (the French catalogue answers the plural forms only in French)."""
    settings.LANGUAGE_CODE = "en"
    ten = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    for minutes, name, signal in ((10, "Jean Read", "page_dwell"), (20, "Marie Click", "cta_click")):
        at = ten + timedelta(minutes=minutes) - timedelta(hours=1 if kind == "digest" else 0)
        alert = AlertFactory(prospect=ProspectFactory(name=name, company="", phone=""), signal=signal, status=status)
        Alert.objects.filter(pk=alert.pk).update(detected_at=at, occurred_at=at)
    notice = SmsNotice.objects.create(kind=kind, period_start=ten)
    with time_machine.travel(ten + timedelta(hours=1, seconds=30), tick=False):
        assert notice_text(notice) == f"{expected}. https://track.example.com/admin/backoffice/hot-leads/"
