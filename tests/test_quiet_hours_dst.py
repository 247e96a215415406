"""Issue 29, point 10: quiet hours whose end falls in the hour clocks repeat or skip (Europe/Paris,
`22:00-02:30`). The end of a quiet period is always ahead of now, whichever pass of the repeated hour
a signal arrives in; on the night clocks go forward, it is the moment they jump past 02:30."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alerts.outbox import sms
from alerts.outbox.models import Alert
from alerts.outbox.quiet import quiet_until
from tests.factories import ProspectFactory
from tests.test_quiet_hours import click, cycle, relay

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def short_night(settings):
    settings.TIME_ZONE = "Europe/Paris"
    settings.ALERT_QUIET_HOURS = "22:00-02:30"
    settings.ALERT_QUIET_DAYS = []
    settings.ALERT_QUIET_BREAKERS = []
    return settings


# 25 October 2026: at 03:00 summer time (01:00 UTC) clocks go back to 02:00; 02:00-03:00 is read twice.
@pytest.mark.parametrize(
    "now, end",
    [
        # The evening before and the first pass: 02:30 summer time.
        (utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 0, 10), utc(2026, 10, 25, 0, 30)),
        # The second pass (02:10 winter time): 02:30 winter time, 20 minutes ahead, not the next night.
        (utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 1, 30)),
        (utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 30)),
    ],
    ids=["evening", "first pass", "second pass", "clocks just went back"],
)
def test_the_october_night_ends_ahead_of_now_in_either_pass(short_night, now, end):
    until = quiet_until(now)
    assert until is not None and until > now
    assert until.astimezone(UTC) == end


def test_between_the_two_passes_it_is_not_quiet(short_night):
    # 02:40 summer time (00:40 UTC): past the first end; quiet again at 02:00 winter time (01:00 UTC).
    assert quiet_until(utc(2026, 10, 25, 0, 40)) is None


# 29 March 2026: at 02:00 winter time (01:00 UTC) clocks jump to 03:00; 02:30 is never read.
@pytest.mark.parametrize(
    "now",
    [utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 0, 50), utc(2026, 3, 29, 0, 59, 59)],
    ids=["evening", "01:50", "a second before the jump"],
)
def test_the_march_night_ends_when_clocks_jump_past_the_end(short_night, now):
    until = quiet_until(now)
    assert until is not None and until > now
    assert until.astimezone(UTC) == utc(2026, 3, 29, 1, 0)  # 03:00 summer time
    assert quiet_until(utc(2026, 3, 29, 1, 0)) is None


def test_a_signal_in_the_second_pass_is_in_the_digest_twenty_minutes_later(short_night, run_on_commit):
    """End to end: a click at 02:10 winter time is told at 02:30 winter time, not the next night."""
    prospect = ProspectFactory(name="Jean Dupont", phone="+33199001234")
    at = utc(2026, 10, 25, 1, 10)
    with time_machine.travel(at, tick=False):
        click(prospect, at, "visitor-second-pass")
    cycle(at + timedelta(seconds=30), run_on_commit)
    assert Alert.objects.get().status == Alert.Status.QUIET and sms.outbox == []
    relay(utc(2026, 10, 25, 1, 31), run_on_commit)
    assert len(sms.outbox) == 1 and "Jean Dupont" in sms.outbox[0].body


# --- What survived the mutation run of issue 33 (docs/mutation-survivors.md) --------------------------


@pytest.mark.parametrize("end", ["02:01", "02:59"])
def test_an_end_clocks_skip_anywhere_in_the_hour_is_found_to_the_second(short_night, end):
    """Whatever the minute of the skipped hour the quiet hours end at, the digest leaves the second the
    clocks jump (03:00:00 summer time), not a second or a fraction of one later."""
    short_night.ALERT_QUIET_HOURS = f"22:00-{end}"
    until = quiet_until(utc(2026, 3, 28, 22, 0))
    assert until is not None and until.astimezone(UTC) == utc(2026, 3, 29, 1, 0)
