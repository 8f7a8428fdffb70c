"""Reads a page makes on every view, compiled to SQL once and run again with new values.

Building a QuerySet and compiling it to SQL cost the topic page more CPU than PostgreSQL took to
answer (issue #18): about 1 ms a statement, for statements that run in a tenth of that. A
`Statement` builds its QuerySet with stand-in numbers in place of the values that change from
view to view (a topic's id, a list of post ids), compiles it once, notes where each stand-in
landed among the parameters, and later runs that SQL with the real values in their place. The
QuerySet stays the one statement of the read rule (`Post.objects.readable_by` ...): nothing is
written twice.

What else the QuerySet depends on (the reader, their visible spaces, whether they moderate) is
the caller's `shape`, part of the key: a statement is only reused for the same shape, with the
same number of values in each list. A build whose stand-ins are not each found exactly once
among the parameters (a constant that happens to equal one, a value folded into the SQL) is
never reused: it runs through the ORM every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ValuesListIterable

from portal import rows

# Stand-ins for the values that change: inside a 32-bit integer column's range, so that no
# lookup folds them into the SQL as out of range, and far above any id the site will reach.
_FIRST_STAND_IN = 2_000_000_011

Values = int | Sequence[int]
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    positions: tuple[int, ...]  # where each value (lists flattened, in argument order) goes
    expressions: tuple  # the selected columns, for the database's value converters
    columns: int
    database: str


class Statement:
    """A values_list() read: `build(*fixed, **values)` returns the QuerySet and
    `rows(shape, *fixed, **values)` its rows. Each value is an int or a list of ints (ids); the
    `fixed` arguments (a user ...) are taken as they were when the shape was first seen, so
    `shape` must tell apart whatever in them changes the QuerySet."""

    def __init__(self, build: Callable[..., QuerySet], *, entries: int = 1024) -> None:
        self.build = build
        self._entries = entries
        self._compiled: OrderedDict[Hashable, _Compiled | None] = OrderedDict()
        self._lock = threading.Lock()

    def rows(self, shape: Hashable, *fixed: object, **values: Values) -> list[tuple]:
        if any(not _in_range(v) for value in values.values() for v in _as_list(value)):
            # The ORM answers a number no column holds without asking the database.
            return list(self.build(*fixed, **values))
        names = sorted(values)
        sizes = tuple(
            None if isinstance(values[name], int) else len(values[name])  # type: ignore[arg-type]
            for name in names
        )
        key = (shape, tuple(names), sizes)
        with self._lock:
            known = key in self._compiled
            compiled = self._compiled.get(key)
            if known:
                self._compiled.move_to_end(key)
        if not known:
            compiled = self._compile(fixed, names, sizes)
            with self._lock:
                self._compiled[key] = compiled
                while len(self._compiled) > self._entries:
                    self._compiled.popitem(last=False)
        if compiled is None:
            return list(self.build(*fixed, **values))
        flat: list[int] = []
        for name in names:
            value = values[name]
            flat.extend([value] if isinstance(value, int) else value)
        params = list(compiled.params)
        for position, value in zip(compiled.positions, flat, strict=True):
            params[position] = value
        connection = connections[compiled.database]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            found = cursor.fetchall()
        return _converted(found, compiled, connection)

    def _compile(
        self, fixed: tuple, names: list[str], sizes: tuple[int | None, ...]
    ) -> _Compiled | None:
        stand_ins = _stand_ins(names, sizes)
        queryset = self.build(*fixed, **stand_ins)
        query = queryset.query
        if queryset._iterable_class is not ValuesListIterable or query.extra_select:
            return None  # only values_list() reads (tuples), whose rows are the selected columns
        selected = [*query.values_select, *query.annotation_select]
        if query.annotation_select and selected != list(getattr(queryset, "_fields", ())):
            return None  # Django would reorder the columns
        compiler = query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        flat = [v for name in names for v in _as_list(stand_ins[name])]
        positions = []
        for stand_in in flat:
            found = [i for i, p in enumerate(params) if type(p) is int and p == stand_in]
            if len(found) != 1:
                return None
            positions.append(found[0])
        return _Compiled(
            sql=sql,
            params=tuple(params),
            positions=tuple(positions),
            expressions=tuple(s[0] for s in compiler.select[: compiler.col_count]),
            columns=compiler.col_count,
            database=queryset.db,
        )


def _in_range(value: int) -> bool:
    return -(2**31) < value < 2**31


def _as_list(value: Any) -> list[int]:
    return [value] if isinstance(value, int) else list(value)


def _stand_ins(names: list[str], sizes: tuple[int | None, ...]) -> dict[str, Values]:
    stand_ins: dict[str, Values] = {}
    next_one = _FIRST_STAND_IN
    for name, size in zip(names, sizes, strict=True):
        if size is None:
            stand_ins[name] = next_one
            next_one += 1
        else:
            stand_ins[name] = list(range(next_one, next_one + size))
            next_one += size
    return stand_ins


def _converted(found: list[tuple], compiled: _Compiled, connection) -> list[tuple]:
    """The rows as the ORM returns them: the database's and the fields' value converters
    applied (SQLite's dates and decimals, for instance)."""
    convert = rows.converters(compiled.expressions, connection)
    if not convert:
        return [tuple(row[: compiled.columns]) for row in found]
    return [tuple(rows.converted(row[: compiled.columns], convert, connection)) for row in found]


def columns(model: type[Model], wanted: Iterable[str] | None = None) -> tuple[str, ...]:
    """The model's columns (all, or those `wanted`) in the order `instance` takes them."""
    keep = None if wanted is None else set(wanted)
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if keep is None or field.attname in keep
    )


def instance(model: type[M], names: tuple[str, ...], row: tuple, start: int = 0) -> M:
    """The model instance of `row[start:]`'s columns `names` (from `columns`), as the ORM builds
    it; the other fields are deferred."""
    return model.from_db("default", names, row[start : start + len(names)])
