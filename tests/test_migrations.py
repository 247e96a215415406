"""Migrations that drop a column keep what it recorded."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("alerts", "0002_call"), ("tracking", "0001_initial")]
AFTER = [("alerts", "0003_alert_call"), ("tracking", "0002_derived_match_strength_and_machine")]


@pytest.mark.django_db(transaction=True)
def test_acknowledgements_and_machine_flags_survive_the_one_source_of_truth_migrations():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    prospect = old.get_model("prospects", "Prospect").objects.create(
        email="ana@acme.example", name="Ana", identity_token="tok-ana-0001"
    )
    now = timezone.now()
    Call = old.get_model("alerts", "Call")
    Alert = old.get_model("alerts", "Alert")
    recorded = Call.objects.create(prospect=prospect, outcome="meeting_booked", note="Mardi 10h")
    with_call = Alert.objects.create(
        prospect=prospect,
        signal="cta_click",
        dedup_key="k1",
        occurred_at=now - timedelta(minutes=5),
        status="sent",
        acknowledged_at=recorded.called_at,
        call_outcome="meeting_booked",
        note="Mardi 10h",
    )
    without_call = Alert.objects.create(
        prospect=prospect,
        signal="page_dwell",
        dedup_key="k2",
        occurred_at=now - timedelta(days=3),
        status="sent",
        acknowledged_at=now - timedelta(days=2),
        call_outcome="voicemail",
        note="rappeler",
    )
    untouched = Alert.objects.create(
        prospect=prospect, signal="email_reopen", dedup_key="k3", occurred_at=now, status="sent"
    )
    old.get_model("tracking", "EmailEvent").objects.create(
        prospect=prospect, message_id="m1", event="opened", occurred_at=now, received_at=now, is_machine=True
    )
    old.get_model("tracking", "Visitor").objects.create(visitor_id="visitor-1", match_method="ak", match_strength=50)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    NewAlert = new.get_model("alerts", "Alert")
    assert NewAlert.objects.get(pk=with_call.pk).call_id == recorded.pk
    made = NewAlert.objects.get(pk=without_call.pk).call
    assert (made.outcome, made.note, made.called_at) == ("voicemail", "rappeler", without_call.acknowledged_at)
    assert NewAlert.objects.get(pk=untouched.pk).call_id is None
    assert new.get_model("tracking", "EmailEvent").objects.get().machine_reason == "machine"

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_renamed_stored_values_read_as_their_new_words_and_back():
    # "claimed" (an identity nobody verified) became "unverified", "waiting" (a receipt asked for) "asked".
    before, after = [("alerts", "0010_quiet_hours_digest_and_reminders")], [("alerts", "0011_unverified_and_asked")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    prospect = old.get_model("prospects", "Prospect").objects.create(
        email="ana@acme.example", name="Ana", identity_token="tok-ana-0002"
    )
    alert = old.get_model("alerts", "Alert").objects.create(
        prospect=prospect, signal="cta_click", dedup_key="k9", occurred_at=timezone.now(), identification="claimed"
    )
    delivery = old.get_model("alerts", "AlertDelivery").objects.create(
        alert=alert, recipient="+33199000001", receipt="waiting"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    assert new.get_model("alerts", "Alert").objects.get(pk=alert.pk).identification == "unverified"
    assert new.get_model("alerts", "AlertDelivery").objects.get(pk=delivery.pk).receipt == "asked"

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert old.get_model("alerts", "Alert").objects.get(pk=alert.pk).identification == "claimed"
    assert old.get_model("alerts", "AlertDelivery").objects.get(pk=delivery.pk).receipt == "waiting"
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
