"""Baselines per transport service class, and each leg's signed contribution to the avoided
emissions of its settlement period. Pure: plain data in, plain data out, no ORM.

A leg is compared with the baseline of its own service class (a container ship with the average
container ship, a truck with the average truck), never with a mode that could not have made the
trip. A leg earns against another class's baseline (modal shift: road -> rail, road -> short-sea)
only where the policy's modal-shift rules say that mode was a realistic alternative for the
leg's class and distance.

Units: t·km, km, kgCO2e and kgCO2e per t·km, all Decimal. Contributions are signed: a leg that
emits more than its baseline (an air leg, a half-empty rigid truck) offsets the savings of the
other legs of the period. Only the period total is floored at zero (`carbon.points.formulas`).

The baseline values are the DESNZ 2025 "Greenhouse gas reporting: conversion factors 2025"
freight rows (fixtures/desnz-2025-freight.csv, flat-file row IDs below), well-to-wheel: the
"Freighting goods" TTW row plus its "WTT- delivery vehs & freight" row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

ROAD, RAIL, SHORT_SEA, DEEP_SEA, BULK_SEA, AIR = (
    "road",
    "rail",
    "short_sea",
    "deep_sea",
    "bulk_sea",
    "air",
)
SERVICE_CLASSES = (ROAD, RAIL, SHORT_SEA, DEEP_SEA, BULK_SEA, AIR)
SERVICE_CLASS_LABELS = {
    ROAD: _("overland road"),
    RAIL: _("rail"),
    SHORT_SEA: _("short-sea shipping"),
    DEEP_SEA: _("deep-sea shipping"),
    BULK_SEA: _("bulk shipping"),
    AIR: _("air freight"),
}
# The class of snapshots stored without per-leg results (none made by the calculation; older
# fixtures): their totals are compared with the overland-road baseline, as before per-class
# baselines.
LEGACY_CLASS = ROAD

_DESNZ = "DESNZ 2025 conversion factors, flat file rows"

DEFAULT_BASELINES: dict[str, dict[str, str]] = {
    ROAD: {
        "kg_per_tkm": "0.12522",
        "source": f"{_DESNZ} 27_304_3140_14_1 (0.10163 TTW) + 28_907_3140_14_1 (0.02359 WTT): "
        "Freighting goods > HGV (all diesel) > All HGVs > Average laden > tonne.km",
    },
    RAIL: {
        "kg_per_tkm": "0.03470",
        "source": f"{_DESNZ} 27_315_3151_14_1 (0.02779 TTW) + 28_911_3151_14_1 (0.00691 WTT): "
        "Freighting goods > Rail > Freight train > tonne.km",
    },
    SHORT_SEA: {
        "kg_per_tkm": "0.01977",
        "source": f"{_DESNZ} 27_320_3235_14_1 (0.01612 TTW) + 28_916_3235_14_1 (0.00365 WTT): "
        "Freighting goods > Cargo ship > Container ship > Average > tonne.km",
        # The source cites published row names (shown as they are); notes are prose, each in
        # the policy's two languages like its explanation.
        "note": "DESNZ publishes no short-sea split; the average container ship is the class "
        "default.",
        "note_zh": "DESNZ 未单列短途海运；以集装箱船平均值作为该类别的默认基准。",
    },
    DEEP_SEA: {
        "kg_per_tkm": "0.01977",
        "source": f"{_DESNZ} 27_320_3235_14_1 (0.01612 TTW) + 28_916_3235_14_1 (0.00365 WTT): "
        "Freighting goods > Cargo ship > Container ship > Average > tonne.km",
    },
    BULK_SEA: {
        "kg_per_tkm": "0.00433",
        "source": f"{_DESNZ} 27_320_3221_14_1 (0.00353 TTW) + 28_916_3221_14_1 (0.00080 WTT): "
        "Freighting goods > Cargo ship > Bulk carrier > Average > tonne.km",
    },
    # The footprint of an air leg divides the DESNZ factor by its own 8% distance uplift
    # (carbon.app_settings.DESNZ_AIR_DISTANCE_UPLIFT), as its distance (great circle + 95 km)
    # already carries the detours; the baseline is put on the same footing, or every flight
    # would "avoid" 8% of itself. 0.66646 / 1.08 = 0.617093, rounded down so that a flight never
    # earns against its own row.
    AIR: {
        "kg_per_tkm": "0.61709",
        "source": f"{_DESNZ} 27_317_3159_14_1 (0.53130 TTW) + 28_913_3159_14_1 (0.13516 WTT): "
        "Freighting goods > Freight flights > International, to/from non-UK > Without RF > "
        "tonne.km, 0.66646 / 1.08",
        "note": "DESNZ's distance uplift taken off, as in the footprint; radiative forcing is "
        "reported apart and never earns or costs points.",
        "note_zh": "已去除 DESNZ 的距离上调系数，与碳足迹计算一致；辐射强迫单独报告，"
        "既不计入也不扣减积分。",
    },
}

# Where another mode was a realistic alternative: a leg of `class` up to `max_km` (reference
# distance) is compared with `baseline_class`. Rail and coastal shipping compete with trucks on
# overland distances; above them (China-Europe rail, ocean crossings) no truck could have made
# the trip. Air is nobody's default alternative: heavy goods go by air only by choice.
DEFAULT_MODAL_SHIFT: list[dict[str, Any]] = [
    {"class": RAIL, "baseline_class": ROAD, "max_km": 1500},
    {"class": SHORT_SEA, "baseline_class": ROAD, "max_km": 2000},
]
# Sea legs up to this reference distance are short-sea (coastal, intra-regional).
DEFAULT_SHORT_SEA_MAX_KM = 3000


def default_baseline_settings() -> dict[str, Any]:
    """The policy's `baselines` JSON for a new policy (and the data migration)."""
    return {
        "classes": {name: dict(row) for name, row in DEFAULT_BASELINES.items()},
        "modal_shift": [dict(rule) for rule in DEFAULT_MODAL_SHIFT],
        "short_sea_max_km": DEFAULT_SHORT_SEA_MAX_KM,
    }


class BaselineSettingsError(ValueError):
    """The policy's baseline data is malformed (the admin form shows the message)."""


@dataclass(frozen=True)
class Baseline:
    service_class: str
    kg_per_tkm: Decimal
    source: str  # the cited rows, by their published (English) names
    note: str = ""  # why this value, in English
    note_zh: str = ""  # the note in Chinese, for Chinese readers


@dataclass(frozen=True)
class BaselineSettings:
    classes: Mapping[str, Baseline]
    modal_shift: tuple[tuple[str, str, Decimal], ...]  # (class, baseline class, max km)
    short_sea_max_km: Decimal

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> BaselineSettings:
        """Validated settings from the policy's JSON; BaselineSettingsError says what is wrong."""
        try:
            rows = data["classes"]
            classes = {
                name: Baseline(
                    name,
                    Decimal(str(rows[name]["kg_per_tkm"])),
                    rows[name]["source"],
                    str(rows[name].get("note", "")),
                    str(rows[name].get("note_zh", "")),
                )
                for name in SERVICE_CLASSES
            }
            shift = tuple(
                (rule["class"], rule["baseline_class"], Decimal(str(rule["max_km"])))
                for rule in data.get("modal_shift", [])
            )
            short_sea = Decimal(str(data.get("short_sea_max_km", DEFAULT_SHORT_SEA_MAX_KM)))
        except (KeyError, TypeError, ArithmeticError, ValueError) as missing:
            raise BaselineSettingsError(
                f"Baselines need classes {', '.join(SERVICE_CLASSES)}, each with kg_per_tkm and "
                f"source; modal_shift rules need class, baseline_class and max_km ({missing})."
            ) from missing
        for baseline in classes.values():
            if baseline.kg_per_tkm < 0 or not str(baseline.source).strip():
                raise BaselineSettingsError(
                    f"The {baseline.service_class} baseline needs a value >= 0 and a source."
                )
        for own, other, max_km in shift:
            if own not in SERVICE_CLASSES or other not in SERVICE_CLASSES or max_km < 0:
                raise BaselineSettingsError(
                    f"Modal-shift rule {own} -> {other} names an unknown class or a negative "
                    "distance."
                )
        return cls(classes, shift, short_sea)


def service_class(category: str | None, reference_km: Decimal, short_sea_max_km: Decimal) -> str:
    """The service class of a leg of transport category `category` over `reference_km`."""
    mode = (category or "").split(".", 1)[0]
    if mode == "sea":
        if category and category.startswith("sea.bulk."):
            return BULK_SEA
        return SHORT_SEA if reference_km <= short_sea_max_km else DEEP_SEA
    if mode in (RAIL, AIR):
        return mode
    return ROAD


@dataclass(frozen=True)
class LegBasis:
    """What the comparison needs of one leg: its category, mass, declared distance and actual
    well-to-wheel emissions (from the footprint snapshot)."""

    category: str | None
    mass_t: Decimal
    declared_km: Decimal
    wtw_kg: Decimal
    origin: str = ""
    destination: str = ""
    # The distances the calculation stored with the leg (carbon.footprint.model.distance_json):
    # its reference distance for points and that distance's basis; None for legs stored
    # before reference distances.
    distance: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LegContribution:
    service_class: str
    baseline_class: str
    baseline: Baseline
    reference_km: Decimal
    reference_tkm: Decimal
    wtw_kg: Decimal
    avoided_kg: Decimal  # signed: negative when the leg emitted more than its baseline
    # How the reference distance was found: "declared" (an end is not a known place),
    # "great_circle" (x the mode's adjustment), "declared_cap" (the declared distance, shorter
    # than that), "sea_declared" (the declared sea route).
    reference_basis: str = "declared"

    def as_json(self) -> dict[str, Any]:
        return {
            "service_class": self.service_class,
            "baseline_class": self.baseline_class,
            "baseline_kg_per_tkm": _text(self.baseline.kg_per_tkm),
            "baseline_source": self.baseline.source,
            "reference_km": _text(self.reference_km),
            "reference_basis": self.reference_basis,
            "reference_tkm": _text(self.reference_tkm),
            "wtw_kg": _text(self.wtw_kg),
            "avoided_kg": _text(self.avoided_kg),
        }


ReferenceDistance = Callable[[LegBasis], Decimal | None]


def declared_distance(leg: LegBasis) -> Decimal | None:
    """No reference distance of its own: the declared distance is the basis."""
    return None


def leg_contribution(
    leg: LegBasis,
    settings: BaselineSettings,
    reference_km: ReferenceDistance = declared_distance,
) -> LegContribution:
    """The leg's signed avoided kgCO2e: reference t·km x its baseline - its actual WTW.

    The reference distance (great-circle x distance adjustment factor, when both ends are known
    locations) is capped by the declared distance, so a longer declared route earns nothing
    extra: its WTW grows, its reference t·km does not. Without known locations the declared
    distance is the basis."""
    known = reference_km(leg)
    distance = leg.declared_km if known is None else min(known, leg.declared_km)
    basis = "declared" if known is None else (leg.distance or {}).get("basis", "")
    own = service_class(leg.category, distance, settings.short_sea_max_km)
    against = own
    for shifted, alternative, max_km in settings.modal_shift:
        if shifted == own and distance <= max_km:
            against = alternative
            break
    baseline = settings.classes[against]
    tkm = leg.mass_t * distance
    return LegContribution(
        service_class=own,
        baseline_class=against,
        baseline=baseline,
        reference_km=distance,
        reference_tkm=tkm,
        wtw_kg=leg.wtw_kg,
        avoided_kg=tkm * baseline.kg_per_tkm - leg.wtw_kg,
        reference_basis=basis,
    )


def net_avoided_kg(contributions: Iterable[LegContribution]) -> Decimal:
    """The signed sum of the legs' contributions (an excess offsets a saving)."""
    return sum((c.avoided_kg for c in contributions), Decimal(0))


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"
