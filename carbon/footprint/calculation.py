"""Footprint calculation: the ORM glue around the pure engine (`carbon.footprint.engine`).

Reads orders and emission factors in batches (a bounded number of queries whatever the number of
legs), hands plain Decimal arrays to the engine, and stores the result as an immutable
`CalculationSnapshot` holding the inputs, the factors (ids and values), the dataset versions, the
method version and the results, so that a figure can be traced to its cited source and reissued
unchanged years later.

Conventions
-----------
* Everything that is stored is Decimal: the engine runs on object arrays of Decimal here, so no
  binary float touches a stored figure. Stored figures (snapshot columns and the per-leg and total
  values in `results`) are quantized to 6 decimal places with ROUND_HALF_EVEN; totals are summed
  from the exact per-leg values first and rounded once, so a total may differ from the sum of the
  rounded legs by at most a few millionths of a kilogram.
* WTW = TTW + WTT, always with its split; Scope 2 is reported apart and never added to WTW.
* Radiative forcing (air freight): following ISO 14083, which keeps non-CO2 effects of aviation out
  of the GHG total, WTW (and TTW) are always WITHOUT radiative forcing. For air legs flagged with
  radiative forcing the uplift (TTW with RF minus TTW without RF, from the dataset's own "with RF"
  row) is reported on its own line, `radiative_forcing_kg`, together with
  `wtw_incl_radiative_forcing_kg` for readers who want the combined figure.
* Fuel-based primary data (fuel type and amount on a leg) replaces the distance-based intensity for
  that leg's TTW and WTT (`fuel.<type>` factors, per litre, kg or kWh of fuel).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from carbon.footprint import declarations as declaration_rules
from carbon.footprint.events import (
    FOOTPRINT_CALCULATED,
    FOOTPRINTS_RECALCULATED,
    ORDERS_CHANGED,
    ORDERS_CHANGED_CHUNK,
)
from carbon.footprint.exceptions import CalculationError
from carbon.footprint.factors import (
    FactorTable,
    active_grid_dataset,
    compute_many,
    default_dataset,
)
from carbon.footprint.model import (
    ZERO,
    FootprintInput,
    LegInput,
)
from carbon.footprint.snapshots import describe_changes, same_calculation, snapshot_of
from carbon.footprint.units import plain_decimal
from carbon.models import (
    CalculationSnapshot,
    DeclarationStatus,
    FactorDataset,
    GreenPowerDeclaration,
    Leg,
    Order,
    OrderLine,
)
from portal import events, tenancy
from portal.models import Organisation

# --- estimate (nothing stored)


# --- orders: loading, snapshots, recalculation


@dataclass
class _OrderRow:
    id: int
    organisation_id: int
    external_id: str
    order_date: Any
    site_id: int | None
    site_name: str | None
    region: str | None


def _load_inputs(ids: list[int]) -> list[tuple[_OrderRow, FootprintInput, dict[str, Any]]]:
    """Inputs of the orders `ids` (ascending), in four queries whatever their size."""
    orders = [
        _OrderRow(i, org, ext, day, site, name, (region or country or None) if site else None)
        for i, org, ext, day, site, name, region, country in Order.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list(
            "pk",
            "organisation_id",
            "external_id",
            "order_date",
            "delivery_site_id",
            "delivery_site__name",
            "delivery_site__region",
            "delivery_site__country",
        )
    ]
    legs: dict[int, list[LegInput]] = {o.id: [] for o in orders}
    shipment_index: dict[int, dict[int, int]] = {o.id: {} for o in orders}
    legs_in_shipment: dict[int, int] = {}
    for row in (
        Leg.objects.filter(shipment__order_id__in=ids)
        .order_by("shipment__order_id", "shipment_id", "sequence", "id")
        .values_list(
            "shipment__order_id",
            "shipment_id",
            "shipment__reference",
            "sequence",
            "category",
            "origin",
            "destination",
            "mass_t",
            "distance_km",
            "data_tier",
            "radiative_forcing",
            "fuel_type",
            "fuel_amount",
            "data_type",
        )
    ):
        order_id, shipment_id, reference, sequence, category, origin, destination = row[:7]
        mass, distance, tier, rf, fuel_type, fuel_amount, data_type = row[7:]
        s = shipment_index[order_id].setdefault(shipment_id, len(shipment_index[order_id]))
        g = legs_in_shipment[shipment_id] = legs_in_shipment.get(shipment_id, -1) + 1
        legs[order_id].append(
            LegInput(
                category=category,
                mass_t=mass,
                distance_km=distance,
                data_tier=tier,
                radiative_forcing=rf,
                fuel_type=fuel_type,
                fuel_amount=fuel_amount,
                shipment=reference,
                sequence=sequence,
                origin=origin,
                destination=destination,
                where=f"shipments[{s}].legs[{g}]",
                data_type=data_type,
            )
        )
    lines: dict[int, list[tuple[str, Decimal, Decimal | None]]] = {o.id: [] for o in orders}
    for order_id, sku, quantity, per_unit in (
        OrderLine.objects.filter(order_id__in=ids)
        .order_by("order_id", "id")
        .values_list("order_id", "product__sku", "quantity", "product__electricity_kwh_per_unit")
    ):
        lines[order_id].append((sku, quantity, per_unit))
    declarations = _declarations(orders)
    loaded = []
    for o in orders:
        notes = []
        kwh = ZERO
        for i, (sku, quantity, per_unit) in enumerate(lines[o.id]):
            if per_unit is None:
                notes.append(
                    {"field": f"lines[{i}].sku", "reason": f"no electricity per unit for {sku}"}
                )
            else:
                kwh += quantity * per_unit
        declaration = declarations.get(o.id)
        inputs_json = {
            "order": {"external_id": o.external_id, "order_date": o.order_date.isoformat()},
            "site": {"id": o.site_id, "name": o.site_name, "region": o.region}
            if o.site_id
            else None,
            "legs": [leg.as_json() for leg in legs[o.id]],
            "electricity": {
                "kwh": plain_decimal(kwh),
                "lines": [
                    {
                        "sku": sku,
                        "quantity": plain_decimal(quantity),
                        "kwh_per_unit": plain_decimal(per_unit),
                    }
                    for sku, quantity, per_unit in lines[o.id]
                ],
            },
            "green_power": declaration,
        }
        loaded.append(
            (
                o,
                FootprintInput(
                    legs=legs[o.id],
                    electricity_kwh=kwh,
                    region=o.region,
                    green_ratio=Decimal(declaration["green_ratio"]) if declaration else None,
                    instrument_factor=(
                        Decimal(declaration["instrument_factor"]) if declaration else None
                    ),
                    notes=notes,
                ),
                inputs_json,
            )
        )
    return loaded


def _declarations(orders: list[_OrderRow]) -> dict[int, dict[str, Any]]:
    """The verified green-power declaration covering each order's date at its site, with the
    ratio its orders get, in one query plus one per declaration found (the reconciliation).

    Same choice as `GreenPowerDeclaration.objects.verified_covering(site, day)`: verified only,
    period covering the order date, the latest-starting (then newest) one wins; pending, checked,
    rejected and revoked declarations are ignored. The ratio is the declared one unless the
    period's orders are attributed more kWh than the certificates cover; then it is scaled down
    so the green kWh credited to orders never exceed the certified MWh.
    """
    with_site = [o for o in orders if o.site_id]
    if not with_site:
        return {}
    rows = list(
        GreenPowerDeclaration.objects.filter(
            site_id__in={o.site_id for o in with_site},
            status=DeclarationStatus.VERIFIED,
            period_start__lte=max(o.order_date for o in with_site),
            period_end__gte=min(o.order_date for o in with_site),
        ).order_by("-period_start", "-id")
    )
    attributed = declaration_rules.attributed_kwh(rows)
    chosen = {}
    for o in with_site:
        for d in rows:
            if d.site_id == o.site_id and d.period_start <= o.order_date <= d.period_end:
                certified = d.green_kwh or Decimal(0)
                chosen[o.id] = {
                    "declaration_id": d.pk,
                    "green_ratio": plain_decimal(
                        declaration_rules.effective_ratio(
                            d.green_ratio, certified, attributed[d.pk]
                        )
                    ),
                    "declared_ratio": plain_decimal(d.green_ratio),
                    "instrument": d.instrument,
                    "instrument_factor": plain_decimal(d.instrument_factor),
                    "certified_kwh": plain_decimal(certified),
                    "consumed_kwh": plain_decimal(d.total_kwh),
                    "attributed_kwh": plain_decimal(attributed[d.pk]),
                    "period_start": d.period_start.isoformat(),
                    "period_end": d.period_end.isoformat(),
                }
                break
    return chosen


@dataclass
class BatchOutcome:
    snapshots: dict[int, CalculationSnapshot]  # order id -> its current snapshot (new or kept)
    created: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str, str | None]] = field(default_factory=list)


def _bulk_insert(snapshots: list[CalculationSnapshot]) -> None:
    """Insert new snapshots and set their ids.

    On PostgreSQL this streams the rows with COPY: Django 5.2's bulk_create goes through UNNEST
    there, which re-quotes every JSON document into an array literal and made the insert the
    slowest step of a recalculation by far. Other databases use bulk_create.
    """
    if connection.vendor != "postgresql" or len(snapshots) < 2:
        CalculationSnapshot.objects.bulk_create(snapshots, batch_size=500)
        return
    now = timezone.now()
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the thread-local proxy
    fields = [f for f in CalculationSnapshot._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(CalculationSnapshot._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN"  # noqa: S608 - names from the model, no input
        ) as copy,
    ):
        for snapshot in snapshots:
            snapshot.created_at = now
            copy.write_row([f.get_db_prep_save(getattr(snapshot, f.attname), db) for f in fields])
    ids = dict(
        CalculationSnapshot.objects.filter(
            order_id__in=[s.order_id for s in snapshots], is_current=True
        ).values_list("order_id", "id")
    )
    for snapshot in snapshots:
        snapshot.pk = ids[snapshot.order_id]
        snapshot._state.adding = False
        snapshot._state.db = connection.alias


def publish_orders_changed(organisation: Organisation, order_ids: list[int], reason: str) -> None:
    """One `orders_changed` event per chunk of changed orders, in the caller's transaction."""
    for start in range(0, len(order_ids), ORDERS_CHANGED_CHUNK):
        events.publish(
            ORDERS_CHANGED,
            organisation,
            f"organisations/{organisation.slug}/orders",
            {"order_ids": order_ids[start : start + ORDERS_CHANGED_CHUNK], "reason": reason},
        )


def calculate_batch(
    ids: list[int],
    table: FactorTable,
    *,
    strict: bool,
    per_order_events: bool = True,
    announce_changed: bool = True,
) -> BatchOutcome:
    """Calculate and store the orders `ids` inside the caller's transaction.

    Queries: four to load the inputs, one for the current snapshots, one UPDATE to retire the
    superseded ones, a bulk INSERT for the new ones, one for the organisations, and one outbox
    row per new snapshot (`greenloop.carbon.footprint_calculated`), or with `per_order_events`
    False one `greenloop.carbon.footprints_recalculated` row per organisation in the batch.
    """
    loaded = _load_inputs(ids)
    footprints = compute_many([inputs for _, inputs, _ in loaded], table, strict=strict)
    current = {
        s.order_id: s for s in CalculationSnapshot.objects.filter(order_id__in=ids, is_current=True)
    }
    outcome = BatchOutcome(snapshots={})
    new: list[tuple[_OrderRow, CalculationSnapshot]] = []
    for (order, _, inputs_json), footprint in zip(loaded, footprints, strict=True):
        if isinstance(footprint, CalculationError):
            outcome.failed.append((order.id, footprint.message, footprint.field))
            continue
        snapshot = snapshot_of(order.id, inputs_json, footprint, table)
        old = current.get(order.id)
        if old is not None and same_calculation(old, snapshot):
            outcome.unchanged += 1
            outcome.snapshots[order.id] = old
            continue
        if old is not None:
            snapshot.supersedes = old
            snapshot.changes = describe_changes(old, snapshot)
        new.append((order, snapshot))
    if not new:
        return outcome
    superseded = [s.supersedes_id for _, s in new if s.supersedes_id]
    if superseded:
        # Only the "current" flag ever changes on a stored snapshot (one UPDATE per batch), and it
        # must flip before the new ones are inserted: one current snapshot per order.
        CalculationSnapshot.objects.filter(pk__in=superseded).update(is_current=False)
    _bulk_insert([s for _, s in new])
    organisations = Organisation.objects.in_bulk({o.organisation_id for o, _ in new})
    if per_order_events:
        for order, snapshot in new:
            events.publish(
                FOOTPRINT_CALCULATED,
                organisations[order.organisation_id],
                f"orders/{order.id}",
                {
                    "order": order.external_id,
                    "order_id": order.id,
                    "snapshot_id": snapshot.pk,
                    "wtw_kg": str(snapshot.wtw_kg),
                    "datasets": [d["label"] for d in snapshot.datasets],
                },
            )
    else:
        # A bulk recalculation is one business event per organisation and batch, not one per
        # order: consumers (CRM signals) get every changed figure without 100,000 outbox rows.
        by_org: dict[int, list] = {}
        for order, snapshot in new:
            by_org.setdefault(order.organisation_id, []).append((order, snapshot))
        for organisation_id, changed in by_org.items():
            organisation = organisations[organisation_id]
            events.publish(
                FOOTPRINTS_RECALCULATED,
                organisation,
                f"organisations/{organisation.slug}/orders",
                {
                    "datasets": sorted({d["label"] for _, s in changed for d in s.datasets}),
                    "count": len(changed),
                    "orders": [
                        {
                            "order": order.external_id,
                            "order_id": order.id,
                            "snapshot_id": snapshot.pk,
                            "wtw_kg": str(snapshot.wtw_kg),
                        }
                        for order, snapshot in changed
                    ],
                },
            )
    if announce_changed:
        # The order write path announces its own changes (data and footprint together).
        changed_by_org: dict[int, list[int]] = {}
        for order, _ in new:
            changed_by_org.setdefault(order.organisation_id, []).append(order.id)
        for organisation_id, order_ids in changed_by_org.items():
            publish_orders_changed(organisations[organisation_id], order_ids, "recalculated")
    outcome.snapshots.update({order.id: snapshot for order, snapshot in new})
    outcome.created = len(new)
    return outcome


def calculate_order(
    order: Order,
    *,
    dataset: FactorDataset | None = None,
    grid_dataset: FactorDataset | None = None,
) -> CalculationSnapshot:
    """Calculate one order's footprint and keep it as its current snapshot.

    Idempotent: when the current snapshot was made from identical inputs, factors, datasets and
    method version, it is returned unchanged (nothing written, no event). Otherwise a new
    snapshot supersedes it and records in `changes` what changed. Uses the default published
    dataset unless `dataset` is given, and the active grid-electricity dataset for Scope 2.
    Raises CalculationError (naming the leg) when a leg has no usable factor.
    """
    dataset = dataset or default_dataset()
    grid = grid_dataset or active_grid_dataset()
    with transaction.atomic():
        # Serialise concurrent recalculations of one order (one current snapshot at a time).
        list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))
        table = FactorTable.load(dataset, grid)
        outcome = calculate_batch([order.pk], table, strict=True)
    return outcome.snapshots[order.pk]


@dataclass
class RecalculationResult:
    processed: int = 0
    created: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str, str | None]] = field(default_factory=list)
    last_id: int | None = None  # resume with start_after_id=last_id
    total: int = 0


def recalculate(
    organisation: Organisation | None = None,
    dataset: FactorDataset | None = None,
    *,
    grid_dataset: FactorDataset | None = None,
    batch_size: int = 1000,
    start_after_id: int | None = None,
    until_id: int | None = None,
    progress: Callable[[RecalculationResult], None] | None = None,
) -> RecalculationResult:
    """Recalculate many orders in id order, `batch_size` at a time, each batch in its own
    transaction with a bounded number of queries.

    Resumable: pass the returned (or last reported) `last_id` as `start_after_id`; `until_id`
    stops after that id (a slice for `recalculate_parallel`). Orders whose
    legs cannot be calculated are skipped and listed in `failed` (order id, message, field);
    the others are stored. Unchanged orders keep their snapshot.
    """
    dataset = dataset or default_dataset()
    grid = grid_dataset or active_grid_dataset()
    table = FactorTable.load(dataset, grid)
    orders = Order.objects.all()
    if organisation is not None:
        orders = orders.filter(organisation=organisation)
    if start_after_id is not None:
        orders = orders.filter(pk__gt=start_after_id)
    if until_id is not None:
        orders = orders.filter(pk__lte=until_id)
    result = RecalculationResult(last_id=start_after_id, total=orders.count())
    while True:
        batch = orders if result.last_id is None else orders.filter(pk__gt=result.last_id)
        ids = list(batch.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            list(Order.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
            outcome = calculate_batch(ids, table, strict=False, per_order_events=False)
        result.processed += len(ids)
        result.created += outcome.created
        result.unchanged += outcome.unchanged
        result.failed.extend(outcome.failed)
        result.last_id = ids[-1]
        if progress is not None:
            progress(result)
    return result


def _recalculate_slice(job: tuple[int | None, int, int | None, int | None, int, int]) -> tuple:
    """One process's share of `recalculate_parallel`: a contiguous id range, own connection."""
    organisation_id, dataset_id, grid_id, after_id, until_id, batch_size = job
    connections.close_all()  # never share the parent's socket after fork
    # A new connection starts with no row-level scope (portal.tenancy): set the parent's.
    with tenancy.scope([organisation_id] if organisation_id else tenancy.ALL):
        result = recalculate(
            Organisation.objects.get(pk=organisation_id) if organisation_id else None,
            FactorDataset.objects.get(pk=dataset_id),
            grid_dataset=FactorDataset.objects.get(pk=grid_id) if grid_id else None,
            batch_size=batch_size,
            start_after_id=after_id,
            until_id=until_id,
        )
    connections.close_all()
    return result.processed, result.created, result.unchanged, result.failed


def recalculate_parallel(
    organisation: Organisation | None = None,
    dataset: FactorDataset | None = None,
    *,
    grid_dataset: FactorDataset | None = None,
    workers: int = 2,
    batch_size: int = 1000,
    progress: Callable[[RecalculationResult], None] | None = None,
) -> RecalculationResult:
    """`recalculate` split into contiguous id ranges run by `workers` processes at once.

    Each batch is still its own transaction with the same results as a serial run; the split
    only lets the database and the arithmetic use different cores at the same time, which is
    what a large recalculation on a 2-core server needs. Not resumable (use `recalculate`).
    """
    dataset = dataset or default_dataset()
    grid = grid_dataset or active_grid_dataset()
    orders = Order.objects.all()
    if organisation is not None:
        orders = orders.filter(organisation=organisation)
    ids = list(orders.order_by("pk").values_list("pk", flat=True))
    result = RecalculationResult(total=len(ids))
    if not ids:
        return result
    # Several slices per worker, so that one slow slice does not leave a core idle at the end.
    slices = max(1, min(len(ids) // batch_size, workers * 4))
    step = -(-len(ids) // slices)
    jobs = [
        (
            organisation.pk if organisation else None,
            dataset.pk,
            grid.pk if grid else None,
            ids[start - 1] if start else None,
            ids[min(start + step, len(ids)) - 1],
            batch_size,
        )
        for start in range(0, len(ids), step)
    ]
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for processed, created, unchanged, failed in pool.imap_unordered(_recalculate_slice, jobs):
            result.processed += processed
            result.created += created
            result.unchanged += unchanged
            result.failed.extend(failed)
            if progress is not None:
                progress(result)
    result.last_id = ids[-1]
    return result
