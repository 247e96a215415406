"""The state every process of a deployment shares: counters (rate limits, the login throttle), claims
(the first caller of a key wins: the dwell crossing, webhook replay tokens, the one waiting detection
task) and remembered first values (a page view's start). One interface, one store per deployment,
picked once at start-up (`CoreConfig.ready`) from the database in use, so no caller asks which it is:

- SQLite, one machine by construction: `LmdbState`, an LMDB file beside the database
  (core/lmdb_counters.py): a write transaction far cheaper than a second SQLite write transaction per
  event queued behind the events' own lock (docs/benchmarks.md, "Figures that used to live in code comments").
- PostgreSQL, one or many machines: `DatabaseState`, the UNLOGGED `core_sharedcounter` table
  (core/db_counters.py); an event's counters ride in its INSERT, one prepared statement.

A store that cannot be written lets the request through (events are the asset) and logs why.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Model

from core import db_counters, lmdb_counters
from core.sql import hot_cursor, insert_sql

logger = logging.getLogger(__name__)

# (key of the current fixed window, limit, period in seconds), in the order they are counted.
Windowed = list[tuple[str, int, int]]


class SharedState:
    """What a store does. `count` counts one hit on each window in order and says whether one went over
    its limit (the ones after it are not counted); `claim` is True for the first caller of a key until it
    expires, None when the store could not answer; `remember_first` keeps the first value given for a
    key, or returns None when this store keeps no values (the caller then reads its own rows)."""

    def count(self, windowed: Windowed, now: float) -> bool:
        raise NotImplementedError

    def uncount(self, keys: list[str]) -> None:
        raise NotImplementedError

    def insert_counted(
        self, model: type[Model], names: tuple[str, ...], params: list[Any], windowed: Windowed, now: float
    ) -> bool:
        """Count like `count` and INSERT the row (columns `names`, `params` ready for the driver) only
        when no limit refused it; True when stored."""
        if self.count(windowed, now):
            return False
        with hot_cursor() as cursor:
            cursor.execute(insert_sql(model, names), params)
        return True

    def claim(self, key: str, ttl_seconds: float, now: float) -> bool | None:
        raise NotImplementedError

    def release(self, key: str, now: float) -> bool | None:
        raise NotImplementedError

    def held(self, key: str, now: float) -> bool | None:
        raise NotImplementedError

    def recall(self, key: str, now: float) -> float | None:
        return None

    def remember_first(self, key: str, value: float, ttl_seconds: float, now: float) -> float | None:
        return None

    def purge_expired(self, now: float) -> None:
        raise NotImplementedError


class LmdbState(SharedState):
    """The LMDB file beside SQLite (its functions log and answer None or "let through" on errors)."""

    def count(self, windowed: Windowed, now: float) -> bool:
        return lmdb_counters.count_hits(windowed, now)

    def uncount(self, keys: list[str]) -> None:
        lmdb_counters.uncount(keys)

    def claim(self, key: str, ttl_seconds: float, now: float) -> bool | None:
        return lmdb_counters.claim(key, ttl_seconds, now)

    def release(self, key: str, now: float) -> bool | None:
        return lmdb_counters.release(key, now)

    def held(self, key: str, now: float) -> bool | None:
        return lmdb_counters.held(key, now)

    def recall(self, key: str, now: float) -> float | None:
        return lmdb_counters.recall(key, now)

    def remember_first(self, key: str, value: float, ttl_seconds: float, now: float) -> float | None:
        return lmdb_counters.remember_first(key, value, ttl_seconds, now)

    def purge_expired(self, now: float) -> None:
        lmdb_counters.purge_expired(now, force=True)


class DatabaseState(SharedState):
    """The `core_sharedcounter` table. It keeps no first values: on PostgreSQL the events' own rows
    are the record, read as cheaply as a copy would be (one index seek), and a copy would cost a write."""

    def count(self, windowed: Windowed, now: float) -> bool:
        try:
            return db_counters.count_hits(windowed, now)
        except DatabaseError:
            logger.exception("rate-limit counters unavailable; request let through")
            return False

    def uncount(self, keys: list[str]) -> None:
        try:
            db_counters.uncount(keys)
        except DatabaseError:
            logger.exception("could not give back a counted attempt")

    def insert_counted(
        self, model: type[Model], names: tuple[str, ...], params: list[Any], windowed: Windowed, now: float
    ) -> bool:
        try:
            return db_counters.counted_insert(model, names, params, windowed, now)
        except DatabaseError:
            # The statement failed as a whole, so nothing was stored: store the event uncounted (if the
            # database itself is down, this INSERT fails as any would).
            logger.exception("rate-limit counters unavailable; event stored without them")
        with hot_cursor() as cursor:
            cursor.execute(insert_sql(model, names), params)
        return True

    def claim(self, key: str, ttl_seconds: float, now: float) -> bool | None:
        try:
            return db_counters.claim(key, ttl_seconds, now)
        except DatabaseError:
            logger.exception("could not claim %s", key)
            return None

    def release(self, key: str, now: float) -> bool | None:
        try:
            return db_counters.release(key, now)
        except DatabaseError:
            logger.exception("could not release %s", key)
            return None

    def held(self, key: str, now: float) -> bool | None:
        try:
            return db_counters.held(key, now)
        except DatabaseError:
            logger.exception("could not read %s", key)
            return None

    def purge_expired(self, now: float) -> None:
        db_counters.purge_expired(now, force=True)


class _Picked:
    state: SharedState | None = None


def pick_store() -> SharedState:
    """The deployment's store, from the default database's engine (CoreConfig.ready, once per process)."""
    sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    _Picked.state = LmdbState() if sqlite else DatabaseState()
    return _Picked.state


def shared_state() -> SharedState:
    return _Picked.state or pick_store()
