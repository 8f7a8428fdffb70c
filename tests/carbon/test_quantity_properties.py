"""Properties of the quantity and leg parsers (issue #12, item 4): every listed unit converts as
Pint converts it, every spelling Pint would misread is refused with its hint whatever the number,
digits of scripts other than ASCII and full width never read as numbers, and any leg a client can
send is either a leg within every rule or problems naming its fields, never an exception. The
parsers are pure: no database."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.footprint.exceptions import QuantityError
from carbon.footprint.legs import LEG_FIELDS, parse_leg, validate_leg
from carbon.footprint.units import parse_quantity, ureg
from tests.properties import examples

# Each field's accepted spellings and the Pint unit each means, written out here rather than read
# from the code: (kind, canonical unit, spelling, Pint unit).
LISTED = [
    ("mass", "tonne", "t", "tonne"),
    ("mass", "tonne", "tonne", "tonne"),
    ("mass", "tonne", "kg", "kilogram"),
    ("mass", "tonne", "g", "gram"),
    ("mass", "tonne", "lb", "pound"),
    ("mass", "tonne", "long_ton", "long_ton"),
    ("mass", "tonne", "short_ton", "short_ton"),
    ("distance", "km", "km", "kilometer"),
    ("distance", "km", "m", "meter"),
    ("distance", "km", "mi", "mile"),
    ("distance", "km", "nmi", "nautical_mile"),
    ("volume", "litre", "l", "liter"),
    ("volume", "litre", "m3", "meter ** 3"),
    ("volume", "litre", "US_gallon", "US_liquid_gallon"),
    ("volume", "litre", "imperial_gallon", "imperial_gallon"),
    ("energy", "kWh", "kWh", "kilowatt_hour"),
]
MISREAD = [
    ("mass", "tonne", "ton", "'ton' is ambiguous; write t (tonnes), long_ton or short_ton"),
    ("mass", "tonne", "mt", "'mt' is not a unit here; write 't' for tonnes"),
    ("mass", "tonne", "MT", "'MT' is not a unit here; write 't' for tonnes"),
    ("mass", "tonne", "Mt", "'Mt' is not a unit here; write 't' for tonnes"),
    ("distance", "km", "nm", "'nm' is a nanometre; nautical miles are 'nmi'"),
    ("volume", "litre", "gallon", "'gallon' is ambiguous; write US_gallon or imperial_gallon"),
]
# Decimal digits of every script but ASCII (0-9) and full width (U+FF10-U+FF19).
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(
    lambda c: not ("0" <= c <= "9" or "\uff10" <= c <= "\uff19")
)
NUMBERS = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False)


@settings(max_examples=examples(200))
@given(listed=st.sampled_from(LISTED), value=NUMBERS, space=st.sampled_from(["", " ", "  "]))
def test_every_listed_unit_converts_as_pint_does(listed, value, space):
    kind, to, spelling, pint_unit = listed
    parsed = parse_quantity(f"{value}{space}{spelling}", field="f", kind=kind, to=to)
    expected = ureg.Quantity(float(value), pint_unit).to(to).magnitude
    assert float(parsed) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=examples(200))
@given(misread=st.sampled_from(MISREAD), value=NUMBERS, space=st.sampled_from(["", " ", "\t"]))
def test_a_misread_spelling_is_refused_with_its_hint_whatever_the_number(misread, value, space):
    kind, to, spelling, hint = misread
    with pytest.raises(QuantityError) as error:
        parse_quantity(f"{value}{space}{spelling}", field="f", kind=kind, to=to)
    assert error.value.message == hint


@settings(max_examples=examples(200))
@given(digits=st.lists(OTHER_DIGITS, min_size=1, max_size=4))
def test_digits_of_other_scripts_never_read_as_a_number(digits):
    text = "".join(digits)
    assert all(unicodedata.category(c) == "Nd" for c in text)
    with pytest.raises(QuantityError) as error:
        parse_quantity(f"{text} t", field="mass", kind="mass", to="tonne")
    assert error.value.message == f"'{text} t' is not a number with a unit, e.g. 12.5 t"


@settings(max_examples=examples(100))
@given(
    exponent=st.integers(min_value=18, max_value=100_000),
    unit=st.sampled_from(["t", "kg", "km", "m", "mi"]),
)
def test_an_overflowing_number_is_too_large_never_an_exception(exponent, unit):
    kind, to = ("mass", "tonne") if unit in ("t", "kg") else ("distance", "km")
    with pytest.raises(QuantityError) as error:
        parse_quantity(f"9e{exponent} {unit}", field="f", kind=kind, to=to)
    assert error.value.message == f"'9e{exponent} {unit}' is too large"


LEG_VALUES = {
    "category": st.sampled_from(["road.hgv.average_laden", "air.long_haul", "sea.bulk.average", ""])
    | st.text(max_size=12),
    "mass": st.sampled_from(["2 t", "1e30 t", "3 ton", "-1 kg", "0 t", "", "NaN t"])
    | st.text(max_size=12),
    "distance": st.sampled_from(["100 km", "5 nm", "60000 km", "1,200 mi", "１２ km"])
    | st.text(max_size=12),
    "fuel_type": st.sampled_from(["", "diesel", "jet", "hfo", "electricity", "coal", "DIESEL"]),
    "fuel_used": st.sampled_from(["", "3 l", "3 kWh", "2 kg", "3 gallon", "1e300 l"])
    | st.text(max_size=8),
    "data_tier": st.sampled_from(["", "primary", "Default", "guessed"]),
    "radiative_forcing": st.sampled_from([True, False, "yes", "no", "", "maybe"]),
    "origin": st.text(max_size=130),
}


@settings(max_examples=examples(300))
@given(fields=st.fixed_dictionaries({}, optional=LEG_VALUES))
def test_any_leg_is_a_leg_within_the_rules_or_problems_naming_its_fields(fields):
    leg, problems = parse_leg(fields)
    if leg is not None:
        assert problems == []
        assert validate_leg(leg) == []
        assert leg.mass_t.is_finite()
        assert 0 <= leg.mass_t <= Decimal(1_000_000)
        assert leg.distance_km.is_finite()
        assert 0 <= leg.distance_km <= Decimal(50_000)
    else:
        names = [p.field for p in problems]
        assert names
        assert len(names) == len(set(names))
        assert set(names) <= set(LEG_FIELDS)
        assert all(p.reason for p in problems)
