"""One model row read by plain SQL, as the ORM would read it: for lookups that run on every
request of a hot path (a redemption's idempotency record and service), where compiling the
ORM's query costs more than running it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)

# What a column's value goes through on its way out of the database: (its index in the row, the
# selected expression, the backend's then the field's converters), for the columns that have any.
Converters = list[tuple[int, Any, list[Callable[..., Any]]]]
# Per model and connection: the quoted table and columns, and each column's converters.
Plan = tuple[str, str, Converters]
_plans: dict[tuple[type[models.Model], str, str], Plan] = {}


def converters(expressions: Iterable[Any], db: BaseDatabaseWrapper) -> Converters:
    """The converters a queryset applies to these selected expressions on this connection."""
    found = []
    for index, expression in enumerate(expressions):
        functions = [*db.ops.get_db_converters(expression), *expression.get_db_converters(db)]
        if functions:
            found.append((index, expression, functions))
    return found


def converted(row: Sequence[Any], convert: Converters, db: BaseDatabaseWrapper) -> list[Any]:
    """A fetched row's values as the ORM hands them out (JSON decoded, SQLite's times parsed)."""
    values = list(row)
    for index, expression, functions in convert:
        value = values[index]
        for function in functions:
            value = function(value, expression, db)
        values[index] = value
    return values


def _plan(model: type[models.Model], db: BaseDatabaseWrapper) -> Plan:
    key = (model, db.alias, db.vendor)
    if (plan := _plans.get(key)) is None:
        table = model._meta.db_table
        fields = model._meta.concrete_fields
        plan = _plans[key] = (
            db.ops.quote_name(table),
            ", ".join(db.ops.quote_name(f.column) for f in fields),
            converters([field.get_col(table) for field in fields], db),
        )
    return plan


def one(model: type[M], where: str, params: list[Any]) -> M | None:
    """The first `model` row matching `where` (SQL over the table's own columns, `%s` for
    `params`; no order, so for a unique match), with every concrete field read and converted
    as a queryset reads it (JSON decoded, SQLite's times parsed), or None."""
    found = one_with(model, where, params)
    return found[0] if found is not None else None


def one_with(
    model: type[M], where: str, params: list[Any], also: str = "", also_params: Sequence[Any] = ()
) -> tuple[M, Any] | None:
    """`one()`, and the value of the SQL expression `also` (with `also_params`) selected in the
    same statement beside the row (None without `also`): for a value the caller needs next,
    such as a sequence's next id, which then costs no round trip of its own. `also` is
    evaluated only when a row matches."""
    db = transaction.get_connection()  # the connection itself, not the thread-local proxy
    table, columns, convert = _plan(model, db)
    extra = f", {also}" if also else ""
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}{extra} FROM {table} WHERE {where} LIMIT 1",  # noqa: S608
            [*also_params, *params],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    fields = model._meta.concrete_fields
    values = converted(row[: len(fields)], convert, db)
    instance = model.from_db(db.alias, [f.attname for f in fields], values)
    return instance, (row[len(fields)] if also else None)
