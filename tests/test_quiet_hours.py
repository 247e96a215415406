"""Quiet hours and the morning digest, reminders for leads nobody called: with a frozen clock in
TIME_ZONE (Europe/Paris)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.composer import lead_short_url
from alerts.outbox.delivery import deliveries_needing_relay, reminder_deliveries_add
from alerts.outbox.gsm import gsm7_segments, gsm7_units, is_gsm7
from alerts.outbox.models import Alert, AlertDelivery, SmsNotice
from alerts.outbox.notices import digest_alerts, notice_text
from alerts.outbox.quiet import parse_quiet_days, parse_quiet_hours, quiet_until
from alerts.outbox.sms.base import SendResult, SmsError, SmsMessage
from alerts.outbox.sms.locmem import LocmemSmsBackend
from alerts.outcomes.calls import call_record
from alerts.outcomes.ledger import ledger
from alerts.outcomes.models import CallOutcome
from alerts.tasks import relay_deliveries_task
from tests.channel_double import ChannelDouble
from tests.factories import (
    AlertFactory,
    CallFactory,
    CtaClickFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tracking.models import Meeting

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def night(settings):
    settings.ALERT_QUIET_HOURS = "20:00-08:00"
    settings.ALERT_QUIET_DAYS = []
    settings.ALERT_QUIET_BREAKERS = []
    return settings


def test_quiet_until_the_end_of_the_period(night):
    assert quiet_until(paris(2026, 11, 24, 22, 0)) == paris(2026, 11, 25, 8, 0)
    assert quiet_until(paris(2026, 11, 25, 7, 59)) == paris(2026, 11, 25, 8, 0)
    assert quiet_until(paris(2026, 11, 25, 8, 0)) is None
    assert quiet_until(paris(2026, 11, 25, 12, 0)) is None
    night.ALERT_QUIET_DAYS = ["sat", "sun"]
    # Friday evening to Monday morning is one period: one digest.
    assert quiet_until(paris(2026, 11, 27, 21, 0)) == paris(2026, 11, 30, 8, 0)
    assert quiet_until(paris(2026, 11, 29, 14, 0)) == paris(2026, 11, 30, 8, 0)
    night.ALERT_QUIET_HOURS = ""
    assert quiet_until(paris(2026, 11, 28, 14, 0)) == paris(2026, 11, 30, 0, 0)
    assert quiet_until(paris(2026, 11, 27, 21, 0)) is None


def click(prospect, at, visitor):
    VisitorFactory(visitor_id=visitor, prospect=prospect)
    CtaClickFactory(visitor_id=visitor, prospect=prospect, ak=prospect.identity_token, received_at=at)


def read(prospect, at, visitor, seconds=120):
    VisitorFactory(visitor_id=visitor, prospect=prospect)
    for offset in range(0, seconds + 1, 15):
        VisitEventFactory(
            visitor_id=visitor,
            page_view_id=f"pv-{visitor}",
            event="pageview" if offset == 0 else "heartbeat",
            received_at=at + timedelta(seconds=offset),
            ak=prospect.identity_token,
        )


def cycle(at, run_on_commit):
    with time_machine.travel(at, tick=False):
        return run_on_commit(detection_cycle_run)


def relay(at, run_on_commit):
    with time_machine.travel(at, tick=False):
        return run_on_commit(relay_deliveries_task)


def test_a_night_signal_waits_for_one_digest_listing_the_strongest_first(night, run_on_commit):
    reader = ProspectFactory(name="Marie Reader", company="Beta")
    clicker = ProspectFactory(name="Jean Clicker", company="Acme")
    read(reader, paris(2026, 11, 25, 1, 0), "visitor-r")
    cycle(paris(2026, 11, 25, 1, 5), run_on_commit)
    click(clicker, paris(2026, 11, 25, 1, 50), "visitor-c")
    cycle(paris(2026, 11, 25, 2, 0), run_on_commit)
    assert set(Alert.objects.values_list("status", flat=True)) == {Alert.Status.QUIET}
    assert sms.outbox == []
    # Not texted tonight, but hot on the list the founder opens in the morning.
    reader.refresh_from_db()
    clicker.refresh_from_db()
    assert (reader.status, clicker.status) == ("hot", "hot")
    digest = SmsNotice.objects.get(kind=SmsNotice.Kind.DIGEST)
    assert digest.period_start == paris(2026, 11, 25, 8, 0)
    relay(paris(2026, 11, 25, 7, 59), run_on_commit)
    assert sms.outbox == []
    relay(paris(2026, 11, 25, 8, 0, 30), run_on_commit)
    assert len(sms.outbox) == 1
    text = sms.outbox[0].body
    # French typography, a space before the colon: a plain one, the no-break ones are not GSM-7.
    assert text.startswith("ArkWatch, pendant les heures calmes : 2 leads à appeler : Jean Clicker (Acme, clic) +33")
    assert is_gsm7(text) and gsm7_segments(text) == 1
    assert text.endswith("/admin/backoffice/hot-leads/")
    relay(paris(2026, 11, 25, 8, 5), run_on_commit)
    assert len(sms.outbox) == 1  # never twice


def test_a_long_digest_keeps_to_one_gsm7_segment(night, run_on_commit):
    for n in range(12):
        click(
            ProspectFactory(name=f"Prospect numéro {n:02d}", company="Acme"), paris(2026, 11, 25, 1, n), f"visitor-{n}"
        )
    cycle(paris(2026, 11, 25, 2, 0), run_on_commit)
    relay(paris(2026, 11, 25, 8, 0, 30), run_on_commit)
    text = sms.outbox[0].body
    assert "12 leads à appeler : Prospect numéro" in text and text.endswith("/admin/backoffice/hot-leads/")
    assert is_gsm7(text) and gsm7_units(text) <= 160, text


class DownAtEight(LocmemSmsBackend):
    """The provider refuses the first SMS of the morning (an outage), then works."""

    refused = 0

    def send(self, message: SmsMessage) -> SendResult:
        if not DownAtEight.refused:
            DownAtEight.refused += 1
            raise SmsError("OVH 500")
        return super().send(message)


def test_a_digest_meeting_an_outage_at_eight_is_retried_not_given_up(night, settings, run_on_commit):
    # Its give-up window starts when it is due (08:00), not when the night's first signal scheduled it.
    settings.SMS_BACKEND = f"{__name__}.DownAtEight"
    DownAtEight.refused = 0
    with ChannelDouble() as channel:
        channel.script = [500]  # the other channel is down at eight too
        settings.ALERT_CHANNELS = [channel.url]
        click(ProspectFactory(name="Jean Clicker"), paris(2026, 11, 25, 3, 0), "visitor-o")
        cycle(paris(2026, 11, 25, 3, 1), run_on_commit)
        relay(paris(2026, 11, 25, 8, 0, 30), run_on_commit)
    assert DownAtEight.refused == 1
    assert len(sms.outbox) == 1 and "Jean Clicker" in sms.outbox[0].body
    assert len(channel.accepted) == 1 and "Jean Clicker" in channel.accepted[0]["message"]
    statuses = AlertDelivery.objects.filter(notice__kind=SmsNotice.Kind.DIGEST).values_list("status", flat=True)
    assert list(statuses) == ["sent", "sent"]


def test_a_worker_killed_mid_digest_does_not_lose_it_nor_send_it_twice(night, run_on_commit):
    click(ProspectFactory(), paris(2026, 11, 25, 3, 0), "visitor-k")
    cycle(paris(2026, 11, 25, 3, 1), run_on_commit)
    row = AlertDelivery.objects.get(notice__kind=SmsNotice.Kind.DIGEST)
    # A worker claimed it at 08:00 and died before sending: the lease runs out, the relay hands it over.
    AlertDelivery.objects.filter(pk=row.pk).update(
        status=AlertDelivery.Status.SENDING, lease_until=paris(2026, 11, 25, 8, 2)
    )
    relay(paris(2026, 11, 25, 8, 3), run_on_commit)
    assert len(sms.outbox) == 1
    relay(paris(2026, 11, 25, 8, 10), run_on_commit)
    assert len(sms.outbox) == 1
    assert deliveries_needing_relay(paris(2026, 11, 25, 8, 11)) == []


def test_breakers_still_text_at_once(night, run_on_commit):
    night.ALERT_QUIET_BREAKERS = ["cta_click"]
    click(ProspectFactory(name="Jean Clicker"), paris(2026, 11, 25, 23, 0), "visitor-b")
    cycle(paris(2026, 11, 25, 23, 1), run_on_commit)
    assert Alert.objects.get().status == Alert.Status.SENT and len(sms.outbox) == 1
    assert not SmsNotice.objects.exists()


def test_the_digest_goes_to_the_channels_too(night, settings, run_on_commit):
    with ChannelDouble() as channel:
        settings.ALERT_CHANNELS = [channel.url]
        click(ProspectFactory(name="Jean Clicker"), paris(2026, 11, 25, 3, 0), "visitor-ch")
        cycle(paris(2026, 11, 25, 3, 1), run_on_commit)
        channels = AlertDelivery.objects.filter(notice__kind=SmsNotice.Kind.DIGEST, channel="apprise")
        assert channels.count() == 1 and channels.get().retry_at == paris(2026, 11, 25, 8, 0)
        relay(paris(2026, 11, 25, 8, 0, 30), run_on_commit)
    assert len(sms.outbox) == 1 and len(channel.accepted) == 1
    assert sms.outbox[0].to == "+33199000001"  # the founder's number, as every alert's
    message = channel.accepted[0]
    assert message["title"] == "ArkWatch — Résumé des heures calmes"
    assert message["message"] == sms.outbox[0].body


# --- Reminders --------------------------------------------------------------------------------


@pytest.fixture
def remind(settings):
    settings.ALERT_REMIND_AFTER_MINUTES = 30
    settings.ALERT_QUIET_HOURS = ""
    return settings


def test_a_lead_nobody_called_gets_exactly_one_reminder(remind, run_on_commit):
    prospect = ProspectFactory(name="Jean Clicker")
    click(prospect, paris(2026, 11, 25, 10, 0), "visitor-rem")
    cycle(paris(2026, 11, 25, 10, 1), run_on_commit)
    assert len(sms.outbox) == 1
    relay(paris(2026, 11, 25, 10, 20), run_on_commit)
    assert len(sms.outbox) == 1  # not yet
    relay(paris(2026, 11, 25, 10, 32), run_on_commit)
    assert len(sms.outbox) == 2 and sms.outbox[1].body.startswith("Rappel, personne n'a encore appelé : ")
    for minute in (40, 50, 59):
        relay(paris(2026, 11, 25, 10, minute), run_on_commit)
    assert len(sms.outbox) == 2  # never more


def test_a_called_lead_is_not_reminded_and_a_second_list_may_get_it(remind, run_on_commit):
    remind.ALERT_REMIND_RECIPIENTS = ["+33199000002"]
    called, waiting = ProspectFactory(), ProspectFactory()
    click(called, paris(2026, 11, 25, 10, 0), "visitor-1")
    click(waiting, paris(2026, 11, 25, 10, 0), "visitor-2")
    cycle(paris(2026, 11, 25, 10, 1), run_on_commit)
    with time_machine.travel(paris(2026, 11, 25, 10, 10), tick=False):
        call_record(prospect=called, user=None, outcome=CallOutcome.REACHED)
    relay(paris(2026, 11, 25, 10, 45), run_on_commit)
    assert [m.to for m in sms.outbox] == ["+33199000001", "+33199000001", "+33199000002"]
    reminded = Alert.objects.get(reminded_at__isnull=False)
    assert reminded.prospect == waiting and timezone.is_aware(reminded.reminded_at)


def test_a_lead_first_told_in_the_digest_gets_exactly_one_reminder_timed_from_the_digest(night, run_on_commit):
    night.ALERT_REMIND_AFTER_MINUTES = 30
    night.ALERT_QUIET_DAYS = ["sat", "sun"]
    # Friday night: quiet until Monday 08:00, more than a day after the click was detected.
    click(ProspectFactory(name="Jean Clicker"), paris(2026, 11, 27, 23, 0), "visitor-dr")
    cycle(paris(2026, 11, 27, 23, 1), run_on_commit)
    assert Alert.objects.get().status == Alert.Status.QUIET
    relay(paris(2026, 11, 30, 8, 0, 30), run_on_commit)
    assert len(sms.outbox) == 1  # the digest
    relay(paris(2026, 11, 30, 8, 20), run_on_commit)
    assert len(sms.outbox) == 1  # 20 min after the digest: not yet, whatever the time since detection
    relay(paris(2026, 11, 30, 8, 31), run_on_commit)
    assert len(sms.outbox) == 2 and sms.outbox[1].body.startswith("Rappel, personne n'a encore appelé : ")
    assert "Jean Clicker" in sms.outbox[1].body  # the lead's own SMS, repeated
    with time_machine.travel(paris(2026, 11, 30, 8, 40), tick=False):
        call_record(prospect=Alert.objects.get().prospect, user=None, outcome=CallOutcome.REACHED)
    # Timed from the digest that first told the founder (08:00:30), not from the reminder (08:31).
    assert _ledger_row("cta_click", paris(2026, 11, 30, 9, 0)).median_sms_to_call_minutes == 39.5
    for at in (
        paris(2026, 11, 30, 8, 45),
        paris(2026, 11, 30, 12, 0),
        paris(2026, 11, 30, 20, 0) - timedelta(minutes=1),
    ):
        relay(at, run_on_commit)
    assert len(sms.outbox) == 2  # never more


def test_a_digest_lead_called_in_the_morning_is_not_reminded(night, run_on_commit):
    night.ALERT_REMIND_AFTER_MINUTES = 30
    prospect = ProspectFactory()
    click(prospect, paris(2026, 11, 25, 3, 0), "visitor-dc")
    cycle(paris(2026, 11, 25, 3, 1), run_on_commit)
    relay(paris(2026, 11, 25, 8, 0, 30), run_on_commit)
    with time_machine.travel(paris(2026, 11, 25, 8, 10), tick=False):
        call_record(prospect=prospect, user=None, outcome=CallOutcome.REACHED)
    relay(paris(2026, 11, 25, 8, 45), run_on_commit)
    assert len(sms.outbox) == 1 and not Alert.objects.filter(reminded_at__isnull=False).exists()
    # The ledger counts the digest as the SMS that told the founder, and times the call from it.
    clicks = _ledger_row("cta_click", paris(2026, 11, 25, 9, 0))
    assert (clicks.sms_sent.k, clicks.sms_sent.n, clicks.called.k) == (1, 1, 1)
    assert clicks.median_sms_to_call_minutes == 9.5


def _ledger_row(signal: str, at: datetime):
    with time_machine.travel(at, tick=False):
        return next(row for row in ledger().by_signal if row.key == signal)


# --- Off the happy path (issue 33): several digests, reminders at night or several due at once ----------


def test_three_nights_three_digests_each_lists_only_its_own_night(night, run_on_commit):
    """The third morning's digest starts where the second ended, not where the first did: a lead of the
    second night, already in the second digest, is not listed again the next morning."""
    names = ["Anne Monday", "Bruno Tuesday", "Chloe Wednesday"]
    for n, name in enumerate(names):
        night_of = paris(2026, 11, 24 + n, 23, 0)
        click(ProspectFactory(name=name, company="Acme"), night_of, f"visitor-night-{n}")
        cycle(night_of + timedelta(minutes=1), run_on_commit)
        relay(paris(2026, 11, 25 + n, 8, 0, 30), run_on_commit)
    assert len(sms.outbox) == 3
    for n, text in enumerate(sms.outbox):
        assert "1 lead à appeler : " in text.body, text.body
        assert [name for name in names if name in text.body] == [names[n]], text.body
    # The lookup behind it: each digest's period starts at the previous digest, the newest before it.
    digests = list(SmsNotice.objects.filter(kind=SmsNotice.Kind.DIGEST).order_by("period_start"))
    assert [[a.prospect.name for a in digest_alerts(d)] for d in digests] == [[name] for name in names]
    assert [a.digest_id for a in Alert.objects.order_by("detected_at")] == [d.pk for d in digests]


def test_a_lead_due_a_reminder_at_night_is_reminded_in_the_morning_not_at_night(night, run_on_commit):
    night.ALERT_REMIND_AFTER_MINUTES = 30
    click(ProspectFactory(name="Jean Evening"), paris(2026, 11, 25, 19, 50), "visitor-evening")
    cycle(paris(2026, 11, 25, 19, 51), run_on_commit)
    assert Alert.objects.get().status == Alert.Status.SENT and len(sms.outbox) == 1
    # Due at 20:21, in quiet hours: the founder's phone stays silent all night.
    for at in (paris(2026, 11, 25, 20, 25), paris(2026, 11, 25, 23, 0), paris(2026, 11, 26, 3, 0)):
        relay(at, run_on_commit)
    relay(paris(2026, 11, 26, 7, 59), run_on_commit)
    assert len(sms.outbox) == 1 and not Alert.objects.filter(reminded_at__isnull=False).exists()
    relay(paris(2026, 11, 26, 8, 1), run_on_commit)
    assert len(sms.outbox) == 2 and sms.outbox[1].body.startswith("Rappel, personne n'a encore appelé : ")


def texted_at(at: datetime, **fields) -> Alert:
    with time_machine.travel(at, tick=False):
        return AlertFactory(occurred_at=at, **fields)


def test_a_lead_with_several_alerts_due_gets_one_reminder_about_its_newest(remind, run_on_commit):
    """Three alerts of one lead texted nobody answered, and another lead's: two reminders, one each —
    the first lead's about its newest alert."""
    lead, other = ProspectFactory(name="Jean Many"), ProspectFactory(name="Marie Once")
    now = paris(2026, 11, 25, 11, 0)
    for minutes_ago, signal in ((90, "page_dwell"), (75, "email_reopen"), (60, "cta_click")):
        texted_at(
            now - timedelta(minutes=minutes_ago),
            prospect=lead,
            signal=signal,
        )
    texted_at(now - timedelta(minutes=50), prospect=other)
    relay(now, run_on_commit)
    assert len(sms.outbox) == 2
    assert sorted("Jean Many" in m.body for m in sms.outbox) == [False, True]
    reminded = Alert.objects.filter(reminded_at__isnull=False)
    assert sorted(reminded.values_list("prospect__name", "signal")) == [
        ("Jean Many", "cta_click"),
        ("Marie Once", "cta_click"),
    ]
    relay(now + timedelta(minutes=30), run_on_commit)
    assert len(sms.outbox) == 2  # the older alerts of the first lead bring no second reminder


# --- Reminder rows: one per lead, none for a lead already called ------------------------------------


def test_reminding_one_lead_leaves_the_others_reminders_due():
    first, second = AlertFactory(), AlertFactory()
    now = timezone.now()
    assert reminder_deliveries_add(first, now) is True
    assert reminder_deliveries_add(second, now) is True, "the second lead still gets its one reminder"
    assert reminder_deliveries_add(first, now) is False, "never two"
    reminders = AlertDelivery.objects.filter(purpose=AlertDelivery.Purpose.REMINDER)
    assert sorted(reminders.values_list("alert_id", flat=True)) == sorted([first.pk, second.pk])
    assert all(r.label == r.recipient for r in reminders), "the outbox says whom each reminder went to"


def test_a_lead_already_called_gets_no_reminder():
    called = AlertFactory()
    Alert.objects.filter(pk=called.pk).update(call=CallFactory(prospect=called.prospect))
    assert reminder_deliveries_add(called, timezone.now()) is False
    assert not AlertDelivery.objects.exists()


# --- What survived the mutation run of issue 33 (docs/mutation-survivors.md) --------------------------


def test_quiet_hours_within_the_day_and_a_quiet_sunday(settings):
    """Lunch-time quiet hours (not across midnight) and a quiet Sunday: quiet from 12:00 sharp to 14:00,
    not before nor after; Sunday's digest leaves at Monday's midnight, which the hours do not reach."""
    settings.ALERT_QUIET_HOURS = "12:00-14:00"
    settings.ALERT_QUIET_DAYS = ["sun"]
    assert quiet_until(paris(2026, 11, 25, 11, 59)) is None
    assert quiet_until(paris(2026, 11, 25, 12, 0)) == paris(2026, 11, 25, 14, 0)
    assert quiet_until(paris(2026, 11, 25, 13, 0)) == paris(2026, 11, 25, 14, 0)
    assert quiet_until(paris(2026, 11, 25, 14, 0)) is None
    assert quiet_until(paris(2026, 11, 29, 15, 0)) == paris(2026, 11, 30, 0, 0)


def test_overnight_quiet_hours_start_at_their_first_minute(night):
    """20:00-08:00: a signal at 20:00 sharp waits for the morning; one at 19:59 texts at once."""
    assert quiet_until(paris(2026, 11, 24, 19, 59)) is None
    assert quiet_until(paris(2026, 11, 24, 20, 0)) == paris(2026, 11, 25, 8, 0)


def test_quiet_days_written_in_full_are_read_and_seven_of_them_end_after_a_week(settings):
    """settings.py accepts "Saturday" (its first three letters); so does the clock. Every day quiet: the
    digest still leaves, a week later."""
    settings.ALERT_QUIET_HOURS = ""
    settings.ALERT_QUIET_DAYS = ["Saturday", "sunday"]
    assert quiet_until(paris(2026, 11, 28, 14, 0)) == paris(2026, 11, 30, 0, 0)
    settings.ALERT_QUIET_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert quiet_until(paris(2026, 11, 25, 10, 0)) == paris(2026, 12, 2, 10, 0)


def test_a_quiet_setting_that_cannot_be_read_is_named_in_the_error():
    """What the operator reads in the detection run's error when a setting slipped past start-up."""
    with pytest.raises(ValueError, match="'20:00' is not HH:MM-HH:MM"):
        parse_quiet_hours("20:00")
    with pytest.raises(ValueError, match="'20:00-20:00' starts and ends at the same time"):
        parse_quiet_hours("20:00-20:00")
    with pytest.raises(ValueError, match=r"'funday' is not a day \(mon, tue"):
        parse_quiet_days(["funday"])


def quiet_alert(prospect, at: datetime, signal="cta_click", **fields) -> Alert:
    """An alert quiet hours kept for the digest, detected at `at`."""
    fields.setdefault("status", Alert.Status.QUIET)
    alert = AlertFactory(prospect=prospect, signal=signal, occurred_at=at, **fields)
    Alert.objects.filter(pk=alert.pk).update(detected_at=at)
    return alert


def digest_at(at: datetime) -> str:
    return notice_text(SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=at))


HOT_LEADS = "https://track.example.com/admin/backoffice/hot-leads/"


def test_a_lead_with_two_night_signals_is_listed_once_and_verified_leads_first(night):
    """Anne read then clicked: one entry, her click. Two readers, the newer one unverified: the verified
    one is called first."""
    night.SMS_MAX_SEGMENTS = 2
    morning = paris(2026, 11, 25, 8, 0)
    anne = ProspectFactory(name="Anne Martin", company="", phone="")
    quiet_alert(anne, paris(2026, 11, 25, 1, 0), "page_dwell")
    quiet_alert(anne, paris(2026, 11, 25, 1, 5))
    quiet_alert(ProspectFactory(name="Bruno Sure", company="", phone=""), paris(2026, 11, 25, 2, 0), "page_dwell")
    quiet_alert(
        ProspectFactory(name="Chloe Maybe", company="", phone=""),
        paris(2026, 11, 25, 3, 0),
        "page_dwell",
        identification="unverified",
    )
    assert digest_at(morning) == (
        "ArkWatch, pendant les heures calmes : 3 leads à appeler : Anne Martin (clic), Bruno Sure (lecture), "
        f"Chloe Maybe (lecture). {HOT_LEADS}"
    )


def test_the_digest_lists_only_the_leads_quiet_hours_kept(night):
    """A breaker texted at once in the night, an alert held as forged: the founder was told, or the
    held-alerts notice speaks for it; the digest lists the reader quiet hours kept, and only her."""
    quiet_alert(ProspectFactory(name="Marie Reader", company="", phone=""), paris(2026, 11, 25, 1, 0), "page_dwell")
    for name, status in (("Jean Breaker", Alert.Status.SENT), ("Paul Held", Alert.Status.HELD)):
        quiet_alert(ProspectFactory(name=name, company="", phone=""), paris(2026, 11, 25, 2, 0), status=status)
    assert digest_at(paris(2026, 11, 25, 8, 0)) == (
        f"ArkWatch, pendant les heures calmes : 1 lead à appeler : Marie Reader (lecture). {HOT_LEADS}"
    )


def test_a_held_notice_during_the_night_does_not_cut_the_digests_night(night):
    """The previous digest starts the period, not any notice sent since (the held-alerts notice at 01:00)."""
    quiet_alert(ProspectFactory(name="Jean Evening", company="", phone=""), paris(2026, 11, 24, 23, 0))
    SmsNotice.objects.create(kind=SmsNotice.Kind.HELD, period_start=paris(2026, 11, 25, 1, 0), message="retenues")
    assert "1 lead à appeler : Jean Evening (clic)" in digest_at(paris(2026, 11, 25, 8, 0))


LEADS = ["Anne Martin", "Bruno Petit", "Chloe Roux", "David Noir", "Emma Blanc", "Felix Vert", "Gina Bleu"]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (
            4,
            "4 leads à appeler : David Noir (Noir SA, clic) +33199000003, Chloe Roux (clic), Bruno Petit "
            "(Petit SA, clic) +33199000001, Anne Martin (Martin SA, clic) +33199000000",
        ),
        (
            6,
            "6 leads à appeler : Felix Vert (Vert SA, clic) +33199000005, Emma Blanc (Blanc SA, clic) "
            "+33199000004, David Noir (Noir SA, clic) +33199000003, Chloe Roux (clic), Bruno Petit (clic), "
            "Anne Martin (clic)",
        ),
        (
            7,
            "7 leads à appeler : Gina Bleu (Bleu SA, clic) +33199000006, Felix Vert (Vert SA, clic) +33199000005, "
            "Emma Blanc (clic) +33199000004, David Noir (clic), Chloe Roux (clic), Bruno Petit (clic), "
            "Anne Martin (clic)",
        ),
    ],
)
def test_a_two_part_digest_names_as_many_leads_as_fit_then_their_company_and_number(night, count, expected):
    """SMS_MAX_SEGMENTS=2: the strongest (newest) lead with company and number; then every other lead
    that fits by name; then, strongest first, their company and number as room allows; "+N" for the
    rest. Chloe has neither company nor phone: her name alone, never an empty "( , clic)"."""
    night.SMS_MAX_SEGMENTS = 2
    for n, name in enumerate(LEADS[:count]):
        company, phone = ("", "") if name == "Chloe Roux" else (f"{name.split()[1]} SA", f"+331990000{n:02d}")
        quiet_alert(ProspectFactory(name=name, company=company, phone=phone), paris(2026, 11, 25, 1, n))
    text = digest_at(paris(2026, 11, 25, 8, 0))
    assert text == f"ArkWatch, pendant les heures calmes : {expected}. {HOT_LEADS}"
    assert gsm7_units(text) <= 306


def link_of(settings, length: int) -> str:
    """PUBLIC_BASE_URL such that the hot-leads link has `length` characters."""
    path = "/admin/backoffice/hot-leads/"
    settings.PUBLIC_BASE_URL = "https://" + "t" * (length - len(path) - len("https://.example")) + ".example"
    return settings.PUBLIC_BASE_URL + path


@pytest.mark.parametrize(
    ("name", "company", "link", "listed"),
    [
        # 48 units of room with the usual link: the fullest entry fits exactly, one more unit does not.
        ("Jean Dupont", "Acme Industries", 53, " : Jean Dupont (Acme Industries, clic) +33199001234"),
        ("Jean Dupont", "Acme Industries!", 53, " : Jean Dupont (clic) +33199001234"),
        # A long address leaves 11 units: a short name fits, a long one does not; 10 units name nobody.
        ("Jo", "", 90, " : Jo (clic)"),
        ("Jean-Christophe", "", 90, ""),
        ("Jo", "", 91, ""),
    ],
)
def test_a_one_part_digest_uses_its_room_to_the_unit(night, name, company, link, listed):
    url = link_of(night, link)
    phone = "+33199001234" if company else ""
    quiet_alert(ProspectFactory(name=name, company=company, phone=phone), paris(2026, 11, 25, 1, 0))
    text = digest_at(paris(2026, 11, 25, 8, 0))
    assert text == f"ArkWatch, pendant les heures calmes : 1 lead à appeler{listed}. {url}"
    assert gsm7_units(text) <= 160


def test_the_strongest_lead_keeps_its_company_and_number_when_they_fit_to_the_unit(night):
    """The strongest lead's fullest entry fits exactly (with "+1" for the other): it stays whole, the
    other lead goes to the link — not a shorter entry that would make room for a second name."""
    url = link_of(night, 53)
    quiet_alert(ProspectFactory(name="Bo", company="", phone=""), paris(2026, 11, 25, 1, 0))
    quiet_alert(
        ProspectFactory(name="Jean Dupont", company="Acme Indus", phone="+33199001234"), paris(2026, 11, 25, 1, 1)
    )
    text = digest_at(paris(2026, 11, 25, 8, 0))
    listed = "Jean Dupont (Acme Indus, clic) +33199001234, +1"
    assert text == f"ArkWatch, pendant les heures calmes : 2 leads à appeler : {listed}. {url}"
    assert gsm7_units(text) == 160


def test_with_a_very_long_address_the_digest_and_the_held_notice_are_cut_to_keep_the_link_whole(night):
    """What is left before the link is cut to the word: 36 units keep "… heures calmes", 38 "… signaux"."""
    quiet_alert(ProspectFactory(name="Jean Dupont"), paris(2026, 11, 25, 1, 0))
    url = link_of(night, 160 - 2 - 36)
    assert digest_at(paris(2026, 11, 25, 8, 0)) == f"ArkWatch, pendant les heures calmes. {url}"
    AlertFactory(status=Alert.Status.HELD)
    url = link_of(night, 160 - 2 - 38)
    held = notice_text(SmsNotice.objects.create(kind=SmsNotice.Kind.HELD, period_start=paris(2026, 11, 25, 9, 0)))
    assert held == f"ArkWatch : 1 alerte retenue : signaux. {url}"


def test_two_notices_due_at_once_each_say_their_own_words(night):
    """The digest and the held-alerts notice both leave at 08:00: each SMS has its own text, written once
    — a second worker holding the notice from before it was written sends the same words."""
    quiet_alert(ProspectFactory(name="Jean Dupont", company="", phone=""), paris(2026, 11, 25, 1, 0))
    AlertFactory(status=Alert.Status.HELD)
    digest = SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=paris(2026, 11, 25, 8, 0))
    held = SmsNotice.objects.create(kind=SmsNotice.Kind.HELD, period_start=paris(2026, 11, 25, 8, 0))
    stale = SmsNotice.objects.get(pk=digest.pk)
    first = notice_text(digest)
    assert first == f"ArkWatch, pendant les heures calmes : 1 lead à appeler : Jean Dupont (clic). {HOT_LEADS}"
    assert notice_text(held).startswith("ArkWatch : 1 alerte retenue : signaux non vérifiés")
    late = quiet_alert(ProspectFactory(name="Marie Late", company="", phone=""), paris(2026, 11, 25, 2, 0))
    assert notice_text(stale) == first
    # Nor does it count her as told by the digest (the ledger reads it): the SMS did not name her.
    assert Alert.objects.get(pk=late.pk).digest_id is None
    assert Alert.objects.get(prospect__name="Jean Dupont").digest_id == digest.pk


def test_a_night_whose_only_lead_said_stop_sends_a_digest_naming_nobody(night):
    quiet_alert(ProspectFactory(name="Jean Stop", status="do_not_contact"), paris(2026, 11, 25, 1, 0))
    assert (
        digest_at(paris(2026, 11, 25, 8, 0)) == f"ArkWatch, pendant les heures calmes : 0 lead à appeler. {HOT_LEADS}"
    )


# Reminders: the leads they are not for.


def digest_told(alert: Alert, at: datetime, status="sent") -> None:
    """The morning digest listing `alert` left (or failed) at `at`."""
    notice = SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=at)
    AlertDelivery.objects.create(notice=notice, recipient="+33199000001", status=status, sent_at=at)


def test_no_reminder_about_a_lead_told_more_than_a_day_ago(remind, run_on_commit):
    """Texted 30 hours ago, or listed in a digest that left 30 hours ago, nobody called: history now."""
    now = paris(2026, 11, 26, 14, 0)
    texted_at(now - timedelta(hours=30), prospect=ProspectFactory(name="Jean Old"))
    Alert.objects.update(detected_at=now - timedelta(hours=30))
    quiet_alert(ProspectFactory(name="Marie Old"), now - timedelta(hours=33))
    digest_told(Alert.objects.get(prospect__name="Marie Old"), now - timedelta(hours=30))
    relay(now, run_on_commit)
    assert sms.outbox == [] and not Alert.objects.filter(reminded_at__isnull=False).exists()


def test_no_reminder_about_a_lead_whose_digest_never_reached_the_founder(remind, run_on_commit):
    """The digest's SMS failed: the reminder's clock never started (it starts when the digest left)."""
    now = paris(2026, 11, 25, 9, 0)
    quiet_alert(ProspectFactory(name="Marie Night"), paris(2026, 11, 25, 3, 0))
    digest_told(Alert.objects.get(), paris(2026, 11, 25, 8, 0), status="failed")
    relay(now, run_on_commit)
    assert sms.outbox == []


def test_no_reminder_about_a_lead_with_a_meeting_ahead_nor_about_a_booking(remind, run_on_commit):
    """A lead who booked through the link (a meeting ahead) is not to be called; a booking's own alert
    is no lead to call either, texted or listed in the digest, even once its meeting is cancelled."""
    now = paris(2026, 11, 25, 11, 0)
    cancelled, at_night = ProspectFactory(name="Marie Cancelled"), ProspectFactory(name="Paul Night")
    booked = ProspectFactory(name="Jean Booked")
    texted_at(now - timedelta(minutes=45), prospect=booked)
    Meeting.objects.create(
        prospect=booked,
        tool="calcom",
        external_id="bk-ahead",
        starts_at=now + timedelta(days=1),
        match_method="ak",
        booked_at=now - timedelta(minutes=30),
    )
    texted_at(now - timedelta(minutes=45), prospect=cancelled, signal="meeting_booked")
    night_booking = quiet_alert(at_night, paris(2026, 11, 25, 3, 0), "meeting_booked")
    digest_told(night_booking, now - timedelta(minutes=45))
    relay(now, run_on_commit)
    assert sms.outbox == [] and not Alert.objects.filter(reminded_at__isnull=False).exists()


def test_a_one_part_digest_names_a_lead_whose_name_fits_though_its_number_would_not(night):
    """After the strongest lead, the others are named while their names fit — whether or not their
    number would."""
    leads = [("Anne", "Roux SA", "+33199000012"), ("Bruno", "", ""), ("Chloe", "Acme", "")]
    leads += [("David", "Acme", "+33199000012"), ("Emma", "Roux SA", "")]
    for n, (name, company, phone) in enumerate(leads):
        quiet_alert(ProspectFactory(name=name, company=company, phone=phone), paris(2026, 11, 25, 1, n))
    text = digest_at(paris(2026, 11, 25, 8, 0))
    listed = "Emma (Roux SA, clic), David (clic), +3"
    assert text == f"ArkWatch, pendant les heures calmes : 5 leads à appeler : {listed}. {HOT_LEADS}"


def test_a_lead_both_texted_and_in_the_digest_is_reminded_once_about_what_it_was_told_last(remind, run_on_commit):
    """The relay was down all morning: at 09:00 a lead texted at 19:30 the evening before and listed in
    the 08:00 digest for a click in the night is due twice. One reminder, about the click the digest
    told the founder of (its link), not the evening's SMS."""
    now = paris(2026, 11, 25, 9, 0)
    lead = ProspectFactory(name="Jean Twice")
    evening = texted_at(paris(2026, 11, 24, 19, 30), prospect=lead)
    Alert.objects.filter(pk=evening.pk).update(detected_at=paris(2026, 11, 24, 19, 30))
    night = quiet_alert(lead, paris(2026, 11, 25, 3, 0))
    digest_told(night, paris(2026, 11, 25, 8, 0))
    relay(now, run_on_commit)
    assert len(sms.outbox) == 1
    assert sms.outbox[0].body.endswith(lead_short_url(night.pk)), sms.outbox[0].body
    assert list(Alert.objects.filter(reminded_at__isnull=False)) == [night]


def test_yesterdays_digest_reminds_of_none_of_tonights_leads(night, run_on_commit):
    """At 08:00 the digest that left yesterday at 08:00:30 is still within the day reminders look back
    on: it speaks for yesterday's night only. Tonight's click is the new digest's, not a reminder's."""
    night.ALERT_REMIND_AFTER_MINUTES = 30
    yesterday = SmsNotice.objects.create(kind=SmsNotice.Kind.DIGEST, period_start=paris(2026, 11, 24, 8, 0))
    AlertDelivery.objects.create(
        notice=yesterday, recipient="+33199000001", status="sent", sent_at=paris(2026, 11, 24, 8, 0, 30)
    )
    quiet_alert(ProspectFactory(name="Jean Tonight"), paris(2026, 11, 25, 3, 0))
    relay(paris(2026, 11, 25, 8, 0, 10), run_on_commit)
    assert sms.outbox == [] and not Alert.objects.filter(reminded_at__isnull=False).exists()
