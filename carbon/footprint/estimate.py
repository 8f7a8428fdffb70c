"""A footprint estimate for legs given as plain values: the same factors and engine as an order's
calculation, nothing stored (POST /api/v1/carbon/estimate)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from carbon.footprint import vintages
from carbon.footprint.exceptions import CalculationError, FactorError
from carbon.footprint.factors import FactorBook, FactorTable, compute_many
from carbon.footprint.model import (
    ZERO,
    Footprint,
    FootprintInput,
    LegInput,
)
from carbon.models import (
    DataTier,
    FactorDataset,
    LegDataType,
)


@dataclass
class Estimate:
    footprint: Footprint
    table: FactorTable
    activity_date: dt.date
    # Why each dataset serves the activity date (carbon.footprint.vintages), by dataset id.
    choices: dict[int, vintages.Choice]


def estimate(
    legs: list[dict[str, Any]],
    *,
    dataset: FactorDataset | None = None,
    activity_date: dt.date | None = None,
    electricity_kwh: Decimal | None = None,
    region: str | None = None,
    green_ratio: Decimal | None = None,
) -> Estimate:
    """Footprint of legs given as plain dicts, without storing anything.

    Each leg: category, mass_t (tonnes), distance_km, optional radiative_forcing, fuel_type,
    fuel_amount (canonical fuel unit) and data_tier. Scope 2 is computed when `electricity_kwh`
    is given, for `region`'s grid factors, market-based only with a `green_ratio`.

    The factors are those of the dataset versions valid on `activity_date` (default: today),
    as for an order of that date (carbon.footprint.vintages); a `dataset` named by the caller
    serves every date. The estimate says which versions it used and why.
    """
    if electricity_kwh and not region:
        raise CalculationError("A grid region is needed to compute Scope 2.", field="region")
    if green_ratio is not None and not (0 <= green_ratio <= 1):
        raise CalculationError("The green ratio must be between 0 and 1.", field="green_ratio")
    day = activity_date or timezone.localdate()
    table, choices = FactorBook.load(dataset).for_day(day)
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
                # An estimate has no attested source: fuel data is primary, the rest modelled.
                data_type=(
                    LegDataType.PRIMARY_FUEL
                    if leg.get("fuel_amount") is not None
                    else LegDataType.MODELLED_DEFAULT
                ),
            )
            for i, leg in enumerate(legs)
        ],
        electricity_kwh=electricity_kwh or ZERO,
        region=region,
        green_ratio=green_ratio,
    )
    if electricity_kwh and table.electricity(region, "location") is None:
        raise FactorError(f"No grid electricity factor for region '{region}'.", field="region")
    (footprint,) = compute_many([inputs], table, strict=True)
    assert isinstance(footprint, Footprint)  # noqa: S101 - strict mode raises instead
    return Estimate(footprint=footprint, table=table, activity_date=day, choices=choices)
