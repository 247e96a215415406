"""The shared counters of a one-machine deployment (SQLite): an LMDB file beside the database.

Why LMDB and not a table of the SQLite database: a counter upsert in SQLite is a second write
transaction for every event, queued behind the same single-writer lock as the events themselves and
measured at a large part of the event's own INSERT, where one LMDB write transaction of the same two
counters costs a small fraction of it (docs/benchmarks.md, "Figures that used to live in code
comments"). LMDB is a memory-mapped B-tree that every process of the machine opens; its write
transactions are serialised by a mutex the processes share, so counts are exact across gunicorn
workers and their threads. A SQLite deployment is one machine by construction, so keeping the
counters local loses nothing; PostgreSQL deployments, which may span machines, keep theirs in the
database (core/ratelimit.py).

Not durable on purpose (no fsync): the file lives in a directory named after the machine's boot, so
after a power cut or an OS crash — the only events that can leave an unsynced LMDB file damaged — the
counters start again from an empty file (at most one window's worth of requests gets through again),
and the previous boot's file is deleted. Keys carry their window (core/ratelimit.py), so an expired
key is never read again; they are deleted within PURGE_INTERVAL_SECONDS of expiring (by the first
count after that, or by the scheduled purge).
"""

import logging
import os
import shutil
import struct
import threading
from pathlib import Path

import lmdb
from django.db import connection

logger = logging.getLogger(__name__)

# Address space, not disk: the file is sparse and grows with the live keys (about 1.5 million fit).
MAP_SIZE = 256 * 1024 * 1024
# A key outlives its window by at most this (plus the next request); a scan of the live keys per
# process per interval costs nothing next to a window's traffic.
PURGE_INTERVAL_SECONDS = 60
_VALUE = struct.Struct("<qd")  # the count, and when the key expires (epoch seconds)
_STAMP = struct.Struct("<dd")  # a remembered value, and when it expires
_EXPIRES = struct.Struct("<8xd")  # the expiry of either, for the purge


class _Environment:
    """This process's handle on the file. An LMDB environment must not cross a fork (gunicorn and
    django-q2 fork their workers), so each process opens its own, on first use."""

    lock = threading.Lock()
    # LMDB queues the write transactions of different processes on its own mutex; py-lmdb refuses a
    # second one in the same process ("a write transaction is already active") instead of waiting,
    # so the threads of a process (gunicorn's gthread) queue on this lock first.
    writing = threading.Lock()
    opened: tuple[int, str, lmdb.Environment] | None = None
    # A parent's handle is kept, never closed, in a forked child: closing it would release the
    # child's own locks on the lock file (POSIX locks belong to the process, not to the handle).
    inherited: list[lmdb.Environment] = []
    last_purge = float("-inf")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:  # not Linux: one file for every boot
        return "counters"


def counters_path() -> Path:
    """Beside the SQLite database in use (the test database gets its own, a dev server its own), one
    directory per boot of the machine."""
    return Path(f"{connection.settings_dict['NAME']}-counters") / _boot_id()


def _open(path: Path) -> lmdb.Environment:
    for earlier_boot in path.parent.glob("*"):
        if earlier_boot != path and earlier_boot.is_dir():
            shutil.rmtree(earlier_boot, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    # writemap: a commit is a store into the shared mapping, not a write() of each page.
    return lmdb.open(str(path), map_size=MAP_SIZE, writemap=True, sync=False, metasync=False, readahead=False)


def _environment() -> lmdb.Environment:
    database = connection.settings_dict["NAME"]
    opened = _Environment.opened
    if opened is None or opened[0] != os.getpid() or opened[1] != database:
        with _Environment.lock:
            opened = _Environment.opened
            if opened is None or opened[0] != os.getpid() or opened[1] != database:
                if opened is not None and opened[0] != os.getpid():
                    _Environment.inherited.append(opened[2])
                opened = _Environment.opened = (os.getpid(), database, _open(counters_path()))
    return opened[2]


def _count(txn: lmdb.Transaction, windowed: list[tuple[str, int, int]], now: float) -> bool:
    for key, limit, period in windowed:
        encoded = key.encode()
        stored = txn.get(encoded)
        count, expires_at = _VALUE.unpack(stored) if stored else (0, now + period + 1)
        txn.put(encoded, _VALUE.pack(count + 1, expires_at))
        if count + 1 > limit:
            return True  # the counters after this one are not counted
    return False


def count_hits(windowed: list[tuple[str, int, int]], now: float) -> bool:
    """Count one hit on each (key, limit, period) in order, stopping at the first one over its limit;
    True when one is. If the file cannot be written, the request is let through (events are the asset)."""
    try:
        env = _environment()
        try:
            with _Environment.writing, env.begin(write=True) as txn:
                limited = _count(txn, windowed, now)
        except lmdb.MapFullError:
            purge_expired(now, force=True)
            with _Environment.writing, env.begin(write=True) as txn:
                limited = _count(txn, windowed, now)
        purge_expired(now)
    except lmdb.Error:
        logger.exception("rate-limit counters unavailable; request let through")
        return False
    return limited


def claim(key: str, ttl_seconds: float, now: float) -> bool | None:
    """True for the first caller of `key` in any process of this machine until it expires, False for
    the others, None when the file cannot be written."""
    try:
        with _Environment.writing, _environment().begin(write=True) as txn:
            encoded = key.encode()
            stored = txn.get(encoded)
            if stored and _VALUE.unpack(stored)[1] > now:
                return False
            txn.put(encoded, _VALUE.pack(1, now + ttl_seconds))
            return True
    except lmdb.Error:
        logger.exception("could not claim %s", key)
        return None


def release(key: str, now: float) -> bool | None:
    """Drop a claim: True when it was live (someone held it), False when not, None when the file cannot
    be written."""
    try:
        with _Environment.writing, _environment().begin(write=True) as txn:
            stored = txn.pop(key.encode())
            return bool(stored) and _VALUE.unpack(stored)[1] > now
    except lmdb.Error:
        logger.exception("could not release %s", key)
        return None


def _live_stamp(stored: bytes | None, now: float) -> float | None:
    if stored is None:
        return None
    value, expires_at = _STAMP.unpack(stored)
    return value if expires_at > now else None


def held(key: str, now: float) -> bool | None:
    """Whether a claim of `key` is live (a read: it does not queue behind the writers); None when the
    file cannot be read."""
    try:
        with _environment().begin() as txn:
            stored = txn.get(key.encode())
            return bool(stored) and _VALUE.unpack(stored)[1] > now
    except lmdb.Error:
        logger.exception("could not read %s", key)
        return None


def recall(key: str, now: float) -> float | None:
    """The value remembered under `key`, or None (none yet, expired, or the file cannot be read). A
    read transaction: it does not queue behind the writers."""
    try:
        with _environment().begin() as txn:
            return _live_stamp(txn.get(key.encode()), now)
    except lmdb.Error:
        logger.exception("could not read %s", key)
        return None


def remember_first(key: str, value: float, ttl_seconds: float, now: float) -> float | None:
    """The value first remembered under `key` by any process of this machine (`value` if none is),
    until it expires; None when the file cannot be written."""
    try:
        with _Environment.writing, _environment().begin(write=True) as txn:
            encoded = key.encode()
            first = _live_stamp(txn.get(encoded), now)
            if first is None:
                txn.put(encoded, _STAMP.pack(value, now + ttl_seconds))
                first = value
            return first
    except lmdb.Error:
        logger.exception("could not remember %s", key)
        return None


def uncount(keys: list[str]) -> None:
    """Take one hit back from each of `keys` that still exists (a forgiven attempt)."""
    try:
        with _Environment.writing, _environment().begin(write=True) as txn:
            for key in keys:
                encoded = key.encode()
                stored = txn.get(encoded)
                if stored:
                    count, expires_at = _VALUE.unpack(stored)
                    txn.put(encoded, _VALUE.pack(max(count - 1, 0), expires_at))
    except lmdb.Error:
        logger.exception("could not give back a counted attempt")


def purge_expired(now: float, force: bool = False) -> None:
    """Delete expired keys, at most once per PURGE_INTERVAL_SECONDS in this process unless forced."""
    # A clock set back (tests travel in time) purges too, rather than waiting for the old instant.
    if not force and 0 <= now - _Environment.last_purge < PURGE_INTERVAL_SECONDS:
        return
    _Environment.last_purge = now
    with _Environment.writing, _environment().begin(write=True) as txn:
        expired = [key for key, value in txn.cursor() if _EXPIRES.unpack(value)[0] < now]
        for key in expired:
            txn.delete(key)


def clear() -> None:
    """Forget every counter and claim (tests)."""
    if not counters_path().exists():
        return
    env = _environment()
    with _Environment.writing, env.begin(write=True) as txn:
        txn.drop(env.open_db(txn=txn), delete=False)
