"""Hub operations (ISO 14083 hub operation categories): warehouses, transhipment sites, port
and container terminals, airports.

A hub leg is a leg whose category is `hub.<hub type>.<temperature>`: its mass is the tonnes
handled and it has no distance. Its emissions are tonnes handled x the GLEC Framework v3 default
intensity of its category, read from the cited table in fixtures/glec-v3-hub-defaults.csv. The
framework publishes these defaults as WTW without a TTW/WTT split, so a hub leg's emissions are
reported as an unsplit WTW figure (`hub_wtw_kg`), never as an invented split. Hub types the
table has no default for (airports) are known, so that they can be named, but refused.
"""

from __future__ import annotations

import csv
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from carbon.footprint.hub_results import HUB_PREFIX, HubFactor, is_hub  # noqa: F401 - hubs.is_hub is the public name

HUB_MODE = "hub"
DEFAULTS_FILE = Path(settings.BASE_DIR) / "fixtures" / "glec-v3-hub-defaults.csv"
HUB_INTENSITY = "kgCO2e / tonne"

# Every hub type a shipment may pass through, with its name; those without a row in the cited
# table have no default and are refused (see `refusal`).
HUB_TYPES: dict[str, Any] = {
    "transhipment": _("Transhipment site"),
    "storage_transhipment": _("Storage and transhipment site"),
    "warehouse": _("Warehouse"),
    "liquid_bulk_terminal": _("Liquid bulk terminal"),
    "container_terminal": _("Port container terminal"),
    "airport": _("Airport cargo terminal"),
}
TEMPERATURES: dict[str, Any] = {
    "ambient": _("ambient"),
    "mixed": _("mixed ambient and temperature-controlled"),
    "temperature_controlled": _("temperature-controlled"),
}


def _header() -> dict[str, str]:
    header = {}
    with DEFAULTS_FILE.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("# ") or ":" not in line:
                continue
            key, value = line[2:].split(":", 1)
            if key.isidentifier():
                header[key] = value.strip()
    return header


@functools.cache
def source() -> dict[str, str]:
    """The table's citation: title, publisher, source_url, table."""
    return _header()


@functools.cache
def hub_factors() -> dict[str, HubFactor]:
    """Category code -> its default, in the order of the cited table."""
    with DEFAULTS_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        factors = {}
        for row in rows:
            code = f"{HUB_PREFIX}{row['hub_type']}.{row['temperature']}"
            factors[code] = HubFactor(
                category=code,
                hub_type=row["hub_type"],
                temperature=row["temperature"],
                wtw=Decimal(row["wtw_kg_per_t"]),
                ttw=Decimal(row["ttw_kg_per_t"]) if row["ttw_kg_per_t"] else None,
                wtt=Decimal(row["wtt_kg_per_t"]) if row["wtt_kg_per_t"] else None,
                row_label=row["row_label"],
                source=source()["title"],
            )
        return factors


def hub_label(factor: HubFactor) -> str:
    """The hub type and temperature: "Warehouse, ambient", "仓库，常温" in Chinese."""
    return pgettext("hub type, temperature", "{hub}, {temperature}").format(
        hub=HUB_TYPES[factor.hub_type], temperature=TEMPERATURES[factor.temperature]
    )


def hub_types_without_default() -> list[str]:
    """Hub types a shipment can pass through that the cited table gives no default for."""
    covered = {f.hub_type for f in hub_factors().values()}
    return [kind for kind in HUB_TYPES if kind not in covered]


def refusal(category: str) -> str | None:
    """Why a hub category cannot be calculated, or None when the table has its default."""
    if category in hub_factors():
        return None
    parts = category[len(HUB_PREFIX) :].split(".")
    if parts[0] in hub_types_without_default():
        return (
            f"the GLEC Framework v3 publishes no default intensity for '{parts[0]}' hubs; "
            "no figure is invented for it"
        )
    known = ", ".join(hub_factors())
    return f"unknown hub category '{category}'; one of {known}"
