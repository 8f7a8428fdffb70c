"""Quantities and units as people read them (carbon/templatetags/carbon_units.py), in English and
Chinese: the unit and precision that suit the size, thousands grouped, symbols never altered."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from carbon.templatetags.carbon_units import amount, percent, quantity, unit_symbol

ROOT = Path(__file__).resolve().parent.parent.parent
NBSP = "\u00a0"


@pytest.fixture(params=["en", "zh-hans"])
def language(request):
    with translation.override(request.param):
        yield request.param


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (Decimal("842.456"), "kgCO2e", "842 kg CO₂e"),
        (Decimal("12.345"), "kgCO2e", "12.3 kg CO₂e"),
        (Decimal("0"), "kgCO2e", "0.0 kg CO₂e"),
        (Decimal("5432.1"), "kgCO2e", "5.43 t CO₂e"),
        (Decimal("78682.14"), "kgCO2e", "78.7 t CO₂e"),
        (Decimal("1234567"), "kgCO2e", "1,234.6 t CO₂e"),
        (Decimal("0.061347"), "kgCO2e / (tonne * km)", "61.3 g CO₂e/t·km"),
        (Decimal("61.347"), "gCO2e / (tonne * km)", "61.3 g CO₂e/t·km"),
        (Decimal("94086.2"), "tonne * km", "94,086 t·km"),
        (Decimal("42.75"), "tonne * km", "42.8 t·km"),
        (Decimal("4500"), "kWh", "4,500 kWh"),
        (Decimal("3150000"), "kWh", "3,150 MWh"),
        (Decimal("45500"), "kWh", "45.5 MWh"),
        (Decimal("0.581"), "kgCO2e / kWh", "581.0 g CO₂e/kWh"),
        (Decimal("12.5"), "tonne", "12.50 t"),
        (Decimal("830.4"), "km", "830 km"),
        (None, "kgCO2e", "—"),
    ],
)
def test_quantity_writes_the_unit_a_reader_expects(value, unit, expected):
    with translation.override("en"):
        assert quantity(value, unit) == expected.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        # Chinese reports write the tonne-kilometre 吨公里, alone or under a quotient ...
        (Decimal("94086.2"), "tonne * km", "94,086 吨公里"),
        (Decimal("42.75"), "tonne * km", "42.8 吨公里"),
        (Decimal("0.061347"), "kgCO2e / (tonne * km)", "61.3 g CO₂e/吨公里"),
        (Decimal("61.347"), "gCO2e / (tonne * km)", "61.3 g CO₂e/吨公里"),
        # ... and keep the SI symbols (and the tonne's t) as written, the figure unchanged
        (Decimal("842.456"), "kgCO2e", "842 kg CO₂e"),
        (Decimal("78682.14"), "kgCO2e", "78.7 t CO₂e"),
        (Decimal("4500"), "kWh", "4,500 kWh"),
        (Decimal("3150000"), "kWh", "3,150 MWh"),
        (Decimal("0.581"), "kgCO2e / kWh", "581.0 g CO₂e/kWh"),
        (Decimal("12.5"), "tonne", "12.50 t"),
        (Decimal("830.4"), "km", "830 km"),
    ],
)
def test_quantity_names_the_tonne_kilometre_in_chinese(value, unit, expected):
    with translation.override("zh-hans"):
        assert quantity(value, unit) == expected.replace(" ", NBSP)


def test_quantity_refuses_a_unit_it_has_no_rule_for():
    with pytest.raises(ValueError, match="No display rule for the unit 'litre'"):
        quantity(Decimal(3), "litre")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (Decimal("78682.14"), "kgCO2e", "78,682"),
        (Decimal("12.345"), "kgCO2e", "12.3"),
        (Decimal("94086.2"), "tonne * km", "94,086"),
        (Decimal("61.347"), "gCO2e / (tonne * km)", "61.3"),
        (None, "kgCO2e", "—"),
    ],
)
def test_amount_writes_the_number_alone_in_the_column_unit(language, value, unit, expected):
    assert amount(value, unit) == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("kgCO2e / (tonne * km)", "kg CO₂e/t·km"),
        ("kgCO2e/(tonne*km)", "kg CO₂e/t·km"),
        ("kgCO2e/litre", "kg CO₂e/l"),
        ("kgCO2e/tonne", "kg CO₂e/t"),
        ("kgCO2 / kWh", "kg CO₂/kWh"),
        ("tonne * km", "t·km"),
        ("not a unit ((", "not a unit (("),
        ("", ""),
    ],
)
def test_unit_symbol_writes_pint_units_for_people(stored, expected):
    with translation.override("en"):
        assert unit_symbol(stored) == expected.replace(" CO", f"{NBSP}CO")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("kgCO2e / (tonne * km)", "kg CO₂e/吨公里"),
        ("tonne * km", "吨公里"),
        ("km * tonne", "吨公里"),
        ("kgCO2e/tonne", "kg CO₂e/t"),
        ("kgCO2 / kWh", "kg CO₂/kWh"),
        ("tonne * km ** 2", "t·km²"),
    ],
)
def test_unit_symbol_in_chinese(stored, expected):
    with translation.override("zh-hans"):
        assert unit_symbol(stored) == expected.replace(" CO", f"{NBSP}CO")


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [(Decimal("0.62"), "62%"), (Decimal("0.625"), "62.5%"), (Decimal("1"), "100%"), (None, "—")],
)
def test_percent_shows_a_ratio_as_a_percentage(language, ratio, expected):
    assert percent(ratio) == expected


def test_filters_in_a_chinese_template():
    template = Template(
        '{% load carbon_units %}{{ tkm|quantity:"tonne * km" }} · {{ kwh|quantity:"kWh" }}'
    )
    with translation.override("zh-hans"):
        text = template.render(Context({"tkm": Decimal("94086"), "kwh": Decimal("3150000")}))
    assert text == f"94,086{NBSP}吨公里 · 3,150{NBSP}MWh"


def test_no_stylesheet_upper_cases_table_headers_or_units():
    # Upper-casing turns "kg CO₂e" into "KG CO₂E" and "t·km" into "T·KM".
    for css in ["portal/static/portal/css/portal.css", "carbon/static/carbon/css/carbon.css"]:
        assert "uppercase" not in (ROOT / css).read_text(), css


def test_no_customer_template_writes_a_raw_pint_unit():
    templates = (ROOT / "carbon" / "templates" / "carbon").rglob("*.html")
    raw = [path.name for path in templates if "{{ f.unit }}" in path.read_text()]
    assert raw == []
