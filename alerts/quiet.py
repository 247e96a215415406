"""Quiet hours (ALERT_QUIET_HOURS, ALERT_QUIET_DAYS, in TIME_ZONE): when a signal may not text at once.

A quiet period is a stretch of time that is quiet by the hours ("20:00-08:00", which may span midnight)
or by the day ("sat,sun": the whole day). Consecutive quiet stretches make one period: Friday 20:00 to
Monday 08:00 with both settings. Its end is when the morning digest leaves, and names the digest
(alerts/notices.py): one digest per period, whatever the number of workers.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# A quiet period cannot last longer than this (all seven days quiet would never end): the digest
# leaves then anyway.
LONGEST_PERIOD = timedelta(days=7)


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """ "20:00-08:00" -> (20:00, 08:00); "" -> None. Raises ValueError with the problem."""
    value = (value or "").strip()
    if not value:
        return None
    start_text, sep, end_text = value.partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not HH:MM-HH:MM")
    start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    if start == end:
        raise ValueError(f"{value!r} starts and ends at the same time")
    return start, end


def parse_quiet_days(values: list[str]) -> set[int]:
    days = set()
    for value in values:
        name = value.strip().lower()[:3]
        if name not in DAYS:
            raise ValueError(f"{value!r} is not a day (mon, tue, wed, thu, fri, sat, sun)")
        days.add(DAYS.index(name))
    return days


def _is_quiet(local: datetime, hours: tuple[time, time] | None, days: set[int]) -> bool:
    if local.weekday() in days:
        return True
    if hours is None:
        return False
    start, end, now = hours[0], hours[1], local.time()
    return start <= now < end if start < end else now >= start or now < end


def quiet_until(now: datetime | None = None) -> datetime | None:
    """The end of the quiet period `now` is in (when the digest leaves), or None when it is not quiet."""
    hours = parse_quiet_hours(settings.ALERT_QUIET_HOURS)
    days = parse_quiet_days(settings.ALERT_QUIET_DAYS)
    local = timezone.localtime(now or timezone.now())
    if not _is_quiet(local, hours, days):
        return None
    limit = local + LONGEST_PERIOD
    moment = local
    while moment < limit:
        # The next moment the answer may change: an end of the hours, or a midnight.
        candidates = [datetime.combine(moment.date() + timedelta(days=1), time.min, tzinfo=moment.tzinfo)]
        if hours is not None:
            for day in (moment.date(), moment.date() + timedelta(days=1)):
                candidates.append(datetime.combine(day, hours[1], tzinfo=moment.tzinfo))
        moment = min(c for c in candidates if c > moment)
        moment = timezone.localtime(timezone.make_aware(moment.replace(tzinfo=None)))  # DST-safe
        if not _is_quiet(moment, hours, days):
            return moment
    return limit


def may_break_quiet(signal: str) -> bool:
    return signal in settings.ALERT_QUIET_BREAKERS
