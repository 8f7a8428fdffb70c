"""The write path for orders: validate plain order data, then create or replace an order with its
lines, shipments and legs, and recalculate its footprint.

`upsert_order` is idempotent by (organisation, external_id): the same data twice changes nothing
(no rows, no snapshot, no event). The API, the CSV importer and the demo data all go through the
validation here, so every error names the field at fault in one notation, e.g.
``shipments[0].legs[1].category``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from carbon import app_settings
from carbon.footprint import categories
from carbon.footprint.engine import FUEL_UNITS
from carbon.footprint.units import DISTANCE, MASS, parse_number, parse_quantity
from carbon.models import (
    DataTier,
    FuelType,
    Leg,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
)
from portal import events
from portal.exceptions import PortalError
from portal.models import Organisation, Site

ORDER_UPSERTED = "greenloop.carbon.order_upserted"

# Decimal places of the stored columns: values are compared after rounding to them, so that
# "12.5" and "12.500000" are the same data.
_PLACES = {"quantity": 3, "distance_km": 3, "mass_t": 6, "fuel_amount": 4}


class OrderDataError(PortalError):
    """Order data that cannot be stored; `field` names the offending value."""

    code = "invalid_order"
    status = 400


@dataclass
class LegData:
    category: str
    mass_t: Decimal
    distance_km: Decimal
    origin: str = ""
    destination: str = ""
    data_tier: str = DataTier.DEFAULT
    radiative_forcing: bool = False
    fuel_type: str = ""
    fuel_amount: Decimal | None = None


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


def _q(value: Decimal | None, name: str) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-_PLACES[name]))


# --- parsing: the one reading of each leg and line field, for the API and the CSV import

# Pint kind of each fuel's canonical unit.
FUEL_KINDS = {"litre": "volume", "kg": "mass", "kWh": "energy"}


def parse_mass(text: str | None, field: str) -> Decimal:
    """Cargo mass in tonnes from e.g. "12.5 t" or "27,557 lb"; QuantityError names `field`."""
    return parse_quantity(text, field=field, kind="mass", to=MASS)


def parse_distance(text: str | None, field: str) -> Decimal:
    """Distance in km from e.g. "830 km" or "515.7 mi"; QuantityError names `field`."""
    return parse_quantity(text, field=field, kind="distance", to=DISTANCE)


def parse_fuel_used(fuel_type: str, text: str | None, field: str) -> Decimal:
    """Fuel in the canonical unit of the known `fuel_type` (litres, kg or kWh)."""
    unit = FUEL_UNITS[fuel_type]
    return parse_quantity(text, field=field, kind=FUEL_KINDS[unit], to=unit)


def parse_line_quantity(value: object, field: str) -> Decimal:
    """A line's number of units, e.g. "24" or "1,200"; its bounds are `validate_order`'s."""
    return parse_number(value, field=field)


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


def validate_leg(leg: LegData) -> list[tuple[str, str]]:
    """The problems of one leg as (field, reason) pairs."""
    errors = []
    category = categories.get(leg.category)
    if category is None:
        errors.append(("category", f"unknown transport category '{leg.category}'"))
    errors.extend(leg_bounds(leg))
    if leg.data_tier not in DataTier.values:
        errors.append(
            ("data_tier", f"unknown data tier '{leg.data_tier}'; one of {', '.join(DataTier)}")
        )
    if leg.radiative_forcing and category is not None and not category.supports_radiative_forcing:
        errors.append(("radiative_forcing", "radiative forcing applies to air freight only"))
    if leg.fuel_type and leg.fuel_type not in FuelType.values:
        errors.append(
            ("fuel_type", f"unknown fuel type '{leg.fuel_type}'; one of {', '.join(FuelType)}")
        )
    if leg.fuel_amount is not None and not leg.fuel_type:
        errors.append(("fuel_type", "a fuel amount needs its fuel type"))
    for name, limit in (("origin", 120), ("destination", 120)):
        if len(getattr(leg, name) or "") > limit:
            errors.append((name, f"at most {limit} characters"))
    return errors


def leg_bounds(leg: LegData) -> list[tuple[str, str]]:
    """Mass, distance and fuel of one leg outside zero..`carbon.app_settings`'s bounds, as
    (field, reason) pairs; the estimate applies them too."""
    errors = []
    fuel_unit = FUEL_UNITS.get(leg.fuel_type, "")
    for name, value, noun, maximum, unit in (
        ("mass_t", leg.mass_t, "cargo mass", app_settings.MAX_LEG_MASS_T, "t"),
        ("distance_km", leg.distance_km, "distance", app_settings.MAX_LEG_DISTANCE_KM, "km"),
        ("fuel_amount", leg.fuel_amount, "fuel amount", app_settings.MAX_LEG_FUEL, fuel_unit),
    ):
        if value is None and name == "fuel_amount":
            continue
        if value is None or not value.is_finite() or value < 0:
            errors.append((name, f"the {noun} must be zero or more"))
        elif value > maximum:
            errors.append((name, f"at most {maximum:,} {unit} per leg"))
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
        "site": data.site_name or None,
        "lines": [(line.sku, _q(line.quantity, "quantity")) for line in data.lines],
        "shipments": [
            (
                s.reference or "",
                [
                    (
                        leg.category,
                        leg.origin or "",
                        leg.destination or "",
                        _q(leg.distance_km, "distance_km"),
                        _q(leg.mass_t, "mass_t"),
                        leg.data_tier,
                        bool(leg.radiative_forcing),
                        leg.fuel_type or "",
                        _q(leg.fuel_amount, "fuel_amount"),
                    )
                    for leg in s.legs
                ],
            )
            for s in data.shipments
        ],
    }


def stored_canonical(orders: list[Order]) -> dict[int, dict[str, Any]]:
    """The canonical form of stored orders, read in three queries whatever their number."""
    ids = [o.pk for o in orders]
    lines: dict[int, list] = {i: [] for i in ids}
    for order_id, sku, quantity in (
        OrderLine.objects.filter(order_id__in=ids)
        .order_by("order_id", "id")
        .values_list("order_id", "product__sku", "quantity")
    ):
        lines[order_id].append((sku, _q(quantity, "quantity")))
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
    for leg in (
        Leg.objects.filter(shipment__order_id__in=ids)
        .order_by("shipment_id", "sequence", "id")
        .values_list(
            "shipment_id",
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
    ):
        by_shipment[leg[0]].append(
            (
                leg[1],
                leg[2],
                leg[3],
                _q(leg[4], "distance_km"),
                _q(leg[5], "mass_t"),
                leg[6],
                leg[7],
                leg[8],
                _q(leg[9], "fuel_amount"),
            )
        )
    return {
        o.pk: {
            "order_date": o.order_date,
            "delivery_date": o.delivery_date,
            "status": o.status,
            "site": o.delivery_site.name if o.delivery_site_id else None,
            "lines": lines[o.pk],
            "shipments": shipments[o.pk],
        }
        for o in orders
    }


# --- writing


def build_children(
    order: Order, data: OrderData, products: dict[str, Product]
) -> tuple[list[OrderLine], list[tuple[Shipment, list[Leg]]]]:
    lines = [
        OrderLine(order=order, product=products[line.sku], quantity=_q(line.quantity, "quantity"))
        for line in data.lines
    ]
    shipments = []
    for s in data.shipments:
        shipment = Shipment(order=order, reference=s.reference or "")
        legs = [
            Leg(
                shipment=shipment,
                sequence=n,
                category=leg.category,
                origin=leg.origin or "",
                destination=leg.destination or "",
                distance_km=_q(leg.distance_km, "distance_km"),
                mass_t=_q(leg.mass_t, "mass_t"),
                data_tier=leg.data_tier,
                radiative_forcing=bool(leg.radiative_forcing),
                fuel_type=leg.fuel_type or "",
                fuel_amount=_q(leg.fuel_amount, "fuel_amount"),
            )
            for n, leg in enumerate(s.legs, start=1)
        ]
        shipments.append((shipment, legs))
    return lines, shipments


def write_children(
    orders_data: list[tuple[Order, OrderData]], products: dict[str, Product], *, replace: bool
) -> None:
    """Bulk-insert lines, shipments and legs of many orders (replacing the old ones)."""
    if replace:
        ids = [o.pk for o, _ in orders_data]
        # Legs go with their shipments (CASCADE); lines and shipments in one query each.
        Shipment.objects.filter(order_id__in=ids).delete()
        OrderLine.objects.filter(order_id__in=ids).delete()
    all_lines: list[OrderLine] = []
    all_shipments: list[Shipment] = []
    all_legs: list[Leg] = []
    for order, data in orders_data:
        lines, shipments = build_children(order, data, products)
        all_lines.extend(lines)
        for shipment, legs in shipments:
            all_shipments.append(shipment)
            all_legs.extend(legs)
    OrderLine.objects.bulk_create(all_lines, batch_size=2000)
    Shipment.objects.bulk_create(all_shipments, batch_size=2000)
    for leg in all_legs:
        leg.shipment_id = leg.shipment.pk  # set after the shipments got their ids
    Leg.objects.bulk_create(all_legs, batch_size=2000)


def event_data(order: Order, *, created: bool, by=None) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "external_id": order.external_id,
        "created": created,
        "status": order.status,
        "order_date": order.order_date,
        "by": getattr(by, "pk", None),
    }


def _locked_order(organisation: Organisation, external_id: str) -> Order | None:
    """`organisation`'s order `external_id`, locked for the rest of the transaction, or None."""
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("delivery_site")
        .filter(organisation=organisation, external_id=external_id)
        .first()
    )


def upsert_order(organisation: Organisation, data: OrderData, *, by=None) -> tuple[Order, bool]:
    """Create or replace the order `data.external_id` of `organisation`; returns (order, created).

    Same data as stored: nothing is written (no rows, no snapshot, no event). Changed data: the
    order's lines, shipments and legs are replaced in one transaction, the footprint is
    recalculated (a new snapshot records what changed) and `greenloop.carbon.order_upserted`
    is published. Invalid data raises OrderDataError naming the first field at fault.
    """
    products, sites = lookups(organisation, [data])
    errors = validate_order(data, products=products, sites=sites)
    if errors:
        field_name, reason = errors[0]
        raise OrderDataError(reason, field=field_name)
    from carbon.footprint import (
        calculation,  # H-calc's module; imported late to keep import order simple
    )

    with transaction.atomic():
        order = _locked_order(organisation, data.external_id)
        created = order is None
        if not created and stored_canonical([order])[order.pk] == canonical(data):
            return order, False
        site = sites.get(data.site_name) if data.site_name else None
        if created:
            order = Order.objects.create(
                organisation=organisation,
                external_id=data.external_id,
                order_date=data.order_date,
                delivery_date=data.delivery_date,
                status=data.status,
                delivery_site=site,
            )
        else:
            order.order_date = data.order_date
            order.delivery_date = data.delivery_date
            order.status = data.status
            order.delivery_site = site
            order.save()
        write_children([(order, data)], products, replace=not created)
        calculation.calculate_order(order)
        events.publish(
            ORDER_UPSERTED,
            organisation,
            f"orders/{order.pk}",
            event_data(order, created=created, by=by),
        )
    return order, created
