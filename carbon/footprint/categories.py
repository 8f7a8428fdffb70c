"""Public transport category codes used by the API, imports and factor datasets.

A code names what a leg is (mode, vehicle, load); a dataset supplies its TTW and WTT factors.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from carbon.footprint import hubs


@dataclass(frozen=True)
class Category:
    code: str
    mode: str  # road, rail, sea, air
    label: object
    # Air legs may be reported with radiative forcing, on a line of their own.
    supports_radiative_forcing: bool = False


_CATEGORIES = [
    Category("road.hgv.average_laden", "road", _("HGV, all diesel, all HGVs, average laden")),
    Category("road.hgv.laden_50", "road", _("HGV, all diesel, all HGVs, 50% laden")),
    Category("road.hgv.laden_100", "road", _("HGV, all diesel, all HGVs, 100% laden")),
    Category("road.hgv.articulated", "road", _("HGV, all diesel, all artics, average laden")),
    Category("road.hgv.rigid", "road", _("HGV, all diesel, all rigids, average laden")),
    Category(
        "road.hgv.refrigerated", "road", _("HGV refrigerated, all diesel, all HGVs, average laden")
    ),
    Category("road.van.diesel", "road", _("Van, diesel, average (up to 3.5 tonnes)")),
    Category("rail.freight", "rail", _("Freight train")),
    Category("sea.container.average", "sea", _("Container ship, average")),
    Category("sea.container.feeder", "sea", _("Container ship, feeder (0–999 TEU)")),
    Category("sea.container.small", "sea", _("Container ship, small (1,000–1,999 TEU)")),
    Category("sea.container.handysize", "sea", _("Container ship, handysize (2,000–2,999 TEU)")),
    Category("sea.container.panamax", "sea", _("Container ship, panamax (3,000–4,999 TEU)")),
    Category(
        "sea.container.post_panamax", "sea", _("Container ship, post-panamax (5,000–7,999 TEU)")
    ),
    # DESNZ 2025 publishes one band above 7,999 TEU ("8000+ TEU"); finer bands have no source row.
    Category("sea.container.large", "sea", _("Container ship, large (8,000+ TEU)")),
    Category("sea.bulk.average", "sea", _("Bulk carrier, average")),
    Category("sea.general_cargo.average", "sea", _("General cargo ship, average")),
    Category("air.domestic", "air", _("Freight flight, domestic (UK)"), True),
    Category("air.short_haul", "air", _("Freight flight, short-haul (to/from UK)"), True),
    Category("air.long_haul", "air", _("Freight flight, long-haul (to/from UK)"), True),
    Category("air.international", "air", _("Freight flight, international (to/from non-UK)"), True),
]

# Hub operations (ISO 14083 HOCs): one category per row of the cited GLEC default table.
_CATEGORIES += [
    Category(
        f.category,
        hubs.HUB_MODE,
        format_lazy("{}, {}", hubs.HUB_TYPES[f.hub_type], hubs.TEMPERATURES[f.temperature]),
    )
    for f in hubs.hub_factors().values()
]

CATEGORIES: dict[str, Category] = {c.code: c for c in _CATEGORIES}

ELECTRICITY_PREFIX = "electricity."  # grid factors: electricity.<region>.<location|residual>


def get(code: str) -> Category | None:
    return CATEGORIES.get(code)


# ISO 3166-1 alpha-2 codes of the EU-27, whose sites fall back to the EU-27 grid factor.
EU_MEMBER_STATES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
