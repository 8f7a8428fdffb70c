"""Orders as plain data, and the steps of their one write path: validate, compare with what is
stored, write lines, shipments and legs in bulk, and calculate the footprints.

The entry point is `carbon.footprint.actions.store_orders`, which the API upsert (one order)
and the CSV import (many) both call, with the same validation (`validate_order`, which applies
the leg rules of `carbon.footprint.legs` and the bounds of `carbon.app_settings`). It is
idempotent by (organisation, external_id): the same data twice changes nothing (no rows, no
snapshot, no event). Every error names the field at fault in one notation, e.g.
``shipments[0].legs[1].category``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, overload

from django.utils import timezone

from carbon import app_settings
from carbon.footprint import calculation, incoterms
from carbon.footprint.exceptions import OrdersRejected, Problem
from carbon.footprint.factors import FactorBook
from carbon.footprint.legs import LegData, validate_leg
from carbon.footprint.provenance import data_type_of
from carbon.models import (
    ATTESTED_SOURCES,
    Leg,
    LegSource,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
)
from portal.models import Organisation, Site

# Decimal places of the stored columns: values are compared after rounding to them, so that
# "12.5" and "12.500000" are the same data.
STORED_COLUMN_PLACES = {"quantity": 3, "distance_km": 3, "mass_t": 6, "fuel_amount": 4}


@dataclass
class ShipmentData:
    reference: str
    legs: list[LegData] = field(default_factory=list)


@dataclass
class LineData:
    sku: str
    quantity: Decimal


@dataclass
class OrderData:
    external_id: str
    order_date: date
    delivery_date: date | None
    status: str
    site_name: str | None
    lines: list[LineData] = field(default_factory=list)
    shipments: list[ShipmentData] = field(default_factory=list)
    incoterm: str = ""  # Incoterms 2020 rule; empty: not stated


@overload
def _as_stored(value: Decimal, name: str) -> Decimal: ...


@overload
def _as_stored(value: None, name: str) -> None: ...


def _as_stored(value: Decimal | None, name: str) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-STORED_COLUMN_PLACES[name]))


# --- validation


def validate_order(
    data: OrderData,
    *,
    products: dict[str, Product],
    sites: dict[str, Site],
) -> list[tuple[str, str]]:
    """All problems of one order as (field, reason) pairs; empty when it can be stored.

    `products` maps SKU -> Product and `sites` maps site name -> Site of the organisation; the
    caller loads them in batch so that validating many orders costs no query per order.
    (Rules that depend on who writes, and on what was stored, apply as the legs are written:
    `unattested_problems`.)
    """
    errors: list[tuple[str, str]] = []
    if not (data.external_id or "").strip():
        errors.append(("external_id", "an order number is required"))
    elif len(data.external_id) > 100:
        errors.append(("external_id", "at most 100 characters"))
    if data.status not in OrderStatus.values:
        errors.append(
            (
                "status",
                f"unknown status '{data.status}'; one of {', '.join(OrderStatus.values)}",
            )
        )
    if data.delivery_date and data.order_date and data.delivery_date < data.order_date:
        errors.append(("delivery_date", "the delivery date is before the order date"))
    if (reason := incoterms.problem(data.incoterm)) is not None:
        errors.append(("incoterm", reason))
    if data.site_name and data.site_name not in sites:
        errors.append(("site_name", f"'{data.site_name}' is not a site of this organisation"))
    seen_skus: set[str] = set()
    for i, line in enumerate(data.lines):
        if line.sku not in products:
            errors.append((f"lines[{i}].sku", f"unknown SKU '{line.sku}'"))
        elif line.sku in seen_skus:
            errors.append((f"lines[{i}].sku", f"SKU '{line.sku}' appears twice; use one line"))
        seen_skus.add(line.sku)
        if line.quantity is None or not line.quantity.is_finite() or line.quantity <= 0:
            errors.append((f"lines[{i}].quantity", "the quantity must be greater than zero"))
        elif line.quantity > app_settings.MAX_LINE_QUANTITY:
            errors.append(
                (
                    f"lines[{i}].quantity",
                    f"at most {app_settings.MAX_LINE_QUANTITY:,} units per line",
                )
            )
    cap = app_settings.MAX_SHIPMENTS_PER_ORDER
    if len(data.shipments) > cap:
        errors.append((f"shipments[{cap}]", f"at most {cap} shipments per order"))
    tkm = Decimal(0)
    for s, shipment in enumerate(data.shipments):
        if len(shipment.reference or "") > 100:
            errors.append((f"shipments[{s}].reference", "at most 100 characters"))
        if not shipment.legs:
            errors.append((f"shipments[{s}].legs", "a shipment needs at least one leg"))
        elif len(shipment.legs) > (cap := app_settings.MAX_LEGS_PER_SHIPMENT):
            errors.append((f"shipments[{s}].legs[{cap}]", f"at most {cap} legs per shipment"))
        for g, leg in enumerate(shipment.legs):
            problems = validate_leg(leg)
            errors.extend((f"shipments[{s}].legs[{g}].{name}", reason) for name, reason in problems)
            if not problems:
                tkm += leg.mass_t * leg.distance_km
    if tkm > app_settings.MAX_ORDER_TKM:
        errors.append(("shipments", f"at most {app_settings.MAX_ORDER_TKM:,} t·km per order"))
    return errors


def lookups(organisation: Organisation, orders: list[OrderData]):
    """Products and sites referenced by `orders`, in two queries."""
    skus = {line.sku for o in orders for line in o.lines}
    names = {o.site_name for o in orders if o.site_name}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    sites = (
        {s.name: s for s in Site.objects.filter(organisation=organisation, name__in=names)}
        if names
        else {}
    )
    return products, sites


# --- canonical form, for "did anything change?"


def canonical(data: OrderData) -> dict[str, Any]:
    """The order as comparable plain values, rounded as stored."""
    return {
        "order_date": data.order_date,
        "delivery_date": data.delivery_date,
        "status": data.status,
        "incoterm": data.incoterm,
        "site": data.site_name or None,
        "lines": [(line.sku, _as_stored(line.quantity, "quantity")) for line in data.lines],
        "shipments": [
            (s.reference or "", [leg_form(leg) for leg in s.legs]) for s in data.shipments
        ],
    }


# The stored columns of a leg's canonical form, in `leg_form`'s order.
LEG_FORM_COLUMNS = (
    "category",
    "origin",
    "destination",
    "distance_km",
    "mass_t",
    "data_tier",
    "radiative_forcing",
    "fuel_type",
    "fuel_amount",
)


def _stored_leg_form(values) -> tuple:
    """`leg_form` of a stored leg, from its LEG_FORM_COLUMNS values."""
    return tuple(
        _as_stored(value, name) if name in STORED_COLUMN_PLACES else value
        for name, value in zip(LEG_FORM_COLUMNS, values, strict=True)
    )


def leg_form(leg: LegData) -> tuple:
    """One leg as comparable plain values, rounded as stored (`stored_canonical`'s leg tuple)."""
    return (
        leg.category,
        leg.origin or "",
        leg.destination or "",
        _as_stored(leg.distance_km, "distance_km"),
        _as_stored(leg.mass_t, "mass_t"),
        leg.data_tier,
        bool(leg.radiative_forcing),
        leg.fuel_type or "",
        _as_stored(leg.fuel_amount, "fuel_amount"),
    )


def stored_canonical(orders: list[Order]) -> dict[int, dict[str, Any]]:
    """The canonical form of stored orders, read in three queries whatever their number."""
    ids = [o.pk for o in orders]
    lines: dict[int, list] = {i: [] for i in ids}
    for order_id, sku, quantity in (
        OrderLine.objects.filter(order_id__in=ids)
        .order_by("order_id", "id")
        .values_list("order_id", "product__sku", "quantity")
    ):
        lines[order_id].append((sku, _as_stored(quantity, "quantity")))
    shipments: dict[int, list] = {i: [] for i in ids}
    by_shipment: dict[int, list] = {}
    for sid, order_id, reference in (
        Shipment.objects.filter(order_id__in=ids)
        .order_by("order_id", "id")
        .values_list("id", "order_id", "reference")
    ):
        legs: list = []
        by_shipment[sid] = legs
        shipments[order_id].append((reference, legs))
    for shipment_id, *values in (
        Leg.objects.filter(shipment__order_id__in=ids)
        .order_by("shipment_id", "sequence", "id")
        .values_list("shipment_id", *LEG_FORM_COLUMNS)
    ):
        by_shipment[shipment_id].append(_stored_leg_form(values))
    return {
        o.pk: {
            "order_date": o.order_date,
            "delivery_date": o.delivery_date,
            "status": o.status,
            "incoterm": o.incoterm,
            "site": o.delivery_site.name if o.delivery_site else None,
            "lines": lines[o.pk],
            "shipments": shipments[o.pk],
        }
        for o in orders
    }


# --- writing


# What a stored leg's provenance was, by its position (shipment index, leg index) in its order.
Provenance = dict[tuple[int, int], tuple[tuple, dict[str, Any]]]
PROVENANCE_FIELDS = ("source", "data_type", "verified_by_id", "verified_at")


def stored_provenance(order_ids: list[int]) -> dict[int, Provenance]:
    """The provenance of the stored legs of `order_ids`, with each leg's canonical form, read in
    one query: an order written again keeps it for every leg it sends unchanged."""
    found: dict[int, Provenance] = {i: {} for i in order_ids}
    shipment_index: dict[int, int] = {}
    per_order: dict[int, int] = {}
    rows = (
        Leg.objects.filter(shipment__order_id__in=order_ids)
        .order_by("shipment__order_id", "shipment_id", "sequence", "id")
        .values_list("shipment__order_id", "shipment_id", *LEG_FORM_COLUMNS, *PROVENANCE_FIELDS)
    )
    legs_seen: dict[int, int] = {}
    split = 2 + len(LEG_FORM_COLUMNS)
    for row in rows:
        order_id, shipment_id = row[0], row[1]
        if shipment_id not in shipment_index:
            shipment_index[shipment_id] = per_order.get(order_id, 0)
            per_order[order_id] = shipment_index[shipment_id] + 1
        g = legs_seen.get(shipment_id, 0)
        legs_seen[shipment_id] = g + 1
        form = _stored_leg_form(row[2:split])
        found[order_id][(shipment_index[shipment_id], g)] = (
            form,
            dict(zip(PROVENANCE_FIELDS, row[split:], strict=True)),
        )
    return found


def leg_provenance(
    leg: LegData, position: tuple[int, int], source: str, before: Provenance
) -> dict[str, Any]:
    """The provenance of a leg written by `source`: an attested source's own; otherwise, for a
    leg sent unchanged at the same place, what the stored leg had (a status update by the
    customer keeps the carrier's attestation or the staff's verification); else unverified."""
    if source not in ATTESTED_SOURCES:
        stored = before.get(position)
        if stored is not None and stored[0] == leg_form(leg):
            return stored[1]
    return {
        "source": source,
        "data_type": data_type_of(leg, source),
        "verified_by_id": None,
        "verified_at": None,
    }


def build_children(
    order: Order,
    data: OrderData,
    products: dict[str, Product],
    source: str = LegSource.CUSTOMER,
    before: Provenance | None = None,
) -> tuple[list[OrderLine], list[tuple[Shipment, list[Leg]]]]:
    lines = [
        OrderLine(
            order=order, product=products[line.sku], quantity=_as_stored(line.quantity, "quantity")
        )
        for line in data.lines
    ]
    shipments = []
    for i, s in enumerate(data.shipments):
        shipment = Shipment(order=order, reference=s.reference or "")
        legs = [
            Leg(
                shipment=shipment,
                sequence=n,
                category=leg.category,
                origin=leg.origin or "",
                destination=leg.destination or "",
                distance_km=_as_stored(leg.distance_km, "distance_km"),
                mass_t=_as_stored(leg.mass_t, "mass_t"),
                data_tier=leg.data_tier,
                radiative_forcing=bool(leg.radiative_forcing),
                fuel_type=leg.fuel_type or "",
                fuel_amount=_as_stored(leg.fuel_amount, "fuel_amount"),
                **leg_provenance(leg, (i, n - 1), source, before or {}),
            )
            for n, leg in enumerate(s.legs, start=1)
        ]
        shipments.append((shipment, legs))
    return lines, shipments


def unattested_problems(shipments: list[tuple[Shipment, list[Leg]]]) -> list[tuple[str, str]]:
    """Legs about to be stored whose category needs attested data
    (`app_settings.ATTESTED_ONLY_CATEGORIES`) while theirs is not: a customer may send again
    the carrier's 100%-laden leg unchanged (it keeps the carrier's attestation), not write one."""
    return [
        (
            f"shipments[{s}].legs[{g}].category",
            f"the {leg.category} row needs attested data (a carrier system, the CRM or "
            "GreenLoop staff); customer-entered legs use road.hgv.average_laden",
        )
        for s, (_, legs) in enumerate(shipments)
        for g, leg in enumerate(legs)
        if leg.category in app_settings.ATTESTED_ONLY_CATEGORIES and not leg.attested
    ]


def write_children(
    orders_data: list[tuple[Order, OrderData]],
    products: dict[str, Product],
    *,
    replace: bool,
    source: str = LegSource.CUSTOMER,
    index: dict[str, int] | None = None,
) -> None:
    """Bulk-insert lines, shipments and legs of many orders (replacing the old ones), the legs
    marked as written by `source` (see `leg_provenance`). A leg that needs attested data and
    would be stored without it raises OrdersRejected (`index`: each order's position in the
    caller's list), inside the caller's transaction."""
    before: dict[int, Provenance] = {}
    if replace:
        ids = [o.pk for o, _ in orders_data]
        before = stored_provenance(ids)
        # Legs go with their shipments (CASCADE); lines and shipments in one query each.
        Shipment.objects.filter(order_id__in=ids).delete()
        OrderLine.objects.filter(order_id__in=ids).delete()
    all_lines: list[OrderLine] = []
    all_shipments: list[Shipment] = []
    all_legs: list[Leg] = []
    problems: list[Problem] = []
    for order, data in orders_data:
        lines, shipments = build_children(order, data, products, source, before.get(order.pk))
        position = (index or {}).get(data.external_id, 0)
        problems.extend(
            Problem(position, name, reason) for name, reason in unattested_problems(shipments)
        )
        all_lines.extend(lines)
        for shipment, legs in shipments:
            all_shipments.append(shipment)
            all_legs.extend(legs)
    if problems:
        raise OrdersRejected(problems)
    OrderLine.objects.bulk_create(all_lines, batch_size=2000)
    Shipment.objects.bulk_create(all_shipments, batch_size=2000)
    for leg in all_legs:
        leg.shipment_id = leg.shipment.pk  # set after the shipments got their ids
    Leg.objects.bulk_create(all_legs, batch_size=2000)


def event_data(order: Order, *, created: bool, by=None) -> dict[str, Any]:
    """The payload of `greenloop.carbon.order_upserted`."""
    return {
        "order_id": order.pk,
        "external_id": order.external_id,
        "created": created,
        "status": order.status,
        "order_date": order.order_date,
        "by": getattr(by, "pk", None),
    }


# Orders per query when the stored ones are read and locked.
_READ_BATCH = 5000
# Orders per footprint calculation (a bounded number of queries each).
CALCULATION_BATCH = 1000

Progress = Callable[[str, int, int], None]


@dataclass
class StoredOrders:
    """What `store_orders` did: every order given, stored, by external id, and the counts."""

    orders: dict[str, Order]
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        done = len(self.created) + len(self.updated)
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.orders) - done,
        }


def order_problems(
    orders: list[OrderData], products: dict[str, Product], sites: dict[str, Site]
) -> list[Problem]:
    """Every problem of `orders` (each validated, and no order number twice); empty when all of
    them can be stored."""
    problems = []
    seen: set[str] = set()
    for i, data in enumerate(orders):
        if data.external_id in seen:
            problems.append(Problem(i, "external_id", "the same order number appears twice"))
        seen.add(data.external_id)
        problems.extend(
            Problem(i, name, reason)
            for name, reason in validate_order(data, products=products, sites=sites)
        )
    return problems


def locked_orders(organisation: Organisation, external_ids: list[str]) -> dict[str, Order]:
    """`organisation`'s orders among `external_ids`, locked for the rest of the transaction: a
    concurrent write of the same order waits, so that its children are never replaced twice."""
    found: dict[str, Order] = {}
    for start in range(0, len(external_ids), _READ_BATCH):
        chunk = external_ids[start : start + _READ_BATCH]
        for order in (
            Order.objects.select_for_update(of=("self",))
            .select_related("delivery_site")
            .filter(organisation=organisation, external_id__in=chunk)
            .order_by("pk")  # one lock order for every writer: no deadlock between two imports
        ):
            found[order.external_id] = order
    return found


def write_orders(
    organisation: Organisation,
    orders: list[OrderData],
    products: dict[str, Product],
    sites: dict[str, Site],
    *,
    source: str = LegSource.CUSTOMER,
    progress: Progress | None = None,
) -> tuple[StoredOrders, list[Order]]:
    """Create or replace validated `orders` with bulk inserts, leaving alone those whose data
    equals what is stored; returns what was done and the orders written (new, then changed).
    Inside the caller's transaction, which holds the orders' locks until it ends."""
    by_id = {data.external_id: data for data in orders}
    existing = locked_orders(organisation, list(by_id))
    result = StoredOrders(orders={})
    changed: list[tuple[Order, OrderData]] = []
    stored = list(existing.values())
    for start in range(0, len(stored), 2000):
        batch = stored[start : start + 2000]
        forms = stored_canonical(batch)
        for order in batch:
            data = by_id[order.external_id]
            result.orders[order.external_id] = order
            if forms[order.pk] != canonical(data):
                _set_order_fields(order, data, sites)
                changed.append((order, data))
    new = []
    for data in orders:
        if data.external_id not in existing:
            order = Order(organisation=organisation, external_id=data.external_id)
            _set_order_fields(order, data, sites)
            new.append((order, data))
            result.orders[data.external_id] = order
    if progress:
        progress("storing", 0, len(new) + len(changed))
    Order.objects.bulk_create([o for o, _ in new], batch_size=2000)
    if changed:
        now = timezone.now()
        for order, _ in changed:
            order.updated_at = now
        Order.objects.bulk_update(
            [o for o, _ in changed],
            ["order_date", "delivery_date", "status", "incoterm", "delivery_site", "updated_at"],
            batch_size=2000,
        )
    index = {data.external_id: i for i, data in enumerate(orders)}
    if changed:
        write_children(changed, products, replace=True, source=source, index=index)
    write_children(new, products, replace=False, source=source, index=index)
    result.created = [o.external_id for o, _ in new]
    result.updated = [o.external_id for o, _ in changed]
    return result, [o for o, _ in new] + [o for o, _ in changed]


def _set_order_fields(order: Order, data: OrderData, sites: dict[str, Site]) -> None:
    order.order_date = data.order_date
    order.delivery_date = data.delivery_date
    order.status = data.status
    order.incoterm = data.incoterm
    order.delivery_site = sites.get(data.site_name) if data.site_name else None


def calculate_written(
    todo: list[Order],
    orders: list[OrderData],
    *,
    each: bool,
    progress: Progress | None = None,
) -> None:
    """Footprints of the written orders `todo` in batches. With `each` (one order announced on
    its own) a footprint that cannot be calculated raises its CalculationError naming the leg
    and each order publishes its own `footprint_calculated`; otherwise every order that cannot
    be calculated is listed in OrdersRejected (by its position in `orders`). A missing default
    dataset raises CalculationError either way."""
    table = FactorBook.load()  # each order takes the vintages of its activity date
    index = {data.external_id: i for i, data in enumerate(orders)}
    failed: list[Problem] = []
    if progress:
        progress("calculating", 0, len(todo))
    for start in range(0, len(todo), CALCULATION_BATCH):
        batch = todo[start : start + CALCULATION_BATCH]
        by_pk = {o.pk: o for o in batch}
        outcome = calculation.calculate_batch(
            list(by_pk), table, strict=each, per_order_events=each, announce_changed=False
        )
        for order_id, message, field_name in outcome.failed:
            failed.append(Problem(index[by_pk[order_id].external_id], field_name, message))
        if progress:
            progress("calculating", min(start + CALCULATION_BATCH, len(todo)), len(todo))
    if failed:
        raise OrdersRejected(failed, code="calculation_error")
