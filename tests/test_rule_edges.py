"""Every rule whose number a founder would notice, checked inside its range and on both sides of each
edge, so that a wrong duration (24 minutes for 24 hours) or a limit shifted by one shows.

The settings are the product's defaults (arkwatch/settings_test.py leaves them alone), so a wrong
default fails here as well as a wrong comparison.
"""

import math
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alerts.cycle import detection_is_late
from alerts.outbox import sms
from alerts.outbox.admission import alert_record_signal
from alerts.outbox.composer import compose_alert_sms
from alerts.outbox.gsm import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    gsm7_segments,
    gsm7_units,
    is_gsm7,
    segment_budget,
    truncate_to_segments,
    truncate_units,
)
from alerts.outbox.models import Alert
from alerts.outbox.quiet import quiet_until
from alerts.signals.detected import DetectedSignal
from alerts.signals.detection import find_reopen_signals
from alerts.signals.dwell import not_a_reading
from core.ratelimit import parse_rate, rate_limited
from tests import test_detection
from tests.factories import DetectionRunFactory, EmailEventFactory, ProspectFactory, aware
from tests.test_composer import compose as compose_lead
from tracking.models import EmailEvent

T0 = aware(2026, 11, 24, 9, 0, 0)  # a Tuesday, 09:00 in TIME_ZONE
SECOND = timedelta(seconds=1)
cycle, page_view = test_detection.cycle, test_detection.page_view  # a detection cycle at a frozen time


# --- GSM-7 length and the SMS segment budget -----------------------------------------------------


def compose(**overrides) -> str:
    """test_composer's lead, without a pain point: the tests below size one to the unit."""
    return compose_lead(**{"pain_point": "", **overrides})


def pain_of_total_units(total: int) -> str:
    """A pain point (one word, so no cut at a space) that makes the whole SMS exactly `total` units."""
    bare = gsm7_units(compose())
    return "x" * (total - bare - len(". "))


@pytest.mark.parametrize(
    ("segments", "units"),
    [(1, 160), (2, 306), (3, 459), (4, 612)],
)
def test_one_segment_carries_160_units_and_each_linked_part_153(segments, units):
    assert segment_budget(segments) == units
    assert gsm7_segments("a" * units) == segments
    assert gsm7_segments("a" * (units + 1)) == segments + 1


@pytest.mark.parametrize(("segments", "units"), [(1, 70), (2, 134), (3, 201)])
def test_ucs2_parts_carry_70_alone_and_67_linked(segments, units):
    assert segment_budget(segments, ucs2=True) == units


def test_an_escaped_character_is_never_split_between_two_parts():
    # 152 + "{" (two units) does not fit in the first 153-unit part: it opens the second one.
    assert gsm7_segments("a" * 152 + "{" + "a" * 151) == 2  # 305 units: 152 | 153
    assert gsm7_segments("a" * 152 + "{" + "a" * 152) == 3  # 306 units, yet three parts
    assert gsm7_segments("{" * 80) == 1  # 160 units, one part
    assert gsm7_segments("{" * 80 + "a") == 2


@pytest.mark.parametrize(
    ("text", "segments", "kept"),
    [
        ("a" * 152 + "{" + "a" * 200, 2, "a" * 152 + "{" + "a" * 151),  # 305 units: the "{" opens part two
        ("a" * 400, 2, "a" * 306),
        ("a" * 400, 1, "a" * 160),
        ("{" * 100, 1, "{" * 80),
    ],
)
def test_a_text_cut_to_its_parts_is_the_longest_that_fits(text, segments, kept):
    cut = truncate_to_segments(text, segments)
    assert cut == kept and gsm7_segments(cut) == segments


@pytest.mark.django_db
@pytest.mark.parametrize("total", [130, 159, 160])
def test_an_sms_of_up_to_160_units_goes_out_whole(total):
    pain = pain_of_total_units(total)
    text = compose(pain_point=pain)
    assert gsm7_units(text) == total and pain in text


@pytest.mark.django_db
@pytest.mark.parametrize("total", [161, 162, 200])
def test_an_sms_over_160_units_is_shortened_to_one_segment(total):
    pain = pain_of_total_units(total)
    text = compose(pain_point=pain)
    assert gsm7_units(text) <= 160 and gsm7_segments(text) == 1
    assert pain not in text and text.endswith("https://track.example.com/l/42")
    if total == 161:  # one unit over: only the pain point is shortened, and says so ("trop... https")
        assert gsm7_units(text) >= 159 and pain[:-4] + "... https://" in text


@pytest.mark.django_db
@pytest.mark.parametrize(("segments", "limit"), [(2, 306), (3, 459)])
def test_linked_segments_hold_153_units_each(settings, segments, limit):
    settings.SMS_MAX_SEGMENTS = segments
    whole = pain_of_total_units(limit)
    assert gsm7_units(compose(pain_point=whole)) == limit, "exactly the budget: untouched"
    over = pain_of_total_units(limit + 1)
    text = compose(pain_point=over)
    # Shortened and marked ("x... https"): the part separator's "." gives way to the ellipsis.
    assert limit - 1 <= gsm7_units(text) <= limit and gsm7_segments(text) == segments
    # 160 units per part would have let 320 (480) through: billed as one part more.
    text = compose(pain_point=pain_of_total_units(160 * segments))
    assert gsm7_segments(text) == segments


@pytest.mark.django_db
def test_an_escaped_character_on_a_part_boundary_does_not_cost_a_third_part(settings):
    settings.SMS_MAX_SEGMENTS = 2
    # Pad so that a "€" (two units) starts on the 153rd unit of the first part: it moves to the second.
    before_pain = gsm7_units(compose().split(". https://")[0] + ". ")
    pad = 152 - before_pain
    pain = "x" * pad + "€" + "y" * 400
    text = compose(pain_point=pain)
    assert gsm7_segments(text) == 2 and is_gsm7(text)


gsm_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION)),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=400,
)


@pytest.mark.django_db
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=gsm_text,
    company=gsm_text,
    pain=gsm_text,
    phone=st.sampled_from(["", "+33199001234", "+442079460000"]),
    segments=st.integers(min_value=1, max_value=4),
    unverified=st.booleans(),
    signal=st.sampled_from(
        [
            ("cta_click", {"cta_id": "cta_reserver_audit"}),
            ("page_dwell", {"dwell_seconds": 95, "page": "/audit-gratuit-monitoring.html"}),
            ("email_reopen", {"hours_after_sent": 26.5, "client": "Thunderbird"}),
        ]
    ),
)
def test_the_composer_never_exceeds_its_segment_budget_as_operators_count_it(
    name, company, pain, phone, segments, unverified, signal
):
    with override_settings(SMS_MAX_SEGMENTS=segments):
        text = compose_alert_sms(
            signal=signal[0],
            evidence=signal[1],
            name=name,
            company=company,
            phone=phone,
            pain_point=pain,
            alert_id=7,
            unverified=unverified,
        )
    assert is_gsm7(text), "one non-GSM-7 character would turn the SMS into UCS-2 (70 per part)"
    assert gsm7_segments(text) <= segments
    assert gsm7_units(text) <= segment_budget(segments)
    if phone:
        assert "+" in text, "the number to call survives every shortening"


@pytest.mark.parametrize(
    ("text", "units", "kept"),
    [
        ("abcd efghij", 9, "abcd"),  # the last space at exactly half the cut: the half-word goes
        ("abc defghij", 9, "abc defgh"),  # before half: the word is cut instead
        ("abcd", 0, ""),
        ("abcd", -1, ""),
        ("abcd", 1, "a"),  # one unit keeps one character
        ("{bcd", 1, ""),  # "{" costs two units (escape + character)
    ],
)
def test_shortening_drops_a_half_word_from_the_middle_on(text, units, kept):
    assert truncate_units(text, units) == kept


@given(st.text(alphabet=st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION)), max_size=400), st.integers(-5, 400))
def test_shortening_never_exceeds_the_units_and_keeps_a_prefix(text, units):
    cut = truncate_units(text, units)
    assert gsm7_units(cut) <= max(units, 0)
    assert text.startswith(cut)
    if gsm7_units(text) <= units:
        assert cut == text


@given(st.text(alphabet=st.sampled_from(sorted(GSM7_BASIC)), max_size=1000))
def test_plain_gsm7_text_needs_one_part_up_to_160_then_one_per_153(text):
    units = len(text)
    assert gsm7_segments(text) == (1 if units <= 160 else math.ceil(units / 153))


# --- Cooldown: one SMS per (prospect, signal) per ALERT_COOLDOWN_HOURS (24) -----------------------


def record(prospect, at, *, key, signal="cta_click"):
    detected = DetectedSignal(
        prospect_id=prospect.pk, signal=signal, dedup_key=f"edge:{key}", occurred_at=at, evidence={}
    )
    with time_machine.travel(at, tick=False):  # recorded when detected, as a cycle does
        return alert_record_signal(detected=detected, now=at)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("after", "status"),
    [
        (timedelta(minutes=24), "cooldown"),  # 24 minutes, not 24 hours
        (timedelta(minutes=30), "cooldown"),
        (timedelta(hours=1), "cooldown"),
        (timedelta(hours=12), "cooldown"),
        (timedelta(hours=24) - SECOND, "cooldown"),
        (timedelta(hours=24) + SECOND, "queued"),
        (timedelta(hours=30), "queued"),
    ],
)
def test_the_same_signal_texts_again_only_after_24_hours(after, status, django_capture_on_commit_callbacks):
    assert settings.ALERT_COOLDOWN_HOURS == 24
    prospect = ProspectFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert record(prospect, T0, key="first").status == "queued"
    with django_capture_on_commit_callbacks(execute=True):
        assert record(prospect, T0 + after, key="second").status == status
    assert len(sms.outbox) == (2 if status == "queued" else 1)


@pytest.mark.django_db
@override_settings(ALERT_COOLDOWN_HOURS=2)
@pytest.mark.parametrize(
    ("after", "status"), [(timedelta(hours=2) - SECOND, "cooldown"), (timedelta(hours=2) + SECOND, "queued")]
)
def test_the_cooldown_follows_its_setting(after, status):
    prospect = ProspectFactory()
    record(prospect, T0, key="first")
    assert record(prospect, T0 + after, key="second").status == status


@pytest.mark.django_db
def test_a_cooldown_never_holds_back_another_signal_or_another_prospect():
    first, second = ProspectFactory(), ProspectFactory()
    record(first, T0, key="a")
    assert record(first, T0 + SECOND, key="b", signal="page_dwell").status == "queued"
    assert record(second, T0 + SECOND, key="c").status == "queued"


# --- Evidence age: older than SIGNAL_MAX_AGE_MINUTES (60) is recorded, nobody texted --------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(0), "queued"),
        (timedelta(minutes=30), "queued"),
        (timedelta(minutes=60), "queued"),
        (timedelta(minutes=60) + SECOND, "stale"),
        (timedelta(hours=2), "stale"),
    ],
)
def test_evidence_older_than_an_hour_texts_nobody(age, status):
    prospect = ProspectFactory()
    detected = DetectedSignal(
        prospect_id=prospect.pk, signal="cta_click", dedup_key="age", occurred_at=T0 - age, evidence={}
    )
    assert alert_record_signal(detected=detected, now=T0).status == status


# --- Hourly SMS budget: ALERT_SMS_MAX_PER_HOUR (10) single-lead SMS per clock hour -----------------


@pytest.mark.django_db
def test_the_tenth_sms_of_an_hour_goes_out_and_the_eleventh_is_grouped():
    assert settings.ALERT_SMS_MAX_PER_HOUR == 10
    statuses = [record(ProspectFactory(), T0 + timedelta(minutes=n), key=f"n{n}").status for n in range(12)]
    assert statuses == ["queued"] * 10 + ["grouped"] * 2
    assert Alert.objects.filter(status="grouped").count() == 2, "nothing is dropped"


@pytest.mark.django_db
def test_the_hourly_budget_is_per_clock_hour():
    for n in range(10):
        record(ProspectFactory(), T0 + timedelta(minutes=n), key=f"n{n}")
    end_of_hour = T0 + timedelta(minutes=59, seconds=59)
    assert record(ProspectFactory(), end_of_hour, key="late").status == "grouped"
    assert record(ProspectFactory(), T0 + timedelta(hours=1), key="next-hour").status == "queued"


# --- Email re-open window: SIGNAL_EMAIL_REOPEN_MIN_HOURS (24) to _MAX_HOURS (48) after sending -----


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("after", "fires"),
    [
        (timedelta(minutes=24), False),
        (timedelta(hours=24) - SECOND, False),
        (timedelta(hours=24), True),
        (timedelta(hours=24) + SECOND, True),
        (timedelta(hours=36), True),
        (timedelta(hours=48) - SECOND, True),
        (timedelta(hours=48), True),
        (timedelta(hours=48) + SECOND, False),
        (timedelta(hours=49), False),
    ],
)
def test_a_reopen_counts_from_24_to_48_hours_after_sending(after, fires):
    assert (settings.SIGNAL_EMAIL_REOPEN_MIN_HOURS, settings.SIGNAL_EMAIL_REOPEN_MAX_HOURS) == (24, 48)
    prospect = ProspectFactory()
    EmailEventFactory(prospect=prospect, message_id="m1", event="sent", occurred_at=T0)
    opened = EmailEventFactory(prospect=prospect, message_id="m1", event="opened", occurred_at=T0 + after)
    found = find_reopen_signals(EmailEvent.objects.filter(pk=opened.pk))
    assert bool(found) is fires


# --- Dwell: one page view spanning SIGNAL_DWELL_SECONDS (90) of server time ------------------------
# (89/90/91 s at the default are test_detection's; here the threshold moves and the edge moves with it)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("threshold", "seconds", "alerts"), [(45, 44, 0), (45, 45, 1), (120, 90, 0), (120, 119, 0), (120, 120, 1)]
)
def test_the_dwell_edge_follows_its_setting(settings, cycle, threshold, seconds, alerts):
    settings.SIGNAL_DWELL_SECONDS = threshold
    page_view(ProspectFactory(), T0, seconds)
    cycle(T0 + timedelta(seconds=seconds + 1))
    assert Alert.objects.filter(signal="page_dwell").count() == alerts


# What makes a page view no reading (a heartbeat every 15 s), each rule at its edges:
@pytest.mark.parametrize(
    ("span", "engaged_ms", "heartbeats", "heartbeat_s", "verdict"),
    [
        # Heartbeats no faster than the tracker sends them: one per half period, plus 4 (16 in 90 s).
        (90, 90_000, 16, 15, ""),
        (90, 90_000, 17, 15, "17 heartbeats in 90 s: faster than the tracker sends them"),
        # The page's own period, bounded to 1–60 s: a page claiming 61 s is judged at 60 (7 in 90 s).
        (90, 90_000, 7, 61, ""),
        (90, 90_000, 184, 0.5, ""),  # judged at 1 s: 90 / 0.5 + 4
        # No visible time reported: about one heartbeat per period across the threshold (5 of 6).
        (90, None, 5, 15, ""),
        (90, None, 4, 15, "4 heartbeats (visible time not reported): the page was not in view"),
        # Visible at least the threshold less one period (75 s)…
        (90, 75_000, 6, 15, ""),
        (90, 74_900, 6, 15, "visible 74.9 s of 90 s: a background tab"),
        # …and not longer than the page existed plus one period (105 s).
        (90, 105_000, 6, 15, ""),
        (90, 105_100, 6, 15, "reports 105 s visible in a 90 s page view"),
        (90, 105_600, 6, 15, "reports 106 s visible in a 90 s page view"),
    ],
)
def test_a_long_read_is_judged_at_the_edges_of_each_rule(span, engaged_ms, heartbeats, heartbeat_s, verdict):
    assert (
        not_a_reading(span_seconds=span, engaged_ms=engaged_ms, heartbeats=heartbeats, heartbeat_s=heartbeat_s)
        == verdict
    )


# --- Health: detection more than 3 × DETECTION_INTERVAL_MINUTES (5) late makes /healthz answer 503 --


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ago", "late"),
    [
        (timedelta(minutes=5), False),
        (timedelta(minutes=15) - SECOND, False),
        (timedelta(minutes=15), False),
        (timedelta(minutes=15) + SECOND, True),
        (timedelta(hours=1), True),
    ],
)
def test_detection_is_late_past_three_intervals(client, ago, late):
    assert settings.DETECTION_INTERVAL_MINUTES == 5
    DetectionRunFactory(started_at=T0 - ago)
    assert detection_is_late(now=T0)[1] is late
    with time_machine.travel(T0, tick=False):
        assert client.get("/healthz").status_code == (503 if late else 200)


# --- Rate limits: TRACKING_RATE_LIMIT (300/m) per client, fixed windows ----------------------------


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("300/m", (300, 60)), ("10/5s", (10, 5)), ("5/h", (5, 3600)), ("3000/m", (3000, 60)), (" 7 / 2 m ", (7, 120))],
)
def test_a_rate_reads_as_count_per_period(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.django_db
def test_the_300th_request_of_a_minute_passes_and_the_301st_is_refused():
    assert settings.TRACKING_RATE_LIMIT == "300/m"
    start = 1_800_000_000 - 1_800_000_000 % 60  # the first second of a window
    with time_machine.travel(start, tick=False):
        answers = [rate_limited(("edge-client", settings.TRACKING_RATE_LIMIT)) for _ in range(301)]
    assert answers == [False] * 300 + [True]


@pytest.mark.django_db
@pytest.mark.parametrize(("later", "limited"), [(1, True), (59, True), (60, False), (61, False)])
def test_a_refused_client_is_served_again_when_its_minute_ends(later, limited):
    start = 1_800_000_000 - 1_800_000_000 % 60
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert not rate_limited(("edge-window", "3/m"))
        assert rate_limited(("edge-window", "3/m"))
    with time_machine.travel(start + later, tick=False):
        assert rate_limited(("edge-window", "3/m")) is limited


@pytest.mark.django_db
@pytest.mark.parametrize(("later", "limited"), [(60, True), (3599, True), (3600, False)])
def test_an_hourly_limit_lasts_an_hour_not_a_minute(later, limited):
    start = 1_800_000_000 - 1_800_000_000 % 3600
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            rate_limited(("edge-hour", "2/h"))
        assert rate_limited(("edge-hour", "2/h"))
    with time_machine.travel(start + later, tick=False):
        assert rate_limited(("edge-hour", "2/h")) is limited


# --- Quiet hours: ALERT_QUIET_HOURS (e.g. 20:00-08:00) and ALERT_QUIET_DAYS, in TIME_ZONE ------------


def local(day: int, hour: int, minute: int = 0, second: int = 0):
    """November 2026 in TIME_ZONE: the 24th is a Tuesday, the 28th a Saturday, the 30th a Monday."""
    return timezone.make_aware(datetime(2026, 11, day, hour, minute, second))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "status"),
    [
        (local(24, 12), "queued"),
        (local(24, 19, 59, 59), "queued"),
        (local(24, 20), "quiet"),
        (local(24, 23), "quiet"),
        (local(25, 3), "quiet"),
        (local(25, 7, 59, 59), "quiet"),
        (local(25, 8), "queued"),
    ],
)
def test_quiet_hours_hold_the_sms_from_their_start_to_their_end(settings, moment, status):
    settings.ALERT_QUIET_HOURS = "20:00-08:00"
    assert record(ProspectFactory(), moment, key="quiet").status == status


@pytest.mark.parametrize(
    ("moment", "until"),
    [(local(24, 20), local(25, 8)), (local(25, 7, 59, 59), local(25, 8)), (local(24, 19, 59, 59), None)],
)
def test_the_digest_leaves_when_the_quiet_hours_end(settings, moment, until):
    settings.ALERT_QUIET_HOURS = "20:00-08:00"
    assert quiet_until(moment) == until


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(27, 23, 59, 59), False),  # Friday night
        (local(28, 0), True),  # Saturday
        (local(29, 23, 59, 59), True),  # Sunday night
        (local(30, 0), False),  # Monday
    ],
)
def test_quiet_days_are_whole_days(settings, moment, quiet):
    settings.ALERT_QUIET_HOURS, settings.ALERT_QUIET_DAYS = "", ["sat", "sun"]
    assert (quiet_until(moment) is not None) is quiet
