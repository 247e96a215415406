"""Counters and once-only claims that every process sees: rate limits, the admin login throttle,
the dwell crossing.

Two stores, one behaviour:
- Redis, when REDIS_URL is set: one Lua script per check (one round trip, atomic).
- The database otherwise, and whenever Redis fails: the `core_sharedcounter` table, written with one
  atomic upsert per counter (INSERT … ON CONFLICT … RETURNING, SQLite ≥ 3.35 and PostgreSQL). Every
  web process shares the database, so limits are exact with any number of processes; a per-process
  cache (the old fallback) let each gunicorn worker count alone.

Why a table and not Django's database cache: its incr() is a read then a write, so two processes
lose counts; and not a file lock: it serialises every request of every process behind one lock,
where SQLite already serialises writers with its own and PostgreSQL does not need one.

When Redis fails, the process stops asking it for REDIS_RETRY_SECONDS, so a hung Redis costs one
socket timeout per process, not one per request.
"""

import ipaddress
import logging
import re
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from core.models import SharedCounter
from core.sql import quoted_column, quoted_table

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600}
# How long a process leaves Redis alone after a failure before trying it again.
REDIS_RETRY_SECONDS = 5.0
# Expired rows are deleted by one of every PURGE_EVERY database checks of a process.
PURGE_EVERY = 1000


@lru_cache(maxsize=8)
def parse_rate(rate: str) -> tuple[int, int]:
    """'300/m' -> (300, 60); '10/5s' -> (10, 5)."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"A rate limit must look like 300/m, not {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _PERIODS[unit]


@lru_cache(maxsize=1)
def shared_redis() -> Any:
    """One Redis client per process (its own connection pool) when REDIS_URL is set, else None.

    The hot path talks to Redis directly: Django's cache builds a client object per call, which
    costs more than the round trip itself."""
    if not settings.REDIS_URL:
        return None
    import redis  # optional at import time: only deployments with REDIS_URL need it

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


class _RedisBreaker:
    """Remembers, per process, that Redis just failed."""

    down_until = 0.0


def usable_redis() -> Any:
    """The shared Redis client, or None when none is configured or it failed a moment ago."""
    client = shared_redis()
    if client is None or time.monotonic() < _RedisBreaker.down_until:
        return None
    return client


def redis_failed(exc: Exception) -> None:
    """Fall back to the database for a few seconds; say so once per outage in the log."""
    if time.monotonic() >= _RedisBreaker.down_until:
        logger.warning("Redis unreachable (%s): counters use the database for now", exc)
    _RedisBreaker.down_until = time.monotonic() + REDIS_RETRY_SECONDS


def redis_problem() -> str | None:
    """Why the configured Redis cannot be used right now, or None when it answers (or is not configured)."""
    client = shared_redis()
    if client is None:
        return None
    try:
        client.ping()
    except Exception as exc:
        return f"Redis unreachable: {exc}"[:200]
    return None


def network_of(ip: str | None) -> str:
    """The rate-limit key of a client network: the IPv4 address, or the IPv6 /64 (one subscriber's
    devices get many addresses in it, so rotating addresses does not escape the ceiling)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "-"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) + "/64"
    return str(address)


# Counters checked in order; one that is over its limit stops the check, so a rejected request is
# not counted against the limits after it (a flooding reader does not eat the office's ceiling).
# Returns the 1-based position of the exceeded limit, or 0.
LIMITS_SCRIPT = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  if count > tonumber(ARGV[2 * i - 1]) then return i end
end
return 0
"""


@lru_cache(maxsize=1)
def _limits_script(client: Any) -> Any:
    return client.register_script(LIMITS_SCRIPT)


def _windowed(limits: Sequence[tuple[str, str]], now: float) -> list[tuple[str, int, int]]:
    windowed = []
    for key, rate in limits:
        limit, period = parse_rate(rate)
        windowed.append((f"arkwatch:rl:{key}:{int(now // period)}", limit, period))
    return windowed


def _columns() -> tuple[str, str, str, str]:
    return (
        quoted_table(SharedCounter),
        quoted_column(SharedCounter, "key"),
        quoted_column(SharedCounter, "value"),
        quoted_column(SharedCounter, "expires_at"),
    )


@lru_cache(maxsize=4)
def _upsert_sql(rows: int) -> str:
    table, key, value, expires = _columns()
    values = ", ".join(["(%s, 1, %s)"] * rows)
    return (
        f"INSERT INTO {table} ({key}, {value}, {expires}) VALUES {values} "
        f"ON CONFLICT ({key}) DO UPDATE SET {value} = {table}.{value} + 1 RETURNING {key}, {value}"
    )


@lru_cache(maxsize=4)
def _uncount_sql(rows: int) -> str:
    table, key, value, _expires = _columns()
    return f"UPDATE {table} SET {value} = {value} - 1 WHERE {key} IN ({', '.join(['%s'] * rows)})"


@lru_cache(maxsize=1)
def _claim_sql() -> str:
    table, key, value, expires = _columns()
    # A row comes back only when this statement inserted the key, or took over an expired one.
    return (
        f"INSERT INTO {table} ({key}, {value}, {expires}) VALUES (%s, 1, %s) "
        f"ON CONFLICT ({key}) DO UPDATE SET {value} = 1, {expires} = excluded.{expires} "
        f"WHERE {table}.{expires} <= %s RETURNING {key}"
    )


class _Purge:
    calls = 0


def _purge_expired(now: float) -> None:
    _Purge.calls += 1
    if _Purge.calls % PURGE_EVERY == 0:
        SharedCounter.objects.filter(expires_at__lt=now).delete()


def _database_limited(windowed: list[tuple[str, int, int]], now: float) -> bool:
    """All counters in one statement (one write, one round trip); in the rare case a counter is over
    its limit, the counters after it are given their hit back, so that a refused request counts
    against nothing after the limit that refused it."""
    params: list[Any] = []
    for key, _limit, period in windowed:
        params += [key, now + period + 1]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(len(windowed)), params)
        # fetchall, not fetchone: SQLite ends the statement (and its write) only once it is read out.
        counts = dict(cursor.fetchall())
        for position, (key, limit, _period) in enumerate(windowed):
            if counts[key] > limit:
                after = [k for k, _l, _p in windowed[position + 1 :]]
                if after:
                    cursor.execute(_uncount_sql(len(after)), after)
                return True
    _purge_expired(now)
    return False


def rate_limited(*limits: tuple[str, str]) -> bool:
    """Count one hit on each (key, rate) in order — fixed windows, '300/m' — and say whether one of
    them is over its limit. A counter over its limit stops the count there."""
    now = time.time()
    windowed = _windowed(limits, now)
    client = usable_redis()
    if client is not None:
        args: list[int] = []
        for _key, limit, period in windowed:
            args += [limit, period + 1]
        try:
            return int(_limits_script(client)(keys=[w[0] for w in windowed], args=args)) > 0
        except Exception as exc:
            redis_failed(exc)
    try:
        return _database_limited(windowed, now)
    except DatabaseError:
        # Events are the asset: if the counters cannot be written, the event is still let in.
        logger.exception("rate-limit counters unavailable; request let through")
        return False


def is_rate_limited(key: str, rate: str | None = None) -> bool:
    """One counter: True once `key` went past `rate` (default TRACKING_RATE_LIMIT) in this window."""
    return rate_limited((key, rate or settings.TRACKING_RATE_LIMIT))


def claim_once(key: str, ttl_seconds: float) -> bool:
    """True for the first caller of `key` in any process until it expires; False for every other."""
    now = time.time()
    client = usable_redis()
    if client is not None:
        try:
            return bool(client.set(f"arkwatch:claim:{key}", 1, nx=True, ex=int(ttl_seconds)))
        except Exception as exc:
            redis_failed(exc)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_claim_sql(), [f"arkwatch:claim:{key}", now + ttl_seconds, now])
            return bool(cursor.fetchall())
    except DatabaseError:
        # Only the "now" trigger is lost: the scheduled cycle still finds what the claim was for.
        logger.exception("could not claim %s", key)
        return False
