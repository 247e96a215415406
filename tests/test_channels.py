"""Alerts on more than SMS (Apprise channels, each with its own delivery), and knowing the SMS arrived
(handset receipts from OVH; a missing one falls back to the channels)."""

import os
import signal
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alerts.outbox import sms
from alerts.outbox.admission import alert_record_signal
from alerts.outbox.channels import channel_key, send_to_channel
from alerts.outbox.composer import compose_alert_rich
from alerts.outbox.delivery import alert_deliver
from alerts.outbox.models import Alert, AlertDelivery
from alerts.outbox.receipts import receipts_check
from alerts.signals.detected import DetectedSignal
from alerts.signals.models import Signal
from tests.channel_double import ChannelDouble
from tests.factories import AlertFactory, ProspectFactory
from tests.ovh_double import OvhDouble, ovh_settings
from tracking.models import Identification

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    with ChannelDouble() as double:
        yield double


@pytest.fixture
def prospect():
    return ProspectFactory(
        name="Alice Martin",
        company="Acme",
        phone="+33199001234",
        title="CTO",
        pain_point="Trop d'astreintes la nuit",
        call_script="Parler du coût des incidents",
    )


def record(prospect, key="cta_click:1") -> Alert:
    detected = DetectedSignal(
        prospect_id=prospect.pk,
        signal="cta_click",
        dedup_key=key,
        occurred_at=timezone.now(),
        evidence={"cta_id": "cta_reserver_audit", "visitor_id": "v1"},
    )
    alert = alert_record_signal(detected=detected)
    assert alert is not None
    return alert


def test_a_channel_gets_the_whole_lead_alongside_the_sms_each_with_its_own_delivery(
    channel, prospect, django_capture_on_commit_callbacks, admin_client
):
    with override_settings(ALERT_CHANNELS=[channel.url]), django_capture_on_commit_callbacks(execute=True):
        alert = record(prospect)
    assert len(sms.outbox) == 1 and len(channel.accepted) == 1
    message = channel.accepted[0]
    assert "Alice Martin" in message["title"] and "Acme" in message["title"]
    for part in ("+33 1 99 00 12 34", "Trop d'astreintes la nuit", "Parler du coût des incidents", f"/l/{alert.pk}"):
        assert part in message["message"], part
    deliveries = {d.channel: d for d in alert.deliveries.all()}
    assert set(deliveries) == {"sms", "apprise"} and {d.status for d in deliveries.values()} == {"sent"}
    assert "json://127.0.0.1" in deliveries["apprise"].label and deliveries["apprise"].recipient.startswith("apprise:")
    with override_settings(ALERT_CHANNELS=[channel.url]):
        page = admin_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert deliveries["apprise"].label in page and "+33199001234" in page


def test_a_forked_worker_still_sends_to_a_channel_after_its_parent_did(channel):
    # django-q2's workers are forked processes. A thread pool made in the parent does not survive a
    # fork: a message handed to it in the child would wait forever, and the worker with it.
    key = channel_key(channel.url)
    with override_settings(ALERT_CHANNELS=[channel.url]):
        send_to_channel(key=key, title="ArkWatch", body="from the parent")
        child = os.fork()
        if child == 0:  # pragma: no cover (the child reports by its exit status)
            status = 1
            try:
                send_to_channel(key=key, title="ArkWatch", body="from the forked worker")
                status = 0
            finally:
                os._exit(status)
        deadline = time.monotonic() + 15
        while (finished := os.waitpid(child, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
                pytest.fail("the forked worker's message never left")
            time.sleep(0.05)
    assert os.waitstatus_to_exitcode(finished[1]) == 0
    assert [m["message"] for m in channel.accepted] == ["from the parent", "from the forked worker"]


def test_a_failing_channel_is_retried_and_the_message_arrives_once(
    channel, prospect, django_capture_on_commit_callbacks
):
    channel.script = [500]
    with override_settings(ALERT_CHANNELS=[channel.url]):
        with django_capture_on_commit_callbacks(execute=True):
            alert = record(prospect)
        delivery = alert.deliveries.get(channel="apprise")
        assert delivery.status == "sent" and delivery.attempts == 2
        assert alert_deliver(alert_id=alert.pk) == "sent"
    assert len(channel.accepted) == 1, "retried once after the 500, never sent again"


def test_a_channel_removed_from_the_settings_fails_for_good(channel, prospect, django_capture_on_commit_callbacks):
    with override_settings(ALERT_CHANNELS=[channel.url]):
        alert = record(prospect)  # queued, not sent yet (no commit callbacks run)
    with override_settings(ALERT_CHANNELS=[]):
        alert_deliver(alert_id=alert.pk)
    delivery = alert.deliveries.get(channel="apprise")
    assert delivery.status == "failed" and "ne fait plus partie de ALERT_CHANNELS" in delivery.last_error


@pytest.fixture
def ovh():
    with OvhDouble() as double:
        yield double


def test_an_sms_goes_from_sent_to_received_with_the_handset_receipt(ovh, prospect, admin_client):
    with override_settings(**ovh_settings(ovh)):
        alert = record(prospect)
        alert_deliver(alert_id=alert.pk)
        delivery = alert.deliveries.get()
        assert delivery.status == "sent"
        assert receipts_check() == 0 and alert.deliveries.get().receipt == "asked"
        ovh.receipts[int(delivery.provider_ids[0])] = "delivered"
        assert receipts_check() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.receipt) == ("received", "received")
    assert ("GET", f"/1.0/sms/{ovh.service}/outgoing/{delivery.provider_ids[0]}") in ovh.requests
    page = admin_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert "01 99 00 00 01: Reçu" in page


def test_a_missing_receipt_falls_back_to_the_other_channels_saying_so(
    ovh, channel, prospect, django_capture_on_commit_callbacks, admin_client
):
    with override_settings(**ovh_settings(ovh), ALERT_CHANNELS=[channel.url]):
        with django_capture_on_commit_callbacks(execute=True):
            alert = record(prospect)
        assert len(channel.accepted) == 1 and len(ovh.jobs) == 1
        with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=True):
            assert receipts_check() == 0
        with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=True):
            with django_capture_on_commit_callbacks(execute=True):
                assert receipts_check() == 1
            with django_capture_on_commit_callbacks(execute=True):
                assert receipts_check() == 0, "closed once: no second fallback"
    assert len(channel.accepted) == 2
    assert "pas été reçu" in channel.accepted[1]["message"]
    sms_delivery = alert.deliveries.get(channel="sms")
    assert sms_delivery.receipt == "not_received"
    page = admin_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert "non reçu" in page


def test_two_phones_without_a_receipt_fall_back_to_the_channels_once(
    ovh, channel, prospect, django_capture_on_commit_callbacks
):
    phones = ["+33199000001", "+33639980002"]
    with override_settings(**ovh_settings(ovh), ALERT_CHANNELS=[channel.url], ALERT_SMS_RECIPIENTS=phones):
        with django_capture_on_commit_callbacks(execute=True):
            alert = record(prospect)
        assert len(ovh.jobs) == 2
        with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=True):
            with django_capture_on_commit_callbacks(execute=True):
                assert receipts_check() == 2, "both SMS closed in one run"
    assert [d.receipt for d in alert.deliveries.filter(channel="sms")] == ["not_received", "not_received"]
    assert len(channel.accepted) == 2, "the lead, then one message that the SMS did not arrive"


def test_send_test_alert_checks_every_channel_and_the_sms(channel, capsys):
    broken = "json://127.0.0.1:9/nobody-listens"
    with override_settings(ALERT_CHANNELS=[channel.url, broken]):
        with pytest.raises(CommandError, match="1 (of|sur) 3"):
            call_command("send_test_alert")
    out = capsys.readouterr().out
    assert len(channel.accepted) == 1 and len(sms.outbox) == 1
    assert "json://127.0.0.1" in out and "SMS 01 99 00 00 01" in out
    assert AlertDelivery.objects.count() == 0, "a test message is not an alert"


def test_the_rich_message_says_the_whole_lead_word_for_word(prospect):
    alert = AlertFactory(prospect=prospect, evidence={"cta_id": "cta_reserver_audit"})
    assert compose_alert_rich(alert=alert) == (
        "ArkWatch — A cliqué « Réserver audit »: Alice Martin (Acme)",
        "Appeler +33 1 99 00 12 34\nCTO\nPoint de douleur : Trop d'astreintes la nuit\n"
        f"Script d'appel : Parler du coût des incidents\nhttps://track.example.com/l/{alert.pk}",
    )


def test_the_rich_message_of_an_unverified_lead_without_a_phone_or_a_company():
    lead = ProspectFactory(name="", company="", email="bob@beta.io", phone="", title="", pain_point="", call_script="")
    alert = AlertFactory(
        prospect=lead,
        signal=Signal.PAGE_DWELL,
        identification=Identification.UNVERIFIED,
        evidence={"dwell_seconds": 132, "visible_seconds": 120},
    )
    assert compose_alert_rich(alert=alert, sms_not_received=True) == (
        "ArkWatch — A lu la page 132 s (non vérifié): bob@beta.io",
        "Le SMS sur ce lead n'a pas été reçu par le téléphone après 5 minutes.\nbob@beta.io\n"
        f"https://track.example.com/l/{alert.pk}",
    )


def test_the_rich_message_of_a_lead_known_by_a_web_page_only():
    lead = ProspectFactory(email="", phone="", website="https://www.linkedin.com/in/alice-martin")
    body = compose_alert_rich(alert=AlertFactory(prospect=lead))[1]
    assert body.splitlines()[0] == "linkedin.com/in/alice-martin"
