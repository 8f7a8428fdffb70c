"""Footprint calculation: the ORM glue around the pure engine (`carbon.engine`).

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

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from carbon import categories, engine
from carbon.engine import FUEL_UNITS, METHOD_VERSION, fuel_intensity_unit
from carbon.models import (
    CalculationSnapshot,
    DataTier,
    DeclarationStatus,
    EnergyScope,
    FactorDataset,
    GreenPowerDeclaration,
    Leg,
    Order,
    OrderLine,
)
from carbon.units import (
    DISTANCE,
    ELECTRICITY_INTENSITY,
    ENERGY,
    FREIGHT_INTENSITY,
    MASS,
    Q_,
    convert,
    ureg,
)
from portal import events, tenancy
from portal.exceptions import PortalError
from portal.models import Organisation

FOOTPRINT_CALCULATED = "greenloop.carbon.footprint_calculated"
FOOTPRINTS_RECALCULATED = "greenloop.carbon.footprints_recalculated"
STORED_PLACES = Decimal("0.000001")  # 6 decimal places for stored kg, t·km and shares
INTENSITY_PLACES = Decimal("1E-9")  # kgCO2e per t·km needs more places to stay meaningful
ZERO = Decimal(0)


class CalculationError(PortalError):
    """Inputs that cannot be calculated; `field` names the leg or field at fault."""

    code = "calculation_error"
    status = 422


class FactorError(CalculationError):
    """No usable emission factor for a leg (unknown category, or missing from the dataset)."""

    code = "missing_factor"


def grid_dataset_slug() -> str:
    return getattr(settings, "GREENLOOP_GRID_DATASET", "grid-electricity")


def default_dataset() -> FactorDataset:
    dataset = FactorDataset.objects.active()
    if dataset is None:
        raise CalculationError(
            "No published default emission-factor dataset; load the reference data first "
            "(manage.py load_reference_data).",
            field="dataset",
            code="no_dataset",
        )
    return dataset


def active_grid_dataset() -> FactorDataset | None:
    return FactorDataset.objects.active(grid_dataset_slug())


def q6(value: Decimal | int) -> Decimal:
    """Round a stored figure to 6 decimal places, half to even."""
    return Decimal(value).quantize(STORED_PLACES, rounding=ROUND_HALF_EVEN)


def dec(value: Decimal | None) -> str | None:
    """A Decimal as a canonical plain string ("85", "1.2"), so equal values compare equal."""
    if value is None:
        return None
    return _dec(Decimal(value))


@functools.lru_cache(maxsize=65536)
def _dec(value: Decimal) -> str:
    # Equal Decimals hash alike ("1.0" and "1"), and both give "1": caching by value is safe.
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def out(value: Decimal | int | None) -> str | None:
    """A stored figure as its 6-decimal string, e.g. "63.750000"."""
    return None if value is None else str(q6(value))


# --- emission factors


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
            "value": dec(self.value),
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


def canonical_unit(category: str) -> str:
    if category.startswith(categories.ELECTRICITY_PREFIX):
        return ELECTRICITY_INTENSITY
    if category.startswith("fuel."):
        fuel_type = category.split(".", 1)[1]
        if fuel_type not in FUEL_UNITS:
            raise FactorError(f"Unknown fuel '{fuel_type}' in factor category '{category}'.")
        return fuel_intensity_unit(fuel_type)
    return FREIGHT_INTENSITY


@functools.lru_cache(maxsize=256)
def _conversion(unit: str, target: str) -> Decimal:
    """Exact Decimal factor from a factor's published unit to the canonical one."""
    try:
        source = ureg.Unit(unit)
    except Exception as exc:  # Pint raises several error types for unparsable units
        raise FactorError(f"Unknown unit '{unit}' on an emission factor.") from exc
    if source.dimensionality != ureg.Unit(target).dimensionality:
        raise FactorError(f"An emission factor in '{unit}' cannot be used as '{target}'.")
    return convert(Decimal(1), unit, target)


def dataset_json(dataset: FactorDataset, *, full: bool = True) -> dict[str, Any]:
    """A dataset as a snapshot records it: id, label and its citation (or only id and label)."""
    if not full:
        return {"id": dataset.pk, "label": dataset.label}
    return {
        "id": dataset.pk,
        "label": dataset.label,
        "slug": dataset.slug,
        "version": dataset.version,
        "title": dataset.title,
        "publisher": dataset.publisher,
        "publication_date": dataset.publication_date.isoformat(),
        "licence": dataset.licence,
        "source_url": dataset.source_url,
        "gwp_basis": dataset.gwp_basis,
        "distance_basis": dataset.distance_basis,
    }


class FactorTable:
    """The factors of a freight dataset (and the grid dataset for Scope 2), loaded in one query.

    Freight and fuel factors come from the freight dataset first; grid factors
    (`electricity.<REGION>.location|residual`) from the grid dataset first. Within a dataset a
    factor for region GLO wins over regional rows of the same category.
    """

    def __init__(self, dataset: FactorDataset, grid: FactorDataset | None, rows: Iterable):
        self.dataset = dataset
        self.grid = grid
        self.datasets = {dataset.pk: dataset}
        if grid is not None:
            self.datasets[grid.pk] = grid
        ranked: dict[tuple[str, str, bool], tuple[tuple, FactorRef]] = {}
        for row in rows:
            ref = FactorRef(
                id=row.pk,
                dataset_id=row.dataset_id,
                dataset=self.datasets[row.dataset_id].label,
                category=row.category,
                kind=row.kind,
                energy_scope=row.energy_scope,
                radiative_forcing=row.radiative_forcing,
                value=row.value,
                unit=row.unit,
                region=row.region,
                description=row.description,
                source_label=row.source_label,
                canonical=row.value * _conversion(row.unit, canonical_unit(row.category)),
            )
            is_grid_factor = row.category.startswith(categories.ELECTRICITY_PREFIX)
            from_grid = grid is not None and row.dataset_id == grid.pk
            rank = (from_grid != is_grid_factor, row.region != "GLO", row.region, row.pk)
            key = (row.category, row.energy_scope, row.radiative_forcing)
            if key not in ranked or rank < ranked[key][0]:
                ranked[key] = (rank, ref)
        self._factors = {key: ref for key, (_, ref) in ranked.items()}

    @classmethod
    def load(
        cls,
        dataset: FactorDataset,
        grid: FactorDataset | None = None,
        *,
        categories: Iterable[str] | None = None,
    ) -> FactorTable:
        from carbon.models import EmissionFactor

        rows = EmissionFactor.objects.filter(
            dataset_id__in=[dataset.pk] + ([grid.pk] if grid is not None else [])
        )
        if categories is not None:
            rows = rows.filter(category__in=set(categories))
        return cls(dataset, grid, rows.order_by("id"))

    def get(self, category: str, scope: str, radiative_forcing: bool = False) -> FactorRef | None:
        return self._factors.get((category, scope, radiative_forcing))

    def electricity(self, region: str | None, kind: str) -> FactorRef | None:
        """A grid factor (`kind` location or residual) for a region; generation (TTW) first.

        A sub-national region ("CN-East") without factors of its own falls back to its country
        ("CN"), and an EU member state without a national factor to the EU-27 average ("EU").
        """
        if not region:
            return None
        country = region.split("-", 1)[0].upper()
        union = ("EU",) if country in categories.EU_MEMBER_STATES else ()
        for code in dict.fromkeys((region, region.upper(), country, *union)):
            for scope in (EnergyScope.TTW, EnergyScope.WTW):
                ref = self.get(f"{categories.ELECTRICITY_PREFIX}{code}.{kind}", scope)
                if ref is not None:
                    return ref
        return None

    def datasets_json(
        self, used: Iterable[FactorRef] | None = None, *, full: bool = True
    ) -> list[dict[str, Any]]:
        """The datasets a calculation drew on: the freight dataset, and the grid dataset only
        when one of its factors was `used` (so a new grid version leaves freight-only orders
        alone)."""
        used_ids = {self.dataset.pk} | {f.dataset_id for f in used or ()}
        return [dataset_json(d, full=full) for d in self.datasets.values() if d.pk in used_ids]


@dataclass(frozen=True)
class LegFactors:
    """The factors one leg uses."""

    ttw: FactorRef
    wtt: FactorRef
    ttw_rf: FactorRef | None = None  # the "with radiative forcing" TTW row, when requested
    fuel_ttw: FactorRef | None = None
    fuel_wtt: FactorRef | None = None

    def refs(self) -> list[FactorRef]:
        return [r for r in (self.ttw, self.wtt, self.ttw_rf, self.fuel_ttw, self.fuel_wtt) if r]

    def ids(self) -> dict[str, int | None]:
        return {
            "ttw": self.ttw.id,
            "wtt": self.wtt.id,
            "ttw_rf": self.ttw_rf.id if self.ttw_rf else None,
            "fuel_ttw": self.fuel_ttw.id if self.fuel_ttw else None,
            "fuel_wtt": self.fuel_wtt.id if self.fuel_wtt else None,
        }


def _leg_factors(
    table: FactorTable,
    category: str,
    radiative_forcing: bool,
    fuel_type: str,
    has_fuel: bool,
    where: str,
) -> LegFactors:
    label = table.dataset.label
    known = categories.get(category)
    if known is None:
        raise FactorError(
            f"Unknown transport category '{category}'.",
            field=f"{where}.category",
            code="unknown_category",
        )
    if radiative_forcing and not known.supports_radiative_forcing:
        raise CalculationError(
            f"Radiative forcing applies to air freight only, not '{category}'.",
            field=f"{where}.radiative_forcing",
        )
    ttw = table.get(category, EnergyScope.TTW)
    # DESNZ publishes the WTT of freight flights with and without RF alike; prefer "without".
    wtt = table.get(category, EnergyScope.WTT) or table.get(category, EnergyScope.WTT, True)
    for scope, ref in ((EnergyScope.TTW, ttw), (EnergyScope.WTT, wtt)):
        if ref is None:
            raise FactorError(
                f"Dataset {label} has no {scope} factor for '{category}'.",
                field=f"{where}.category",
            )
    ttw_rf = None
    if radiative_forcing:
        ttw_rf = table.get(category, EnergyScope.TTW, True)
        if ttw_rf is None:
            raise FactorError(
                f"Dataset {label} has no TTW factor with radiative forcing for '{category}'.",
                field=f"{where}.radiative_forcing",
            )
    fuel_ttw = fuel_wtt = None
    if has_fuel:
        if fuel_type not in FUEL_UNITS:
            raise CalculationError(f"Unknown fuel type '{fuel_type}'.", field=f"{where}.fuel_type")
        fuel_ttw = table.get(f"fuel.{fuel_type}", EnergyScope.TTW)
        fuel_wtt = table.get(f"fuel.{fuel_type}", EnergyScope.WTT)
        if fuel_ttw is None or fuel_wtt is None:
            raise FactorError(
                f"Dataset {label} has no TTW and WTT factors for fuel '{fuel_type}'.",
                field=f"{where}.fuel_type",
            )
    return LegFactors(ttw=ttw, wtt=wtt, ttw_rf=ttw_rf, fuel_ttw=fuel_ttw, fuel_wtt=fuel_wtt)


@dataclass
class ResolvedFactors:
    """Per-leg intensities in canonical units (kgCO2e per t·km) and the factor rows used."""

    ttw: list[Decimal]
    wtt: list[Decimal]
    ttw_rf: list[Decimal | None]
    legs: list[LegFactors]

    @property
    def used(self) -> list[FactorRef]:
        return _unique(ref for leg in self.legs for ref in leg.refs())


def resolve_factors(
    dataset: FactorDataset,
    leg_categories: Sequence[str],
    radiative_forcing: Sequence[bool],
    *,
    fuel_types: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    table: FactorTable | None = None,
) -> ResolvedFactors:
    """TTW/WTT intensities for each leg from `dataset`, in one query for the whole batch.

    Raises FactorError naming the leg (`fields[i]`, default ``legs[i]``) for an unknown category or
    a factor the dataset lacks (including the "with RF" row when radiative forcing is asked for).
    """
    if table is None:
        wanted = set(leg_categories) | {f"fuel.{f}" for f in (fuel_types or []) if f}
        table = FactorTable.load(dataset, categories=wanted)
    legs = [
        _leg_factors(
            table,
            category,
            bool(rf),
            (fuel_types[i] if fuel_types else "") or "",
            bool(fuel_types and fuel_types[i]),
            fields[i] if fields else f"legs[{i}]",
        )
        for i, (category, rf) in enumerate(zip(leg_categories, radiative_forcing, strict=True))
    ]
    return ResolvedFactors(
        ttw=[f.ttw.canonical for f in legs],
        wtt=[f.wtt.canonical for f in legs],
        ttw_rf=[f.ttw_rf.canonical if f.ttw_rf else None for f in legs],
        legs=legs,
    )


def _unique(refs: Iterable[FactorRef]) -> list[FactorRef]:
    return sorted({r.id: r for r in refs}.values(), key=lambda r: r.id)


# --- inputs and results as plain data


@dataclass(frozen=True)
class LegInput:
    category: str
    mass_t: Decimal
    distance_km: Decimal
    data_tier: str = DataTier.DEFAULT
    radiative_forcing: bool = False
    fuel_type: str = ""
    fuel_amount: Decimal | None = None
    shipment: str = ""
    sequence: int = 1
    origin: str = ""
    destination: str = ""
    where: str = "legs[0]"  # how errors name this leg

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
            "mass_t": dec(self.mass_t),
            "distance_km": dec(self.distance_km),
            "data_tier": self.data_tier,
            "radiative_forcing": self.radiative_forcing,
            "fuel_type": self.fuel_type,
            "fuel_amount": dec(self.fuel_amount),
        }


@dataclass
class FootprintInput:
    legs: list[LegInput]
    electricity_kwh: Decimal = ZERO
    region: str | None = None
    green_ratio: Decimal | None = None
    notes: list[dict[str, str]] = field(default_factory=list)  # missing data found on loading


@dataclass
class LegFootprint:
    input: LegInput
    factors: LegFactors
    tkm: Decimal
    ttw: Decimal
    wtt: Decimal
    radiative_forcing: Decimal | None  # the RF uplift, None when not requested

    @property
    def wtw(self) -> Decimal:
        return self.ttw + self.wtt

    @property
    def method(self) -> str:
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

    def as_json(self) -> dict[str, Any]:
        return {
            "electricity_kwh": out(self.electricity_kwh),
            "region": self.region,
            "location_kg": out(self.location),
            "market_kg": out(self.market),
            "green_ratio": dec(self.green_ratio),
            "location_factor": self.location_factor.id if self.location_factor else None,
            "residual_factor": self.residual_factor.id if self.residual_factor else None,
            "method": "market = r x 0 + (1 - r) x residual-mix factor; location = grid average",
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

    @property
    def wtw(self) -> Decimal:
        return self.ttw + self.wtt

    @property
    def factors(self) -> list[FactorRef]:
        refs = [r for leg in self.legs for r in leg.factors.refs()]
        refs += [r for r in (self.scope2.location_factor, self.scope2.residual_factor) if r]
        return _unique(refs)

    def totals_json(self) -> dict[str, Any]:
        return {
            "tkm": out(self.tkm),
            "ttw_kg": out(self.ttw),
            "wtt_kg": out(self.wtt),
            "wtw_kg": out(self.wtw),
            "radiative_forcing_kg": out(self.radiative_forcing),
            "wtw_incl_radiative_forcing_kg": out(self.wtw + self.radiative_forcing),
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
                "tkm": out(leg.tkm),
                "ttw_kg": out(leg.ttw),
                "wtt_kg": out(leg.wtt),
                "wtw_kg": out(leg.wtw),
                "radiative_forcing_kg": out(leg.radiative_forcing),
                "factors": leg.factors.ids(),
            }
            for leg in self.legs
        ]

    def data_quality_json(self) -> dict[str, Any]:
        default_tkm = sum(
            (leg.tkm for leg in self.legs if leg.input.data_tier == DataTier.DEFAULT), ZERO
        )
        return {
            "default_share": out(self.default_share),
            "default_tkm": out(default_tkm),
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


def _compute_many(
    inputs: Sequence[FootprintInput], table: FactorTable, *, strict: bool
) -> list[Footprint | CalculationError]:
    """Footprints of many orders with ONE engine call over all their legs (Decimal arrays).

    With `strict`, the first error is raised; otherwise it takes that order's place in the list.
    """
    resolved: list[list[LegFactors] | CalculationError] = []
    for item in inputs:
        try:
            resolved.append(
                [
                    _leg_factors(
                        table,
                        leg.category,
                        leg.radiative_forcing,
                        leg.fuel_type,
                        leg.has_fuel,
                        leg.where,
                    )
                    for leg in item.legs
                ]
            )
        except CalculationError as exc:
            if strict:
                raise
            resolved.append(exc)
    legs = [
        leg
        for item, lf in zip(inputs, resolved, strict=True)
        if not isinstance(lf, CalculationError)
        for leg in item.legs
    ]
    factors = [f for lf in resolved if not isinstance(lf, CalculationError) for f in lf]
    fuel_based = np.array([leg.has_fuel for leg in legs], dtype=bool)
    ttw_i = engine.decimal_array([f.ttw.canonical for f in factors])
    rf_i = engine.decimal_array(
        [f.ttw_rf.canonical if f.ttw_rf else f.ttw.canonical for f in factors]
    )
    results = engine.leg_emissions(
        Q_(engine.decimal_array([leg.mass_t for leg in legs]), MASS),
        Q_(engine.decimal_array([leg.distance_km for leg in legs]), DISTANCE),
        Q_(ttw_i, FREIGHT_INTENSITY),
        Q_(engine.decimal_array([f.wtt.canonical for f in factors]), FREIGHT_INTENSITY),
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
    is_default = np.array([leg.data_tier == DataTier.DEFAULT for leg in legs], dtype=bool)

    footprints: list[Footprint | CalculationError] = []
    plans: list[Scope2Footprint] = []
    start = 0
    for item, lf in zip(inputs, resolved, strict=True):
        if isinstance(lf, CalculationError):
            footprints.append(lf)
            continue
        end = start + len(item.legs)
        part = engine.LegResults(
            tkm=results.tkm[start:end], ttw=results.ttw[start:end], wtt=results.wtt[start:end]
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
        scope2 = _scope2_plan(item, table, missing)
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
            )
        )
        start = end
    _scope2_all(plans)
    return footprints


def _scope2_plan(item: FootprintInput, table: FactorTable, missing: list) -> Scope2Footprint:
    """The factors and ratio one order's Scope 2 will use (figures filled in by `_scope2_all`)."""
    kwh = item.electricity_kwh or ZERO
    location_factor = table.electricity(item.region, "location")
    residual_factor = table.electricity(item.region, "residual")
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
        location_factor=location_factor if kwh else None,
        residual_factor=residual_factor if (kwh and item.green_ratio is not None) else None,
    )


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
    )
    for i, plan in enumerate(plans):
        has_location = plan.location_factor is not None or not plan.electricity_kwh
        plan.location = Decimal(location[i]) if has_location else None
        has_market = plan.green_ratio is not None and (
            plan.residual_factor is not None or not plan.electricity_kwh
        )
        plan.market = Decimal(market[i]) if has_location and has_market else None


# --- estimate (nothing stored)


@dataclass
class Estimate:
    footprint: Footprint
    table: FactorTable


def estimate(
    legs: list[dict[str, Any]],
    *,
    dataset: FactorDataset | None = None,
    electricity_kwh: Decimal | None = None,
    region: str | None = None,
    green_ratio: Decimal | None = None,
) -> Estimate:
    """Footprint of legs given as plain dicts, without storing anything.

    Each leg: category, mass_t (tonnes), distance_km, optional radiative_forcing, fuel_type,
    fuel_amount (canonical fuel unit) and data_tier. Scope 2 is computed when `electricity_kwh`
    is given, for `region`'s grid factors, market-based only with a `green_ratio`.
    """
    dataset = dataset or default_dataset()
    if electricity_kwh and not region:
        raise CalculationError("A grid region is needed to compute Scope 2.", field="region")
    if green_ratio is not None and not (0 <= green_ratio <= 1):
        raise CalculationError("The green ratio must be between 0 and 1.", field="green_ratio")
    table = FactorTable.load(dataset, active_grid_dataset())
    inputs = FootprintInput(
        legs=[
            LegInput(
                category=leg["category"],
                mass_t=Decimal(leg["mass_t"]),
                distance_km=Decimal(leg["distance_km"]),
                data_tier=leg.get("data_tier") or DataTier.DEFAULT,
                radiative_forcing=bool(leg.get("radiative_forcing")),
                fuel_type=leg.get("fuel_type") or "",
                fuel_amount=leg.get("fuel_amount"),
                sequence=i + 1,
                where=f"legs[{i}]",
            )
            for i, leg in enumerate(legs)
        ],
        electricity_kwh=electricity_kwh or ZERO,
        region=region,
        green_ratio=green_ratio,
    )
    if electricity_kwh and table.electricity(region, "location") is None:
        raise FactorError(f"No grid electricity factor for region '{region}'.", field="region")
    (footprint,) = _compute_many([inputs], table, strict=True)
    assert isinstance(footprint, Footprint)  # noqa: S101 - strict mode raises instead
    return Estimate(footprint=footprint, table=table)


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
        )
    ):
        order_id, shipment_id, reference, sequence, category, origin, destination = row[:7]
        mass, distance, tier, rf, fuel_type, fuel_amount = row[7:]
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
                "kwh": dec(kwh),
                "lines": [
                    {"sku": sku, "quantity": dec(quantity), "kwh_per_unit": dec(per_unit)}
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
                    notes=notes,
                ),
                inputs_json,
            )
        )
    return loaded


def _declarations(orders: list[_OrderRow]) -> dict[int, dict[str, Any]]:
    """The verified green-power declaration covering each order's date at its site, in one query.

    Same choice as `GreenPowerDeclaration.objects.verified_covering(site, day)`: verified only,
    period covering the order date, the latest-starting (then newest) one wins; pending or
    rejected declarations are ignored.
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
        )
        .order_by("-period_start", "-id")
        .values_list("id", "site_id", "period_start", "period_end", "green_ratio", "instrument")
    )
    chosen = {}
    for o in with_site:
        for pk, site_id, start, end, ratio, instrument in rows:
            if site_id == o.site_id and start <= o.order_date <= end:
                chosen[o.id] = {
                    "declaration_id": pk,
                    "green_ratio": dec(ratio),
                    "instrument": instrument,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                }
                break
    return chosen


def _new_snapshot(
    order_id: int, inputs_json: dict, footprint: Footprint, table: FactorTable
) -> CalculationSnapshot:
    return CalculationSnapshot(
        order_id=order_id,
        method_version=METHOD_VERSION,
        datasets=table.datasets_json(footprint.factors),
        inputs=inputs_json,
        factors=[f.as_json() for f in footprint.factors],
        results=footprint.results_json(),
        is_current=True,
        tkm=q6(footprint.tkm),
        ttw_kg=q6(footprint.ttw),
        wtt_kg=q6(footprint.wtt),
        wtw_kg=q6(footprint.wtw),
        default_share=q6(footprint.default_share or ZERO),
        electricity_kwh=q6(footprint.scope2.electricity_kwh),
        scope2_location_kg=q6(footprint.scope2.location or ZERO),
        scope2_market_kg=(
            q6(footprint.scope2.market) if footprint.scope2.market is not None else None
        ),
    )


def _same_calculation(old: CalculationSnapshot, new: CalculationSnapshot) -> bool:
    return (
        old.method_version == new.method_version
        and old.inputs == new.inputs
        and old.factors == new.factors
        and [d["label"] for d in old.datasets] == [d["label"] for d in new.datasets]
    )


_TOTAL_FIELDS = (
    "tkm",
    "ttw_kg",
    "wtt_kg",
    "wtw_kg",
    "scope2_location_kg",
    "scope2_market_kg",
)


def describe_changes(old: CalculationSnapshot, new: CalculationSnapshot) -> dict[str, Any]:
    """What differs between two snapshots of one order: method, datasets, factors, inputs,
    and the totals before and after."""
    reasons = []
    changes: dict[str, Any] = {"supersedes": old.pk}
    if old.method_version != new.method_version:
        reasons.append("method_version")
        changes["method_version"] = {"old": old.method_version, "new": new.method_version}
    old_labels = [d["label"] for d in old.datasets]
    new_labels = [d["label"] for d in new.datasets]
    if old_labels != new_labels:
        reasons.append("datasets")
        changes["datasets"] = {"old": old_labels, "new": new_labels}

    def key(f):
        return (f["category"], f["energy_scope"], f["radiative_forcing"])

    old_f = {key(f): f for f in old.factors}
    new_f = {key(f): f for f in new.factors}
    factor_changes = {
        "added": [new_f[k] for k in new_f.keys() - old_f.keys()],
        "removed": [old_f[k] for k in old_f.keys() - new_f.keys()],
        "changed": [
            {
                "category": k[0],
                "energy_scope": k[1],
                "radiative_forcing": k[2],
                "old": {
                    "id": old_f[k]["id"],
                    "value": old_f[k]["value"],
                    "unit": old_f[k]["unit"],
                    "dataset": old_f[k]["dataset"],
                },
                "new": {
                    "id": new_f[k]["id"],
                    "value": new_f[k]["value"],
                    "unit": new_f[k]["unit"],
                    "dataset": new_f[k]["dataset"],
                },
            }
            for k in sorted(old_f.keys() & new_f.keys())
            if old_f[k] != new_f[k]
        ],
    }
    for name in ("added", "removed"):
        factor_changes[name].sort(key=lambda f: (f["category"], f["energy_scope"]))
    if any(factor_changes.values()):
        reasons.append("factors")
        changes["factors"] = factor_changes
    changed_inputs = sorted(
        k for k in old.inputs.keys() | new.inputs.keys() if old.inputs.get(k) != new.inputs.get(k)
    )
    if changed_inputs:
        reasons.append("inputs")
        changes["inputs"] = changed_inputs
    changes["totals"] = {
        name: {"old": dec_or_none(getattr(old, name)), "new": dec_or_none(getattr(new, name))}
        for name in _TOTAL_FIELDS
    }
    changes["reasons"] = reasons
    return changes


def dec_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(q6(value))


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


def calculate_batch(
    ids: list[int], table: FactorTable, *, strict: bool, per_order_events: bool = True
) -> BatchOutcome:
    """Calculate and store the orders `ids` inside the caller's transaction.

    Queries: four to load the inputs, one for the current snapshots, one UPDATE to retire the
    superseded ones, a bulk INSERT for the new ones, one for the organisations, and one outbox
    row per new snapshot (`greenloop.carbon.footprint_calculated`), or with `per_order_events`
    False one `greenloop.carbon.footprints_recalculated` row per organisation in the batch.
    """
    loaded = _load_inputs(ids)
    footprints = _compute_many([inputs for _, inputs, _ in loaded], table, strict=strict)
    current = {
        s.order_id: s for s in CalculationSnapshot.objects.filter(order_id__in=ids, is_current=True)
    }
    outcome = BatchOutcome(snapshots={})
    new: list[tuple[_OrderRow, CalculationSnapshot]] = []
    for (order, _, inputs_json), footprint in zip(loaded, footprints, strict=True):
        if isinstance(footprint, CalculationError):
            outcome.failed.append((order.id, footprint.message, footprint.field))
            continue
        snapshot = _new_snapshot(order.id, inputs_json, footprint, table)
        old = current.get(order.id)
        if old is not None and _same_calculation(old, snapshot):
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
    import multiprocessing

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
