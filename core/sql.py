"""Table and column names taken from the models, for the few hand-written statements on hot paths
(an event INSERT, a counter upsert, an index seek): a renamed field cannot leave stale SQL behind."""

import re
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model


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
