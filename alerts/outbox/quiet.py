"""Quiet hours (ALERT_QUIET_HOURS, ALERT_QUIET_DAYS, in TIME_ZONE): when a signal may not text at once.

A quiet period is a stretch of time that is quiet by the hours ("20:00-08:00", which may span midnight)
or by the day ("sat,sun": the whole day). Consecutive quiet stretches make one period: Friday 20:00 to
Monday 08:00 with both settings. Its end is when the morning digest leaves, and names the digest
(alerts/outbox/notices.py): one digest per period, whatever the number of workers.
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

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


def _instants(day: date, wall: time, zone: tzinfo) -> list[datetime]:
    """The instants (UTC) at which the clocks of `zone` read `wall` on `day`: one on most days; two on
    the night clocks go back and the hour is read twice (both folds); when clocks go forward over it,
    none reads it, and the moment they jump past it (the end of the skipped hour) stands for it."""
    naive = datetime.combine(day, wall)
    found = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    if found:
        return found
    # Skipped: fold=1 reads it with the offset after the jump (the earlier instant), fold=0 with the
    # offset before (the later); the jump lies between, found to the second.
    early = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    late = int(naive.replace(tzinfo=zone, fold=0).timestamp())
    while late - early > 1:
        middle = (early + late) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            late = middle
        else:
            early = middle
    return [datetime.fromtimestamp(late, UTC)]


def quiet_until(now: datetime | None = None) -> datetime | None:
    """The end of the quiet period `now` is in (when the digest leaves), or None when it is not quiet.

    Moments are compared as instants (UTC), never as wall-clock times: on the night clocks go back,
    "22:00-02:30" ends twice (02:30 summer time, then 02:30 winter time, an hour later), and a signal
    of the second pass waits for the second end, not for the next night's."""
    hours = parse_quiet_hours(settings.ALERT_QUIET_HOURS)
    days = parse_quiet_days(settings.ALERT_QUIET_DAYS)
    zone = timezone.get_current_timezone()
    moment = (now or timezone.now()).astimezone(UTC)
    if not _is_quiet(moment.astimezone(zone), hours, days):
        return None
    limit = moment + LONGEST_PERIOD
    while moment < limit:
        # The next moment the answer may change: an end of the hours, or a midnight.
        today = moment.astimezone(zone).date()
        tomorrow = today + timedelta(days=1)
        candidates = _instants(tomorrow, time.min, zone)
        if hours is not None:
            candidates += _instants(today, hours[1], zone) + _instants(tomorrow, hours[1], zone)
        moment = min(c for c in candidates if c > moment)
        if not _is_quiet(moment.astimezone(zone), hours, days):
            return timezone.localtime(moment)
    return timezone.localtime(limit)


def may_break_quiet(signal: str) -> bool:
    return signal in settings.ALERT_QUIET_BREAKERS
