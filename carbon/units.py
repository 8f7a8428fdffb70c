"""The application's one Pint registry, and parsing of user-supplied quantities.

The registry is built when this module is first imported (at start-up, from `CarbonConfig.ready`),
never lazily per thread, so every quantity in the process shares it and can be combined.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pint

ureg = pint.UnitRegistry(
    autoconvert_offset_to_baseunit=False,
    non_int_type=float,
    on_redefinition="raise",
)
ureg.load_definitions(str(Path(__file__).with_name("units.txt")))
Q_ = ureg.Quantity

# Canonical units in which values are stored (as Decimal) and returned by the API.
MASS = "tonne"
DISTANCE = "km"
EMISSIONS = "kgCO2e"
ENERGY = "kWh"
FREIGHT_INTENSITY = "kgCO2e / (tonne * km)"
ELECTRICITY_INTENSITY = "kgCO2e / kWh"
ACTIVITY = "tonne * km"

DIMENSIONS = {
    "mass": ureg.tonne.dimensionality,
    "distance": ureg.km.dimensionality,
    "energy": ureg.kWh.dimensionality,
    "emissions": ureg.kgCO2e.dimensionality,
    "volume": ureg.litre.dimensionality,
}

# Thousands separators are accepted ("27,557 lb"); a decimal comma is not, because "1,200 kg"
# would be ambiguous between 1.2 and 1200.
_NUMBER = re.compile(
    r"^\s*([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(.*?)\s*$"
)


class QuantityError(ValueError):
    """A quantity that cannot be used, with the field at fault and what was expected."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_quantity(
    text: str | None,
    *,
    field: str,
    kind: str,
    to: str,
    allow_zero: bool = True,
) -> Decimal:
    """Parse e.g. "12.5 t", "27,557 lb", "515.7 mi" and return a Decimal in unit `to`.

    `kind` names the expected dimension (mass, distance, energy, emissions, volume). A missing
    unit, an unknown unit, a wrong dimension or a negative value raises QuantityError naming
    `field`. The conversion is exact in Decimal for the registry's rational factors.
    """
    if text is None or not str(text).strip():
        raise QuantityError(field, f"a {kind} is required, e.g. {_example(kind)}")
    match = _NUMBER.match(str(text))
    if not match:
        raise QuantityError(field, f"'{text}' is not a number with a unit, e.g. {_example(kind)}")
    number_text, unit_text = match.groups()
    if not unit_text:
        raise QuantityError(field, f"'{text}' has no unit; write it like {_example(kind)}")
    try:
        magnitude = Decimal(number_text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid numbers
        raise QuantityError(field, f"'{number_text}' is not a number") from exc
    unit = unit_from_text(unit_text)
    if unit is None:
        raise QuantityError(field, f"unknown unit '{unit_text}'")
    if unit.dimensionality != DIMENSIONS[kind]:
        raise QuantityError(
            field,
            f"'{text}' is not a {kind} (expected a unit like {_example(kind).split()[-1]}, "
            f"got {unit.dimensionality or 'a plain number'})",
        )
    if magnitude < 0:
        raise QuantityError(field, f"a {kind} cannot be negative (got '{text}')")
    if not allow_zero and magnitude == 0:
        raise QuantityError(field, f"a {kind} must be greater than zero")
    return convert(magnitude, unit_text, to)


_UNIT_TEXT = re.compile(r"^[^\W\d][\w\s*/^.()²³°µ-]*$")


def unit_from_text(text: str) -> pint.Unit | None:
    """The unit named by user text, or None. Pint's expression parser raises many kinds of
    errors on odd input (tokenizer errors, assertions, ZeroDivisionError), so only plain unit
    expressions reach it and any failure there means "unknown unit"."""
    if not _UNIT_TEXT.match(text):
        return None
    try:
        unit = ureg.Unit(text)
    except Exception:  # noqa: BLE001 - see docstring: any parser failure is an unknown unit
        return None
    return unit


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert a Decimal between compatible units without passing through a binary float."""
    factor = ureg.Quantity(1, from_unit).to(to_unit).magnitude
    # Pint computes the factor in float; round it to 15 significant digits, which recovers the
    # exact decimal definition (e.g. 1 lb = 0.45359237 kg) and avoids float noise in storage.
    exact = Decimal(repr(factor))
    exact = Decimal(f"{exact:.15g}")
    return value * exact


def _example(kind: str) -> str:
    return {
        "mass": "12.5 t",
        "distance": "830 km",
        "energy": "1.2 MWh",
        "emissions": "42 kgCO2e",
        "volume": "350 l",
    }[kind]
