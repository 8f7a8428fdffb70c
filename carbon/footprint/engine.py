"""Pure emission arithmetic over arrays (ISO 14083 / GLEC style), no ORM.

Every function takes Pint quantities wrapping numpy arrays, checks their units once per batch,
and then does plain array arithmetic on magnitudes in canonical units. The same code serves:

* bulk work on float64 arrays (a million legs in a benchmark, recalculation batches), and
* exact work on object arrays of `Decimal` (one order in a request; what gets stored), because
  in canonical units the arithmetic needs no conversion factors, only `*`, `+` and `-`.

Conventions: mass in tonnes, distance in km, activity in tonne-km, emissions in kgCO2e,
freight intensities in kgCO2e/(tonne*km), electricity in kWh and kgCO2e/kWh.
WTW = TTW + WTT, always reported with its split; scopes are never mixed in one total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

import numpy as np
import pint

from carbon.footprint.units import (
    ACTIVITY,
    DISTANCE,
    ELECTRICITY_INTENSITY,
    EMISSIONS,
    ENERGY,
    FREIGHT_INTENSITY,
    MASS,
    Q_,
    ureg,
)

# "aligned", not "ISO 14083": the method does not cover the standard in full (see
# carbon.footprint.method for what it does and does not cover). Snapshots keep the version they
# were calculated with ("greenloop-iso14083-2026.1" before this rename).
METHOD_VERSION = "greenloop-iso14083-aligned-2026.2"
# kgCO2e per tonne handled: the intensity of a hub operation (ISO 14083 HOC).
HUB_INTENSITY = "kgCO2e / tonne"

FUEL_UNITS = {"diesel": "litre", "hfo": "kg", "jet": "litre", "electricity": "kWh"}


def fuel_intensity_unit(fuel_type: str) -> str:
    """Unit of a fuel-based factor, e.g. kgCO2e/litre for diesel."""
    return f"kgCO2e / {FUEL_UNITS[fuel_type]}"


class UnitMismatchError(pint.DimensionalityError):
    pass


def magnitude(quantity: pint.Quantity, unit: str) -> np.ndarray:
    """The magnitudes of `quantity` in `unit`, refusing a wrong dimension.

    When the quantity is already in `unit` the array is returned as it is (no float conversion
    factor touches a Decimal array); otherwise Pint converts it (float arrays only).
    """
    target = ureg.Unit(unit)
    if quantity.dimensionality != target.dimensionality:
        raise UnitMismatchError(
            quantity.units,
            target,
            # Pint raises its own error with the dimensionalities too; it annotates them str.
            quantity.dimensionality,  # type: ignore[arg-type]
            target.dimensionality,  # type: ignore[arg-type]
        )
    if quantity.units == target:
        return np.asarray(quantity.magnitude)
    return np.asarray(quantity.to(target).magnitude)


@dataclass(frozen=True)
class LegResults:
    """Per-leg results as plain arrays in canonical units (tonne-km and kgCO2e)."""

    tkm: np.ndarray
    ttw: np.ndarray
    wtt: np.ndarray
    # Hub operations' WTW where their source publishes no TTW/WTT split; None when no hubs.
    hub: np.ndarray | None = None

    @property
    def wtw(self) -> np.ndarray:
        if self.hub is None:
            return self.ttw + self.wtt
        return self.ttw + self.wtt + self.hub


def leg_emissions(
    mass: pint.Quantity,
    distance: pint.Quantity,
    ttw_intensity: pint.Quantity,
    wtt_intensity: pint.Quantity,
    *,
    fuel_used: np.ndarray | None = None,
    fuel_ttw: np.ndarray | None = None,
    fuel_wtt: np.ndarray | None = None,
) -> LegResults:
    """Emissions of transport legs: activity (t·km) x intensity, split TTW / WTT.

    Where a leg has primary fuel data (`fuel_used` not None/NaN for that leg, with fuel factors
    `fuel_ttw`/`fuel_wtt` in kgCO2e per unit of that fuel, all already in matching units), its
    TTW and WTT come from the fuel instead of the default intensity.
    """
    m = magnitude(mass, MASS)
    d = magnitude(distance, DISTANCE)
    ttw_i = magnitude(ttw_intensity, FREIGHT_INTENSITY)
    wtt_i = magnitude(wtt_intensity, FREIGHT_INTENSITY)
    tkm = m * d
    ttw = tkm * ttw_i
    wtt = tkm * wtt_i
    if fuel_used is not None:
        has_fuel = _present(fuel_used)
        if has_fuel.any():
            ttw = np.where(has_fuel, _fill(fuel_used, has_fuel) * _fill(fuel_ttw, has_fuel), ttw)
            wtt = np.where(has_fuel, _fill(fuel_used, has_fuel) * _fill(fuel_wtt, has_fuel), wtt)
    return LegResults(tkm=tkm, ttw=ttw, wtt=wtt)


def hub_emissions(mass: pint.Quantity, intensity: pint.Quantity) -> np.ndarray:
    """Emissions of hub operations in kgCO2e: tonnes handled x kgCO2e per tonne handled (the
    activity of a hub is its throughput, not t·km; it adds nothing to t·km)."""
    return magnitude(mass, MASS) * magnitude(intensity, HUB_INTENSITY)


def _present(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.array([v is not None for v in values], dtype=bool)
    return ~np.isnan(values)


def _fill(values: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    # Legs without fuel data get 0 here; np.where then keeps their distance-based result.
    if values is None:
        raise ValueError("fuel factors are required where fuel use is given")
    if values.dtype != object:
        return np.where(mask, values, 0.0)
    zero = Decimal(0)
    return np.array(
        [v if (ok and v is not None) else zero for v, ok in zip(values, mask, strict=True)],
        dtype=object,
    )


@overload
def scope2(
    electricity: pint.Quantity,
    location_factor: pint.Quantity,
    residual_factor: pint.Quantity,
    green_ratio: np.ndarray,
    instrument_factor: pint.Quantity | None = None,
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def scope2(
    electricity: pint.Quantity,
    location_factor: pint.Quantity,
    residual_factor: pint.Quantity,
    green_ratio: None,
    instrument_factor: pint.Quantity | None = None,
) -> tuple[np.ndarray, None]: ...


def scope2(
    electricity: pint.Quantity,
    location_factor: pint.Quantity,
    residual_factor: pint.Quantity,
    green_ratio: np.ndarray | None,
    instrument_factor: pint.Quantity | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Scope 2 of attributed electricity, location- and market-based (GHG Protocol Scope 2).

    Market-based for a verified green ratio r: r x EF_instrument + (1 - r) x EF_residual, with
    EF_instrument = 0 for certificates and the supplier's own factor for PPAs and green tariffs
    (`instrument_factor`, absent = 0); the uncovered share uses the residual-like factor, never
    the grid average. Where no ratio is known (None), there is no market figure.
    """
    kwh = magnitude(electricity, ENERGY)
    location = kwh * magnitude(location_factor, ELECTRICITY_INTENSITY)
    if green_ratio is None:
        return location, None
    one = Decimal(1) if np.asarray(green_ratio).dtype == object else 1.0
    ratio = np.asarray(green_ratio)
    market = kwh * (one - ratio) * magnitude(residual_factor, ELECTRICITY_INTENSITY)
    if instrument_factor is not None:
        market = market + kwh * ratio * magnitude(instrument_factor, ELECTRICITY_INTENSITY)
    return location, market


@dataclass(frozen=True)
class OrderTotals:
    tkm: Any
    ttw: Any
    wtt: Any
    wtw: Any
    intensity: Any  # kgCO2e per tonne-km (WTW), None without activity
    default_share: Any  # share of WTW from legs whose data type is a modelled default


def order_totals(legs: LegResults, is_default: np.ndarray) -> OrderTotals:
    """Totals of one order's legs and its data-quality summary: `is_default` marks the legs
    whose data type is a modelled default (not primary fuel or carrier-specific data), and the
    default share is their part of the order's WTW (None without emissions)."""
    tkm = legs.tkm.sum()
    wtw = legs.wtw.sum()
    default_wtw = np.where(is_default, legs.wtw, legs.wtw * 0).sum()
    return OrderTotals(
        tkm=tkm,
        ttw=legs.ttw.sum(),
        wtt=legs.wtt.sum(),
        wtw=wtw,
        intensity=(wtw / tkm) if tkm else None,
        default_share=(default_wtw / wtw) if wtw else None,
    )


def grouped_totals(
    group: np.ndarray, legs: LegResults, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-order sums for a batch of legs (float arrays): tkm, ttw, wtt, wtw by group index."""
    sums = [
        np.bincount(group, weights=values, minlength=n_groups)
        for values in (legs.tkm, legs.ttw, legs.wtt)
    ]
    return sums[0], sums[1], sums[2], sums[1] + sums[2]


def decimal_array(values) -> np.ndarray:
    """An object array of Decimals, for exact per-order arithmetic."""
    return np.array(
        [v if v is None or isinstance(v, Decimal) else Decimal(str(v)) for v in values],
        dtype=object,
    )


def quantity(values, unit: str) -> pint.Quantity:
    return Q_(values, unit)


__all__ = [
    "ACTIVITY",
    "EMISSIONS",
    "METHOD_VERSION",
    "LegResults",
    "OrderTotals",
    "decimal_array",
    "fuel_intensity_unit",
    "grouped_totals",
    "hub_emissions",
    "leg_emissions",
    "magnitude",
    "order_totals",
    "quantity",
    "scope2",
]
