"""Pure points arithmetic: avoided emissions and the points they earn. No ORM.

Units: t·km, kgCO2e and kgCO2e per t·km, all Decimal. Avoided emissions are never negative (an
order that emitted more than the baseline earns nothing, and is not penalised).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import numpy as np

ZERO = Decimal(0)


def avoided_logistics_kg(tkm: Decimal, wtw_kg: Decimal, baseline_kg_per_tkm: Decimal) -> Decimal:
    """kgCO2e avoided against the baseline: max(0, t·km x baseline - actual WTW)."""
    return max(ZERO, tkm * baseline_kg_per_tkm - wtw_kg)


def avoided_scope2_kg(location_kg: Decimal, market_kg: Decimal | None) -> Decimal:
    """kgCO2e of Scope 2 avoided by verified green power: max(0, location - market); 0 when
    there is no market-based figure (no verified declaration)."""
    if market_kg is None:
        return ZERO
    return max(ZERO, location_kg - market_kg)


def points_for(total_avoided_kg: Decimal, points_per_kg: Decimal, cap: int | None) -> int:
    """floor(total avoided kg x rate), never negative, at most `cap` when there is one."""
    raw = max(ZERO, total_avoided_kg * points_per_kg)
    points = int(raw.to_integral_value(rounding=ROUND_FLOOR))
    return points if cap is None else min(points, cap)


def points_many(
    tkm: np.ndarray,
    wtw_kg: np.ndarray,
    location_kg: np.ndarray,
    market_kg: np.ndarray,
    baseline_kg_per_tkm: float,
    points_per_kg: float,
    cap: int | None,
) -> np.ndarray:
    """`points_for(avoided_logistics_kg + avoided_scope2_kg)` of many orders at once (float
    arrays, one value per order; NaN in `market_kg` = no market-based figure): for estimates
    and bulk previews over a million orders. Stored awards keep the Decimal functions above."""
    logistics = np.maximum(0.0, tkm * baseline_kg_per_tkm - wtw_kg)
    scope2 = np.maximum(0.0, np.nan_to_num(location_kg - market_kg, nan=0.0))
    points = np.floor(np.maximum(0.0, (logistics + scope2) * points_per_kg)).astype(np.int64)
    return points if cap is None else np.minimum(points, cap)
