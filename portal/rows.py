"""One model row read by plain SQL, as the ORM would read it: for lookups that run on every
request of a hot path (a redemption's idempotency record and service), where compiling the
ORM's query costs more than running it. And a hot statement run as a prepared statement of the
database session (`execute_prepared`), where parsing and planning it cost more than running it."""

from __future__ import annotations

import hashlib
import itertools
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

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


def one_beside(
    model: type[M], where: str, params: Sequence[Any], value: str, value_params: Sequence[Any]
) -> tuple[Any, M | None]:
    """The value of the SQL expression `value` (with `value_params`), evaluated whether or not a
    row matches, and the first `model` row matching `where` (as `one()` reads it) or None: one
    round trip for an act and a lookup that go together (claiming a key and reading its
    record). Both read the statement's one snapshot, taken before `value` runs: a row that
    another transaction commits while `value` waits or acts is not seen."""
    db = transaction.get_connection()
    table, columns, convert = _plan(model, db)
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT value.v, found.* FROM (SELECT {value} AS v) AS value "  # noqa: S608
            f"LEFT JOIN LATERAL (SELECT {columns} FROM {table} WHERE {where} LIMIT 1) AS found "
            "ON true",
            [*value_params, *params],
        )
        row = cursor.fetchone()
    fields = model._meta.concrete_fields
    if row[1 + fields.index(model._meta.pk)] is None:
        return row[0], None
    values = converted(row[1:], convert, db)
    return row[0], model.from_db(db.alias, [f.attname for f in fields], values)


# Per driver connection (a reconnect starts with none): statement text -> the name it is
# prepared under in that database session.
_prepared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_serials = itertools.count(1)


def several_statements(db: BaseDatabaseWrapper) -> bool:
    """Whether one `cursor.execute()` on `db` may send several statements: PostgreSQL with
    Django's default client-side binding, whose cursors use the simple query protocol (the
    extended one, `server_side_binding`, takes one statement at a time)."""
    return (
        db.vendor == "postgresql"
        and db.settings_dict["OPTIONS"].get("server_side_binding") is not True
    )


def execute_prepared(
    cursor: CursorWrapper, sql: str, params: Sequence[Any], *, then: str = ""
) -> None:
    """Run `sql` (one statement, `%s` for each of `params`) on `cursor` as a prepared statement
    of the database session: the first time `PREPARE name AS sql; EXECUTE name(...)`, then
    `EXECUTE name(...)` alone, which PostgreSQL neither parses, analyses nor (once it keeps a
    generic plan) plans again. The cursor is left on the statement's result. `then`: more SQL
    in the same round trip after it (a COMMIT). The parameters' types are inferred from where
    they are used, as for `sql` itself. Needs `several_statements()`. A failed first run
    forgets the name (its PREPARE may or may not have stayed), so the next run prepares under
    a new one rather than meet a name taken. Sessions keep their statements until they close:
    fine for Django's own connections, not for a pooler that hands one client's transactions
    to other sessions (the row-level scope is a session setting too, portal/tenancy.py)."""
    if "%" in sql.replace("%s", ""):
        raise ValueError("execute_prepared() takes %s placeholders only.")
    names = _prepared.setdefault(cursor.db.connection, {})
    name = names.get(sql)
    arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
    if name is not None:
        cursor.execute(f"EXECUTE {name}{arguments}{then}", params)
        return
    name = f"greenloop_{hashlib.sha256(sql.encode()).hexdigest()[:16]}_{next(_serials)}"
    parts = sql.split("%s")
    numbered = "".join(
        part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1)
    )
    names[sql] = name  # known while it runs (`statement_run`), forgotten if it fails
    try:
        cursor.execute(f"PREPARE {name} AS {numbered}; EXECUTE {name}{arguments}{then}", params)
    except BaseException:
        del names[sql]
        raise
    cursor.nextset()  # past PREPARE's result, to the statement's own


def prepared_statements(db: BaseDatabaseWrapper) -> dict[str, str]:
    """name -> SQL (`%s` placeholders) of the statements `execute_prepared` has prepared on
    `db`'s current session: to read an `EXECUTE name(...)` as the statement it runs."""
    return {name: sql for sql, name in _prepared.get(db.connection, {}).items()}


def statement_run(sql: str, db: BaseDatabaseWrapper) -> str:
    """The statement `sql` runs: itself, or for `execute_prepared`'s `PREPARE ...` and
    `EXECUTE name(...)` the prepared statement's SQL (as given to it)."""
    words = sql.split(None, 2)
    if len(words) > 1 and words[0] in ("PREPARE", "EXECUTE"):
        return prepared_statements(db).get(words[1].split("(")[0], sql)
    return sql
