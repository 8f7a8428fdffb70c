"""One model row read by plain SQL, as the ORM would read it: for lookups that run on every
request of a hot path (a redemption's idempotency record and service), where compiling the
ORM's query costs more than running it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)

# Per model and connection: the quoted table and columns, and each column's converters.
Plan = tuple[str, str, list[tuple[Any, list[Callable[..., Any]]]]]
_plans: dict[tuple[type[models.Model], str, str], Plan] = {}


def _plan(model: type[models.Model], db: BaseDatabaseWrapper) -> Plan:
    key = (model, db.alias, db.vendor)
    if (plan := _plans.get(key)) is None:
        table = model._meta.db_table
        fields = model._meta.concrete_fields
        converters = []
        for field in fields:
            column = field.get_col(table)
            found = [*db.ops.get_db_converters(column), *column.get_db_converters(db)]
            converters.append((column, found))
        plan = _plans[key] = (
            db.ops.quote_name(table),
            ", ".join(db.ops.quote_name(f.column) for f in fields),
            converters,
        )
    return plan


def one(model: type[M], where: str, params: list[Any]) -> M | None:
    """The first `model` row matching `where` (SQL over the table's own columns, `%s` for
    `params`; no order, so for a unique match), with every concrete field read and converted
    as a queryset reads it (JSON decoded, SQLite's times parsed), or None."""
    db = transaction.get_connection()  # the connection itself, not the thread-local proxy
    table, columns, converters = _plan(model, db)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE {where} LIMIT 1", params)  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, convert_all) in zip(row, converters, strict=True):
        for convert in convert_all:
            value = convert(value, column, db)
        values.append(value)
    return model.from_db(db.alias, [f.attname for f in model._meta.concrete_fields], values)
