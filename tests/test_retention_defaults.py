"""Nothing kept forever (issue 28, point 7): events live 13 months by default, and a prospect with no
contact *from them* for three years is erased as forget_prospect erases, by the daily schedule, with a
dry run that lists who would go. Edges with a frozen clock."""

import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_q.models import Schedule

from alerts.outbox.models import Alert
from alerts.outcomes.models import Call, CallOutcome
from alerts.tasks import retention_task, task_path
from arkwatch.schedules import PURGE_SCHEDULE, ensure_schedules
from prospects.models import Prospect
from tests.factories import CallFactory, CtaClickFactory, EmailEventFactory, ProspectFactory, VisitEventFactory, aware
from tracking.models import EmailEvent, VisitEvent

pytestmark = pytest.mark.django_db
T0 = aware(2022, 1, 10, 9, 0, 0)
THREE_YEARS = timedelta(days=1095)


def prospect_added(at, **fields) -> Prospect:
    prospect = ProspectFactory(**fields)
    Prospect.objects.filter(pk=prospect.pk).update(created_at=at)
    prospect.refresh_from_db()
    return prospect


def daily(at):
    """The daily schedule's task, run at `at`."""
    with time_machine.travel(at, tick=False):
        return retention_task()


def exists(prospect) -> bool:
    return Prospect.objects.filter(pk=prospect.pk).exists()


def test_the_defaults_are_thirteen_months_of_events_and_three_years_of_silence(settings):
    # Read from the settings module as shipped (the test settings do not override them).
    assert settings.EVENT_RETENTION_DAYS == 395
    assert settings.PROSPECT_INACTIVE_ERASE_DAYS == 1095


def test_the_daily_schedule_exists_by_default_and_runs_the_retention_task():
    ensure_schedules()
    schedule = Schedule.objects.get(name=PURGE_SCHEDULE)
    assert schedule.func == task_path(retention_task) and schedule.schedule_type == Schedule.DAILY


def test_a_schedule_made_by_an_earlier_version_is_pointed_at_the_retention_task():
    ensure_schedules()
    Schedule.objects.filter(name=PURGE_SCHEDULE).update(func="tracking.tasks.purge_events_task")
    ensure_schedules()
    assert Schedule.objects.get(name=PURGE_SCHEDULE).func == task_path(retention_task)


def test_events_older_than_thirteen_months_go_the_younger_stay():
    prospect = prospect_added(T0 + timedelta(days=1000))  # recent enough to be kept itself
    now = T0 + timedelta(days=1200)
    old = EmailEventFactory(prospect=prospect, event="sent", occurred_at=now - timedelta(days=396))
    young = EmailEventFactory(prospect=prospect, event="sent", occurred_at=now - timedelta(days=394))
    daily(now)
    assert list(EmailEvent.objects.values_list("pk", flat=True)) == [young.pk]
    assert not EmailEvent.objects.filter(pk=old.pk).exists()


def test_three_years_minus_a_day_of_silence_is_kept_three_years_is_erased():
    prospect = prospect_added(T0)
    daily(T0 + THREE_YEARS - timedelta(days=1))
    assert exists(prospect)
    daily(T0 + THREE_YEARS + timedelta(minutes=1))
    assert not exists(prospect)


def test_an_open_alone_does_not_keep_someone():
    prospect = prospect_added(T0)
    EmailEventFactory(prospect=prospect, event="opened", occurred_at=T0 + timedelta(days=900))
    daily(T0 + THREE_YEARS + timedelta(days=1))
    assert not exists(prospect)


def test_a_click_keeps_them_three_years_after_it_even_once_its_event_is_purged():
    prospect = prospect_added(T0)
    clicked = T0 + timedelta(days=700)
    EmailEventFactory(prospect=prospect, event="clicked", occurred_at=clicked)
    daily(clicked + timedelta(days=400))  # the click's event is deleted (13 months)...
    assert not EmailEvent.objects.exists()
    prospect.refresh_from_db()
    assert prospect.last_contact_at == clicked  # ...but not what it said
    daily(T0 + THREE_YEARS + timedelta(days=1))
    assert exists(prospect)
    daily(clicked + THREE_YEARS - timedelta(days=1))
    assert exists(prospect)
    daily(clicked + THREE_YEARS + timedelta(minutes=1))
    assert not exists(prospect)


def test_a_machine_click_does_not_keep_them_a_cta_click_does():
    scanned, clicker = prospect_added(T0), prospect_added(T0)
    EmailEventFactory(
        prospect=scanned, event="clicked", occurred_at=T0 + timedelta(days=900), machine_reason="link scanner"
    )
    CtaClickFactory(prospect=clicker, received_at=T0 + timedelta(days=900))
    daily(T0 + THREE_YEARS + timedelta(days=1))
    assert not exists(scanned) and exists(clicker)


@pytest.mark.parametrize(("outcome", "kept"), [(CallOutcome.REACHED, True), (CallOutcome.NO_ANSWER, False)])
def test_an_answered_call_keeps_them_an_unanswered_one_does_not(outcome, kept):
    prospect = prospect_added(T0)
    call = CallFactory(prospect=prospect, outcome=outcome)
    Call.objects.filter(pk=call.pk).update(called_at=T0 + timedelta(days=900))
    daily(T0 + THREE_YEARS + timedelta(days=1))
    assert exists(prospect) is kept


def test_a_prospect_added_recently_with_no_contact_is_not_erased_before_three_years():
    prospect = prospect_added(T0 + timedelta(days=800))
    daily(T0 + THREE_YEARS + timedelta(days=1))
    assert exists(prospect)
    daily(T0 + timedelta(days=800) + THREE_YEARS + timedelta(minutes=1))
    assert not exists(prospect)


def test_erasure_is_forget_prospect_visits_stay_anonymous_alerts_go():
    prospect = prospect_added(T0, email="gone@old.example")
    visit = VisitEventFactory(prospect=prospect, email="gone@old.example", received_at=T0 + timedelta(days=1))
    Alert.objects.create(
        prospect=prospect, signal="email_reopen", dedup_key="x", occurred_at=T0, evidence={}, status="sent"
    )
    with time_machine.travel(T0 + THREE_YEARS + timedelta(days=1), tick=False):
        call_command("erase_inactive_prospects", stdout=io.StringIO())
    visit.refresh_from_db()
    assert (visit.prospect_id, visit.email) == (None, "")
    assert not Alert.objects.exists() and not Prospect.objects.exists()
    assert VisitEvent.objects.count() == 1


def test_the_dry_run_lists_who_would_go_and_erases_nothing():
    silent = prospect_added(T0, name="Jeanne Silence", email="jeanne@old.example", company="Vieille SA")
    prospect_added(T0 + timedelta(days=800), email="recent@new.example")
    out = io.StringIO()
    with time_machine.travel(T0 + THREE_YEARS + timedelta(days=1), tick=False):
        call_command("erase_inactive_prospects", "--dry-run", stdout=out)
    text = out.getvalue()
    assert text.startswith("1 prospect serait effacé")
    assert "- Jeanne Silence <jeanne@old.example> (Vieille SA) : jamais de nouvelles" in text
    assert "recent@new.example" not in text
    assert "1096 jours de silence" in text
    assert exists(silent)
    out = io.StringIO()
    with time_machine.travel(T0 + THREE_YEARS + timedelta(days=1), tick=False):
        call_command("erase_inactive_prospects", "--dry-run", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["dry_run"] is True and payload["days"] == 1095
    assert [p["email"] for p in payload["prospects"]] == ["jeanne@old.example"]
    assert payload["prospects"][0]["last_contact_at"] is None


def test_zero_erases_nobody(settings):
    settings.PROSPECT_INACTIVE_ERASE_DAYS = 0
    prospect = prospect_added(T0)
    daily(T0 + timedelta(days=5000))
    out = io.StringIO()
    call_command("erase_inactive_prospects", stdout=out)
    assert exists(prospect) and "PROSPECT_INACTIVE_ERASE_DAYS" in out.getvalue()
