"""SMS backends and delivery: the real `ovh` library over real HTTP against a signature-checking
local double; retries on 5xx and timeouts still give exactly one SMS."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from alerts.outbox import delivery as delivery_module
from alerts.outbox import sms
from alerts.outbox.actions import alert_failure_acknowledge, alert_resend
from alerts.outbox.delivery import alert_deliver, deliveries_left_behind_relay, deliveries_needing_relay, delivery_send
from alerts.outbox.models import Alert, AlertDelivery
from alerts.outbox.sms import BaseSmsBackend, SendResult, SmsError, SmsMessage, get_sms_backend
from alerts.outbox.sms import ovh as ovh_backend
from alerts.selectors import unacknowledged_failures
from tests.factories import AlertDeliveryFactory, AlertFactory, DetectionRunFactory, ProspectFactory, aware
from tests.ovh_double import OvhDouble, ovh_settings

pytestmark = pytest.mark.django_db
T0 = aware(2026, 11, 24, 9, 0, 0)


def make_alert(recipients=("+33199000001",)) -> Alert:
    alert = AlertFactory(status=Alert.Status.QUEUED, message="Clic: Alice. Appeler")
    for r in recipients:
        AlertDeliveryFactory(alert=alert, recipient=r, status=AlertDelivery.Status.PENDING)
    return alert


@pytest.fixture
def ovh():
    with OvhDouble() as double:
        yield double


def test_the_ovh_backend_sends_a_signed_job_with_the_contract_fields(ovh):
    with override_settings(**ovh_settings(ovh)):
        result = get_sms_backend().send(SmsMessage(to="+33199000001", body="Bonjour", tag="arkwatch-d1"))
    assert ovh.bad_signatures == 0
    job = ovh.jobs[0]
    assert result.provider_ids == [str(job["id"])]
    assert job["receivers"] == ["+33199000001"] and job["message"] == "Bonjour"
    assert (job["noStopClause"], job["priority"], job["tag"], job["sender"]) == (
        True,
        "high",
        "arkwatch-d1",
        "ArkWatch",
    )


def test_a_wrong_secret_is_a_permanent_error(ovh):
    with override_settings(**ovh_settings(ovh, OVH_APPLICATION_SECRET="wrong")):
        with pytest.raises(SmsError) as error:
            get_sms_backend().send(SmsMessage(to="+33199000001", body="x", tag="t"))
    assert error.value.permanent and ovh.jobs == []


def test_5xx_answers_are_retried_and_one_sms_leaves(ovh):
    ovh.script = ["500", "500"]
    alert = make_alert()
    with override_settings(**ovh_settings(ovh)):
        assert alert_deliver(alert_id=alert.pk) == "sent"
    delivery = alert.deliveries.get()
    assert (delivery.status, delivery.attempts, len(ovh.jobs)) == ("sent", 3, 1)
    assert delivery.provider_ids == [str(ovh.jobs[0]["id"])]
    assert delivery.last_error == "", "a sent SMS shows no error in the admin"


def test_a_timeout_after_ovh_accepted_is_checked_and_not_sent_twice(ovh):
    ovh.script = [("slow", 1.5)]
    alert = make_alert()
    with override_settings(**ovh_settings(ovh)), mock.patch.object(ovh_backend, "TIMEOUT_SECONDS", 0.5):
        assert alert_deliver(alert_id=alert.pk) == "sent"
    delivery = alert.deliveries.get()
    assert len(ovh.jobs) == 1, "the retry must find the first SMS by its tag instead of sending again"
    assert delivery.attempts == 2 and delivery.provider_ids == [str(ovh.jobs[0]["id"])]
    assert ("GET", f"/1.0/sms/{ovh.service}/outgoing") in ovh.requests


def _after(minutes: float):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


def test_persistent_5xx_is_retried_until_the_give_up_time_then_failed_and_health_says_so(ovh, client):
    ovh.script = ["500"] * 1000
    alert = make_alert()
    with override_settings(**ovh_settings(ovh)), mock.patch.object(delivery_module, "MAX_ATTEMPTS_IN_TASK", 3):
        assert alert_deliver(alert_id=alert.pk) == "queued", "3 quick tries, then the relay schedule goes on"
        delivery = alert.deliveries.get()
        assert (delivery.status, delivery.attempts, ovh.jobs) == ("retry", 3, [])
        assert delivery.last_error == "Erreur OVH 500 : Internal server error"  # what the admin shows
        with _after(30):
            assert deliveries_left_behind_relay() == 1 and alert_deliver(alert_id=alert.pk) == "queued"
        with _after(61):
            deliveries_left_behind_relay()
            assert alert_deliver(alert_id=alert.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.last_error.startswith("abandonné après 60 min : Erreur OVH 500")
    DetectionRunFactory(started_at=timezone.now())
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["reasons"] == ["alerts_failed_unacknowledged"]
    alert.refresh_from_db()
    assert alert_failure_acknowledge(alert=alert)
    assert client.get("/healthz").status_code == 200


def test_ovh_down_longer_than_any_backoff_gives_exactly_one_sms_when_it_is_back(ovh, client):
    """A refused connection never reached OVH: an ordinary retry, no "was it sent?" doubt."""
    alert = make_alert()
    ovh.go_down()
    with override_settings(**ovh_settings(ovh)), mock.patch.object(delivery_module, "MAX_ATTEMPTS_IN_TASK", 2):
        assert alert_deliver(alert_id=alert.pk) == "queued"
        delivery = alert.deliveries.get()
        assert (delivery.status, delivery.needs_check) == ("retry", False)
        assert "OVH injoignable" in delivery.last_error
        for minute in (2, 3, 4):  # the relay schedule keeps trying while OVH is down
            with _after(minute):
                deliveries_left_behind_relay()
                assert alert_deliver(alert_id=alert.pk) == "queued"
        health = client.get("/healthz", HTTP_AUTHORIZATION="Bearer test-api-key").json()
        assert health["alerts_failed_unacknowledged"] == 0, "not failed: still trying"
        ovh.come_back()
        with _after(6):
            assert deliveries_left_behind_relay() == 1
            assert alert_deliver(alert_id=alert.pk) == "sent"
            assert deliveries_left_behind_relay() == 0
    assert len(ovh.jobs) == 1 and alert.deliveries.get().status == "sent"


def test_an_ambiguous_send_is_checked_again_while_ovh_is_down_and_never_sent_twice(ovh):
    ovh.script = [("slow", 1.5)]  # accepted, but the answer comes after the client gave up
    alert = make_alert()
    with (
        override_settings(**ovh_settings(ovh)),
        mock.patch.object(ovh_backend, "TIMEOUT_SECONDS", 0.5),
        mock.patch.object(delivery_module, "MAX_ATTEMPTS_IN_TASK", 1),
    ):
        assert alert_deliver(alert_id=alert.pk) == "queued"
        assert alert.deliveries.get().needs_check
        ovh.go_down()
        with _after(5):
            deliveries_left_behind_relay()
            assert alert_deliver(alert_id=alert.pk) == "queued", "the check could not reach OVH: asked again later"
        assert "impossible de demander à OVH" in alert.deliveries.get().last_error
        ovh.come_back()
        with _after(10):
            deliveries_left_behind_relay()
            assert alert_deliver(alert_id=alert.pk) == "sent"
    assert len(ovh.jobs) == 1, "the SMS that left during the timeout was found by its tag"


def test_a_failed_alert_can_be_resent_once_and_the_tag_check_still_prevents_a_duplicate(ovh):
    alert = make_alert()
    ovh.script = ["500"] * 1000
    with (
        override_settings(**ovh_settings(ovh, SMS_GIVE_UP_AFTER_MINUTES=0)),
        mock.patch.object(delivery_module, "MAX_ATTEMPTS_IN_TASK", 1),
    ):
        assert alert_deliver(alert_id=alert.pk) == "failed"
    ovh.script = []
    alert.refresh_from_db()
    with override_settings(**ovh_settings(ovh)):
        assert alert_resend(alert=alert)
        assert alert_deliver(alert_id=alert.pk) == "sent"
        alert.refresh_from_db()
        assert not alert_resend(alert=alert), "nothing failed any more: nothing to resend"
    assert len(ovh.jobs) == 1


def test_a_resend_after_a_long_outage_gets_a_new_give_up_window(ovh):
    """The SMS gave up after an hour of OVH errors; an hour later the founder clicks "resend" while OVH
    still fails: it keeps trying for another window instead of failing at the first error."""
    alert = make_alert()
    ovh.script = ["500"] * 1000
    with override_settings(**ovh_settings(ovh)), mock.patch.object(delivery_module, "MAX_ATTEMPTS_IN_TASK", 1):
        assert alert_deliver(alert_id=alert.pk) == "queued"
        with _after(61):
            assert alert_deliver(alert_id=alert.pk) == "failed"
        with _after(120):
            alert.refresh_from_db()
            assert alert_resend(alert=alert)
            assert alert_deliver(alert_id=alert.pk) == "queued", "retrying, not given up at once"
    assert alert.deliveries.get().status == "retry"


class CannotCheckBackend(BaseSmsBackend):
    """A provider without a "was it sent?" query (can_check_sent is False)."""

    def send(self, message: SmsMessage) -> SendResult:
        sms.outbox.append(message)
        return SendResult(provider_ids=["x"])


def test_a_provider_that_cannot_tell_whether_an_ambiguous_send_left_fails_rather_than_risk_a_duplicate():
    alert = make_alert()
    AlertDelivery.objects.filter(alert=alert).update(needs_check=True)
    assert delivery_send(delivery_id=alert.deliveries.get().pk, backend=CannotCheckBackend()) == "failed"
    delivery = alert.deliveries.get()
    assert "not re-sent" in delivery.last_error and sms.outbox == []


def test_each_recipient_gets_one_sms_and_a_redelivery_sends_nothing_more():
    alert = make_alert(recipients=("+33199000001", "+33639980002"))
    assert alert_deliver(alert_id=alert.pk) == "sent"
    assert alert_deliver(alert_id=alert.pk) == "sent"
    assert sorted(m.to for m in sms.outbox) == ["+33199000001", "+33639980002"]


def test_a_delivery_claimed_by_another_worker_is_left_alone():
    alert = make_alert()
    AlertDelivery.objects.filter(alert=alert).update(status="sending", attempts=1)
    alert_deliver(alert_id=alert.pk)
    assert sms.outbox == []


def test_the_console_backend_prints_the_message(capsys):
    get_sms_backend("console").send(SmsMessage(to="+33199000001", body="Hello", tag="t1"))
    assert "Hello" in capsys.readouterr().out


def test_send_test_sms_checks_the_configuration(capsys):
    call_command("send_test_sms")
    assert sms.outbox[0].to == "+33199000001" and "Envoyé au 01 99 00 00 01" in capsys.readouterr().out
    with pytest.raises(CommandError, match="E.164"):
        call_command("send_test_sms", "--to", "0612")


def test_send_test_sms_explains_a_provider_refusal(ovh):
    with override_settings(**ovh_settings(ovh, OVH_CONSUMER_KEY="revoked")):
        with pytest.raises(CommandError, match="erreur définitive"):
            call_command("send_test_sms", "--to", "+33199000001")


def test_a_delivery_left_sending_by_a_dead_worker_is_checked_then_finished_by_the_relay_schedule(
    django_capture_on_commit_callbacks,
):
    from datetime import timedelta

    from alerts.tasks import relay_deliveries_task

    crashed_after_send, crashed_before_send = make_alert(), make_alert()
    expired = timezone.now() - timedelta(minutes=5)
    for alert in (crashed_after_send, crashed_before_send):
        AlertDelivery.objects.filter(alert=alert).update(status="sending", attempts=1, lease_until=expired)
    # The first worker had reached OVH before dying: its SMS is out, with the delivery's tag.
    delivery = crashed_after_send.deliveries.get()
    sms.outbox.append(SmsMessage(to=delivery.recipient, body=crashed_after_send.message, tag=delivery.tag))
    AlertDelivery.objects.all().update(updated_at=expired)

    with django_capture_on_commit_callbacks(execute=True):
        relay_deliveries_task()

    assert [d.status for d in AlertDelivery.objects.order_by("pk")] == ["sent", "sent"]
    tags = [m.tag for m in sms.outbox]
    assert tags.count(delivery.tag) == 1, "found by its tag, not sent again"
    assert tags.count(crashed_before_send.deliveries.get().tag) == 1, "never sent before: sent now"


class BrokenBackend(BaseSmsBackend):
    """A library bug mid-send: nobody knows whether the SMS left."""

    def send(self, message: SmsMessage) -> SendResult:
        raise RuntimeError("boom")


def test_an_unexpected_error_mid_send_is_checked_before_any_resend():
    alert = make_alert()
    with pytest.raises(RuntimeError):
        delivery_send(delivery_id=alert.deliveries.get().pk, backend=BrokenBackend())
    delivery = alert.deliveries.get()
    assert (delivery.status, delivery.needs_check, delivery.last_error) == (
        "retry",
        True,
        "unexpected: RuntimeError('boom')",
    )


# --- A failed SMS: reported until acknowledged, one alert at a time; a resend starts afresh ---------


def failed_alert() -> Alert:
    delivery = AlertDeliveryFactory(alert__prospect=ProspectFactory(), alert__status=Alert.Status.FAILED)
    AlertDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=4, last_error="OVH 500")
    return delivery.alert


def test_acknowledging_one_failed_sms_leaves_the_others_reported():
    seen, unseen = failed_alert(), failed_alert()
    assert alert_failure_acknowledge(alert=seen)
    assert list(unacknowledged_failures()) == [unseen]


def test_a_failure_is_acknowledged_once_and_only_on_a_failed_alert():
    sent = AlertFactory(status=Alert.Status.SENT)
    assert alert_failure_acknowledge(alert=sent) is False
    failed = failed_alert()
    assert alert_failure_acknowledge(alert=failed) is True
    failed.refresh_from_db()
    first = failed.failure_acknowledged_at
    assert alert_failure_acknowledge(alert=failed) is False, "a second click changes nothing"
    failed.refresh_from_db()
    assert failed.failure_acknowledged_at == first


def test_a_resent_alert_starts_afresh(django_capture_on_commit_callbacks):
    alert = failed_alert()
    alert_failure_acknowledge(alert=alert)
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_resend(alert=alert)
    delivery = AlertDelivery.objects.get(alert=alert)
    assert (delivery.status, delivery.attempts) == ("sent", 1), "the resend's own attempt, counted from zero"
    assert len(sms.outbox) == 1
    alert.refresh_from_db()
    assert alert.failure_acknowledged_at is None, "should the resend fail too, /healthz reports it again"


def test_a_resent_alert_shows_as_on_its_way_until_the_worker_sends_it():
    alert = failed_alert()
    assert alert_resend(alert=alert) is True  # the worker has not run yet (no commit callbacks)
    alert.refresh_from_db()
    assert alert.status == "queued", "hot leads must not still say 'failed' after the click"


def test_resending_an_old_failure_gets_a_new_give_up_window(django_capture_on_commit_callbacks):
    """The SMS failed during a 3-hour outage: once it is over, a resend goes out, not given up at once."""
    alert = failed_alert()
    AlertDelivery.objects.filter(alert=alert).update(
        created_at=timezone.now() - timedelta(hours=3), retry_at=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_resend(alert=alert)
    delivery = AlertDelivery.objects.get(alert=alert)
    assert delivery.status == "sent" and len(sms.outbox) == 1


def test_resending_one_alert_leaves_the_other_failed_alerts_alone(django_capture_on_commit_callbacks):
    resent, other = failed_alert(), failed_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_resend(alert=resent)
    assert AlertDelivery.objects.get(alert=other).status == "failed"
    assert len(sms.outbox) == 1


# --- The outbox's schedule: which SMS it hands to a worker, how fast it retries, what a row says -----


def test_a_delivery_being_sent_is_not_handed_over_again_until_its_lease_ends():
    row = AlertDeliveryFactory(alert__prospect=ProspectFactory(), status="pending")
    assert delivery_module._claim(row.pk, T0)
    assert deliveries_needing_relay(T0 + timedelta(minutes=1, seconds=59)) == []
    assert deliveries_needing_relay(T0 + timedelta(minutes=2, seconds=1)) == [(row.alert_id, None)]


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


def test_an_outage_is_retried_at_a_growing_pace_capped_at_a_minute(monkeypatch):
    # OVH down: 2 s, 6 s, 18 s, 54 s, then every minute until SMS_GIVE_UP_AFTER_MINUTES.
    monkeypatch.setattr(delivery_module, "RETRY_BACKOFF_SECONDS", 2.0)
    assert [delivery_module._backoff(attempts) for attempts in range(1, 7)] == [2, 6, 18, 54, 60, 60]


def test_delivering_an_alert_with_nobody_to_text_keeps_its_status():
    alert = AlertFactory(prospect=ProspectFactory(), status=Alert.Status.MUTED)
    assert alert_deliver(alert_id=alert.pk) == "muted"


def test_an_sms_row_is_labelled_with_its_number_and_an_alert_with_nobody_to_text_says_why():
    with override_settings(ALERT_SMS_RECIPIENTS=["+33199000009"], ALERT_CHANNELS=[]):
        alert = AlertFactory(status=Alert.Status.QUEUED, message="Clic CTA")
        delivery_module.alert_deliveries_add(alert)
    assert list(alert.deliveries.values_list("recipient", "label")) == [("+33199000009", "+33199000009")]
    with override_settings(ALERT_SMS_RECIPIENTS=[], ALERT_CHANNELS=[]):
        lonely = AlertFactory(status=Alert.Status.QUEUED, message="Clic CTA")
        delivery_module.alert_deliveries_add(lonely)
    assert lonely.status == Alert.Status.FAILED
    assert lonely.message == "Clic CTA [ALERT_SMS_RECIPIENTS and ALERT_CHANNELS are empty: nobody to alert]"


def test_a_delivery_task_queued_before_the_upgrade_still_runs():
    """A task queued by the version before alerts/ was split names its function by the old module path
    (django-q2 pickles the function by reference); the new worker must load it, not stop on it."""
    import pickle

    from alerts.outbox.delivery import alert_deliver, notice_deliver

    for name, function in (("alert_deliver", alert_deliver), ("notice_deliver", notice_deliver)):
        # The GLOBAL opcode a pickle of the old function holds: module path, then name.
        queued_before = f"calerts.delivery\n{name}\n.".encode()
        assert pickle.loads(queued_before) is function


def test_an_sms_backend_named_by_its_path_before_the_rooms_still_loads():
    """An operator's .env written before alerts/ was split names a backend by its old path."""
    from alerts.outbox.sms.console import ConsoleSmsBackend

    former = "alerts" + ".sms."
    assert isinstance(get_sms_backend(former + "console.ConsoleSmsBackend"), ConsoleSmsBackend)
    with override_settings(SMS_BACKEND=former + "locmem.LocmemSmsBackend"):
        get_sms_backend().send(SmsMessage(to="+33199000001", body="Test"))
    assert [m.body for m in sms.outbox] == ["Test"]
