"""The application's one Pint registry, and parsing of user-supplied quantities.

The registry is built when this module is first imported (at start-up, from `CarbonConfig.ready`),
never lazily per thread, so every quantity in the process shares it and can be combined.
"""

from __future__ import annotations

import functools
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pint

ureg: pint.UnitRegistry = pint.UnitRegistry(
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
# would be ambiguous between 1.2 and 1200. Digits are ASCII only: Python's \\d (and Decimal)
# would also read Arabic-Indic or Devanagari digits, and str.isdigit() superscripts.
_NUMBER_THEN_UNIT = re.compile(
    r"^\s*([+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(.*?)\s*$",
    re.ASCII,
)
# Full-width forms (U+FF01..U+FF5E, as typed on Chinese keyboards, e.g. "１２．５ ｔ") and the
# ideographic space read as their ASCII counterparts; nothing else is normalised.
_FULL_WIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# No quantity a person types is this large in its canonical unit; refusing beyond it keeps every
# Decimal operation (conversion, rounding to the stored places) exact and finite. Plausibility
# bounds per field are tighter (carbon.app_settings, checked in carbon.footprint.orders).
LARGEST_MAGNITUDE = Decimal("1e15")

# The spellings each kind of quantity accepts, and the Pint unit each names. Anything else is
# refused with the list, so that no unit can be misread (a bare "ton" is a US short ton in Pint,
# "nm" a nanometre, "Mt" a megatonne).
ACCEPTED_UNITS: dict[str, dict[str, str]] = {
    "mass": {
        "t": "tonne",
        "tonne": "tonne",
        "tonnes": "tonne",
        "kg": "kilogram",
        "g": "gram",
        "lb": "pound",
        "lbs": "pound",
        "long_ton": "long_ton",
        "short_ton": "short_ton",
    },
    "distance": {"km": "kilometer", "m": "meter", "mi": "mile", "nmi": "nautical_mile"},
    "volume": {
        "l": "liter",
        "L": "liter",
        "litre": "liter",
        "litres": "liter",
        "liter": "liter",
        "liters": "liter",
        "m3": "meter ** 3",
        "m³": "meter ** 3",
        "US_gallon": "US_liquid_gallon",
        "imperial_gallon": "imperial_gallon",
    },
    "energy": {
        "Wh": "watt_hour",
        "kWh": "kilowatt_hour",
        "MWh": "megawatt_hour",
        "GWh": "gigawatt_hour",
    },
    "emissions": {"gCO2e": "gCO2e", "kgCO2e": "kgCO2e", "tCO2e": "tCO2e"},
}
# A leg's fuel is measured in l, kg or kWh (as its fuel type is; `FUEL_UNITS` of the engine), or
# in m3 or spelled-out gallons for a liquid: a shorter list than cargo mass or grid electricity,
# since nobody reports a truck's diesel in short tons or a train's power in GWh.
ACCEPTED_FUEL_UNITS: dict[str, dict[str, str]] = {
    "volume": ACCEPTED_UNITS["volume"],
    "mass": {"kg": "kilogram"},
    "energy": {"kWh": "kilowatt_hour"},
}
# The main spellings, as error messages list them.
_LISTED = {
    "mass": "t, tonne, kg, g, lb, long_ton, short_ton",
    "distance": "km, m, mi, nmi",
    "volume": "l, m3, US_gallon, imperial_gallon",
    "energy": "Wh, kWh, MWh, GWh",
    "emissions": "gCO2e, kgCO2e, tCO2e",
}
_LISTED_FUEL = {
    "volume": "l, m3, US_gallon, imperial_gallon",
    "mass": "kg",
    "energy": "kWh",
}
# Spellings that people use and Pint would misread, with what to write instead.
_MISREAD = {
    "ton": "'ton' is ambiguous; write t (tonnes), long_ton or short_ton",
    "tons": "'tons' is ambiguous; write t (tonnes), long_ton or short_ton",
    "mt": "'mt' is not a unit here; write 't' for tonnes",
    "MT": "'MT' is not a unit here; write 't' for tonnes",
    "Mt": "'Mt' is not a unit here; write 't' for tonnes",
    "nm": "'nm' is a nanometre; nautical miles are 'nmi'",
    "NM": "'NM' is not a unit here; nautical miles are 'nmi'",
    "gallon": "'gallon' is ambiguous; write US_gallon or imperial_gallon",
    "gallons": "'gallons' is ambiguous; write US_gallon or imperial_gallon",
    "gal": "'gal' is ambiguous; write US_gallon or imperial_gallon",
}


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
    fuel: bool = False,
) -> Decimal:
    """Parse e.g. "12.5 t", "27,557 lb", "515.7 mi" and return a finite Decimal in unit `to`.

    `kind` names the expected dimension (mass, distance, energy, emissions, volume) and with it
    the accepted units (`ACCEPTED_UNITS`). A missing, unknown, unlisted or ambiguous unit, a
    wrong dimension, a negative value, a number that is not finite or one of `LARGEST_MAGNITUDE`
    or more in unit `to` raises QuantityError naming `field`. With `fuel`, the accepted units are
    the shorter list of a leg's fuel (`ACCEPTED_FUEL_UNITS`). The conversion is exact in Decimal
    for the registry's rational factors.
    """
    if text is None or not str(text).strip():
        raise QuantityError(field, f"a {kind} is required, e.g. {_example(kind)}")
    text = str(text).translate(_FULL_WIDTH_TO_ASCII)
    match = _NUMBER_THEN_UNIT.match(text)
    if not match:
        raise QuantityError(field, f"'{text}' is not a number with a unit, e.g. {_example(kind)}")
    number_text, unit_text = match.groups()
    if not unit_text:
        raise QuantityError(field, f"'{text}' has no unit; write it like {_example(kind)}")
    magnitude = Decimal(number_text.replace(",", ""))  # the regex admits only finite numbers
    factor = _factor(unit_text, kind, to, field, text, fuel)
    if magnitude < 0:
        raise QuantityError(field, f"a {kind} cannot be negative (got '{text}')")
    if not allow_zero and magnitude == 0:
        raise QuantityError(field, f"a {kind} must be greater than zero")
    # Compare exponents first: multiplying '1e999999' would overflow the Decimal context.
    if magnitude and magnitude.adjusted() + factor.adjusted() > LARGEST_MAGNITUDE.adjusted() + 1:
        raise QuantityError(field, f"'{text}' is too large")
    value = magnitude * factor
    if value >= LARGEST_MAGNITUDE:
        raise QuantityError(field, f"'{text}' is too large")
    return value if value else Decimal(0)  # not 0E+400, which no column could round


def _factor(unit_text: str, kind: str, to: str, field: str, text: str, fuel: bool) -> Decimal:
    """The factor from the unit `unit_text` names to `to`, or QuantityError saying why not."""
    accepted = (ACCEPTED_FUEL_UNITS if fuel else ACCEPTED_UNITS)[kind].get(unit_text)
    if accepted is not None:
        return _conversion(accepted, to)
    if unit_text in _MISREAD:
        raise QuantityError(field, _MISREAD[unit_text])
    unit = unit_from_text(unit_text)
    if unit is None:
        raise QuantityError(field, f"unknown unit '{unit_text}'")
    if unit.dimensionality != DIMENSIONS[kind]:
        raise QuantityError(
            field,
            f"'{text}' is not a {kind} (expected a unit like {_example(kind).split()[-1]}, "
            f"got {unit.dimensionality or 'a plain number'})",
        )
    if fuel:
        raise QuantityError(
            field, f"'{unit_text}' is not accepted for fuel; use one of {_LISTED_FUEL[kind]}"
        )
    raise QuantityError(
        field, f"'{unit_text}' is not accepted for a {kind}; use one of {_LISTED[kind]}"
    )


@functools.lru_cache(maxsize=256)
def _conversion(from_unit: str, to_unit: str) -> Decimal:
    # Cached: the importer converts a million cells in a handful of units.
    return convert(Decimal(1), from_unit, to_unit)


_PLAIN_NUMBER = re.compile(
    r"^\s*([+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*$",
    re.ASCII,
)


def parse_number(value: object, *, field: str) -> Decimal:
    """A plain number without a unit (a count, a ratio) from text or a JSON number, as a finite
    Decimal: the digits and separators `parse_quantity` reads, no NaN, no infinity. Its bounds
    are the caller's. Raises QuantityError naming `field`."""
    text = str(value).translate(_FULL_WIDTH_TO_ASCII)
    match = _PLAIN_NUMBER.match(text)
    if not match:
        raise QuantityError(field, f"'{text}' is not a number")
    return Decimal(match.group(1).replace(",", ""))


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


_CO2 = ureg.kgCO2.dimensionality


def counts_co2_only(unit: str | None) -> bool:
    """Whether a factor unit counts carbon dioxide alone ("kgCO2 / kWh"), not CO2e."""
    parsed = unit_from_text(unit) if unit else None
    return parsed is not None and "[co2]" in parsed.dimensionality


def co2_only_unit(co2e_unit: str) -> str:
    """The CO2-only counterpart of a CO2e unit: "kgCO2e / kWh" -> "kgCO2 / kWh"."""
    counterpart = co2e_unit.replace("CO2e", "CO2")
    if (
        ureg.Unit(counterpart).dimensionality
        != ureg.Unit(co2e_unit).dimensionality / (ureg.kgCO2e.dimensionality) * _CO2
    ):
        raise ValueError(f"'{co2e_unit}' has no CO2-only counterpart")
    return counterpart


def _example(kind: str) -> str:
    return {
        "mass": "12.5 t",
        "distance": "830 km",
        "energy": "1.2 MWh",
        "emissions": "42 kgCO2e",
        "volume": "350 l",
    }[kind]


# --- Decimal figures as they are stored and written out

STORED_PLACES = Decimal("0.000001")  # 6 decimal places for stored kg, t·km and shares
INTENSITY_PLACES = Decimal("1E-9")  # kgCO2e per t·km needs more places to stay meaningful


def round_stored(value: Decimal | int) -> Decimal:
    """Round a figure to the 6 decimal places it is stored with, half to even."""
    return Decimal(value).quantize(STORED_PLACES, rounding=ROUND_HALF_EVEN)


def plain_decimal(value: Decimal | int | None) -> str | None:
    """A Decimal as its shortest plain string ("85", "1.2"), so equal values compare equal."""
    if value is None:
        return None
    return _plain(Decimal(value))


@functools.lru_cache(maxsize=65536)
def _plain(value: Decimal) -> str:
    # Equal Decimals hash alike ("1.0" and "1"), and both give "1": caching by value is safe.
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def stored_text(value: Decimal | int | None) -> str | None:
    """A figure as its stored 6-decimal string, e.g. "63.750000"."""
    return None if value is None else str(round_stored(value))
