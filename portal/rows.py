"""One model row read by plain SQL, as the ORM would read it: for lookups that run on every
request of a hot path (a redemption's idempotency record and service), where compiling the
ORM's query costs more than running it."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction

M = TypeVar("M", bound=models.Model)


def one(model: type[M], where: str, params: list[Any]) -> M | None:
    """The first `model` row matching `where` (SQL over the table's own columns, `%s` for
    `params`; no order, so for a unique match), with every concrete field read and converted
    as a queryset reads it (JSON decoded, SQLite's times parsed), or None."""
    db = transaction.get_connection()  # the connection itself, not the thread-local proxy
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {db.ops.quote_name(table)} WHERE {where} LIMIT 1",  # noqa: S608
            params,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for field, value in zip(fields, row, strict=True):
        column = field.get_col(table)
        for convert in [*db.ops.get_db_converters(column), *column.get_db_converters(db)]:
            value = convert(value, column, db)
        values.append(value)
    return model.from_db(db.alias, [f.attname for f in fields], values)
