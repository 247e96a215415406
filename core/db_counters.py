"""The shared counters of a PostgreSQL deployment, in the database (`core_sharedcounter`, UNLOGGED):
one atomic upsert per check (INSERT … ON CONFLICT … RETURNING), so every process on every machine
counts in the same row. For an event, the counters and the event's INSERT are one statement
(`counted_insert`), prepared once per connection (core/sql.py): one round trip, as many as a bare
INSERT, and measured at about the PostgreSQL CPU of a bare INSERT (planned for every event, it cost
much more; docs/benchmarks.md, "Figures that used to live in code comments").

Why not Redis, when REDIS_URL is set: a Redis round trip per event cost each web process CPU and two
context switches, where the counters riding in the event's own statement cost almost nothing: the
ingest ratio (bench/ingest.py) was lower with Redis counters (docs/benchmarks.md, "Figures that used
to live in code comments").
Why a table and not Django's database cache: its incr() is a read then a write, so two processes
lose counts. Errors (DatabaseError) are the caller's."""

import logging
from functools import lru_cache
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Model

from core.models import SharedCounter
from core.sql import hot_cursor, insert_select_sql, quoted_column, quoted_table

logger = logging.getLogger(__name__)

# Expired rows are deleted by the first check of a process this long after its last purge (and by
# the scheduled purge): a key outlives its window by about this much, never by hours.
PURGE_INTERVAL_SECONDS = 60


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
    return f"UPDATE {table} SET {value} = {value} - 1 WHERE {key} IN ({', '.join(['%s'] * rows)}) AND {value} > 0"


@lru_cache(maxsize=1)
def _claim_sql() -> str:
    table, key, value, expires = _columns()
    # A row comes back only when this statement inserted the key, or took over an expired one.
    return (
        f"INSERT INTO {table} ({key}, {value}, {expires}) VALUES (%s, 1, %s) "
        f"ON CONFLICT ({key}) DO UPDATE SET {value} = 1, {expires} = excluded.{expires} "
        f"WHERE {table}.{expires} <= %s RETURNING {key}"
    )


@lru_cache(maxsize=16)
def _counted_insert_sql(model: type[Model], names: tuple[str, ...], counters: int) -> str:
    """Count the hits and insert the row unless a counter went over its limit, in one statement
    (PostgreSQL: data-modifying CTEs all run, and see each other's RETURNING rows)."""
    _table, key, value, _expires = _columns()
    over = " OR ".join([f"({key} = %s AND {value} > %s)"] * counters)
    return (
        f"WITH hits AS ({_upsert_sql(counters)}), "
        f"stored AS ({insert_select_sql(model, names)} WHERE NOT EXISTS (SELECT 1 FROM hits WHERE {over}) "
        f"RETURNING 1) "
        f"SELECT {key}, {value} FROM hits"
    )


class _Purge:
    last_at = float("-inf")


def purge_expired(now: float, force: bool = False) -> None:
    """Delete expired rows, at most once per PURGE_INTERVAL_SECONDS in this process unless forced."""
    # A clock set back (tests travel in time) purges too, rather than waiting for the old instant.
    if not force and 0 <= now - _Purge.last_at < PURGE_INTERVAL_SECONDS:
        return
    _Purge.last_at = now
    try:
        SharedCounter.objects.filter(expires_at__lt=now).delete()
    except DatabaseError:  # the next interval tries again; this request's work is done
        logger.exception("could not delete expired counters")


def uncount(keys: list[str]) -> None:
    """Take one hit back from each of `keys` that still exists (a forgiven attempt)."""
    with hot_cursor() as cursor:
        cursor.execute(_uncount_sql(len(keys)), keys)


def _counter_params(windowed: list[tuple[str, int, int]], now: float) -> list[Any]:
    params: list[Any] = []
    for key, _limit, period in windowed:
        params += [key, now + period + 1]
    return params


def _refused(cursor: Any, windowed: list[tuple[str, int, int]]) -> bool:
    """Whether a counter went over its limit. A refused request counts against nothing after the
    limit that refused it: in that rare case, the counters after it are given their hit back."""
    counts = dict(cursor.fetchall())
    for position, (key, limit, _period) in enumerate(windowed):
        if counts[key] > limit:
            after = [k for k, _l, _p in windowed[position + 1 :]]
            if after:
                cursor.execute(_uncount_sql(len(after)), after)
            return True
    return False


def count_hits(windowed: list[tuple[str, int, int]], now: float) -> bool:
    """All counters in one statement (one write, one round trip); True when one is over its limit."""
    with hot_cursor() as cursor:
        cursor.execute(_upsert_sql(len(windowed)), _counter_params(windowed, now))
        refused = _refused(cursor, windowed)
    purge_expired(now)
    return refused


def counted_insert(
    model: type[Model], names: tuple[str, ...], params: list[Any], windowed: list[tuple[str, int, int]], now: float
) -> bool:
    """The counters and the INSERT in one statement; True when the row was stored."""
    checks: list[Any] = []
    for key, limit, _period in windowed:
        checks += [key, limit]
    with hot_cursor() as cursor:
        cursor.execute(
            _counted_insert_sql(model, names, len(windowed)), _counter_params(windowed, now) + params + checks
        )
        refused = _refused(cursor, windowed)
    purge_expired(now)
    return not refused


def claim(key: str, ttl_seconds: float, now: float) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [key, now + ttl_seconds, now])
        return bool(cursor.fetchall())


@lru_cache(maxsize=1)
def _release_sql() -> str:
    table, key, _value, expires = _columns()
    return f"DELETE FROM {table} WHERE {key} = %s RETURNING {expires}"


def release(key: str, now: float) -> bool:
    """Drop a claim; True when it was live."""
    with connection.cursor() as cursor:
        cursor.execute(_release_sql(), [key])
        return any(expires > now for (expires,) in cursor.fetchall())


def held(key: str, now: float) -> bool:
    """Whether a claim of `key` is live."""
    return SharedCounter.objects.filter(key=key, expires_at__gt=now).exists()
