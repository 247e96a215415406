import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_q.models import Schedule

from alerts.outbox import sms
from alerts.outbox.models import Alert
from arkwatch.schedules import DETECTION_SCHEDULE
from tests.factories import (
    AlertFactory,
    CtaClickFactory,
    DetectionRunFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
)
from tracking.models import CtaClick, EmailEvent, VisitEvent

pytestmark = pytest.mark.django_db


def test_monitoring_status_json_has_the_contract_fields(capsys):
    prospect = ProspectFactory(name="Alice", company="Acme")
    at = timezone.now()
    DetectionRunFactory(started_at=at)
    AlertFactory(prospect=prospect, signal="cta_click", occurred_at=at, status="sent")
    AlertFactory(prospect=prospect, signal="page_dwell", occurred_at=at, status="failed")
    call_command("monitoring_status", "--json")
    status = json.loads(capsys.readouterr().out)
    for key in [
        "monitoring_start",
        "total_prospects_tracked",
        "hot_signals_detected",
        "alerts_sent",
        "alerts_failed",
        "last_detection_run",
        "leads",
    ]:
        assert key in status
    assert (status["hot_signals_detected"], status["alerts_sent"], status["alerts_failed"]) == (2, 1, 1)
    lead = status["leads"][0]
    assert (lead["prospect"], lead["company"], lead["acknowledged"]) == ("Alice", "Acme", False)
    assert {s["signal"] for s in lead["signals"]} == {"cta_click", "page_dwell"}


def test_monitoring_status_text_says_who_to_call(capsys):
    prospect = ProspectFactory(name="Alice", company="Acme")
    AlertFactory(prospect=prospect, signal="cta_click", occurred_at=timezone.now(), status="sent")
    call_command("monitoring_status")
    out = capsys.readouterr().out
    assert "À APPELER" in out and "Alice (Acme)" in out and "Dernière détection : jamais" in out
    assert "A cliqué « Réserver audit »" in out and "SMS envoyé" in out


def test_detect_signals_prints_what_it_found_and_alerted(capsys, django_capture_on_commit_callbacks):
    prospect = ProspectFactory()
    CtaClickFactory(ak=prospect.identity_token, visitor_id="visitor-cmd1")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("detect_signals")
    out = capsys.readouterr().out
    assert "signaux trouvés : 1 ; alertes enregistrées : 1" in out and "A cliqué « Réserver audit »" in out
    assert len(sms.outbox) == 1 and sms.outbox[0].body in out


def test_purge_events_deletes_only_old_events(capsys):
    old = timezone.now() - timedelta(days=40)
    VisitEventFactory(received_at=old)
    VisitEventFactory()
    CtaClickFactory(received_at=old)
    EmailEventFactory(received_at=old)
    call_command("purge_events", "--older-than", "30", "--dry-run")
    assert VisitEvent.objects.count() == 2
    call_command("purge_events", "--older-than", "30")
    assert (VisitEvent.objects.count(), CtaClick.objects.count(), EmailEvent.objects.count()) == (1, 0, 0)
    expected = "Supprimés : 1 événement de visite, 1 clic CTA, 1 événement email, 0 réponses, 0 visiteurs."
    assert expected in capsys.readouterr().out
    with pytest.raises(CommandError, match="au moins 1"):
        call_command("purge_events", "--older-than", "0")


def test_the_detection_schedule_exists_once_and_keeps_its_next_run(settings):
    schedule = Schedule.objects.get(name=DETECTION_SCHEDULE)
    assert (schedule.func, schedule.minutes) == ("alerts.tasks.run_detection_cycle_task", 5)
    later = timezone.now() + timedelta(minutes=3)
    Schedule.objects.filter(pk=schedule.pk).update(next_run=later)
    settings.DETECTION_INTERVAL_MINUTES = 2
    call_command("setup_schedules")
    call_command("migrate", verbosity=0)
    schedule = Schedule.objects.get(name=DETECTION_SCHEDULE)
    assert Schedule.objects.filter(name=DETECTION_SCHEDULE).count() == 1
    assert schedule.minutes == 2 and schedule.next_run == later


# --- detect_signals --json: the window it read, and what a dry run would do ------------------------


def test_detect_signals_json_gives_the_window_it_read():
    out = StringIO()
    call_command("detect_signals", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert datetime.fromisoformat(report["window_end"]) <= timezone.now()
    assert datetime.fromisoformat(report["started_at"]) == datetime.fromisoformat(report["window_end"])


def test_a_dry_run_reports_the_alerts_it_would_make_without_an_id_and_texts_nobody():
    CtaClickFactory(prospect=ProspectFactory(), visitor_id="reader-000001", ak="")
    out = StringIO()
    call_command("detect_signals", "--dry-run", "--json", stdout=out)
    report = json.loads(out.getvalue())
    [would] = report["alerts"]  # the alert it would make, with the SMS it would send, but no id: none is kept
    assert (would["signal"], would["status"], would["alert_id"]) == ("cta_click", "queued", None)
    assert not Alert.objects.exists() and sms.outbox == []
