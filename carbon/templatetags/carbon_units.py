"""Quantities and units written for people, in the active language's number format.

`{{ value|quantity:"kgCO2e" }}` reads `value` in the Pint unit named (the unit it is stored in)
and writes it in the unit a reader expects at that size, with a precision that suits it:
"842 kg CO₂e", "78.7 t CO₂e", "61.3 g CO₂e/t·km", "94,086 t·km", "3,150 MWh" (in Chinese
"94,086 吨公里", "61.3 g CO₂e/吨公里": `LOCAL_PRODUCTS`). The figure is converted by Pint, so a
wrong stored unit is an error, never a silent relabelling.
`{{ value|amount:"kgCO2e" }}` writes the number alone in the stored unit (for a table column whose
header names the unit). `{{ "kgCO2e / (tonne * km)"|unit_symbol }}` writes a Pint unit as
"kg CO₂e/t·km". Numbers are grouped by thousands in every language (portal/formats). Symbols
are never upper-cased: the stylesheet keeps them as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pint
from django import template
from django.utils import formats, translation

from carbon.footprint.units import unit_from_text, ureg
from carbon.points.baselines import SERVICE_CLASS_LABELS

register = template.Library()

# Symbols of the registry's units as people write them (Pint's own abbreviations are "kgCO2e",
# "t", "km"; carbon is subscripted, products take a middle dot, quotients a slash). The space in
# "kg CO₂e" does not break, so a symbol never splits over two lines.
SYMBOLS = {
    "gCO2e": "g\u00a0CO₂e",
    "kgCO2e": "kg\u00a0CO₂e",
    "tCO2e": "t\u00a0CO₂e",
    "gCO2": "g\u00a0CO₂",
    "kgCO2": "kg\u00a0CO₂",
    "tCO2": "t\u00a0CO₂",
    "tonne": "t",
    "kilogram": "kg",
    "gram": "g",
    "kilometer": "km",
    "meter": "m",
    "kilowatt_hour": "kWh",
    "megawatt_hour": "MWh",
    "watt_hour": "Wh",
    "liter": "l",
    "megajoule": "MJ",
}
# Products of units a language writes as one word of its own. Chinese sustainability reports
# (and the portal's tables) write the tonne-kilometre 吨公里, alone and under a quotient
# ("g CO₂e/吨公里"); the SI symbols (kg, kWh, km, MWh) and the tonne's t stay as they are in
# every language. The figure never changes, only its label: this is the one place a unit's
# text depends on the reader's language (pages, PDF and charts all write units through here).
LOCAL_PRODUCTS: dict[str, dict[str, str]] = {"zh": {"tonne * km": "吨公里"}}


def _powers(unit: pint.Unit) -> list[tuple[str, float]]:
    return [(name, float(power)) for name, power in unit._units.items()]  # type: ignore[arg-type]


# The same, keyed by the registry's own names and powers ("metric_ton", "kilometer").
_LOCAL_PRODUCTS = {
    language: {frozenset(_powers(ureg.Unit(unit))): word for unit, word in words.items()}
    for language, words in LOCAL_PRODUCTS.items()
}
NARROW_SPACE = "\u00a0"  # a number never wraps away from its unit


@dataclass(frozen=True)
class Display:
    """How one kind of quantity is written: in `unit`, with `places` decimals, and from
    `switch_at` (in `unit`) upwards in `large_unit` with `large_places` decimals, one more
    below 10 and none from `whole_from` (in `large_unit`) upwards."""

    unit: str
    places: int
    small_places: int | None = None  # below 100 in `unit`, when finer than `places`
    large_unit: str | None = None
    switch_at: float | None = None
    large_places: int = 1
    whole_from: float | None = None


# Keyed by dimensionality; kg CO₂e: 1 decimal below 100 kg, none above, tonnes from 1,000 kg
# (2 decimals below 10 t); intensities in grams with 1 decimal; t·km whole from 100; kWh whole,
# MWh from 10,000 kWh with 1 decimal, whole from 100 MWh.
DISPLAYS: dict[Any, Display] = {
    ureg.kgCO2e.dimensionality: Display(
        "kgCO2e", 0, small_places=1, large_unit="tCO2e", switch_at=1000, large_places=1
    ),
    ureg.kgCO2.dimensionality: Display(
        "kgCO2", 0, small_places=1, large_unit="tCO2", switch_at=1000, large_places=1
    ),
    (ureg.kgCO2e / ureg.tonne / ureg.km).dimensionality: Display("gCO2e / (tonne * km)", 1),
    (ureg.kgCO2e / ureg.kWh).dimensionality: Display("gCO2e / kWh", 1),
    (ureg.tonne * ureg.km).dimensionality: Display("tonne * km", 0, small_places=1),
    ureg.kWh.dimensionality: Display(
        "kWh", 0, large_unit="MWh", switch_at=10_000, large_places=1, whole_from=100
    ),
    ureg.tonne.dimensionality: Display("tonne", 2),
    ureg.km.dimensionality: Display("km", 0, small_places=1),
}


def _local_products() -> dict[frozenset[tuple[str, float]], str]:
    language = (translation.get_language() or "").lower()
    return _LOCAL_PRODUCTS.get(language.split("-")[0], {})


def unit_text(unit: pint.Unit | str) -> str:
    """A Pint unit as people write it in the active language: "kgCO2e / (tonne * km)" ->
    "kg CO₂e/t·km" (Chinese: "kg CO₂e/吨公里")."""
    parsed = ureg.Unit(unit) if isinstance(unit, str) else unit
    powers = _powers(parsed)
    over = [(name, power) for name, power in powers if power > 0]
    under = [(name, -power) for name, power in powers if power < 0]
    local = _local_products()

    def product(parts: list[tuple[str, float]]) -> str:
        if (word := local.get(frozenset(parts))) is not None:
            return word
        return "·".join(
            SYMBOLS.get(name, format(ureg.Unit(name), "~P"))
            + ("" if power == 1 else {2: "²", 3: "³"}.get(int(power), f"^{power:g}"))
            for name, power in parts
        )

    text = product(over) or "1"
    return f"{text}/{product(under)}" if under else text


def _number(value: float, places: int) -> str:
    return formats.number_format(
        round(value, places), decimal_pos=places, use_l10n=True, force_grouping=True
    )


def _display(unit: str) -> Display:
    display = DISPLAYS.get(ureg.Unit(unit).dimensionality)
    if display is None:
        raise ValueError(f"No display rule for the unit '{unit}'")
    return display


def _places(display: Display, magnitude: float) -> int:
    if display.small_places is not None and abs(magnitude) < 100:
        return display.small_places
    return display.places


@register.filter
def quantity(value: Decimal | float | int | None, unit: str) -> str:
    """`value` (in Pint unit `unit`) in the unit and precision a reader expects; "—" for None."""
    if value is None or value == "":
        return "—"
    display = _display(unit)
    magnitude = ureg.Quantity(float(value), unit).to(display.unit).magnitude
    if display.large_unit and display.switch_at and abs(magnitude) >= display.switch_at:
        large = ureg.Quantity(magnitude, display.unit).to(display.large_unit).magnitude
        places = display.large_places + (1 if abs(large) < 10 else 0)
        if display.whole_from is not None and abs(large) >= display.whole_from:
            places = 0
        return f"{_number(large, places)}{NARROW_SPACE}{unit_text(display.large_unit)}"
    return (
        f"{_number(magnitude, _places(display, magnitude))}{NARROW_SPACE}{unit_text(display.unit)}"
    )


@register.filter
def amount(value: Decimal | float | int | None, unit: str) -> str:
    """The number of `quantity` alone, in `unit` itself (no change of scale); "—" for None."""
    if value is None or value == "":
        return "—"
    magnitude = float(value)
    return _number(magnitude, _places(_display(unit), magnitude))


@register.filter
def unit_symbol(unit: str | None) -> str:
    """A stored Pint unit string as people write it; an unreadable one is shown as stored."""
    if not unit:
        return ""
    parsed = unit_from_text(unit)
    return unit if parsed is None else unit_text(parsed)


@register.filter
def percent(ratio: Decimal | float | None) -> str:
    """A share stored as a ratio (0 to 1) as a percentage: 0.62 -> "62%", 0.625 -> "62.5%"
    (one decimal only when the share has one); "—" for None."""
    if ratio is None or ratio == "":
        return "—"
    value = round(float(ratio) * 100, 1)
    return f"{_number(value, 0 if value == int(value) else 1)}%"


@register.filter
def service_class(code: str | None) -> str:
    """A transport service class code (carbon.points.baselines) in words."""
    return str(SERVICE_CLASS_LABELS.get(code or "", code or ""))
