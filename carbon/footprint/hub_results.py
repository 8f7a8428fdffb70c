"""Hub operations added to a batch's transport results (carbon.footprint.model.compute): the
tonnes handled x the hub's kg CO2e per tonne, split into TTW and WTT where the source publishes
the split, else kept as unsplit WTW."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from carbon.footprint import engine
from carbon.footprint.units import MASS, Q_, plain_decimal

# The one rule for "is this leg a hub operation?", here rather than in hubs (which reads Django
# settings and translations) so that the Django-free engine model can use it too.
HUB_PREFIX = "hub."


def is_hub(category: str) -> bool:
    return category.startswith(HUB_PREFIX)


if TYPE_CHECKING:
    from carbon.footprint.model import LegFactors, LegInput

ZERO = Decimal(0)


@dataclass(frozen=True)
class HubFactor:
    """A hub operation's default intensity (carbon.footprint.hubs reads the cited table): kg
    CO2e per tonne handled, WTW; TTW and WTT only where the source publishes them."""

    category: str
    hub_type: str
    temperature: str
    wtw: Decimal
    ttw: Decimal | None
    wtt: Decimal | None
    row_label: str
    source: str

    @property
    def split(self) -> bool:
        return self.ttw is not None and self.wtt is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "wtw_kg_per_t": plain_decimal(self.wtw),
            "ttw_kg_per_t": plain_decimal(self.ttw),
            "wtt_kg_per_t": plain_decimal(self.wtt),
            "unit": engine.HUB_INTENSITY,
            "source": self.source,
            "source_label": self.row_label,
        }


def with_hubs(
    results: engine.LegResults, legs: list[LegInput], factors: list[LegFactors]
) -> engine.LegResults:
    """Add hub operations (tonnes handled x kg CO2e per tonne) to the transport results: into
    TTW and WTT where the source publishes the split, else as unsplit WTW (`hub`)."""
    hub_factors = [f.hub for f in factors]
    if not any(hub_factors):
        return results

    def intensity(pick) -> np.ndarray:
        return engine.decimal_array(
            [(pick(h) or ZERO) if h is not None else ZERO for h in hub_factors]
        )

    mass = Q_(engine.decimal_array([leg.mass_t for leg in legs]), MASS)
    split = [h is not None and h.split for h in hub_factors]
    ttw = engine.hub_emissions(mass, Q_(intensity(lambda h: h.ttw), engine.HUB_INTENSITY))
    wtt = engine.hub_emissions(mass, Q_(intensity(lambda h: h.wtt), engine.HUB_INTENSITY))
    unsplit = engine.decimal_array(
        [ZERO if (h is None or s) else h.wtw for h, s in zip(hub_factors, split, strict=True)]
    )
    return engine.LegResults(
        tkm=results.tkm,
        ttw=results.ttw + ttw,
        wtt=results.wtt + wtt,
        hub=engine.hub_emissions(mass, Q_(unsplit, engine.HUB_INTENSITY)),
    )
