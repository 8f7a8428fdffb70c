"""Footprint API: estimate a shipment without storing it, and list the emission factors."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, StrictBool, StrictFloat

from carbon.footprint import categories, hubs
from carbon.footprint import legs as legs_parser
from carbon.footprint.api_schemas import (
    ESTIMATE_ACCESS,
    READ,
    DatasetOut,
    FactorOut,
    LegResultOut,
    Scope2Out,
    TotalsOut,
    api_field,
    factor_out,
    parsed_or_422,
)
from carbon.footprint.engine import FUEL_UNITS, METHOD_VERSION
from carbon.footprint.estimate import estimate as estimate_footprint
from carbon.footprint.exceptions import CalculationError, QuantityError
from carbon.footprint.factors import default_dataset
from carbon.footprint.units import ENERGY, parse_number, parse_quantity, plain_decimal
from carbon.models import (
    DatasetStatus,
    EmissionFactor,
    EnergyScope,
    FactorDataset,
    FactorKind,
)
from portal.api import ApiError, Input, caller
from portal.api_common import (
    ERRORS,
    MAX_PAGE_SIZE,
    IsoDate,
    PageOut,
    page_out,
)
from portal.api_contract import MAX_PAGE

router = Router(tags=["carbon"])


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
    return fuel_type, parsed_or_422(
        legs_parser.parse_fuel_used, fuel_type, fuel_used, f"{where}.fuel_used"
    )


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
            return default_dataset()
        except CalculationError as exc:
            raise ApiError(422, exc.code, exc.message, "dataset") from exc
    dataset = FactorDataset.objects.by_reference(ref)
    if dataset is None:
        raise ApiError(422, "unknown_dataset", f"dataset: no published dataset '{ref}'.", "dataset")
    return dataset


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
    distance: str | None = Field(
        None,
        description="Distance with its unit; required except for a hub stop (hub.*)",
        examples=["85 km"],
    )
    # Strict, as every boolean a client sends: pydantic would otherwise read 0, 1 or "yes".
    radiative_forcing: StrictBool = Field(
        False, description="Air freight: report the radiative-forcing uplift on its own line"
    )
    fuel_type: str | None = Field(
        None, description="Primary data: diesel, hfo, jet or electricity", examples=[None]
    )
    fuel_used: str | None = Field(
        None, description="Primary data: the leg's fuel, e.g. '31 l' or '2100 kg'", examples=[None]
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
        None,
        description="Dataset slug or slug@version, used for every date; default: the versions "
        "valid on `activity_date`, as for an order of that date",
    )
    activity_date: IsoDate | None = Field(
        None,
        description="The shipment's order date (YYYY-MM-DD), which chooses the dataset "
        "versions valid on it; default: today",
        examples=["2026-03-02"],
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
    activity_date: dt.date = Field(
        ...,
        description="The date the dataset versions were chosen for (each dataset's "
        "`selection` says why it serves that date, and whether it is a fallback)",
    )
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
        "take the listed units of their field (mass t, tonne, kg, g, lb, long_ton, short_ton; "
        "distance km, m, mi, nmi; fuel l, m3, US_gallon, imperial_gallon, kg or kWh as the fuel "
        "is measured), e.g. '12.5 t', '27,557 lb', '515.7 mi'. Radiative forcing for air "
        "is reported on its own line and never included in WTW. Needs scope carbon:read."
    ),
    auth=ESTIMATE_ACCESS,
    operation_id="carbon_footprint_api_estimate",
)
def estimate(request: HttpRequest, payload: EstimateIn):
    # Refuses an unknown dataset, or none published; only a named one serves every date.
    dataset = _dataset(payload.dataset)
    legs = []
    for i, leg in enumerate(payload.legs):
        where = f"legs[{i}]"
        fuel_type, fuel_amount = _fuel(leg.fuel_type, leg.fuel_used, where)
        data = legs_parser.LegData(
            category=leg.category,
            mass_t=parsed_or_422(legs_parser.parse_mass, leg.mass, f"{where}.mass"),
            distance_km=(
                Decimal(0)
                if hubs.is_hub(leg.category) and not leg.distance
                else parsed_or_422(legs_parser.parse_distance, leg.distance, f"{where}.distance")
            ),
            radiative_forcing=leg.radiative_forcing,
            fuel_type=fuel_type,
            fuel_amount=fuel_amount,
            data_tier=leg.data_tier,
        )
        # A hub stop is checked by the leg rules (tonnes handled, no distance, a cited default).
        problems = legs_parser.validate_leg(data) if hubs.is_hub(leg.category) else []
        for name, reason in legs_parser.leg_bounds(data) + problems:
            field = api_field(f"{where}.{name}")
            raise ApiError(422, "invalid_quantity", f"{field}: {reason}", field)
        legs.append(asdict(data))
    electricity = parsed_or_422(_electricity, payload.electricity) if payload.electricity else None
    result = estimate_footprint(
        legs,
        dataset=dataset if payload.dataset else None,
        activity_date=payload.activity_date,
        electricity_kwh=electricity,
        region=(payload.region or "").strip() or None,
        green_ratio=_decimal(payload.green_ratio, "green_ratio"),
    )
    footprint = result.footprint
    return {
        "dataset": result.table.dataset.label,
        "activity_date": result.activity_date,
        "datasets": result.table.datasets_json(
            footprint.factors, full=True, choices=result.choices
        ),
        "method_version": METHOD_VERSION,
        "legs": [
            # estimate_footprint() has refused unknown categories.
            {**leg, "index": i, "mode": categories.CATEGORIES[leg["category"]].mode}
            for i, leg in enumerate(footprint.legs_json())
        ],
        "totals": footprint.totals_json(),
        "scope2": footprint.scope2.as_json() if electricity else None,
        "factors": [factor_out(f.as_json(full=True)) for f in footprint.factors],
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
    operation_id="carbon_footprint_api_factors",
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
