"""The footprint model: pure value objects and arithmetic, no Django (worked examples in
tests/carbon/test_footprint_model.py run without a database).

A calculation takes each order's legs (LegInput) and the emission factors resolved for them
(LegFactors of FactorRef, in canonical units), runs the engine over all legs at once, and returns
exact Decimal results: per leg t·km, TTW, WTT and the radiative-forcing uplift of air legs (hub
operations: tonnes handled x kg CO2e per tonne), per order the totals, the share of WTW from
modelled default factors (by the legs' data type, from their provenance), the data gaps found,
and Scope 2 location- and market-based from the attributed electricity and the verified green
ratio."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from carbon import app_settings
from carbon.footprint import engine, locations
from carbon.footprint.hub_results import HubFactor, is_hub, with_hubs
from carbon.footprint.units import (
    DISTANCE,
    ELECTRICITY_INTENSITY,
    ENERGY,
    FREIGHT_INTENSITY,
    INTENSITY_PLACES,
    MASS,
    Q_,
    plain_decimal,
    stored_text,
)

ZERO = Decimal(0)
# carbon.models.DataTier.DEFAULT and LegDataType.MODELLED_DEFAULT, spelled out: this module
# imports no Django.
DEFAULT_TIER = "default"
MODELLED_DEFAULT = "modelled_default"


@dataclass(frozen=True)
class FactorRef:
    """One emission-factor row as used by a calculation, with its value in canonical units."""

    id: int
    dataset_id: int
    dataset: str  # label, e.g. "desnz-2025@1"
    category: str
    kind: str
    energy_scope: str
    radiative_forcing: bool
    value: Decimal  # as published, in `unit`
    unit: str
    region: str
    description: str
    source_label: str
    canonical: Decimal  # `value` in the engine's canonical unit for the category

    def as_json(self, *, full: bool = True) -> dict[str, Any]:
        """The factor as a snapshot keeps it: id and value with what the value means, and (`full`)
        the source's row label, so that a snapshot traces its figures on its own."""
        data = {
            "id": self.id,
            "dataset": self.dataset,
            "category": self.category,
            "energy_scope": self.energy_scope,
            "radiative_forcing": self.radiative_forcing,
            "value": plain_decimal(self.value),
            "unit": self.unit,
        }
        if full:
            data |= {
                "kind": self.kind,
                "region": self.region,
                "description": self.description,
                "source_label": self.source_label,
            }
        return data


@dataclass(frozen=True)
class LegFactors:
    """The factors one leg uses: TTW and WTT rows of a dataset for a transport leg, or the hub
    default (`hub`, no dataset rows) for a hub operation."""

    ttw: FactorRef | None
    wtt: FactorRef | None
    ttw_rf: FactorRef | None = None  # the "with radiative forcing" TTW row, when requested
    fuel_ttw: FactorRef | None = None
    fuel_wtt: FactorRef | None = None
    hub: HubFactor | None = None

    def refs(self) -> list[FactorRef]:
        return [r for r in (self.ttw, self.wtt, self.ttw_rf, self.fuel_ttw, self.fuel_wtt) if r]

    def ids(self) -> dict[str, int | None]:
        return {
            "ttw": self.ttw.id if self.ttw else None,
            "wtt": self.wtt.id if self.wtt else None,
            "ttw_rf": self.ttw_rf.id if self.ttw_rf else None,
            "fuel_ttw": self.fuel_ttw.id if self.fuel_ttw else None,
            "fuel_wtt": self.fuel_wtt.id if self.fuel_wtt else None,
        }


def unique_refs(refs: Iterable[FactorRef]) -> list[FactorRef]:
    return sorted({r.id: r for r in refs}.values(), key=lambda r: r.id)


@dataclass(frozen=True)
class GridFactors:
    """The grid factors for one order's Scope 2: location-based average and residual mix."""

    location: FactorRef | None = None
    residual: FactorRef | None = None


@dataclass(frozen=True)
class LegInput:
    category: str
    mass_t: Decimal
    distance_km: Decimal
    data_tier: str = DEFAULT_TIER
    radiative_forcing: bool = False
    fuel_type: str = ""
    fuel_amount: Decimal | None = None
    shipment: str = ""
    sequence: int = 1
    origin: str = ""
    destination: str = ""
    where: str = "legs[0]"  # how errors name this leg
    # The leg's data type from its provenance (carbon.footprint.provenance.data_type_of): what
    # the data-quality share counts, never the self-declared tier.
    data_type: str = MODELLED_DEFAULT

    @property
    def has_fuel(self) -> bool:
        return bool(self.fuel_type) and self.fuel_amount is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "shipment": self.shipment,
            "sequence": self.sequence,
            "category": self.category,
            "origin": self.origin,
            "destination": self.destination,
            "mass_t": plain_decimal(self.mass_t),
            "distance_km": plain_decimal(self.distance_km),
            "data_tier": self.data_tier,
            "radiative_forcing": self.radiative_forcing,
            "fuel_type": self.fuel_type,
            "fuel_amount": plain_decimal(self.fuel_amount),
            "data_type": self.data_type,
        }


@dataclass
class FootprintInput:
    legs: list[LegInput]
    electricity_kwh: Decimal = ZERO
    region: str | None = None
    green_ratio: Decimal | None = None
    # kgCO2e/kWh of the covered share (certificates 0, PPAs and tariffs their supplier's factor)
    instrument_factor: Decimal | None = None
    notes: list[dict[str, str]] = field(default_factory=list)  # missing data found on loading


@dataclass
class LegFootprint:
    input: LegInput
    factors: LegFactors
    tkm: Decimal
    ttw: Decimal
    wtt: Decimal
    radiative_forcing: Decimal | None  # the RF uplift, None when not requested
    # A hub operation's WTW where its source publishes no TTW/WTT split (else in ttw and wtt).
    hub_wtw: Decimal = ZERO

    @property
    def wtw(self) -> Decimal:
        return self.ttw + self.wtt + self.hub_wtw

    @property
    def method(self) -> str:
        if self.factors.hub is not None:
            return "hub"
        return "fuel" if self.input.has_fuel else "distance"


@dataclass
class Scope2Footprint:
    electricity_kwh: Decimal
    region: str | None
    location: Decimal | None
    market: Decimal | None
    green_ratio: Decimal | None
    location_factor: FactorRef | None
    residual_factor: FactorRef | None
    instrument_factor: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "electricity_kwh": stored_text(self.electricity_kwh),
            "region": self.region,
            "location_kg": stored_text(self.location),
            "market_kg": stored_text(self.market),
            "green_ratio": plain_decimal(self.green_ratio),
            "location_factor": self.location_factor.id if self.location_factor else None,
            "residual_factor": self.residual_factor.id if self.residual_factor else None,
            "instrument_factor": plain_decimal(self.instrument_factor),
            "method": "market = r x instrument factor + (1 - r) x residual-mix factor; "
            "location = grid average",
        }


@dataclass
class Footprint:
    """One calculation's results in exact Decimals (kgCO2e, tonne-km)."""

    legs: list[LegFootprint]
    tkm: Decimal
    ttw: Decimal
    wtt: Decimal
    radiative_forcing: Decimal
    intensity: Decimal | None
    default_share: Decimal | None
    scope2: Scope2Footprint
    missing: list[dict[str, str]]
    hub_wtw: Decimal = ZERO  # hub operations' WTW without a published split

    @property
    def wtw(self) -> Decimal:
        """TTW + WTT, plus hub operations' WTW where their source publishes no split."""
        return self.ttw + self.wtt + self.hub_wtw

    @property
    def factors(self) -> list[FactorRef]:
        refs = [r for leg in self.legs for r in leg.factors.refs()]
        refs += [r for r in (self.scope2.location_factor, self.scope2.residual_factor) if r]
        return unique_refs(refs)

    def totals_json(self) -> dict[str, Any]:
        return {
            "tkm": stored_text(self.tkm),
            "ttw_kg": stored_text(self.ttw),
            "wtt_kg": stored_text(self.wtt),
            "hub_wtw_kg": stored_text(self.hub_wtw),
            "wtw_kg": stored_text(self.wtw),
            "radiative_forcing_kg": stored_text(self.radiative_forcing),
            "wtw_incl_radiative_forcing_kg": stored_text(self.wtw + self.radiative_forcing),
            "intensity_kg_per_tkm": (
                str(self.intensity.quantize(INTENSITY_PLACES, rounding=ROUND_HALF_EVEN))
                if self.intensity is not None
                else None
            ),
        }

    def legs_json(self) -> list[dict[str, Any]]:
        return [
            {
                "shipment": leg.input.shipment,
                "sequence": leg.input.sequence,
                "category": leg.input.category,
                "method": leg.method,
                "tkm": stored_text(leg.tkm),
                "ttw_kg": stored_text(leg.ttw),
                "wtt_kg": stored_text(leg.wtt),
                "hub_wtw_kg": stored_text(leg.hub_wtw),
                "wtw_kg": stored_text(leg.wtw),
                "radiative_forcing_kg": stored_text(leg.radiative_forcing),
                "factors": leg.factors.ids(),
                "distance": distance_json(leg.input),
            }
            | ({"hub_factor": leg.factors.hub.as_json()} if leg.factors.hub else {})
            for leg in self.legs
        ]

    def data_quality_json(self) -> dict[str, Any]:
        modelled = [leg for leg in self.legs if leg.input.data_type == MODELLED_DEFAULT]
        return {
            # Share of WTW from modelled default factors, by data type (provenance).
            "default_share": stored_text(self.default_share),
            "default_share_basis": "wtw_modelled_default",
            "default_wtw_kg": stored_text(sum((leg.wtw for leg in modelled), ZERO)),
            "default_tkm": stored_text(sum((leg.tkm for leg in modelled), ZERO)),
            "legs": len(self.legs),
            "legs_with_missing_data": len(
                {m["field"].rsplit(".", 1)[0] for m in self.missing if ".legs[" in m["field"]}
            ),
            "missing": self.missing,
        }

    def results_json(self) -> dict[str, Any]:
        return {
            "legs": self.legs_json(),
            "totals": self.totals_json(),
            "data_quality": self.data_quality_json(),
            "scope2": self.scope2.as_json(),
        }


def radiative_forcing_uplift(
    tkm: np.ndarray,
    ttw: np.ndarray,
    ttw_intensity: np.ndarray,
    rf_intensity: np.ndarray,
    fuel_based: np.ndarray,
) -> np.ndarray:
    """Per-leg RF uplift in kgCO2e: TTW with radiative forcing minus TTW without (pure).

    Distance-based legs: t·km x (intensity with RF - intensity without). Fuel-based legs scale
    their fuel TTW by the dataset's with/without-RF ratio. `rf_intensity` equals
    `ttw_intensity` on legs without RF, so their uplift is exactly zero.
    """
    uplift = tkm * (rf_intensity - ttw_intensity)
    for i in np.flatnonzero(fuel_based):
        if ttw_intensity[i]:
            uplift[i] = ttw[i] * rf_intensity[i] / ttw_intensity[i] - ttw[i]
    return uplift


def _scope2_all(plans: list[Scope2Footprint]) -> None:
    """Location- and market-based Scope 2 of many orders in one engine call (Decimal arrays).

    Orders without a location factor get no figures; orders without a verified ratio or without a
    residual-mix factor get no market figure (never the grid average instead).
    """
    if not plans:
        return
    kwh = engine.decimal_array([p.electricity_kwh for p in plans])
    location, market = engine.scope2(
        Q_(kwh, ENERGY),
        Q_(
            engine.decimal_array(
                [p.location_factor.canonical if p.location_factor else ZERO for p in plans]
            ),
            ELECTRICITY_INTENSITY,
        ),
        Q_(
            engine.decimal_array(
                [p.residual_factor.canonical if p.residual_factor else ZERO for p in plans]
            ),
            ELECTRICITY_INTENSITY,
        ),
        engine.decimal_array([p.green_ratio if p.green_ratio is not None else ZERO for p in plans]),
        instrument_factor=Q_(
            engine.decimal_array([p.instrument_factor or ZERO for p in plans]),
            ELECTRICITY_INTENSITY,
        ),
    )
    for i, plan in enumerate(plans):
        has_location = plan.location_factor is not None or not plan.electricity_kwh
        plan.location = Decimal(location[i]) if has_location else None
        has_market = plan.green_ratio is not None and (
            plan.residual_factor is not None or not plan.electricity_kwh
        )
        plan.market = Decimal(market[i]) if has_location and has_market else None


def mode_of(category: str) -> str:
    """The transport mode of a category code ("air.international" -> "air")."""
    return category.partition(".")[0]


def emission_distance(leg: LegInput) -> tuple[Decimal, dict[str, Any] | None]:
    """The km a distance-based leg's factor applies to, with its basis where it is not simply
    the declared distance (air legs: `locations.air_emission_distance_km`)."""
    if leg.has_fuel or mode_of(leg.category) != "air":
        return leg.distance_km, None
    return locations.air_emission_distance_km(leg.origin, leg.destination, leg.distance_km)


def distance_json(leg: LegInput) -> dict[str, Any]:
    """A leg's distances for the snapshot, the order page and the API: declared, the known
    locations and great circle, the reference distance for points (None: the declared distance
    is used) and, for air legs, the distance the footprint used. A hub operation travels no
    distance: its basis says so and nothing else."""
    if is_hub(leg.category):
        return {"basis": "hub"}
    mode = mode_of(leg.category)
    reference, basis = locations.reference_distance_km(
        mode, leg.origin, leg.destination, leg.distance_km
    )
    basis["reference_km"] = plain_decimal(reference)
    basis["declared_km"] = plain_decimal(leg.distance_km)
    _, emission = emission_distance(leg)
    if emission is not None:
        basis["emission"] = emission
    return basis


def leg_distance(leg: Any) -> dict[str, Any]:
    """`distance_json` of a stored leg (anything with a leg's fields, e.g. carbon.models.Leg),
    for pages and the API: the distances follow the leg's current text, snapshot or not."""
    return distance_json(
        LegInput(
            category=leg.category,
            mass_t=leg.mass_t,
            distance_km=leg.distance_km,
            fuel_type=leg.fuel_type,
            fuel_amount=leg.fuel_amount,
            origin=leg.origin,
            destination=leg.destination,
        )
    )


def compute(
    inputs: Sequence[FootprintInput],
    resolved: Sequence[list[LegFactors] | Exception],
    grid: Sequence[GridFactors],
) -> list[Footprint | Exception]:
    """Footprints of many orders with ONE engine call over all their legs (Decimal arrays).

    `resolved[i]` holds the factors of each leg of order i, or the error that kept them from
    being resolved (it then takes that order's place in the result); `grid[i]` the grid factors
    for its Scope 2.
    """
    legs = [
        leg
        for item, lf in zip(inputs, resolved, strict=True)
        if not isinstance(lf, Exception)
        for leg in item.legs
    ]
    factors = [f for lf in resolved if not isinstance(lf, Exception) for f in lf]
    fuel_based = np.array([leg.has_fuel for leg in legs], dtype=bool)
    distances = [emission_distance(leg) for leg in legs]
    ttw_i = engine.decimal_array([f.ttw.canonical if f.ttw else ZERO for f in factors])
    rf_i = engine.decimal_array(
        [f.ttw_rf.canonical if f.ttw_rf else (f.ttw.canonical if f.ttw else ZERO) for f in factors]
    )
    results = engine.leg_emissions(
        Q_(engine.decimal_array([leg.mass_t for leg in legs]), MASS),
        Q_(engine.decimal_array([km for km, _ in distances]), DISTANCE),
        Q_(ttw_i, FREIGHT_INTENSITY),
        Q_(
            engine.decimal_array([f.wtt.canonical if f.wtt else ZERO for f in factors]),
            FREIGHT_INTENSITY,
        ),
        fuel_used=(
            np.array([leg.fuel_amount if leg.has_fuel else None for leg in legs], dtype=object)
            if fuel_based.any()
            else None
        ),
        fuel_ttw=np.array(
            [f.fuel_ttw.canonical if f.fuel_ttw else None for f in factors], dtype=object
        ),
        fuel_wtt=np.array(
            [f.fuel_wtt.canonical if f.fuel_wtt else None for f in factors], dtype=object
        ),
    )
    uplift = radiative_forcing_uplift(results.tkm, results.ttw, ttw_i, rf_i, fuel_based)
    # DESNZ air factors carry their own distance uplift and the air distance basis carries the
    # detours too (locations.air_emission_distance_km), so the factor's uplift comes off once,
    # after the multiplication so that round figures stay exact.
    if any(basis for _, basis in distances):
        per = np.array(
            [app_settings.DESNZ_AIR_DISTANCE_UPLIFT if b else Decimal(1) for _, b in distances],
            dtype=object,
        )
        results = engine.LegResults(tkm=results.tkm, ttw=results.ttw / per, wtt=results.wtt / per)
        uplift = uplift / per
    results = with_hubs(results, legs, factors)
    is_default = np.array([leg.data_type == MODELLED_DEFAULT for leg in legs], dtype=bool)

    footprints: list[Footprint | Exception] = []
    plans: list[Scope2Footprint] = []
    start = 0
    for item, lf, g in zip(inputs, resolved, grid, strict=True):
        if isinstance(lf, Exception):
            footprints.append(lf)
            continue
        end = start + len(item.legs)
        part = engine.LegResults(
            tkm=results.tkm[start:end],
            ttw=results.ttw[start:end],
            wtt=results.wtt[start:end],
            hub=results.hub[start:end] if results.hub is not None else None,
        )
        totals = engine.order_totals(part, is_default[start:end])
        leg_footprints = [
            LegFootprint(
                input=leg,
                factors=f,
                tkm=Decimal(part.tkm[i]),
                ttw=Decimal(part.ttw[i]),
                wtt=Decimal(part.wtt[i]),
                radiative_forcing=Decimal(uplift[start + i]) if leg.radiative_forcing else None,
                hub_wtw=Decimal(part.hub[i]) if part.hub is not None else ZERO,
            )
            for i, (leg, f) in enumerate(zip(item.legs, lf, strict=True))
        ]
        missing = list(item.notes)
        for leg in item.legs:
            for name, value in (("mass", leg.mass_t), ("distance", leg.distance_km)):
                if not value and not leg.has_fuel:
                    missing.append({"field": f"{leg.where}.{name}", "reason": f"{name} is zero"})
        if not item.legs:
            missing.append({"field": "shipments", "reason": "no transport legs"})
        scope2 = scope2_plan(item, g, missing)
        plans.append(scope2)
        footprints.append(
            Footprint(
                legs=leg_footprints,
                tkm=Decimal(totals.tkm),
                ttw=Decimal(totals.ttw),
                wtt=Decimal(totals.wtt),
                radiative_forcing=sum(
                    (lf.radiative_forcing or ZERO for lf in leg_footprints), ZERO
                ),
                intensity=totals.intensity,
                default_share=totals.default_share,
                scope2=scope2,
                missing=missing,
                hub_wtw=sum((leg.hub_wtw for leg in leg_footprints), ZERO),
            )
        )
        start = end
    _scope2_all(plans)
    return footprints


def scope2_plan(item: FootprintInput, grid: GridFactors, missing: list) -> Scope2Footprint:
    """The factors and ratio one order's Scope 2 will use (figures filled in by `_scope2_all`)."""
    kwh = item.electricity_kwh or ZERO
    location_factor, residual_factor = grid.location, grid.residual
    if kwh and not item.region:
        missing.append({"field": "site.region", "reason": "no grid region for Scope 2"})
    elif kwh and location_factor is None:
        missing.append(
            {"field": "site.region", "reason": f"no grid factor for region '{item.region}'"}
        )
    elif kwh and item.green_ratio is not None and residual_factor is None:
        missing.append(
            {
                "field": "site.region",
                "reason": f"no residual-mix factor for region '{item.region}': "
                "no market-based figure",
            }
        )
    return Scope2Footprint(
        electricity_kwh=kwh,
        region=item.region,
        location=None,
        market=None,
        green_ratio=item.green_ratio,
        instrument_factor=item.instrument_factor if item.green_ratio is not None else None,
        location_factor=location_factor if kwh else None,
        residual_factor=residual_factor if (kwh and item.green_ratio is not None) else None,
    )
