"""The method statement: what the footprint calculation covers and what it does not, built from
the engine's own tables (transport categories, hub defaults, fuels, energy scopes, published
datasets), so that the statement cannot claim more than the code does.

The order page, the API's order detail and the PDF reports link to it; the page
(`carbon.views.method_statement`) and the API (`GET /carbon/method`) render `method_statement()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbon.footprint import categories, hubs
from carbon.footprint.engine import FUEL_UNITS, METHOD_VERSION
from carbon.models import DatasetStatus, FactorDataset, FuelType

# The transport modes of ISO 14083's scope; a mode without a category is "not covered".
ISO_14083_MODES: dict[str, Any] = {
    "road": _("Road"),
    "rail": _("Rail"),
    "sea": _("Sea"),
    "air": _("Air"),
    "inland_waterway": _("Inland waterway"),
    "pipeline": _("Pipeline"),
    "cable_car": _("Cable car"),
}
# How a leg's distance is taken for its footprint (carbon.footprint.model.emission_distance).
DISTANCE_BASES: dict[str, Any] = {
    "declared": _(
        "Road, rail and sea: the distance declared on the leg (the carrier's or customer's "
        "figure), checked against the great-circle distance where both ends are known places"
    ),
    "air": _(
        "Air: the great-circle distance between two known airports + 95 km (GLEC), else the "
        "declared flown distance; either way the DESNZ factor's own 8% distance uplift is "
        "taken off, so detours are counted once"
    ),
}


@dataclass(frozen=True)
class Item:
    """One line of the statement: a stable code for machines and a sentence for people."""

    code: str
    text: Any

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "text": str(self.text)}


@dataclass(frozen=True)
class MethodStatement:
    method_version: str
    standard: Any
    covered: tuple[Item, ...]
    not_covered: tuple[Item, ...]
    datasets: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "method_version": self.method_version,
            "standard": str(self.standard),
            "covered": [i.as_json() for i in self.covered],
            "not_covered": [i.as_json() for i in self.not_covered],
            "datasets": list(self.datasets),
        }


# List separators in the reader's language: "Road, Rail" and "公路、铁路"; "; " between items
# that hold commas themselves ("；" in Chinese).
COMMA = pgettext_lazy("between the items of a list", ", ")
SEMICOLON = pgettext_lazy("between list items that contain commas", "; ")


def _join(values: list[Any], sep: Any = COMMA) -> Any:
    if not values:
        return "—"
    return format_lazy("{}" + "{sep}{}" * (len(values) - 1), *values, sep=sep)


def method_statement(datasets: list[str] | tuple[str, ...] = ()) -> MethodStatement:
    """The statement for the engine as it is, with the labels of the published `datasets` it
    draws factors from (the caller reads them; this function touches no database)."""
    by_mode: dict[str, list[str]] = {}
    for code, category in categories.CATEGORIES.items():
        by_mode.setdefault(category.mode, []).append(code)
    covered_modes = [m for m in ISO_14083_MODES if m in by_mode]
    missing_modes = [m for m in ISO_14083_MODES if m not in by_mode]
    rf_categories = [c.code for c in categories.CATEGORIES.values() if c.supports_radiative_forcing]
    hub_rows = list(hubs.hub_factors().values())
    covered = [
        Item(
            "modes",
            format_lazy(
                _("Transport modes: {modes} ({count} transport categories)"),
                modes=_join([ISO_14083_MODES[m] for m in covered_modes]),
                count=sum(len(by_mode[m]) for m in covered_modes),
            ),
        ),
        Item(
            "energy_scopes",
            _(
                "Well-to-wheel emissions (WTW) with their tank-to-wheel (TTW) and well-to-tank "
                "(WTT) parts, in kg CO₂e"
            ),
        ),
        Item(
            "fuel_based",
            format_lazy(
                _("Measured fuel or energy replaces the default intensity of a leg: {fuels}"),
                fuels=_join([FuelType(fuel).label for fuel in FUEL_UNITS]),
            ),
        ),
        Item(
            "distance_basis",
            format_lazy(_("Distance basis: {bases}"), bases=_join(list(DISTANCE_BASES.values()))),
        ),
    ]
    if hub_rows:
        covered.append(
            Item(
                "hub_operations",
                format_lazy(
                    _(
                        "Hub operations (ISO 14083 hub operation categories), tonnes handled × "
                        "the GLEC Framework v3 default intensity, reported as WTW without a "
                        "TTW/WTT split: {hubs}"
                    ),
                    hubs=_join([hubs.hub_label(f) for f in hub_rows], SEMICOLON),
                ),
            )
        )
    if rf_categories:
        covered.append(
            Item(
                "radiative_forcing",
                _(
                    "Radiative forcing of air freight, on its own line and never in the WTW total "
                    "(ISO 14083 keeps non-CO₂ effects of aviation out)"
                ),
            )
        )
    covered += [
        Item(
            "scope2",
            _(
                "Scope 2 of the electricity attributed to delivered products, location-based and "
                "market-based, reported apart from transport"
            ),
        ),
        Item(
            "data_quality",
            _(
                "Data quality: the share of WTW calculated from modelled default factors, by the "
                "data type each leg's provenance gives it (measured fuel, carrier-specific, "
                "modelled default)"
            ),
        ),
    ]
    not_covered = []
    if missing_modes:
        not_covered.append(
            Item(
                "modes",
                format_lazy(
                    _("Transport modes without a category: {modes}"),
                    modes=_join([ISO_14083_MODES[m] for m in missing_modes]),
                ),
            )
        )
    missing_hubs = hubs.hub_types_without_default()
    if missing_hubs:
        not_covered.append(
            Item(
                "hub_operations",
                format_lazy(
                    _("Hub operations without a published default: {hubs}"),
                    hubs=_join([hubs.HUB_TYPES[h] for h in missing_hubs]),
                ),
            )
        )
    not_covered += [
        Item(
            "empty_running",
            _(
                "Empty running is included only through the DESNZ average-laden rows; a leg on a "
                "row for another load (50 % or 100 % laden) carries no empty return"
            ),
        ),
        Item(
            "refrigeration",
            _(
                "Refrigerant leakage and the fuel of separate refrigeration units, except where a "
                "refrigerated vehicle row includes them"
            ),
        ),
        Item(
            "hub_measured_energy",
            _("Measured energy of hubs: hub operations use the published defaults only"),
        ),
        Item(
            "distance_adjustment",
            _(
                "Distance adjustment factors in road, rail and sea footprints: those use the "
                "declared distance (great circle x the GLEC factor is only the reference distance "
                "points are capped by)"
            ),
        ),
        Item(
            "infrastructure",
            _("Vehicle manufacture, infrastructure and packaging (outside ISO 14083's boundary)"),
        ),
        Item(
            "tkm_allocation",
            _(
                "Allocation of a shared vehicle's fuel by anything other than mass × distance "
                "(for example volume or pallets)"
            ),
        ),
    ]
    return MethodStatement(
        method_version=METHOD_VERSION,
        standard=_("Aligned with ISO 14083:2023 and the GLEC Framework v3; not certified"),
        covered=tuple(covered),
        not_covered=tuple(not_covered),
        datasets=tuple(datasets),
    )


def current_method_statement() -> MethodStatement:
    """The statement with the datasets published now (one query)."""
    labels = [
        f"{slug}@{version}"
        for slug, version in FactorDataset.objects.filter(status=DatasetStatus.PUBLISHED)
        .order_by("slug", "version")
        .values_list("slug", "version")
    ]
    return method_statement(labels)
