"""Emission factors as a calculation uses them: the default and grid datasets, the factor table
loaded in one query, and each leg's factors resolved from it."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from carbon.footprint import categories, hubs, vintages
from carbon.footprint.engine import FUEL_UNITS, fuel_intensity_unit
from carbon.footprint.exceptions import CalculationError, FactorError
from carbon.footprint.model import (
    FactorRef,
    Footprint,
    FootprintInput,
    GridFactors,
    LegFactors,
    compute,
    unique_refs,
)
from carbon.footprint.units import (
    ELECTRICITY_INTENSITY,
    FREIGHT_INTENSITY,
    co2_only_unit,
    convert,
    counts_co2_only,
    ureg,
)
from carbon.models import EmissionFactor, EnergyScope, FactorDataset


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
    """Exact Decimal factor from a factor's published unit to the canonical one.

    A CO2-only factor ("kgCO2 / kWh") converts to the CO2-only counterpart of the canonical unit
    and its value then stands in for CO2e: the only CO2e figure its source publishes, and a lower
    bound of it. This is the one place that crossing is made; the factor keeps its CO2 unit, so
    every page, snapshot and report that shows it says "CO2 only".
    """
    try:
        source = ureg.Unit(unit)
    except Exception as exc:  # Pint raises several error types for unparsable units
        raise FactorError(f"Unknown unit '{unit}' on an emission factor.") from exc
    if counts_co2_only(unit):
        target = co2_only_unit(target)
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

    def __init__(
        self,
        dataset: FactorDataset,
        grid: FactorDataset | Sequence[FactorDataset] | None,
        rows: Iterable,
        *,
        choices: Sequence[vintages.Choice] = (),
    ):
        grids = [] if grid is None else [grid] if isinstance(grid, FactorDataset) else list(grid)
        self.dataset = dataset
        self.grid = grids[0] if grids else None
        self.datasets = {dataset.pk: dataset} | {g.pk: g for g in grids}
        # Why each dataset serves this table's activity date (empty: named by the caller).
        self.choices = {c.dataset.pk: c for c in choices}
        # Grid datasets in order of preference: a region takes the first one with its factor.
        grid_rank = {g.pk: i for i, g in enumerate(grids)}
        ranked: dict[tuple[str, str, bool], tuple[tuple, FactorRef]] = {}
        for row in rows:
            if row.dataset_id not in self.datasets:
                continue  # a FactorBook hands every candidate's rows to each table
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
            from_grid = row.dataset_id in grid_rank
            rank = (
                from_grid != is_grid_factor,
                grid_rank.get(row.dataset_id, 0),
                row.region != "GLO",
                row.region,
                row.pk,
            )
            key = (row.category, row.energy_scope, row.radiative_forcing)
            if key not in ranked or rank < ranked[key][0]:
                ranked[key] = (rank, ref)
        self._factors = {key: ref for key, (_, ref) in ranked.items()}
        self._fingerprint: str | None = None

    @classmethod
    def load(
        cls,
        dataset: FactorDataset,
        grid: FactorDataset | None = None,
        *,
        categories: Iterable[str] | None = None,
    ) -> FactorTable:
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
        self,
        used: Iterable[FactorRef] | None = None,
        *,
        full: bool = True,
        choices: dict[int, vintages.Choice] | None = None,
    ) -> list[dict[str, Any]]:
        """The datasets a calculation drew on: the freight dataset, and the grid dataset only
        when one of its factors was `used` (so a new grid version leaves freight-only orders
        alone)."""
        used_ids = {self.dataset.pk} | {f.dataset_id for f in used or ()}
        choices = self.choices if choices is None else choices
        return [
            dataset_json(d, full=full)
            | ({"selection": choices[d.pk].as_json()} if full and d.pk in choices else {})
            for d in self.datasets.values()
            if d.pk in used_ids
        ]

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the table's datasets (ids and versions) and of every factor it can
        hand out (id, value, unit, dataset): part of each snapshot's input hash, so a new
        vintage, a changed grid dataset or a factor edited in a draft dataset is never skipped
        as unchanged."""
        if self._fingerprint is None:
            parts = [[d.pk, d.label] for d in self.datasets.values()]
            parts += [
                [*key, ref.id, str(ref.value), ref.unit, ref.dataset_id]
                for key, ref in sorted(self._factors.items())
            ]
            self._fingerprint = hashlib.sha256(repr(parts).encode()).hexdigest()
        return self._fingerprint


class FactorBook:
    """Every dataset version a batch of orders may take, loaded in two queries, and the
    FactorTable for each activity date (see carbon.footprint.vintages for the rules).

    A dataset named by the caller (`dataset`, `grid`) serves every date, as before vintages.
    """

    def __init__(
        self,
        freight: Sequence[FactorDataset],
        default: FactorDataset,
        grids: Sequence[FactorDataset],
        default_grid: FactorDataset | None,
        rows: Iterable,
        *,
        named_freight: bool = False,
        named_grid: bool = False,
    ):
        self.freight = list(freight)
        self.default = default
        self.grids = list(grids)
        self.default_grid = default_grid
        self.rows = list(rows)
        self.named_freight = named_freight
        self.named_grid = named_grid
        self._tables: dict[tuple, FactorTable] = {}
        self._days: dict[dt.date, tuple[FactorTable, dict[int, vintages.Choice]]] = {}

    @classmethod
    def load(
        cls, dataset: FactorDataset | None = None, grid: FactorDataset | None = None
    ) -> FactorBook:
        default = dataset or default_dataset()
        freight = [dataset] if dataset is not None else vintages.series_of(default)
        default_grid = grid or active_grid_dataset()
        if grid is not None:
            grids = [grid]
        elif default_grid is not None:
            grids = vintages.series_of(default_grid)
        else:
            grids = []
        rows = EmissionFactor.objects.filter(
            dataset_id__in={d.pk for d in freight} | {g.pk for g in grids}
        ).order_by("id")
        return cls(
            freight,
            default,
            grids,
            default_grid,
            rows,
            named_freight=dataset is not None,
            named_grid=grid is not None,
        )

    def choose(self, day: dt.date) -> tuple[vintages.Choice, list[vintages.Choice]]:
        """The freight dataset and the grid datasets (in order of preference) for `day`."""
        if self.named_freight:
            freight = vintages.Choice(self.default, "freight", day, vintages.NAMED)
        else:
            ranked = vintages.ranked(self.freight, day)
            dataset, basis = ranked[0] if ranked else (self.default, vintages.DEFAULT)
            freight = vintages.Choice(dataset, "freight", day, basis)
        if self.named_grid:
            grids = [vintages.Choice(g, "grid", day, vintages.NAMED) for g in self.grids]
        else:
            grids = [
                vintages.Choice(g, "grid", day, basis)
                for g, basis in vintages.ranked(self.grids, day)
            ]
            if self.default_grid is not None and all(
                c.dataset.pk != self.default_grid.pk for c in grids
            ):
                grids.append(vintages.Choice(self.default_grid, "grid", day, vintages.DEFAULT))
        return freight, grids

    def for_day(self, day: dt.date) -> tuple[FactorTable, dict[int, vintages.Choice]]:
        """The table for `day` (shared by the days that choose alike) and the choices, by
        dataset id, whose notes name `day`. Remembered per day: a batch of orders has a few
        hundred distinct activity dates, and the book never changes once loaded."""
        known = self._days.get(day)
        if known is not None:
            return known[0], dict(known[1])
        freight, grids = self.choose(day)
        key = (freight.dataset.pk, freight.basis, *((g.dataset.pk, g.basis) for g in grids))
        table = self._tables.get(key)
        if table is None:
            table = FactorTable(
                freight.dataset,
                [g.dataset for g in grids],
                self.rows,
                choices=[freight, *grids],
            )
            self._tables[key] = table
        self._days[day] = (table, {c.dataset.pk: c for c in (freight, *grids)})
        return table, dict(self._days[day][1])


def _leg_factors(
    table: FactorTable,
    category: str,
    radiative_forcing: bool,
    fuel_type: str,
    has_fuel: bool,
    where: str,
) -> LegFactors:
    label = table.dataset.label
    if hubs.is_hub(category):
        refusal = hubs.refusal(category)
        if refusal:
            raise FactorError(refusal, field=f"{where}.category", code="unknown_category")
        return LegFactors(ttw=None, wtt=None, hub=hubs.hub_factors()[category])
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
    if ttw is None or wtt is None:
        scope = EnergyScope.TTW if ttw is None else EnergyScope.WTT
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
        return unique_refs(ref for leg in self.legs for ref in leg.refs())


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
        ttw=[f.ttw.canonical if f.ttw else Decimal(0) for f in legs],
        wtt=[f.wtt.canonical if f.wtt else Decimal(0) for f in legs],
        ttw_rf=[f.ttw_rf.canonical if f.ttw_rf else None for f in legs],
        legs=legs,
    )


def compute_many(
    inputs: Sequence[FootprintInput], table: FactorTable, *, strict: bool
) -> list[Footprint | CalculationError]:
    """Resolve every leg's factors from `table`, then compute all footprints in one engine call.

    With `strict`, the first error is raised; otherwise it takes that order's place in the list.
    """
    resolved: list[list[LegFactors] | Exception] = []
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
    grid = [
        GridFactors(
            location=table.electricity(item.region, "location"),
            residual=table.electricity(item.region, "residual"),
        )
        for item in inputs
    ]
    return compute(inputs, resolved, grid)  # type: ignore[return-value]


def choose_tables(
    days: Sequence[dt.date], source: FactorTable | FactorBook
) -> list[tuple[FactorTable, dict | None]]:
    """For each activity day, the factor table it chooses and why its datasets serve it (a
    single table serves every day, with no reasons)."""
    if isinstance(source, FactorTable):
        return [(source, None)] * len(days)
    return [source.for_day(day) for day in days]


def compute_chosen(
    inputs: Sequence[FootprintInput],
    chosen: Sequence[tuple[FactorTable, dict | None]],
    strict: bool,
) -> list[tuple[Any, FactorTable, dict | None]]:
    """Each input's footprint (or error) under its chosen table: one engine call per group of
    inputs that chose the same datasets."""
    groups: dict[int, list[int]] = {}
    for i, (table, _) in enumerate(chosen):
        groups.setdefault(id(table), []).append(i)
    footprints: list[Any] = [None] * len(inputs)
    for members in groups.values():
        table = chosen[members[0]][0]
        results = compute_many([inputs[i] for i in members], table, strict=strict)
        for i, footprint in zip(members, results, strict=True):
            footprints[i] = footprint
    return [(footprints[i], *chosen[i]) for i in range(len(inputs))]
