"""Serialise a check-then-write across workers, for the rest of the current transaction."""

import zlib

from django.db import connection


def lock_for_transaction(key: str) -> None:
    """Wait until no other transaction holds `key`, and hold it until this one ends.

    PostgreSQL: a transaction-level advisory lock (released at commit or rollback). SQLite needs
    none: it has one writer at a time, so callers write first and then read what the lock protects.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(key.encode())])
