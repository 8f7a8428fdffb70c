"""Carbon endpoints of the REST API: estimates, emission factors, and orders with their footprints.

Every order query is scoped with `caller.organisations()`: another organisation's order is 404,
never 403. Token callers need the `carbon:read` scope to read and `carbon:write` to write; session
callers act through their role (member or above to write).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Body, Field, File, Query, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict, StrictBool, StrictFloat

from carbon.footprint import calculation, categories
from carbon.footprint import orders as order_actions
from carbon.footprint.api_access import member_organisation
from carbon.footprint.engine import FUEL_UNITS, METHOD_VERSION
from carbon.footprint.estimate import estimate as estimate_footprint
from carbon.footprint.forms import MAX_IMPORT_BYTES
from carbon.footprint.importer import COLUMNS, start_import
from carbon.footprint.permissions import PERM_IMPORT
from carbon.footprint.units import (
    ENERGY,
    QuantityError,
    parse_number,
    parse_quantity,
    plain_decimal,
    stored_text,
)
from carbon.models import (
    CalculationSnapshot,
    DatasetStatus,
    DataTier,
    EmissionFactor,
    EnergyScope,
    FactorDataset,
    FactorKind,
    ImportJob,
    Leg,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
)
from portal.access import reachable_or_404
from portal.api import ApiError, Caller, ErrorOut, Input, caller, requires
from portal.api_common import (
    ERRORS,
    MAX_PAGE_SIZE,
    IsoDate,
    PageOut,
    organisation_named,
    page_out,
    require_perm,
)
from portal.api_contract import MAX_PAGE
from portal.api_scopes import register_scope
from portal.models import Organisation
from portal.text import Text

READ = "carbon:read"
WRITE = "carbon:write"
register_scope(READ, "Read orders, footprints and emission factors; request estimates")
register_scope(WRITE, "Create and update orders (upsert by external id, CSV import)")

router = Router(tags=["carbon"])
# Checked before the body is read (see portal.api.Access).
ESTIMATE_ACCESS = requires(READ)
ORDER_WRITE_ACCESS = requires(WRITE, load=member_organisation)


# --- shared schemas


class FactorOut(Schema):
    id: int = Field(..., examples=[1021])
    category: str = Field(..., examples=["road.van.diesel"])
    kind: str = Field(..., examples=["freight"])
    energy_scope: str = Field(..., description="TTW, WTT or WTW", examples=["TTW"])
    radiative_forcing: bool = Field(..., description="Air freight: includes non-CO2 effects")
    value: str = Field(..., description="As published (decimal string)", examples=["0.60539"])
    unit: str = Field(..., examples=["kgCO2e / (tonne * km)"])
    region: str = Field(..., examples=["GLO"])
    description: str
    dataset: str = Field(..., description="Dataset label slug@version", examples=["desnz-2025@1"])
    source_label: str = Field(..., description="The row as the source names it")


class DatasetOut(Schema):
    label: str = Field(..., examples=["desnz-2025@1"])
    slug: str
    version: int
    title: str
    publisher: str
    publication_date: date
    licence: str
    source_url: str
    gwp_basis: str
    distance_basis: str


class LegFactorIds(Schema):
    ttw: int
    wtt: int
    ttw_rf: int | None = Field(None, description="TTW row with radiative forcing, when asked")
    fuel_ttw: int | None = None
    fuel_wtt: int | None = None


class LegResultOut(Schema):
    shipment: str = ""
    sequence: int
    category: str
    method: str = Field(..., description="distance (t·km x intensity) or fuel (primary data)")
    tkm: str = Field(..., examples=["102.000000"])
    ttw_kg: str = Field(..., examples=["..."])
    wtt_kg: str
    wtw_kg: str = Field(..., description="TTW + WTT, without radiative forcing")
    radiative_forcing_kg: str | None = Field(
        None, description="Radiative-forcing uplift, reported on its own line (air, on request)"
    )
    factors: LegFactorIds


class TotalsOut(Schema):
    tkm: str
    ttw_kg: str
    wtt_kg: str
    wtw_kg: str = Field(..., description="Well-to-wheel, excluding radiative forcing (ISO 14083)")
    radiative_forcing_kg: str = Field(..., description="Sum of the radiative-forcing uplifts")
    wtw_incl_radiative_forcing_kg: str
    intensity_kg_per_tkm: str | None


class Scope2Out(Schema):
    electricity_kwh: str
    region: str | None
    location_kg: str | None = Field(..., description="Grid-average (location-based) Scope 2")
    market_kg: str | None = Field(
        ...,
        description="Market-based: r x 0 + (1 - r) x residual-mix factor; null without a "
        "(verified) green ratio or without a residual-mix factor",
    )
    green_ratio: str | None
    location_factor: int | None
    residual_factor: int | None


def _factor_out(f: dict[str, Any]) -> dict[str, Any]:
    return {k: f[k] for k in FactorOut.model_fields}


# --- request parsing helpers


def _fuel(fuel_type: str | None, fuel_used: str | None, where: str) -> tuple[str, Decimal | None]:
    if not fuel_type and not fuel_used:
        return "", None
    if not fuel_type:
        raise ApiError(
            422, "validation_error", f"{where}.fuel_type: say which fuel", f"{where}.fuel_type"
        )
    if fuel_type not in FUEL_UNITS:
        raise ApiError(
            422,
            "validation_error",
            f"{where}.fuel_type: unknown fuel '{fuel_type}'; one of {', '.join(FUEL_UNITS)}",
            f"{where}.fuel_type",
        )
    if not fuel_used:
        return fuel_type, None
    return fuel_type, _parsed(
        order_actions.parse_fuel_used, fuel_type, fuel_used, f"{where}.fuel_used"
    )


def _parsed(parse: Callable[..., Decimal], *args: Any) -> Decimal:
    """`parse(*args)` (one of carbon.footprint.orders' field parsers), its QuantityError as a
    422."""
    try:
        return parse(*args)
    except QuantityError as exc:
        raise ApiError(422, "invalid_quantity", f"{exc.field}: {exc.message}", exc.field) from exc


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return parse_number(value, field=field)
    except QuantityError as exc:
        raise ApiError(422, "validation_error", f"{field}: {exc.message}", field) from exc


def _dataset(ref: str | None) -> FactorDataset:
    """`slug` (newest published version) or `slug@version`; default: the default dataset."""
    if not ref:
        try:
            return calculation.default_dataset()
        except calculation.CalculationError as exc:
            raise ApiError(422, exc.code, exc.message, "dataset") from exc
    dataset = FactorDataset.objects.by_reference(ref)
    if dataset is None:
        raise ApiError(422, "unknown_dataset", f"dataset: no published dataset '{ref}'.", "dataset")
    return dataset


def _api_field(name: str | None) -> str | None:
    """Field names of the write path in the API's own words (mass, distance, fuel_used, site)."""
    if name is None:
        return None
    name = re.sub(r"\.mass_t$", ".mass", name)
    name = re.sub(r"\.distance_km$", ".distance", name)
    name = re.sub(r"\.fuel_amount$", ".fuel_used", name)
    return "site" if name == "site_name" else name


# --- POST /carbon/estimate


def _electricity(text: str) -> Decimal:
    return parse_quantity(text, field="electricity", kind="energy", to=ENERGY)


class EstimateLegIn(Input):
    category: str = Field(
        ...,
        description="Transport category code, see GET /api/v1/carbon/factors",
        examples=["road.van.diesel"],
    )
    mass: str = Field(..., description="Cargo mass with its unit", examples=["1.2 t"])
    distance: str = Field(..., description="Distance with its unit", examples=["85 km"])
    # Strict, as every boolean a client sends: pydantic would otherwise read 0, 1 or "yes".
    radiative_forcing: StrictBool = Field(
        False, description="Air freight: report the radiative-forcing uplift on its own line"
    )
    fuel_type: str | None = Field(
        None, description="Primary data: diesel, hfo, jet or electricity", examples=[None]
    )
    fuel_used: str | None = Field(
        None, description="Primary data: the leg's fuel, e.g. '31 l' or '2.1 t'", examples=[None]
    )
    data_tier: Literal["primary", "modelled", "default"] = "default"


class EstimateIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataset": "desnz-2025",
                    "legs": [
                        {
                            "category": "road.hgv.articulated",
                            "mass": "12.5 t",
                            "distance": "830 km",
                        },
                        {
                            "category": "sea.container.average",
                            "mass": "12.5 t",
                            "distance": "18,000 km",
                        },
                        {"category": "road.van.diesel", "mass": "1.2 t", "distance": "85 km"},
                    ],
                    "electricity": "12 MWh",
                    "region": "CN",
                    "green_ratio": "0.6",
                }
            ]
        }
    )

    dataset: str | None = Field(
        None, description="Dataset slug or slug@version; default: the active default dataset"
    )
    legs: list[EstimateLegIn] = Field(..., min_length=1, max_length=1000)
    electricity: str | None = Field(None, description="Attributed electricity, e.g. '12 MWh'")
    region: str | None = Field(None, description="Grid region of the site, e.g. CN")
    # Strict: pydantic would otherwise read `false` as a ratio of 0.
    green_ratio: str | StrictFloat | None = Field(
        None, description="Green-power ratio 0..1 for the market-based Scope 2 figure"
    )


class EstimateLegOut(LegResultOut):
    index: int
    mode: str


class EstimateOut(Schema):
    dataset: str = Field(..., examples=["desnz-2025@1"])
    datasets: list[DatasetOut]
    method_version: str = Field(..., examples=[METHOD_VERSION])
    legs: list[EstimateLegOut]
    totals: TotalsOut
    scope2: Scope2Out | None
    factors: list[FactorOut]


@router.post(
    "/carbon/estimate",
    response={200: EstimateOut, **ERRORS},
    summary="Estimate a shipment's footprint without storing it",
    description=(
        "Per-leg and total tank-to-wheel, well-to-tank and well-to-wheel emissions in kg CO2e "
        "(decimal strings), t·km, and the emission factors used with their sources. Quantities "
        "take any sensible unit ('12.5 t', '27,557 lb', '515.7 mi'). Radiative forcing for air "
        "is reported on its own line and never included in WTW. Needs scope carbon:read."
    ),
    auth=ESTIMATE_ACCESS,
)
def estimate(request: HttpRequest, payload: EstimateIn):
    dataset = _dataset(payload.dataset)
    legs = []
    for i, leg in enumerate(payload.legs):
        where = f"legs[{i}]"
        fuel_type, fuel_amount = _fuel(leg.fuel_type, leg.fuel_used, where)
        data = order_actions.LegData(
            category=leg.category,
            mass_t=_parsed(order_actions.parse_mass, leg.mass, f"{where}.mass"),
            distance_km=_parsed(order_actions.parse_distance, leg.distance, f"{where}.distance"),
            radiative_forcing=leg.radiative_forcing,
            fuel_type=fuel_type,
            fuel_amount=fuel_amount,
            data_tier=leg.data_tier,
        )
        for name, reason in order_actions.leg_bounds(data):
            field = _api_field(f"{where}.{name}")
            raise ApiError(422, "invalid_quantity", f"{field}: {reason}", field)
        legs.append(asdict(data))
    electricity = _parsed(_electricity, payload.electricity) if payload.electricity else None
    result = estimate_footprint(
        legs,
        dataset=dataset,
        electricity_kwh=electricity,
        region=(payload.region or "").strip() or None,
        green_ratio=_decimal(payload.green_ratio, "green_ratio"),
    )
    footprint = result.footprint
    return {
        "dataset": dataset.label,
        "datasets": result.table.datasets_json(footprint.factors, full=True),
        "method_version": METHOD_VERSION,
        "legs": [
            {**leg, "index": i, "mode": categories.get(leg["category"]).mode}
            for i, leg in enumerate(footprint.legs_json())
        ],
        "totals": footprint.totals_json(),
        "scope2": footprint.scope2.as_json() if electricity else None,
        "factors": [_factor_out(f.as_json(full=True)) for f in footprint.factors],
    }


# --- GET /carbon/factors


class FactorFilters(Input):
    dataset: str | None = Field(None, description="slug or slug@version (default: all published)")
    category: str | None = Field(None, description="Exact code, or a prefix ending in '.'")
    energy_scope: EnergyScope | None = None
    kind: FactorKind | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class FactorPage(PageOut):
    items: list[FactorOut]


@router.get(
    "/carbon/factors",
    response={200: FactorPage, **ERRORS},
    summary="Emission factors of the published datasets",
    description="Filter by dataset, category (exact or prefix like 'air.'), energy scope and "
    "kind. Needs scope carbon:read.",
)
def factors(request: HttpRequest, filters: Query[FactorFilters]):
    caller(request).require_scope(READ)
    qs = EmissionFactor.objects.select_related("dataset").filter(
        dataset__status__in=[DatasetStatus.PUBLISHED, DatasetStatus.RETIRED]
    )
    if filters.dataset:
        qs = qs.filter(dataset=_dataset(filters.dataset))
    if filters.category:
        qs = (
            qs.filter(category__startswith=filters.category)
            if filters.category.endswith(".")
            else qs.filter(category=filters.category)
        )
    if filters.energy_scope:
        qs = qs.filter(energy_scope=filters.energy_scope)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    qs = qs.order_by("dataset__slug", "-dataset__version", "category", "energy_scope", "id")
    return page_out(qs, filters.page, filters.page_size, _factor_row_out)


def _factor_row_out(f: EmissionFactor) -> dict[str, Any]:
    return {
        "id": f.pk,
        "category": f.category,
        "kind": f.kind,
        "energy_scope": f.energy_scope,
        "radiative_forcing": f.radiative_forcing,
        "value": plain_decimal(f.value),
        "unit": f.unit,
        "region": f.region,
        "description": f.description,
        "dataset": f.dataset.label,
        "source_label": f.source_label,
    }


# --- orders


class FootprintSummary(Schema):
    snapshot_id: int
    calculated_at: datetime
    method_version: str
    tkm: str
    ttw_kg: str
    wtt_kg: str
    wtw_kg: str
    default_share: str = Field(..., description="Share of t·km computed with default factors")
    electricity_kwh: str
    scope2_location_kg: str
    scope2_market_kg: str | None


class OrderOut(Schema):
    id: int
    external_id: str
    organisation: str = Field(..., description="Organisation slug")
    order_date: date
    delivery_date: date | None
    status: str
    site: str | None
    modes: list[str]
    footprint: FootprintSummary | None


class OrderPage(PageOut):
    items: list[OrderOut]


class LineOut(Schema):
    sku: str
    name: str
    quantity: str


class LegOut(Schema):
    sequence: int
    category: str
    origin: str
    destination: str
    mass_t: str
    distance_km: str
    data_tier: str
    radiative_forcing: bool
    fuel_type: str
    fuel_amount: str | None


class ShipmentOut(Schema):
    reference: str
    legs: list[LegOut]


class OrderDetailOut(OrderOut):
    lines: list[LineOut]
    shipments: list[ShipmentOut]


def _with_footprint(qs: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with their current snapshot's totals as columns (one LEFT JOIN, no JSON read)."""
    return qs.with_footprint().annotate(
        fp_created_at=F("fp__created_at"),
        fp_method_version=F("fp__method_version"),
        fp_electricity_kwh=F("fp__electricity_kwh"),
        fp_scope2_location_kg=F("fp__scope2_location_kg"),
        fp_scope2_market_kg=F("fp__scope2_market_kg"),
    )


def _orders_for(c: Caller) -> QuerySet[Order]:
    return _with_footprint(
        Order.objects.filter(organisation__in=c.organisations()).select_related(
            "organisation", "delivery_site"
        )
    )


def _summary(order: Order) -> dict[str, Any] | None:
    if order.fp_snapshot_id is None:
        return None
    s = stored_text
    return {
        "snapshot_id": order.fp_snapshot_id,
        "calculated_at": order.fp_created_at,
        "method_version": order.fp_method_version,
        "tkm": s(order.fp_tkm),
        "ttw_kg": s(order.fp_ttw_kg),
        "wtt_kg": s(order.fp_wtt_kg),
        "wtw_kg": s(order.fp_wtw_kg),
        "default_share": s(order.fp_default_share),
        "electricity_kwh": s(order.fp_electricity_kwh),
        "scope2_location_kg": s(order.fp_scope2_location_kg),
        "scope2_market_kg": s(order.fp_scope2_market_kg),
    }


_LEG_CATEGORIES = Prefetch(
    "shipments",
    queryset=Shipment.objects.order_by("id").prefetch_related(
        Prefetch("legs", queryset=Leg.objects.order_by("sequence", "id"))
    ),
)


def _order_out(order: Order) -> dict[str, Any]:
    modes = {
        c.mode
        for shipment in order.shipments.all()
        for leg in shipment.legs.all()
        if (c := categories.get(leg.category)) is not None
    }
    return {
        "id": order.pk,
        "external_id": order.external_id,
        "organisation": order.organisation.slug,
        "order_date": order.order_date,
        "delivery_date": order.delivery_date,
        "status": order.status,
        "site": order.delivery_site.name if order.delivery_site_id else None,
        "modes": sorted(modes),
        "footprint": _summary(order),
    }


def _order_detail(order: Order) -> dict[str, Any]:
    return {
        **_order_out(order),
        "lines": [
            {"sku": line.product.sku, "name": line.product.name, "quantity": str(line.quantity)}
            for line in order.lines.all()
        ],
        "shipments": [
            {
                "reference": shipment.reference,
                "legs": [
                    {
                        "sequence": leg.sequence,
                        "category": leg.category,
                        "origin": leg.origin,
                        "destination": leg.destination,
                        "mass_t": str(leg.mass_t),
                        "distance_km": str(leg.distance_km),
                        "data_tier": leg.data_tier,
                        "radiative_forcing": leg.radiative_forcing,
                        "fuel_type": leg.fuel_type,
                        "fuel_amount": None if leg.fuel_amount is None else str(leg.fuel_amount),
                    }
                    for leg in shipment.legs.all()
                ],
            }
            for shipment in order.shipments.all()
        ],
    }


def _detail_queryset(c: Caller) -> QuerySet[Order]:
    return _orders_for(c).prefetch_related(
        _LEG_CATEGORIES,
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("id")),
    )


SORTS = {
    "order_date": ("order_date", "id"),
    "-order_date": ("-order_date", "-id"),
    "external_id": ("external_id", "id"),
    "-external_id": ("-external_id", "-id"),
    "wtw_kg": (F("fp_wtw_kg").asc(nulls_last=True), "id"),
    "-wtw_kg": (F("fp_wtw_kg").desc(nulls_last=True), "-id"),
    "tkm": (F("fp_tkm").asc(nulls_last=True), "id"),
    "-tkm": (F("fp_tkm").desc(nulls_last=True), "-id"),
}


class OrderFilters(Input):
    organisation: str | None = Field(None, description="Organisation slug (session callers)")
    date_from: IsoDate | None = Field(None, alias="from", description="Order date on or after")
    date_to: IsoDate | None = Field(None, alias="to", description="Order date on or before")
    mode: Literal["road", "rail", "sea", "air"] | None = Field(
        None, description="Orders with at least one leg of this mode"
    )
    site: str | None = Field(None, description="Delivery site name")
    status: OrderStatus | None = None
    sort: Literal[tuple(SORTS)] = "-order_date"  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@router.get(
    "/orders",
    response={200: OrderPage, **ERRORS},
    summary="Orders with their current footprint totals",
    description="Filter by period (`from`, `to`), transport mode, site and status; sort by "
    "order date, order number, WTW or t·km; paginated. Needs scope carbon:read.",
)
def list_orders(request: HttpRequest, filters: Query[OrderFilters]):
    c = caller(request)
    c.require_scope(READ)
    qs = _orders_for(c)
    if filters.organisation:
        qs = qs.filter(organisation__slug=filters.organisation)
    if filters.date_from:
        qs = qs.filter(order_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(order_date__lte=filters.date_to)
    if filters.site:
        qs = qs.filter(delivery_site__name=filters.site)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.mode:
        qs = qs.filter(
            Exists(
                Leg.objects.filter(
                    shipment__order=OuterRef("pk"), category__startswith=f"{filters.mode}."
                )
            )
        )
    page = qs.order_by(*SORTS[filters.sort]).prefetch_related(_LEG_CATEGORIES)
    return page_out(page, filters.page, filters.page_size, _order_out)


def _get_order(c: Caller, order_id: int) -> Order:
    return reachable_or_404(c.request, _detail_queryset(c), pk=order_id)


@router.get(
    "/orders/{int:order_id}",
    response={200: OrderDetailOut, **ERRORS},
    summary="One order with its lines, shipments, legs and current footprint totals",
)
def get_order(request: HttpRequest, order_id: int):
    c = caller(request)
    c.require_scope(READ)
    return _order_detail(_get_order(c, order_id))


class SnapshotOut(Schema):
    id: int
    order_id: int
    external_id: str
    created_at: datetime
    is_current: bool
    supersedes: int | None
    method_version: str
    datasets: list[DatasetOut]
    factors: list[FactorOut]
    legs: list[LegResultOut]
    totals: TotalsOut
    data_quality: dict[str, Any]
    scope2: Scope2Out
    inputs: dict[str, Any] = Field(..., description="Everything the calculation read")
    changes: dict[str, Any] = Field(
        ..., description="What changed against the snapshot this one supersedes"
    )


@router.get(
    "/orders/{int:order_id}/footprint",
    response={200: SnapshotOut, **ERRORS},
    summary="The order's current calculation snapshot with its per-leg breakdown",
    description="Per-leg TTW/WTT/WTW, totals, data quality and Scope 2, the factors used with "
    "their source rows, the dataset versions and the method version. 404 when the order has "
    "not been calculated.",
)
def get_footprint(request: HttpRequest, order_id: int):
    c = caller(request)
    c.require_scope(READ)
    order = reachable_or_404(
        request, Order.objects.filter(organisation__in=c.organisations()), pk=order_id
    )
    snapshot = CalculationSnapshot.objects.filter(order=order, is_current=True).first()
    if snapshot is None:
        raise ApiError(404, "not_calculated", "This order has no footprint yet.")
    return {
        "id": snapshot.pk,
        "order_id": order.pk,
        "external_id": order.external_id,
        "created_at": snapshot.created_at,
        "is_current": snapshot.is_current,
        "supersedes": snapshot.supersedes_id,
        "method_version": snapshot.method_version,
        "datasets": snapshot.datasets,
        "factors": [_factor_out(f) for f in snapshot.factors],
        "legs": snapshot.results["legs"],
        "totals": snapshot.results["totals"],
        "data_quality": snapshot.results["data_quality"],
        "scope2": snapshot.results["scope2"],
        "inputs": snapshot.inputs,
        "changes": snapshot.changes,
    }


# --- upsert by external id


class LineIn(Input):
    sku: str = Field(..., examples=["INV-50K"])
    quantity: Decimal | str = Field(..., examples=["4"])


class LegIn(Input):
    category: str = Field(..., examples=["road.hgv.articulated"])
    mass: str = Field(..., examples=["12.5 t"])
    distance: str = Field(..., examples=["830 km"])
    origin: str = Field("", examples=["Shenzhen factory"])
    destination: str = Field("", examples=["Yantian port"])
    data_tier: str = Field(DataTier.DEFAULT, description="primary, modelled or default")
    radiative_forcing: StrictBool = False
    fuel_type: str | None = None
    fuel_used: str | None = Field(None, description="Primary data, e.g. '310 l'")


class ShipmentIn(Input):
    reference: str = Field("", examples=["SHP-2025-0042"])
    legs: list[LegIn] = Field(..., min_length=1)


class OrderIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_date": "2025-03-14",
                    "delivery_date": "2025-04-20",
                    "status": "shipped",
                    "site": "Werk Hamburg",
                    "lines": [{"sku": "INV-50K", "quantity": "4"}],
                    "shipments": [
                        {
                            "reference": "SHP-2025-0042",
                            "legs": [
                                {
                                    "category": "road.hgv.articulated",
                                    "mass": "12.5 t",
                                    "distance": "120 km",
                                    "origin": "Shenzhen",
                                    "destination": "Yantian",
                                },
                                {
                                    "category": "sea.container.average",
                                    "mass": "12.5 t",
                                    "distance": "19,500 km",
                                    "origin": "Yantian",
                                    "destination": "Hamburg",
                                },
                            ],
                        }
                    ],
                }
            ]
        }
    )

    order_date: IsoDate
    delivery_date: IsoDate | None = None
    status: str = OrderStatus.OPEN
    site: str | None = Field(None, description="Name of one of the organisation's sites")
    lines: list[LineIn] = Field(default_factory=list)
    shipments: list[ShipmentIn] = Field(default_factory=list)


class UpsertOut(OrderDetailOut):
    created: bool


def _order_data(external_id: str, payload: OrderIn) -> order_actions.OrderData:
    shipments = []
    for s, shipment in enumerate(payload.shipments):
        legs = []
        for g, leg in enumerate(shipment.legs):
            where = f"shipments[{s}].legs[{g}]"
            fuel_type, fuel_amount = _fuel(leg.fuel_type, leg.fuel_used, where)
            legs.append(
                order_actions.LegData(
                    category=leg.category,
                    mass_t=_parsed(order_actions.parse_mass, leg.mass, f"{where}.mass"),
                    distance_km=_parsed(
                        order_actions.parse_distance, leg.distance, f"{where}.distance"
                    ),
                    origin=leg.origin,
                    destination=leg.destination,
                    data_tier=leg.data_tier,
                    radiative_forcing=leg.radiative_forcing,
                    fuel_type=fuel_type,
                    fuel_amount=fuel_amount,
                )
            )
        shipments.append(order_actions.ShipmentData(reference=shipment.reference, legs=legs))
    return order_actions.OrderData(
        external_id=external_id,
        order_date=payload.order_date,
        delivery_date=payload.delivery_date,
        status=payload.status,
        site_name=payload.site or None,
        lines=[
            order_actions.LineData(
                sku=line.sku,
                quantity=_parsed(
                    order_actions.parse_line_quantity, line.quantity, f"lines[{i}].quantity"
                ),
            )
            for i, line in enumerate(payload.lines)
        ],
        shipments=shipments,
    )


@router.put(
    "/organisations/{slug}/orders/{external_id}",
    response={200: UpsertOut, 201: UpsertOut, **ERRORS},
    summary="Create or replace an order by its external id (idempotent)",
    description=(
        "The order number in your system is the key, within the organisation `slug`: the same "
        "body twice changes nothing. A changed body replaces the order's lines, shipments and "
        "legs and recalculates its footprint (a new snapshot records what changed). 201 when "
        "created, 200 otherwise. Tokens need scope carbon:write and act only for their own "
        "organisation; people need the member role. The caller is authorised before the body "
        "is required, so another organisation's slug is always 404."
    ),
    openapi_extra={"requestBody": {"required": True}},
    auth=ORDER_WRITE_ACCESS,
)
def upsert_order(
    request: HttpRequest, slug: Text, external_id: Text, payload: Body[OrderIn | None] = None
):
    c = caller(request)
    organisation = c.target
    if payload is None:
        raise ApiError(422, "validation_error", "body: the order is required.", "body")
    data = _order_data(external_id, payload)
    try:
        order, created = order_actions.upsert_order(organisation, data, by=c.user)
    except (order_actions.OrderDataError, calculation.CalculationError) as exc:
        field = _api_field(exc.field)
        message = f"{field}: {exc.message}" if field else exc.message
        raise ApiError(422, exc.code, message, field) from exc
    detail = _order_detail(_detail_queryset(c).get(pk=order.pk))
    return Status(201 if created else 200, {**detail, "created": created})


@router.get(
    "/organisations/{slug}/orders/{external_id}",
    response={200: OrderDetailOut, **ERRORS},
    summary="One order by its external id",
)
def get_order_by_external_id(request: HttpRequest, slug: Text, external_id: Text):
    c = caller(request)
    c.require_scope(READ)
    return _order_detail(_order_by_external_id(c, organisation_named(c, slug), external_id))


def _order_by_external_id(c: Caller, organisation: Organisation, external_id: str) -> Order:
    """`organisation`'s order `external_id` among the caller's (404 otherwise)."""
    order = _detail_queryset(c).filter(organisation=organisation, external_id=external_id).first()
    if order is None:
        raise Http404
    return order


# --- CSV import


class ImportErrorOut(Schema):
    row: int | None = Field(..., description="Line of the file (the header is row 1)")
    column: str = Field(..., examples=["mass"])
    value: str = Field(..., examples=["-3 t"])
    reason: str = Field(..., examples=["a mass cannot be negative"])


class ImportJobOut(Schema):
    id: int = Field(..., examples=[42])
    organisation: str = Field(..., description="Organisation slug")
    file_name: str = Field(..., examples=["orders-2025-03.csv"])
    status: str = Field(
        ...,
        description="pending, running, succeeded (everything stored) or failed (nothing stored)",
        examples=["succeeded"],
    )
    finished: bool
    phase: str = Field(..., description="validating or storing while the job runs, else empty")
    rows_done: int
    rows_total: int
    progress: int = Field(..., description="Percentage of rows done", ge=0, le=100)
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] = Field(
        ..., description="rows, orders, created, updated, unchanged (or errors when failed)"
    )
    errors: list[ImportErrorOut] = Field(
        ..., description="The full error report; empty unless the file was rejected"
    )
    url: str = Field(..., description="Where to poll the job (also sent as the Location header)")


def _job_url(job: ImportJob) -> str:
    return reverse(
        "api-v1:get_order_import",
        kwargs={"slug": job.organisation.slug, "job_id": job.pk},
    )


def _job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "organisation": job.organisation.slug,
        "file_name": job.original_name,
        "status": job.status,
        "finished": job.is_finished,
        "phase": job.phase,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "progress": 100 if job.status == "succeeded" else min(job.percent, 100),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "summary": {k: v for k, v in (job.summary or {}).items() if k != "external_ids"},
        "errors": [
            {
                "row": e.get("row"),
                "column": str(e.get("column") or ""),
                "value": str(e.get("value") or ""),
                "reason": str(e.get("reason") or ""),
            }
            for e in job.error_report or []
        ],
        "url": _job_url(job),
    }


@router.post(
    "/organisations/{slug}/order-imports",
    response={202: ImportJobOut, 400: ErrorOut, **ERRORS},
    summary="Import orders from a CSV file (POST /organisations/{slug}/order-imports)",
    description=(
        "Upload a CSV (multipart field `file`, UTF-8, one row per transport leg; columns "
        f"{', '.join(COLUMNS)}) for the organisation `slug`, as the order upsert names it. "
        "Every row and field is validated first; nothing is stored unless the whole file is "
        "valid. Answers 202 with the import job and its URL in the `Location` header; poll "
        "GET /organisations/{slug}/order-imports/{job_id} for status, progress and the error "
        "report (row, column, value, reason). Small files are finished when the answer comes; "
        "large ones run in the background. Tokens need scope carbon:write and act only for "
        "their own organisation; people need the member role. The caller is authorised "
        "before the file is required, so another organisation's slug is always 404."
    ),
    openapi_extra={"requestBody": {"required": True}},
    auth=ORDER_WRITE_ACCESS,
)
def import_orders(
    request: HttpRequest,
    slug: Text,
    response: HttpResponse,
    file: File[UploadedFile | None] = None,
):
    c = caller(request)
    organisation = c.target
    if file is None:
        raise ApiError(422, "validation_error", "file: a CSV file is required.", "file")
    if file.size > MAX_IMPORT_BYTES:
        raise ApiError(
            422, "file_too_large", "file: the file is larger than 100 MB; split it.", "file"
        )
    job = start_import(organisation, file, by=c.user)
    job.organisation = organisation
    response["Location"] = _job_url(job)
    return Status(202, _job_out(job))


@router.get(
    "/organisations/{slug}/order-imports/{int:job_id}",
    response={200: ImportJobOut, **ERRORS},
    summary="An order import: status, progress and the full error report",
    description="Status (pending, running, succeeded, failed), phase, rows done of the total, "
    "the summary and every problem found (row, column, value, reason). Needs scope "
    "carbon:read; people need the member role.",
)
def get_order_import(request: HttpRequest, slug: Text, job_id: int):
    c = caller(request)
    c.require_scope(READ)
    organisation = organisation_named(c, slug)
    require_perm(c, PERM_IMPORT, organisation, "Only members and admins see order imports.")
    job = _import_job(organisation, job_id)
    job.organisation = organisation
    return _job_out(job)


def _import_job(organisation: Organisation, job_id: int) -> ImportJob:
    """`organisation`'s import job `job_id` (404 otherwise)."""
    job = ImportJob.objects.filter(organisation=organisation, pk=job_id).first()
    if job is None:
        raise Http404
    return job
