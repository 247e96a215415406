"""SQLite's write-ahead log, switched on once per database file instead of once per connection.

`PRAGMA journal_mode=WAL` is stored in the file, so it only needs to run once; run on every new
connection (as an init_command would), it competes for the database's locks with the connections
already writing: every gunicorn thread opening its persistent connection at the start of a burst
stalled the requests behind it, which bench/capacity.py's p99 showed; running the pragma only when the
file is not in WAL mode yet removed the stall (docs/benchmarks.md, "Figures that used to live in code comments").
"""

from typing import Any

from django.db.backends.signals import connection_created


def use_write_ahead_log(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")  # a read: no lock
        if cursor.fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")


def connect() -> None:
    connection_created.connect(use_write_ahead_log, dispatch_uid="arkwatch.sqlite.wal")
