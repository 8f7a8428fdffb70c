"""Writing calculation snapshots in bulk, and finding the orders whose stored calculation is
stale by its input hash.

On PostgreSQL new snapshots are streamed with COPY straight from their column values
(`NewSnapshot`), their JSON documents encoded by orjson, with ids taken from the table's sequence
beforehand: no model instances, no per-field preparation. Elsewhere (SQLite: the demo and the
fast test run) the plain ORM path stores the same rows with `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.utils import timezone

from carbon.footprint.snapshots import NewSnapshot
from carbon.models import CalculationSnapshot
from carbon.models.snapshots import STALENESS_KEYS

_JSON_FIELDS = ("datasets", "inputs", "factors", "results", "changes")


@dataclass
class Staleness:
    """Which orders of a batch need calculating: `stale` maps each order whose current snapshot
    is missing or has another input hash to that snapshot's id (None when it has none); `kept`
    maps the others to their current snapshot's id."""

    stale: dict[int, int | None]
    kept: dict[int, int]


def copies() -> bool:
    """Whether new snapshots are streamed with COPY (PostgreSQL) rather than `bulk_create`."""
    return connection.vendor == "postgresql"


def staleness(hashes: dict[int, str]) -> Staleness:
    """Compare each order's input hash with its current snapshot's, in one query that reads
    neither snapshot documents nor model instances."""
    if not hashes:
        return Staleness({}, {})
    table = CalculationSnapshot._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT v.order_id, s.id, s.input_hash = v.input_hash "  # noqa: S608 - model name
                "FROM unnest(%s::bigint[], %s::text[]) AS v(order_id, input_hash) "
                f"LEFT JOIN {connection.ops.quote_name(table)} s "
                "ON s.order_id = v.order_id AND s.is_current",
                [list(hashes), list(hashes.values())],
            )
            rows = cursor.fetchall()
    else:
        current = dict.fromkeys(hashes)
        stored: dict[int, str] = {}
        for order_id, snapshot_id, stored_hash in CalculationSnapshot.objects.filter(
            order_id__in=list(hashes), is_current=True
        ).values_list("order_id", "id", "input_hash"):
            current[order_id] = snapshot_id
            stored[order_id] = stored_hash
        rows = [
            (order_id, snapshot_id, stored.get(order_id) == hashes[order_id])
            for order_id, snapshot_id in current.items()
        ]
    result = Staleness({}, {})
    for order_id, snapshot_id, same in rows:
        if same:
            result.kept[order_id] = snapshot_id
        else:
            result.stale[order_id] = snapshot_id
    return result


def _columns() -> list[tuple[str, str]]:
    """(attribute, column) of every stored field, the id included."""
    return [(f.attname, f.column) for f in CalculationSnapshot._meta.concrete_fields]


def insert(snapshots: list[NewSnapshot]) -> None:
    """Store new snapshots and set their `pk`. The caller has already retired the snapshots
    they supersede (one current snapshot per order)."""
    if not snapshots:
        return
    now = timezone.now()
    for snapshot in snapshots:
        snapshot.created_at = now
    if not copies():
        stored = CalculationSnapshot.objects.bulk_create(
            [as_model(s) for s in snapshots], batch_size=500
        )
        for snapshot, row in zip(snapshots, stored, strict=True):
            snapshot.pk = row.pk
        return
    meta = CalculationSnapshot._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = _columns()
    with connection.cursor() as cursor:
        # Ids first, from the table's own sequence: no lookup after the COPY to learn them.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [meta.db_table, len(snapshots)],
        )
        for snapshot, (pk,) in zip(snapshots, cursor.fetchall(), strict=True):
            snapshot.pk = pk
        quoted = ", ".join(connection.ops.quote_name(column) for _, column in columns)
        names = [name for name, _ in columns]
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for snapshot in snapshots:
                copy.write_row(_row(snapshot, names))


def _row(snapshot: NewSnapshot, names: list[str]) -> list[Any]:
    values: list[Any] = []
    for name in names:
        if name == "id":
            values.append(snapshot.pk)
        elif name in _JSON_FIELDS:
            values.append(orjson.dumps(getattr(snapshot, name)).decode())
        else:
            values.append(getattr(snapshot, name))
    return values


def as_model(snapshot: NewSnapshot) -> CalculationSnapshot:
    """The model instance of a snapshot row (stored when `pk` is set)."""
    instance = CalculationSnapshot(
        **{name: getattr(snapshot, name) for name, _ in _columns() if name != "id"}
    )
    if snapshot.pk is not None:
        instance.pk = snapshot.pk
        instance._state.adding = False
        instance._state.db = connection.alias
    return instance


def record_keys(keys: Mapping[int, tuple[str, int | None, str]]) -> None:
    """Set the staleness keys (input hash, input revision, context hash) of snapshots found
    unchanged although a key differed (stored before the key existed, or after a write that
    changed nothing the calculation reads): the next run skips them unread. Keys for finding
    stale calculations, not part of the evidence; nothing else changes. One statement."""
    if not keys:
        return
    if connection.vendor != "postgresql":
        CalculationSnapshot.objects.bulk_update(
            [
                CalculationSnapshot(pk=pk, input_hash=h, input_revision=r, context_hash=c)
                for pk, (h, r, c) in keys.items()
            ],
            list(STALENESS_KEYS),
            batch_size=1000,
        )
        return
    table = connection.ops.quote_name(CalculationSnapshot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} s SET input_hash = v.h, input_revision = v.r, context_hash = v.c "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[]) AS v(id, h, r, c) "
            "WHERE s.id = v.id",
            [list(keys), *(list(column) for column in zip(*keys.values(), strict=True))],
        )


@dataclass(slots=True)
class Revision:
    """An order as the revision check reads it: enough to find its factor table and green-power
    declaration, and its current snapshot's keys (`snapshot_id` None when it has none)."""

    id: int
    organisation_id: int
    order_date: Any
    site_id: int | None
    revision: int
    snapshot_id: int | None
    same_revision: bool
    context_hash: str


def revisions(ids: list[int]) -> list[Revision] | None:
    """The orders `ids` with their input revisions beside their current snapshots' (one query,
    no lines, legs or documents read), or None where the database keeps no revisions (SQLite:
    the caller compares full input hashes)."""
    if connection.vendor != "postgresql" or not ids:
        return None
    snapshots = connection.ops.quote_name(CalculationSnapshot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.id, o.organisation_id, o.order_date, o.delivery_site_id, o.input_revision, "  # noqa: S608
            "s.id, s.input_revision IS NOT DISTINCT FROM o.input_revision, "
            "coalesce(s.context_hash, '') "
            f"FROM carbon_order o LEFT JOIN {snapshots} s ON s.order_id = o.id AND s.is_current "
            "WHERE o.id = ANY(%s) ORDER BY o.id",
            [list(ids)],
        )
        return [Revision(*row) for row in cursor.fetchall()]
