"""Footprint API: orders with their footprints, and the upsert of an order by external id.

Every order query is scoped with `caller.organisations()`: another organisation's order is 404,
never 403. Token callers need the `carbon:read` scope to read and `carbon:write` to write; session
callers act through their role (member or above to write).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict, cast

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Body, Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool

from carbon.footprint import actions, categories, incoterms, provenance
from carbon.footprint import legs as legs_parser
from carbon.footprint.api_schemas import (
    ORDER_WRITE_ACCESS,
    READ,
    DatasetOut,
    FactorOut,
    LegResultOut,
    OrderDetailOut,
    OrderPage,
    Scope2Out,
    TotalsOut,
    api_field,
    factor_out,
    parsed_or_422,
)
from carbon.footprint.exceptions import CalculationError, OrderDataError
from carbon.footprint.model import leg_distance
from carbon.footprint.orders import LineData, OrderData, ShipmentData, StoredOrders
from carbon.footprint.units import stored_text
from carbon.models import (
    CalculationSnapshot,
    DataTier,
    Leg,
    Order,
    OrderLine,
    OrderQuerySet,
    OrderStatus,
    Shipment,
    order_sort,
)
from portal.access import reachable_or_404
from portal.api import ApiError, Caller, Input, caller
from portal.api_common import (
    ERRORS,
    MAX_PAGE_SIZE,
    IsoDate,
    organisation_named,
    page_out,
)
from portal.api_contract import MAX_PAGE
from portal.models import Organisation
from portal.text import Text

if TYPE_CHECKING:
    # Typing helper of django-stubs (a development dependency): read only by the type checker.
    from django_stubs_ext import WithAnnotations

    # An order read with `_with_footprint`'s columns.
    FootprintOrder: TypeAlias = WithAnnotations[Order, "_Footprint"]

router = Router(tags=["carbon"])


# --- orders


class _Footprint(TypedDict):
    """The columns `_with_footprint` adds (all None before a calculation)."""

    fp_snapshot_id: int | None
    fp_created_at: datetime | None
    fp_method_version: str | None
    fp_tkm: Decimal | None
    fp_ttw_kg: Decimal | None
    fp_wtt_kg: Decimal | None
    fp_wtw_kg: Decimal | None
    fp_default_share: Decimal | None
    fp_electricity_kwh: Decimal | None
    fp_scope2_location_kg: Decimal | None
    fp_scope2_market_kg: Decimal | None


def _with_footprint(qs: OrderQuerySet) -> QuerySet[FootprintOrder]:
    """Orders with their current snapshot's totals as columns (one LEFT JOIN, no JSON read)."""
    # The type checker sees only the columns annotated here, not those of with_footprint().
    annotated = qs.with_footprint().annotate(
        fp_created_at=F("fp__created_at"),
        fp_method_version=F("fp__method_version"),
        fp_electricity_kwh=F("fp__electricity_kwh"),
        fp_scope2_location_kg=F("fp__scope2_location_kg"),
        fp_scope2_market_kg=F("fp__scope2_market_kg"),
    )
    return cast("QuerySet[FootprintOrder]", annotated)


def _orders_for(c: Caller) -> QuerySet[FootprintOrder]:
    return _with_footprint(
        Order.objects.filter(organisation__in=c.organisations()).select_related(
            "organisation", "delivery_site"
        )
    )


def _summary(order: FootprintOrder) -> dict[str, Any] | None:
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


def _order_out(order: FootprintOrder) -> dict[str, Any]:
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
        "site": order.delivery_site.name if order.delivery_site else None,
        "incoterm": order.incoterm or None,
        "main_carriage_paid_by": incoterms.main_carriage_payer(order.incoterm),
        "scope3_category": incoterms.scope3_category(order.incoterm),
        "modes": sorted(modes),
        "footprint": _summary(order),
    }


def _order_detail(order: FootprintOrder) -> dict[str, Any]:
    legs = [leg for shipment in order.shipments.all() for leg in shipment.legs.all()]
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
                        "source": leg.source,
                        "data_type": leg.data_type,
                        "attested": leg.attested,
                        "distance": leg_distance(leg),
                    }
                    for leg in shipment.legs.all()
                ],
            }
            for shipment in order.shipments.all()
        ],
        "points_holds": [hold.as_json() for hold in provenance.points_holds(order, legs)],
        "method_statement": {
            "api": reverse("api-v1:carbon_method"),
            "page": reverse(
                "carbon:method_statement", kwargs={"org_slug": order.organisation.slug}
            ),
        },
    }


def _detail_queryset(c: Caller) -> QuerySet[FootprintOrder]:
    return _orders_for(c).prefetch_related(
        _LEG_CATEGORIES,
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("id")),
    )


# The API's names of the order list's sorts (carbon.models.ORDER_SORTS); "-" reverses one.
API_SORT_KEYS = {"order_date": "date", "external_id": "order", "wtw_kg": "wtw", "tkm": "tkm"}
API_SORTS = tuple(f"{sign}{name}" for name in API_SORT_KEYS for sign in ("", "-"))


class OrderFilters(Input):
    organisation: str | None = Field(None, description="Organisation slug (session callers)")
    date_from: IsoDate | None = Field(None, alias="from", description="Order date on or after")
    date_to: IsoDate | None = Field(None, alias="to", description="Order date on or before")
    mode: Literal["road", "rail", "sea", "air", "hub"] | None = Field(
        None, description="Orders with at least one leg of this mode"
    )
    site: str | None = Field(None, description="Delivery site name")
    status: OrderStatus | None = None
    sort: Literal[API_SORTS] = "-order_date"  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@router.get(
    "/orders",
    response={200: OrderPage, **ERRORS},
    summary="Orders with their current footprint totals",
    description="Filter by period (`from`, `to`), transport mode, site and status; sort by "
    "order date, order number, WTW or t·km; paginated. Needs scope carbon:read.",
    operation_id="carbon_footprint_api_list_orders",
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
    sort = order_sort(API_SORT_KEYS[filters.sort.lstrip("-")], descending=filters.sort[0] == "-")
    page = qs.order_by(*sort).prefetch_related(_LEG_CATEGORIES)
    return page_out(page, filters.page, filters.page_size, _order_out)


def _get_order(c: Caller, order_id: int) -> FootprintOrder:
    return reachable_or_404(c.request, _detail_queryset(c), pk=order_id)


@router.get(
    "/orders/{int:order_id}",
    response={200: OrderDetailOut, **ERRORS},
    summary="One order with its lines, shipments, legs and current footprint totals",
    operation_id="carbon_footprint_api_get_order",
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
    operation_id="carbon_footprint_api_get_footprint",
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
        "factors": [factor_out(f) for f in snapshot.factors],
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
    """A transport leg: the fields of a CSV leg row, read by the same parser
    (`carbon.footprint.legs.parse_leg`)."""

    category: str = Field(
        ...,
        description="Transport category, or a hub stop hub.<type>.<temperature> (e.g. "
        "hub.warehouse.ambient: GLEC v3 default per tonne handled)",
        examples=["road.hgv.articulated"],
    )
    mass: str = Field(
        ...,
        description="Cargo mass in t, tonne, kg, g, lb, long_ton or short_ton ('ton', 'mt' "
        "and 'Mt' are refused as ambiguous); for a hub stop the tonnes handled",
        examples=["12.5 t"],
    )
    distance: str | None = Field(
        None,
        description="Distance in km, m, mi or nmi ('nm' is refused: it is a nanometre); "
        "required for transport legs, empty or absent for hub stops",
        examples=["830 km"],
    )
    origin: str = Field("", examples=["Shenzhen factory"])
    destination: str = Field("", examples=["Yantian port"])
    data_tier: str = Field(DataTier.DEFAULT, description="primary, modelled or default")
    radiative_forcing: StrictBool = Field(False, description="Air legs only")
    fuel_type: str | None = Field(
        None,
        description="Primary data: diesel (road, rail, sea), hfo (sea), jet (air) or "
        "electricity (road, rail); needs fuel_used",
    )
    fuel_used: str | None = Field(
        None,
        description="Primary data: diesel and jet in l, m3, US_gallon or imperial_gallon, hfo "
        "in kg, electricity in kWh; e.g. '310 l'",
    )


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
    incoterm: str | None = Field(
        None,
        description="Incoterms 2020 rule (EXW, FCA, FAS, FOB, CPT, CIP, CFR, CIF, DAP, DPU, "
        "DDP); who pays the main carriage follows from it. Absent: not stated",
        examples=["FOB"],
    )
    lines: list[LineIn] = Field(default_factory=list)
    shipments: list[ShipmentIn] = Field(default_factory=list)


class UpsertOut(OrderDetailOut):
    created: bool


def _order_data(external_id: str, payload: OrderIn) -> OrderData:
    """The order the body describes, its legs read as a CSV import reads them
    (`carbon.footprint.legs.parse_leg`): the first problem is a 422 naming the field."""
    shipments = []
    for s, shipment in enumerate(payload.shipments):
        legs = []
        for g, leg_in in enumerate(shipment.legs):
            leg, problems = legs_parser.parse_leg(leg_in.model_dump())
            if leg is None:
                first = problems[0]
                field = f"shipments[{s}].legs[{g}].{first.field}"
                raise ApiError(422, first.code, f"{field}: {first.reason}", field)
            legs.append(leg)
        shipments.append(ShipmentData(reference=shipment.reference, legs=legs))
    return OrderData(
        external_id=external_id,
        order_date=payload.order_date,
        delivery_date=payload.delivery_date,
        status=payload.status,
        site_name=payload.site or None,
        incoterm=incoterms.normalise(payload.incoterm),
        lines=[
            LineData(
                sku=line.sku,
                quantity=parsed_or_422(
                    legs_parser.parse_line_quantity, line.quantity, f"lines[{i}].quantity"
                ),
            )
            for i, line in enumerate(payload.lines)
        ],
        shipments=shipments,
    )


def store_order(
    organisation: Organisation, external_id: str, payload: OrderIn, by, *, source: str
) -> StoredOrders:
    """The order `payload` describes, stored through the one write path (also the CRM's,
    `carbon.footprint.crm`) as written by `source` (the caller's channel, see
    `carbon.footprint.provenance`); every refusal is a 422 naming the field."""
    data = _order_data(external_id, payload)
    try:
        return actions.store_orders(organisation, [data], by, announce="each", source=source)
    except (OrderDataError, CalculationError) as exc:
        field = api_field(exc.field)
        message = f"{field}: {exc.message}" if field else exc.message
        raise ApiError(422, exc.code, message, field) from exc


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
    operation_id="carbon_footprint_api_upsert_order",
)
def upsert_order(
    request: HttpRequest, slug: Text, external_id: Text, payload: Body[OrderIn | None] = None
):
    c = caller(request)
    organisation = c.target
    if payload is None:
        raise ApiError(422, "validation_error", "body: the order is required.", "body")
    stored = store_order(
        organisation, external_id, payload, c.user, source=provenance.source_for_caller(c)
    )
    created = external_id in stored.created
    detail = _order_detail(_detail_queryset(c).get(pk=stored.orders[external_id].pk))
    return Status(201 if created else 200, {**detail, "created": created})


@router.get(
    "/organisations/{slug}/orders/{external_id}",
    response={200: OrderDetailOut, **ERRORS},
    summary="One order by its external id",
    operation_id="carbon_footprint_api_get_order_by_external_id",
)
def get_order_by_external_id(request: HttpRequest, slug: Text, external_id: Text):
    c = caller(request)
    c.require_scope(READ)
    return _order_detail(_order_by_external_id(c, organisation_named(c, slug), external_id))


def _order_by_external_id(
    c: Caller, organisation: Organisation, external_id: str
) -> FootprintOrder:
    """`organisation`'s order `external_id` among the caller's (404 otherwise)."""
    order = _detail_queryset(c).filter(organisation=organisation, external_id=external_id).first()
    if order is None:
        raise Http404
    return order
