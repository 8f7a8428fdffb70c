"""Writing calculation snapshots in bulk, and finding the orders whose stored calculation is
stale by its input hash.

On PostgreSQL new snapshots are streamed with COPY straight from their column values
(`NewSnapshot`), their JSON documents encoded by orjson, with ids taken from the table's sequence
beforehand: no model instances, no per-field preparation. Elsewhere (SQLite: the demo and the
fast test run) the plain ORM path stores the same rows with `bulk_create`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.utils import timezone

from carbon.footprint.snapshots import NewSnapshot
from carbon.models import CalculationSnapshot

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


def record_hashes(hashes: dict[int, str]) -> None:
    """Set the input hash of snapshots found unchanged although their stored hash differed
    (snapshots stored before the hash existed): the next run skips them unread. The hash is a
    key for finding stale calculations, not part of the evidence; nothing else changes."""
    if not hashes:
        return
    snapshots = [CalculationSnapshot(pk=pk, input_hash=h) for pk, h in hashes.items()]
    CalculationSnapshot.objects.bulk_update(snapshots, ["input_hash"], batch_size=1000)
