"""SMS backends and delivery: the real `ovh` library over real HTTP against a signature-checking
local double; retries on 5xx and timeouts still give exactly one SMS."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from alerts import sms
from alerts.delivery import alert_deliver, delivery_send
from alerts.models import Alert, AlertDelivery
from alerts.sms import BaseSmsBackend, SendResult, SmsError, SmsMessage, get_sms_backend
from tests.factories import AlertDeliveryFactory, AlertFactory
from tests.ovh_double import OvhDouble, ovh_settings

pytestmark = pytest.mark.django_db


def make_alert(recipients=("+33600000001",)) -> Alert:
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
        result = get_sms_backend().send(SmsMessage(to="+33600000001", body="Bonjour", tag="arkwatch-d1"))
    assert ovh.bad_signatures == 0
    job = ovh.jobs[0]
    assert result.provider_ids == [str(job["id"])]
    assert job["receivers"] == ["+33600000001"] and job["message"] == "Bonjour"
    assert (job["noStopClause"], job["priority"], job["tag"], job["sender"]) == (
        True,
        "high",
        "arkwatch-d1",
        "ArkWatch",
    )


def test_a_wrong_secret_is_a_permanent_error(ovh):
    with override_settings(**ovh_settings(ovh, OVH_APPLICATION_SECRET="wrong")):
        with pytest.raises(SmsError) as error:
            get_sms_backend().send(SmsMessage(to="+33600000001", body="x", tag="t"))
    assert error.value.permanent and ovh.jobs == []


def test_5xx_answers_are_retried_and_one_sms_leaves(ovh):
    ovh.script = ["500", "500"]
    alert = make_alert()
    with override_settings(**ovh_settings(ovh)):
        assert alert_deliver(alert_id=alert.pk) == "sent"
    delivery = alert.deliveries.get()
    assert (delivery.status, delivery.attempts, len(ovh.jobs)) == ("sent", 3, 1)
    assert delivery.provider_ids == [str(ovh.jobs[0]["id"])]


def test_a_timeout_after_ovh_accepted_is_checked_and_not_sent_twice(ovh):
    ovh.script = [("slow", 1.5)]
    alert = make_alert()
    with override_settings(**ovh_settings(ovh, OVH_TIMEOUT_SECONDS=0.5)):
        assert alert_deliver(alert_id=alert.pk) == "sent"
    delivery = alert.deliveries.get()
    assert len(ovh.jobs) == 1, "the retry must find the first SMS by its tag instead of sending again"
    assert delivery.attempts == 2 and delivery.provider_ids == [str(ovh.jobs[0]["id"])]
    assert ("GET", f"/1.0/sms/{ovh.service}/outgoing") in ovh.requests


def test_persistent_failure_is_bounded_then_failed(ovh):
    ovh.script = ["500"] * 10
    alert = make_alert()
    with override_settings(**ovh_settings(ovh, SMS_MAX_ATTEMPTS=3)):
        assert alert_deliver(alert_id=alert.pk) == "failed"
    delivery = alert.deliveries.get()
    assert (delivery.status, delivery.attempts, ovh.jobs) == ("failed", 3, [])
    assert delivery.last_error == "OVH error 500: Internal server error"  # what the admin shows
    alert.refresh_from_db()
    assert alert.status == "failed"


def test_an_unreachable_provider_that_cannot_be_checked_is_not_resent():
    alert = make_alert()
    settings = {**ovh_settings(OvhDouble()), "OVH_ENDPOINT": "http://127.0.0.1:9/1.0", "OVH_TIMEOUT_SECONDS": 0.5}
    with override_settings(**settings):
        assert alert_deliver(alert_id=alert.pk) == "failed"
    delivery = alert.deliveries.get()
    assert delivery.attempts == 2 and "not re-sent" in delivery.last_error


def test_each_recipient_gets_one_sms_and_a_redelivery_sends_nothing_more():
    alert = make_alert(recipients=("+33600000001", "+33600000002"))
    assert alert_deliver(alert_id=alert.pk) == "sent"
    assert alert_deliver(alert_id=alert.pk) == "sent"
    assert sorted(m.to for m in sms.outbox) == ["+33600000001", "+33600000002"]


def test_a_delivery_claimed_by_another_worker_is_left_alone():
    alert = make_alert()
    AlertDelivery.objects.filter(alert=alert).update(status="sending", attempts=1)
    alert_deliver(alert_id=alert.pk)
    assert sms.outbox == []


def test_the_console_backend_prints_the_message(capsys):
    get_sms_backend("console").send(SmsMessage(to="+33600000001", body="Hello", tag="t1"))
    assert "Hello" in capsys.readouterr().out


def test_send_test_sms_checks_the_configuration(capsys):
    call_command("send_test_sms")
    assert sms.outbox[0].to == "+33600000001" and "Sent to" in capsys.readouterr().out
    with pytest.raises(CommandError, match="E.164"):
        call_command("send_test_sms", "--to", "0612")


def test_send_test_sms_explains_a_provider_refusal(ovh):
    with override_settings(**ovh_settings(ovh, OVH_CONSUMER_KEY="revoked")):
        with pytest.raises(CommandError, match="permanent"):
            call_command("send_test_sms", "--to", "+33600000001")


def test_a_delivery_left_sending_by_a_dead_worker_is_checked_then_finished_by_the_next_cycle(
    django_capture_on_commit_callbacks,
):
    from datetime import timedelta

    from alerts.detection import run_detection_cycle

    crashed_after_send, crashed_before_send = make_alert(), make_alert()
    expired = timezone.now() - timedelta(minutes=5)
    for alert in (crashed_after_send, crashed_before_send):
        AlertDelivery.objects.filter(alert=alert).update(status="sending", attempts=1, lease_until=expired)
    # The first worker had reached OVH before dying: its SMS is out, with the delivery's tag.
    delivery = crashed_after_send.deliveries.get()
    sms.outbox.append(SmsMessage(to=delivery.recipient, body=crashed_after_send.message, tag=delivery.tag))
    AlertDelivery.objects.all().update(updated_at=expired)

    with django_capture_on_commit_callbacks(execute=True):
        run_detection_cycle(trigger="schedule")

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
