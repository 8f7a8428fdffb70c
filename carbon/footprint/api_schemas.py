"""What the footprint wing's API endpoints share: the carbon scopes and access checks, the
output schemas of factors, datasets and footprints, and the reading of a field error.

Operation ids stay those of the endpoints' first home, `carbon.footprint.api`, whichever module of
the wing now holds them (`api_estimate`, `api_orders`, `api_imports`): clients generated from the
OpenAPI document keep their method names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema

from carbon.footprint.api_access import member_organisation
from carbon.footprint.exceptions import QuantityError
from carbon.footprint.provenance import ATTEST_SCOPE
from carbon.footprint.units import counts_co2_only
from portal.api import ApiError, requires
from portal.api_common import PageOut
from portal.api_scopes import register_integration_scope, register_scope

READ = "carbon:read"
WRITE = "carbon:write"
register_scope(READ, _("Read orders, footprints and emission factors; request estimates"))
register_scope(WRITE, _("Create and update orders (upsert by external id, CSV import)"))
# A carrier's or the vendor's logistics system pushing orders through the CRM endpoints: its
# legs are recorded as the carrier's attested data (carbon.footprint.provenance).
register_integration_scope(
    ATTEST_SCOPE,
    _("Attest order legs as a carrier or vendor system's data (integration tokens only)"),
)

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
    gases: str = Field(
        "CO2e",
        description="What the factor counts: CO2e (CO2, CH4 and N2O by the dataset's GWP basis) "
        "or CO2 alone (a lower bound of CO2e)",
        examples=["CO2e"],
    )


class DatasetSelectionOut(Schema):
    role: str = Field(..., description="freight, or grid (Scope 2)", examples=["freight"])
    activity_date: date = Field(..., description="The order date the version was chosen for")
    basis: str = Field(
        ...,
        description="covers (its validity covers the date), earlier (fallback: nearest earlier "
        "vintage), default (fallback: the default dataset) or named (given for the calculation)",
        examples=["covers"],
    )
    fallback: bool
    valid_from: date | None
    valid_to: date | None
    note: str = Field(
        ..., examples=["fallback: no dataset covers 2019-03-02; used default desnz-2025@1"]
    )


class DatasetOut(Schema):
    label: str = Field(..., examples=["desnz-2025@1"])
    slug: str
    version: int
    title: str
    publisher: str
    publication_date: date
    licence: str
    source_url: str
    gwp_basis: str = Field(..., description="GWP basis of its CO2e factors", examples=["AR5"])
    distance_basis: str
    selection: DatasetSelectionOut | None = Field(
        None, description="Why this version serves the order's activity date (footprints only)"
    )


class LegFactorIds(Schema):
    ttw: int | None = Field(..., description="None for a hub stop (no dataset row)")
    wtt: int | None = Field(..., description="None for a hub stop (no dataset row)")
    ttw_rf: int | None = Field(None, description="TTW row with radiative forcing, when asked")
    fuel_ttw: int | None = None
    fuel_wtt: int | None = None


class KnownLocationOut(Schema):
    code: str = Field(..., examples=["CNSGH"], description="UN/LOCODE or IATA code")
    name: str
    latitude: str
    longitude: str
    source: str = Field(..., description="UN/LOCODE 2024-1, geocoded or airportsdata")


class AirDistanceOut(Schema):
    basis: str = Field(
        ..., description="great_circle_plus_95 (both airports known) or declared_flown"
    )
    km: str = Field(..., description="The distance the footprint applies the air factor to")
    great_circle_km: str | None = None
    origin: str | None = None
    destination: str | None = None
    factor_uplift_removed: str = Field(
        ..., description="The DESNZ air factor's own distance uplift, divided out once (1.08)"
    )


class LegDistanceOut(Schema):
    """A leg's distances (carbon.footprint.locations.reference_distance_km)."""

    basis: str = Field(
        ...,
        description="great_circle: reference = great circle x GLEC adjustment; declared_cap: "
        "that is longer than the declared distance, which caps it; sea_declared: a sea leg "
        "between known ports, whose reference is the declared route (the great circle crosses "
        "land); declared: an end is not a "
        "known location, the declared distance is used; hub: a hub operation, which travels "
        "no distance (no other field is given)",
    )
    declared_km: str | None = None
    reference_km: str | None = Field(None, description="Reference distance for points, km")
    great_circle_km: str | None = None
    adjustment: str | None = Field(None, examples=["x1.05", "+95 km"])
    adjusted_km: str | None = None
    origin: KnownLocationOut | None = None
    destination: KnownLocationOut | None = None
    unknown: list[str] = Field(default_factory=list, description="Ends that are not known")
    emission: AirDistanceOut | None = Field(None, description="Air legs: the footprint's basis")


class LegResultOut(Schema):
    shipment: str = ""
    sequence: int
    category: str
    method: str = Field(
        ...,
        description="distance (t·km x intensity), fuel (primary data) or hub (tonnes handled "
        "x the GLEC v3 default hub intensity)",
    )
    tkm: str = Field(..., examples=["102.000000"])
    ttw_kg: str = Field(..., examples=["..."])
    wtt_kg: str
    hub_wtw_kg: str = Field(
        "0.000000",
        description="A hub stop's WTW where its source publishes no TTW/WTT split",
    )
    wtw_kg: str = Field(
        ..., description="TTW + WTT (+ hub WTW without a split), without radiative forcing"
    )
    radiative_forcing_kg: str | None = Field(
        None, description="Radiative-forcing uplift, reported on its own line (air, on request)"
    )
    factors: LegFactorIds
    distance: LegDistanceOut | None = Field(None, description="Absent in older snapshots")


class TotalsOut(Schema):
    tkm: str
    ttw_kg: str
    wtt_kg: str
    hub_wtw_kg: str = Field(
        "0.000000",
        description="Hub operations' WTW without a published TTW/WTT split (GLEC v3 defaults)",
    )
    wtw_kg: str = Field(
        ...,
        description="Well-to-wheel, excluding radiative forcing (ISO 14083): TTW + WTT + hub WTW",
    )
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


def factor_out(f: dict[str, Any]) -> dict[str, Any]:
    """A factor as a snapshot or FactorRef.as_json records it, cut to FactorOut's fields."""
    return {k: f[k] for k in FactorOut.model_fields if k != "gases"} | {
        "gases": "CO2" if counts_co2_only(f.get("unit")) else "CO2e"
    }


# --- request parsing helpers


def parsed_or_422(parse: Callable[..., Decimal], *args: Any) -> Decimal:
    """`parse(*args)` (one of carbon.footprint.legs' quantity parsers), its QuantityError as a
    422 naming the field."""
    try:
        return parse(*args)
    except QuantityError as exc:
        raise ApiError(422, "invalid_quantity", f"{exc.field}: {exc.message}", exc.field) from exc


def api_field(name: str | None) -> str | None:
    """Field names of the write path in the API's own words (mass, distance, fuel_used, site)."""
    if name is None:
        return None
    name = re.sub(r"\.mass_t$", ".mass", name)
    name = re.sub(r"\.distance_km$", ".distance", name)
    name = re.sub(r"\.fuel_amount$", ".fuel_used", name)
    return "site" if name == "site_name" else name


# --- orders as the order endpoints return them (carbon.footprint.api_orders)


class FootprintSummary(Schema):
    snapshot_id: int
    calculated_at: datetime
    method_version: str
    tkm: str
    ttw_kg: str
    wtt_kg: str
    wtw_kg: str
    default_share: str = Field(
        ...,
        description="Share of WTW from legs whose data type (from their provenance) is a "
        "modelled default, not measured fuel or carrier-specific data",
    )
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
    incoterm: str | None = Field(..., description="Incoterms 2020 rule; null: not stated")
    main_carriage_paid_by: Literal["buyer", "seller"] | None = Field(
        ..., description="Who pays the main carriage under the Incoterm; null: not stated"
    )
    scope3_category: Literal[4, 9] | None = Field(
        ...,
        description="The customer's Scope 3 category of this transport: 4 (upstream, paid by "
        "the customer), 9 (downstream, paid by the seller); null: Incoterm not stated",
    )
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
    source: str = Field(..., description="Who wrote the data: carrier, crm, staff or customer")
    data_type: str = Field(..., description="primary_fuel, carrier_intensity or modelled_default")
    attested: bool = Field(..., description="May earn points (attested source or staff-verified)")
    distance: LegDistanceOut = Field(
        ..., description="Known locations, great-circle and reference distance, and their basis"
    )


class PointsHoldOut(Schema):
    code: str = Field(..., examples=["customer_data_unverified"])
    message: str = Field(
        ..., examples=["Customer-entered data awaits verification by GreenLoop staff."]
    )


class ShipmentOut(Schema):
    reference: str
    legs: list[LegOut]


class MethodLinksOut(Schema):
    api: str = Field(..., description="The method statement on the API (GET)")
    page: str = Field(..., description="The method statement page for people")


class OrderDetailOut(OrderOut):
    lines: list[LineOut]
    shipments: list[ShipmentOut]
    method_statement: MethodLinksOut = Field(
        ..., description="What the calculation method covers and what it does not"
    )
    points_holds: list[PointsHoldOut] = Field(
        ...,
        description="Why the order earns no points yet (empty when nothing holds it back), in "
        "the language of the request: e.g. not_delivered, customer_data_unverified",
    )
