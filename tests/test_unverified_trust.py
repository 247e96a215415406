"""Issue 29, points 1 and 2: nobody can silence a real prospect. A booking matched by the invitee's email
alone (anyone can type a prospect's address into the founder's public booking page) is an unverified
signal like any other: it silences nothing, moves no status, takes no lead off "à appeler", and goes
through the cooldown, the budget and the hold. A verified booking silences only within
MEETING_SILENCE_MAX_DAYS, and its cancellation puts the status back. An unverified alert never stands in
a verified one's way: a cooldown and an hourly budget of its own, held across networks."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from alerts.outbox import sms
from alerts.outbox.delivery import deliveries_left_behind_relay
from alerts.outbox.models import Alert, SmsNotice
from alerts.outbox.reminders import reminders_send
from alerts.signals.models import Signal
from prospects.models import Prospect
from tests.factories import ProspectFactory
from tests.test_booking_webhooks import CALCOM_SECRET, calcom_body, calcom_post, in_days
from tests.test_forgery import cta
from tracking.models import Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.CALCOM_WEBHOOK_SECRET = CALCOM_SECRET


@pytest.fixture
def prospect():
    return ProspectFactory(
        name="Jean Dupont",
        company="Acme",
        email="cto@acme-corp.example",
        phone="+33199001234",
        status=Prospect.Status.CONTACTED,
    )


def hot_leads_page(staff_client) -> str:
    return staff_client.get("/admin/backoffice/hot-leads/").content.decode()


# --- Point 1: a booking typed with a prospect's email --------------------------------------------


def test_a_booking_typed_with_a_prospects_email_silences_nothing(client, staff_client, prospect, run_on_commit):
    """Measured on main before: the prospect's own click then read "Pas de SMS : RDV pris", hot leads
    showed "RDV" and the status became "RDV pris"."""
    run_on_commit(calcom_post, client, calcom_body(uid="forged-1", start=in_days(2)))
    booking = Alert.objects.get(signal=Signal.MEETING_BOOKED)
    assert booking.identification == "unverified" and "(non vérifié)" in sms.outbox[0].body
    prospect.refresh_from_db()
    assert prospect.status != Prospect.Status.MEETING_BOOKED
    page = hot_leads_page(staff_client)
    assert "À appeler" in page and "non vérifié" in page
    # The prospect's own click, from their own link, texts the founder.
    run_on_commit(cta, client, visitor_id="visitor-own-1", ip="198.51.100.7", ak=prospect.identity_token)
    click = Alert.objects.get(signal=Signal.CTA_CLICK)
    assert click.status == Alert.Status.SENT and len(sms.outbox) == 2
    assert "Jean Dupont" in sms.outbox[1].body and "non vérifié" not in sms.outbox[1].body


@override_settings(ALERT_REMIND_AFTER_MINUTES=10)
def test_an_email_only_booking_does_not_stop_the_reminder(client, prospect, run_on_commit):
    run_on_commit(cta, client, visitor_id="visitor-own-2", ip="198.51.100.7", ak=prospect.identity_token)
    run_on_commit(calcom_post, client, calcom_body(uid="forged-2", start=in_days(2)))
    with time_machine.travel(timezone.now() + timedelta(minutes=15), tick=False):
        assert run_on_commit(reminders_send) == 1


def test_thirteen_forged_bookings_do_not_make_thirteen_sms(client, run_on_commit):
    """Measured on main before: 13 forged bookings, 13 SMS in an hour of budget 10, 13 statuses "RDV pris"."""
    for n in range(13):
        ProspectFactory(email=f"cto@company{n:02d}.example", name=f"Prospect {n:02d}")
    for n in range(13):
        run_on_commit(calcom_post, client, calcom_body(uid=f"forged-{n}", email=f"cto@company{n:02d}.example"))
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
        run_on_commit(deliveries_left_behind_relay)
    bookings = [m.body for m in sms.outbox if "a pris RDV" in m.body]
    assert len(bookings) <= 3, bookings
    assert Alert.objects.filter(status=Alert.Status.HELD).count() >= 10
    assert [m.body for m in sms.outbox if m.body.startswith("ArkWatch : ")][0].startswith("ArkWatch : 11 alertes")
    assert not Prospect.objects.filter(status=Prospect.Status.MEETING_BOOKED).exists()


@override_settings(MEETING_SILENCE_MAX_DAYS=14)
@pytest.mark.parametrize("days, status", [(90, Alert.Status.SENT), (10, Alert.Status.MEETING)])
def test_a_verified_booking_silences_only_within_the_horizon(
    client, staff_client, prospect, run_on_commit, days, status
):
    """Measured on main before: a booking 90 days ahead silenced the prospect until then."""
    ak = {"ak": prospect.identity_token}
    run_on_commit(calcom_post, client, calcom_body(uid="bk-h", start=in_days(days), metadata=ak))
    run_on_commit(cta, client, visitor_id="visitor-own-3", ip="198.51.100.7", ak=prospect.identity_token)
    assert Alert.objects.get(signal=Signal.CTA_CLICK).status == status
    assert ("À appeler" in hot_leads_page(staff_client)) == (status == Alert.Status.SENT)


def test_a_cancelled_booking_puts_the_status_back(client, prospect, run_on_commit):
    """Measured on main before: the status stayed "RDV pris" after the cancellation."""
    ak = {"ak": prospect.identity_token}
    run_on_commit(calcom_post, client, calcom_body(uid="bk-c", metadata=ak))
    assert Prospect.objects.get(pk=prospect.pk).status == Prospect.Status.MEETING_BOOKED
    run_on_commit(calcom_post, client, calcom_body("BOOKING_CANCELLED", uid="bk-c", metadata=ak))
    assert Meeting.objects.get(external_id="bk-c").status == Meeting.Status.CANCELLED
    assert Prospect.objects.get(pk=prospect.pk).status == Prospect.Status.CONTACTED


def test_a_cancellation_keeps_the_status_while_another_verified_meeting_is_ahead(client, prospect, run_on_commit):
    ak = {"ak": prospect.identity_token}
    run_on_commit(calcom_post, client, calcom_body(uid="bk-a", start=in_days(2), metadata=ak))
    run_on_commit(calcom_post, client, calcom_body(uid="bk-b", start=in_days(4), metadata=ak))
    run_on_commit(calcom_post, client, calcom_body("BOOKING_CANCELLED", uid="bk-a", metadata=ak))
    assert Prospect.objects.get(pk=prospect.pk).status == Prospect.Status.MEETING_BOOKED
    run_on_commit(calcom_post, client, calcom_body("BOOKING_CANCELLED", uid="bk-b", start=in_days(4), metadata=ak))
    assert Prospect.objects.get(pk=prospect.pk).status == Prospect.Status.CONTACTED


# --- Point 2: an unverified alert never stands in a verified one's way ----------------------------


def test_a_forged_claim_does_not_burn_the_prospects_own_click(client, prospect, run_on_commit):
    """Measured on main before: the prospect's verified click read "Pas de SMS : délai" for 24 h."""
    run_on_commit(cta, client, visitor_id="forger-0001", ip="203.0.113.9", email="anyone@acme-corp.example")
    forged = Alert.objects.get()
    assert forged.identification == "unverified" and forged.status == Alert.Status.SENT
    run_on_commit(cta, client, visitor_id="visitor-own-5", ip="198.51.100.7", ak=prospect.identity_token)
    own = Alert.objects.exclude(pk=forged.pk).get()
    assert own.identification == "verified" and own.status == Alert.Status.SENT
    assert len(sms.outbox) == 2 and "non vérifié" not in sms.outbox[1].body
    # A second claim within the cooldown texts nobody: the founder knows already.
    run_on_commit(cta, client, visitor_id="forger-0002", ip="203.0.113.9", email="other@acme-corp.example")
    assert Alert.objects.latest("pk").status == Alert.Status.COOLDOWN and len(sms.outbox) == 2


def test_ten_claims_from_ten_networks_leave_the_verified_budget_whole(client, run_on_commit):
    """Measured on main before: ten claims from ten /24 were never held, spent the hourly budget of 10,
    and the real verified click waited for the end-of-hour summary."""
    for n in range(10):
        ProspectFactory(email=f"cto@company{n:02d}.example", name=f"Prospect {n:02d}")
    real = ProspectFactory(email="cto@initech.example", name="Real Reader")
    for n in range(10):
        run_on_commit(
            cta, client, visitor_id=f"forged-net-{n:02d}", ip=f"203.0.{n + 1}.5", email=f"x@company{n:02d}.example"
        )
    unverified_sms = [m for m in sms.outbox if "non vérifié" in m.body]
    assert len(unverified_sms) <= 3
    assert Alert.objects.filter(status=Alert.Status.HELD).count() >= 7  # across networks
    run_on_commit(cta, client, visitor_id="real-reader-1", ip="198.51.100.7", ak=real.identity_token)
    assert Alert.objects.get(prospect=real).status == Alert.Status.SENT
    assert "Real Reader" in sms.outbox[-1].body


@override_settings(ALERT_HOLD_UNVERIFIED_PROSPECTS=0, ALERT_UNVERIFIED_MAX_PER_HOUR=3, ALERT_SMS_MAX_PER_HOUR=10)
def test_unverified_alerts_spend_a_budget_of_their_own(client, run_on_commit):
    for n in range(10):
        ProspectFactory(email=f"cto@company{n:02d}.example")
    real = ProspectFactory(email="cto@initech.example", name="Real Reader")
    for n in range(10):
        run_on_commit(
            cta, client, visitor_id=f"forged-bud-{n:02d}", ip=f"203.0.{n + 1}.5", email=f"x@company{n:02d}.example"
        )
    statuses = list(Alert.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [Alert.Status.SENT] * 3 + [Alert.Status.GROUPED] * 7
    assert SmsNotice.objects.filter(kind=SmsNotice.Kind.SUMMARY).count() == 1
    run_on_commit(cta, client, visitor_id="real-reader-2", ip="198.51.100.7", ak=real.identity_token)
    assert Alert.objects.get(prospect=real).status == Alert.Status.SENT


def test_two_claimed_readers_from_two_networks_still_text(client, run_on_commit):
    """The hold across networks waits for ALERT_HOLD_UNVERIFIED_PROSPECTS (3) prospects: two real
    claimed readers in an hour are not an attack."""
    ProspectFactory(email="cto@acme-corp.example")
    ProspectFactory(email="cto@initech.example")
    run_on_commit(cta, client, visitor_id="visitor-a0002", ip="203.0.113.5", email="a@acme-corp.example")
    run_on_commit(cta, client, visitor_id="visitor-b0002", ip="198.51.100.9", email="b@initech.example")
    assert len(sms.outbox) == 2 and not Alert.objects.filter(status=Alert.Status.HELD).exists()
