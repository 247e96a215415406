"""The few hand-written statements on hot paths (an event INSERT, a counter upsert, an index seek):
their table and column names taken from the models, so that a renamed field cannot leave stale SQL
behind, and the cursor that runs the intake's, prepared on PostgreSQL."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import Field, Model
from django.dispatch import receiver


def concrete_field(model: type[Model], name: str) -> "Field[Any, Any]":
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a concrete column")
    return field


def quoted_column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(str(concrete_field(model, name).column))


def quoted_table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@lru_cache(maxsize=32)
def insert_sql(model: type[Model], names: tuple[str, ...]) -> str:
    """INSERT INTO the model's table of the named fields' columns, one %s placeholder each."""
    columns = ", ".join(quoted_column(model, name) for name in names)
    return f"INSERT INTO {quoted_table(model)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"


def _cast_type(field: "Field[Any, Any]") -> str:
    # varchar(64) without its length: a CAST would cut a longer value silently, where the INSERT into
    # the column refuses it, as a plain INSERT does.
    return re.sub(r"^(varchar|character varying)\(\d+\)$", r"\1", str(field.db_type(connection)))


@lru_cache(maxsize=32)
def insert_select_sql(model: type[Model], names: tuple[str, ...]) -> str:
    """INSERT INTO … SELECT of the named fields, each %s cast to its column's type, for a statement
    that adds a WHERE (the SELECT's literals would otherwise be typed text)."""
    columns = ", ".join(quoted_column(model, name) for name in names)
    values = ", ".join(f"CAST(%s AS {_cast_type(concrete_field(model, name))})" for name in names)
    return f"INSERT INTO {quoted_table(model)} ({columns}) SELECT {values}"


@lru_cache(maxsize=1)
def _prepared_cursor_class() -> Any:
    import psycopg  # PostgreSQL deployments only

    class PreparedCursor(psycopg.Cursor):
        """Server-side binding, and every statement prepared (Django leaves psycopg's automatic
        preparation off, for connection poolers' sake)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True, **kwargs)

    return PreparedCursor


@lru_cache(maxsize=1)  # fixed for the life of a process; asked for every event
def _prepares_statements() -> bool:
    return connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


@receiver(setting_changed)
def _forget_preparation(*, setting: str, **kwargs: object) -> None:
    if setting == "DATABASE_PREPARED_STATEMENTS":
        _prepares_statements.cache_clear()


@contextmanager
def hot_cursor() -> Iterator[Any]:
    """A cursor for the statements the intake runs on every event. On PostgreSQL they are prepared:
    parsed and planned once per connection instead of once per event — planning the counters'
    upsert-and-insert cost the server more than running it (docs/benchmarks.md, "Figures that used to
    live in code comments"). Statements through it do not appear in Django's query log.
    DATABASE_PREPARED_STATEMENTS=false (a connection pooler in transaction mode that cannot carry
    prepared statements) and SQLite get Django's own cursor."""
    if not _prepares_statements():
        with connection.cursor() as cursor:
            yield cursor
        return
    # Django's own cursor first: it runs the per-request connection health check (CONN_HEALTH_CHECKS)
    # and reopens a connection that died since the last request, before the prepared statement uses it.
    connection.cursor().close()
    with connection.wrap_database_errors, _prepared_cursor_class()(connection.connection) as cursor:
        yield cursor
