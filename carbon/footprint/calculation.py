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

import gc
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections, transaction

from carbon.footprint import declarations as declaration_rules
from carbon.footprint import snapshot_store
from carbon.footprint.events import (
    FOOTPRINT_CALCULATED,
    FOOTPRINTS_RECALCULATED,
    ORDERS_CHANGED,
    ORDERS_CHANGED_CHUNK,
)
from carbon.footprint.exceptions import CalculationError
from carbon.footprint.factors import (
    FactorBook,
    FactorTable,
    choose_tables,
    compute_chosen,
)
from carbon.footprint.model import (
    ZERO,
    FootprintInput,
    LegInput,
)
from carbon.footprint.snapshots import (
    NewSnapshot,
    context_hashes,
    describe_changes,
    input_hash,
    same_calculation,
    snapshot_of,
)
from carbon.footprint.units import plain_decimal
from carbon.footprint.vintages import ClosedPeriods
from carbon.models import (
    CalculationSnapshot,
    FactorDataset,
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


def _load_inputs(
    ids: list[int], attributed: dict[int, Decimal] | None = None
) -> list[tuple[_OrderRow, FootprintInput, dict[str, Any]]]:
    """Inputs of the orders `ids` (ascending), in four queries whatever their size (plus the
    declarations' reconciliation, see `declarations.covering_orders`)."""
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
    declarations = declaration_rules.covering_orders(
        orders, {} if attributed is None else attributed
    )
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


@dataclass
class BatchOutcome:
    snapshot_ids: dict[int, int]  # order id -> its current snapshot's id (new or kept)
    created: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str, str | None]] = field(default_factory=list)
    new: dict[int, NewSnapshot] = field(default_factory=dict)  # order id -> snapshot stored
    closed: int = 0  # orders of closed periods left as issued

    def snapshot(self, order_id: int) -> CalculationSnapshot:
        """Order `order_id`'s current snapshot as a model instance (a query only when kept)."""
        if order_id in self.new:
            return snapshot_store.as_model(self.new[order_id])
        return CalculationSnapshot.objects.get(pk=self.snapshot_ids[order_id])


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
    table: FactorTable | FactorBook,
    *,
    strict: bool,
    per_order_events: bool = True,
    announce_changed: bool = True,
    closed: ClosedPeriods | None = None,
    restate: str | None = None,
    attributed: dict[int, Decimal] | None = None,
) -> BatchOutcome:
    """Calculate and store the orders `ids` inside the caller's transaction.

    With a FactorBook each order takes the dataset versions valid for its activity date. With
    `closed`, an order of a closed period that has figures keeps them (counted in
    `outcome.closed`) unless `restate` gives the reason to restate it; its new snapshot then
    says it is a restatement of that period.

    Queries: four to load the inputs, one comparing their input hashes with the current
    snapshots' (orders whose hash matches stop here: nothing decoded, computed or written), one
    loading the superseded snapshots, one UPDATE to retire them, the new rows (PostgreSQL: ids
    from the sequence, then one COPY; elsewhere bulk_create), one for the organisations, and one
    outbox row per new snapshot (`greenloop.carbon.footprint_calculated`), or with
    `per_order_events` False one `greenloop.carbon.footprints_recalculated` row per
    organisation in the batch.
    """
    attributed = {} if attributed is None else attributed
    outcome = BatchOutcome(snapshot_ids={})
    # PostgreSQL keeps each order's input revision (migration carbon 0016): an order whose
    # revision and context (factor table, declaration) match its current snapshot's is skipped
    # before its lines and legs are loaded.
    revised = snapshot_store.revisions(ids)
    keys: dict[int, tuple[int, str]] = {}  # order id -> (input revision, context hash)
    if revised is not None:
        contexts = context_hashes(revised, table, attributed)
        for row in revised:
            keys[row.id] = (row.revision, contexts[row.id])
            if row.snapshot_id and row.same_revision and row.context_hash == contexts[row.id]:
                outcome.snapshot_ids[row.id] = row.snapshot_id
        outcome.unchanged = len(outcome.snapshot_ids)
        ids = [i for i in ids if i not in outcome.snapshot_ids]
        if not ids:
            return outcome
    loaded = _load_inputs(ids, attributed)
    chosen = choose_tables([order.order_date for order, _, _ in loaded], table)
    # The hash covers the factors of the table each order's activity date chose, so a new
    # vintage or an edited factor is never skipped as unchanged.
    hashes = {
        order.id: input_hash(inputs_json, used.fingerprint())
        for (order, _, inputs_json), (used, _) in zip(loaded, chosen, strict=True)
    }
    # Orders whose current snapshot has the same input hash are skipped unread: no arithmetic,
    # no documents decoded, nothing written.
    found = snapshot_store.staleness(hashes)
    outcome.snapshot_ids.update(found.kept)
    outcome.unchanged += len(found.kept)
    # Same inputs under another revision or context (a write that changed nothing read, or a
    # snapshot stored before the revision): record the keys so the next run skips it sooner.
    rekeyed = {
        snapshot_id: (hashes[order_id], *keys[order_id])
        for order_id, snapshot_id in found.kept.items()
        if order_id in keys
    }
    stale = [i for i, item in enumerate(loaded) if item[0].id in found.stale]
    if not stale:
        snapshot_store.record_keys(rekeyed)
        return outcome
    loaded = [loaded[i] for i in stale]
    computed = compute_chosen(
        [inputs for _, inputs, _ in loaded], [chosen[i] for i in stale], strict
    )
    superseded_ids = [pk for pk in found.stale.values() if pk is not None]
    current = (
        {
            s.order_id: s
            for s in CalculationSnapshot.objects.filter(pk__in=superseded_ids).defer(
                "results", "changes"
            )
        }
        if superseded_ids
        else {}
    )
    new: list[tuple[_OrderRow, NewSnapshot]] = []
    for (order, _, inputs_json), (footprint, used, choices) in zip(loaded, computed, strict=True):
        if isinstance(footprint, CalculationError):
            outcome.failed.append((order.id, footprint.message, footprint.field))
            continue
        snapshot = snapshot_of(
            order.id, inputs_json, footprint, used, choices, hashed=hashes[order.id]
        )
        snapshot.input_revision, snapshot.context_hash = keys.get(order.id, (None, ""))
        old = current.get(order.id)
        if old is not None and same_calculation(old, snapshot):
            # Stored before its hash (or under another factor table that gave the same figures):
            # keep it, and record the hash so that the next run skips it unread.
            outcome.unchanged += 1
            outcome.snapshot_ids[order.id] = old.pk
            rekeyed[old.pk] = (snapshot.input_hash, *keys.get(order.id, (None, "")))
            continue
        period = closed.closing(order.organisation_id, order.order_date) if closed else None
        if old is not None and period is not None and not restate:
            outcome.closed += 1
            outcome.snapshot_ids[order.id] = old.pk
            continue
        if old is not None:
            snapshot.supersedes_id = old.pk
            snapshot.changes = describe_changes(old, snapshot)
            if period is not None:
                # The superseded snapshot keeps the figures as issued; this one says why not.
                snapshot.changes["restatement"] = {"reason": restate, "period": period.as_json()}
        new.append((order, snapshot))
    snapshot_store.record_keys(rekeyed)
    if not new:
        return outcome
    superseded = [s.supersedes_id for _, s in new if s.supersedes_id]
    if superseded:
        # Only the "current" flag ever changes on a stored snapshot (one UPDATE per batch), and it
        # must flip before the new ones are inserted: one current snapshot per order.
        CalculationSnapshot.objects.filter(pk__in=superseded).update(is_current=False)
    snapshot_store.insert([s for _, s in new])
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
    outcome.new = {order.id: snapshot for order, snapshot in new}
    outcome.snapshot_ids.update({o.id: s.pk for o, s in new if s.pk is not None})
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
    snapshot supersedes it and records in `changes` what changed. Uses the dataset versions
    valid for the order's activity date (carbon.footprint.vintages) unless `dataset` (or
    `grid_dataset`) is given.
    Raises CalculationError (naming the leg) when a leg has no usable factor.
    """
    book = FactorBook.load(dataset, grid_dataset)
    with transaction.atomic():
        # Serialise concurrent recalculations of one order (one current snapshot at a time).
        list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))
        outcome = calculate_batch([order.pk], book, strict=True)
    return outcome.snapshot(order.pk)


@dataclass
class RecalculationResult:
    processed: int = 0
    created: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str, str | None]] = field(default_factory=list)
    last_id: int | None = None  # resume with start_after_id=last_id
    total: int = 0
    closed: int = 0  # orders of closed periods left as issued (no `restate`)


def recalculate(
    organisation: Organisation | None = None,
    dataset: FactorDataset | None = None,
    *,
    grid_dataset: FactorDataset | None = None,
    batch_size: int = 1000,
    start_after_id: int | None = None,
    until_id: int | None = None,
    progress: Callable[[RecalculationResult], None] | None = None,
    restate: str | None = None,
) -> RecalculationResult:
    """Recalculate many orders in id order, `batch_size` at a time, each batch in its own
    transaction with a bounded number of queries.

    Resumable: pass the returned (or last reported) `last_id` as `start_after_id`; `until_id`
    stops after that id (a slice for `recalculate_parallel`). Orders whose
    legs cannot be calculated are skipped and listed in `failed` (order id, message, field);
    the others are stored. Unchanged orders keep their snapshot, and so do the orders of
    closed periods (periods an issued report covers) unless `restate` gives the reason to
    restate them (their new snapshots are then labelled restatements).
    """
    table = FactorBook.load(dataset, grid_dataset)
    closed = ClosedPeriods.load(organisation.pk if organisation is not None else None)
    orders = Order.objects.all()
    if organisation is not None:
        orders = orders.filter(organisation=organisation)
    if start_after_id is not None:
        orders = orders.filter(pk__gt=start_after_id)
    if until_id is not None:
        orders = orders.filter(pk__lte=until_id)
    result = RecalculationResult(last_id=start_after_id, total=orders.count())
    attributed: dict[int, Decimal] = {}  # green-power kWh by declaration, summed once per run
    while True:
        batch = orders if result.last_id is None else orders.filter(pk__gt=result.last_id)
        ids = list(batch.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            list(Order.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
            outcome = calculate_batch(
                ids,
                table,
                strict=False,
                per_order_events=False,
                closed=closed,
                restate=restate,
                attributed=attributed,
            )
        result.processed += len(ids)
        result.closed += outcome.closed
        result.created += outcome.created
        result.unchanged += outcome.unchanged
        result.failed.extend(outcome.failed)
        result.last_id = ids[-1]
        if progress is not None:
            progress(result)
    return result


def _recalculate_slice(job: tuple) -> tuple:
    """One process's share of `recalculate_parallel`: a contiguous id range, own connection."""
    organisation_id, dataset_id, grid_id, after_id, until_id, batch_size, restate = job
    connections.close_all()  # never share the parent's socket after fork
    # What the worker inherited (Django, the reference tables) lives until it exits: out of the
    # collector's way, full collections stay cheap while batches allocate (~15% of the CPU).
    gc.freeze()
    # A new connection starts with no row-level scope (portal.tenancy): set the parent's.
    with tenancy.scope([organisation_id] if organisation_id else tenancy.ALL):
        result = recalculate(
            Organisation.objects.get(pk=organisation_id) if organisation_id else None,
            FactorDataset.objects.get(pk=dataset_id) if dataset_id else None,
            grid_dataset=FactorDataset.objects.get(pk=grid_id) if grid_id else None,
            batch_size=batch_size,
            start_after_id=after_id,
            until_id=until_id,
            restate=restate,
        )
    connections.close_all()
    return result.processed, result.created, result.unchanged, result.failed, result.closed


def recalculate_parallel(
    organisation: Organisation | None = None,
    dataset: FactorDataset | None = None,
    *,
    grid_dataset: FactorDataset | None = None,
    workers: int = 2,
    batch_size: int = 1000,
    progress: Callable[[RecalculationResult], None] | None = None,
    restate: str | None = None,
) -> RecalculationResult:
    """`recalculate` split into contiguous id ranges run by `workers` processes at once.

    Each batch is still its own transaction with the same results as a serial run; the split
    only lets the database and the arithmetic use different cores at the same time, which is
    what a large recalculation on a 2-core server needs. Not resumable (use `recalculate`).
    """
    FactorBook.load(dataset, grid_dataset)  # refuse early when there is no default dataset
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
            dataset.pk if dataset else None,
            grid_dataset.pk if grid_dataset else None,
            ids[start - 1] if start else None,
            ids[min(start + step, len(ids)) - 1],
            batch_size,
            restate,
        )
        for start in range(0, len(ids), step)
    ]
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for processed, created, unchanged, failed, closed in pool.imap_unordered(
            _recalculate_slice, jobs
        ):
            result.closed += closed
            result.processed += processed
            result.created += created
            result.unchanged += unchanged
            result.failed.extend(failed)
            if progress is not None:
                progress(result)
    result.last_id = ids[-1]
    return result
