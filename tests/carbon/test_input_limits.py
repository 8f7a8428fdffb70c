"""Bad input is a 4xx naming the field, never a 500, and nothing is half-written (issue #10,
item 4; the quantity rules of the carbon issue #12, item 4): overflowing, long-digit and
non-finite numbers, numbers beyond the plausibility bounds that keep every value inside its
database column, dataset references with non-ASCII digits, text that cannot be stored (NUL,
lone surrogates). The API and the CSV import refuse the same bad leg with the same message."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint.actions import start_import
from carbon.footprint.exceptions import QuantityError
from carbon.footprint.importer import COLUMNS
from carbon.footprint.units import parse_quantity
from carbon.models import ImportStatus, Leg, Order, OrderLine, Shipment
from tests.api_client import api_error, token_headers
from tests.carbon.factories import ProductFactory, grid_dataset, published_dataset
from tests.properties import examples

pytestmark = pytest.mark.django_db

UPSERT = "/api/v1/organisations/acme/orders/PO-1"
ESTIMATE = "/api/v1/carbon/estimate"


@pytest.fixture
def setup(org_a):
    published_dataset()
    grid_dataset()
    ProductFactory(sku="INV-50K", electricity_kwh_per_unit=Decimal("4000"))
    return token_headers(org_a, ["carbon:read", "carbon:write"])


def _leg(**changes):
    return {"category": "road.hgv.average_laden", "mass": "2 t", "distance": "100 km", **changes}


def _order(leg=None, lines=None, reference="S1"):
    return {
        "order_date": "2025-03-14",
        "lines": lines if lines is not None else [{"sku": "INV-50K", "quantity": "3"}],
        "shipments": [{"reference": reference, "legs": [leg or _leg()]}],
    }


def _put(client, body, headers, url=UPSERT):
    return client.put(url, body, content_type="application/json", headers=headers)


def _nothing_stored():
    return (Order.objects.count(), OrderLine.objects.count(), Leg.objects.count()) == (0, 0, 0)


LEG = "shipments[0].legs[0]"


@pytest.mark.parametrize(
    ("leg", "field", "message"),
    [
        (_leg(mass="1e30 t"), f"{LEG}.mass", "'1e30 t' is too large"),
        (_leg(distance="1e400 km"), f"{LEG}.distance", "too large"),
        (_leg(distance="1e20 km"), f"{LEG}.distance", "'1e20 km' is too large"),
        (_leg(distance="60000 km"), f"{LEG}.distance", "at most 50,000 km per leg"),
        (_leg(mass="200000000 t"), f"{LEG}.mass", "at most 1,000,000 t"),
        (_leg(mass="123456789012345678901234567890.123456789 t"), f"{LEG}.mass", "too large"),
        (_leg(distance="12.5 parsecs"), f"{LEG}.distance", "'parsecs' is not accepted"),
        (_leg(distance="5 nm"), f"{LEG}.distance", "nautical miles are 'nmi'"),
        (_leg(mass="3 ton"), f"{LEG}.mass", "'ton' is ambiguous"),
        (_leg(mass="3 mt"), f"{LEG}.mass", "write 't' for tonnes"),
        (
            _leg(category="road.hgv.diesel", fuel_type="diesel", fuel_used="1e300 l"),
            f"{LEG}.fuel_used",
            "too large",
        ),
    ],
)
def test_a_bad_leg_is_422_naming_the_field_and_stores_nothing(client, setup, leg, field, message):
    # when an ERP puts an order with one bad leg value
    response = _put(client, _order(leg), setup)
    # then the field is named and nothing is written
    assert message in api_error(response, 422, response.json()["code"], field)
    assert response.json()["code"] in {"invalid_quantity", "validation_error", "invalid_order"}
    assert _nothing_stored()


@pytest.mark.parametrize("quantity", ["NaN", "sNaN", "Infinity", "1e400", "1e30"])
def test_a_non_finite_or_huge_line_quantity_is_422(client, setup, quantity):
    # when a line's quantity is not a finite, plausible number
    response = _put(client, _order(lines=[{"sku": "INV-50K", "quantity": quantity}]), setup)
    # then it is refused naming the line's quantity
    api_error(response, 422, response.json()["code"], "lines[0].quantity")
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shipments": [{"reference": "S\x00", "legs": [_leg()]}]}, "shipments.0.reference"),
        ({"shipments": [{"legs": [_leg(origin="Shen\x00zhen")]}]}, "shipments.0.legs.0.origin"),
        (
            {"shipments": [{"legs": [_leg(destination="Yan\ud800")]}]},
            "shipments.0.legs.0.destination",
        ),
        ({"site": "Werk\ud83d"}, "site"),
        ({"status": "open\x00"}, "status"),
        ({"lines": [{"sku": "INV\x00", "quantity": "1"}]}, "lines.0.sku"),
    ],
)
def test_text_that_cannot_be_stored_is_422(client, setup, body, field):
    # when a text field carries a NUL or a lone surrogate
    response = _put(client, {**_order(), **body}, setup)
    # then the field is named
    message = api_error(response, 422, "validation_error", f"payload.{field}")
    assert message.startswith(f"payload.{field}: contains a")
    assert _nothing_stored()


def test_an_external_id_that_cannot_be_stored_is_422(client, setup):
    # when the order number in the path carries a NUL
    response = _put(client, _order(), setup, url="/api/v1/organisations/acme/orders/PO%001")
    # then it is refused naming it, and a slug with a NUL names no organisation
    api_error(response, 422, "validation_error", "external_id")
    response = _put(client, _order(), setup, url="/api/v1/organisations/ac%00me/orders/PO-1")
    api_error(response, 404, "not_found")
    assert _nothing_stored()


@pytest.mark.parametrize("ratio", ["NaN", "sNaN"])
def test_estimate_refuses_a_non_finite_green_ratio(client, setup, ratio):
    body = {"legs": [_leg()], "electricity": "1 MWh", "region": "CN", "green_ratio": ratio}
    response = client.post(ESTIMATE, body, content_type="application/json", headers=setup)
    assert response.json()["field"] == "green_ratio"
    assert response.status_code == 422


@pytest.mark.parametrize(
    "ref", ["test-freight@²", "test-freight@١", "test-freight@1x", "test-freight@"]
)
def test_estimate_refuses_a_dataset_reference_without_ascii_digits(client, setup, ref):
    body = {"dataset": ref, "legs": [_leg()]}
    response = client.post(ESTIMATE, body, content_type="application/json", headers=setup)
    assert response.status_code == 422
    assert response.json()["field"] == "dataset"


def test_estimate_applies_the_leg_bounds(client, setup):
    body = {"legs": [_leg(mass="2000000 t")]}
    response = client.post(ESTIMATE, body, content_type="application/json", headers=setup)
    message = api_error(response, 422, "invalid_quantity", "legs[0].mass")
    assert message == "legs[0].mass: at most 1,000,000 t per leg"


def test_an_order_beyond_the_freight_activity_bound_is_422(client, setup):
    # given 2 x 50 bulk-carrier legs of 400,000 t over 27,000 km: each within the bounds of its
    # mode, 1.08e12 t·km in all
    legs = [
        _leg(category="sea.bulk.average", mass="400000 t", distance="27000 km") for _ in range(50)
    ]
    shipments = [{"reference": f"S{n}", "legs": legs} for n in (1, 2)]
    body = {**_order(), "shipments": shipments}
    # when / then
    message = api_error(_put(client, body, setup), 422, "invalid_order", "shipments")
    assert message == "shipments: at most 1,000,000,000,000 t·km per order"
    assert _nothing_stored()


# --- the same rules in the CSV import


def _csv(**cells):
    row = {
        "order_id": "PO-1",
        "order_date": "2025-03-03",
        "sku": "INV-50K",
        "quantity": "2",
        "shipment": "S1",
        "category": "road.hgv.average_laden",
        "distance": "100 km",
        "mass": "2 t",
        **cells,
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow([row.get(c, "") for c in COLUMNS])
    return SimpleUploadedFile("orders.csv", out.getvalue().encode(), content_type="text/csv")


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("origin", "Shen\x00zhen", "contains a NUL character (\\0), which text cannot hold"),
        ("order_id", "PO\x001", "contains a NUL character (\\0), which text cannot hold"),
        ("shipment", "S\x00", "contains a NUL character (\\0), which text cannot hold"),
        ("mass", "1e30 t", "'1e30 t' is too large"),
        ("mass", "2,000,000 t", "at most 1,000,000 t per leg"),
        ("distance", "1e400 km", "'1e400 km' is too large"),
        ("distance", "1e20 km", "'1e20 km' is too large"),
        ("quantity", "sNaN", "'sNaN' is not a number"),
        ("quantity", "1e400", "at most 1,000,000,000 units per line"),
        ("distance", "5 nm", "'nm' is a nanometre; nautical miles are 'nmi'"),
    ],
)
def test_the_import_reports_the_row_and_column_and_stores_nothing(
    setup, org_a, member_a, column, value, reason
):
    # when a file with one bad cell is imported
    job = start_import(org_a, _csv(**{column: value}), by=member_a)
    # then the report names row 2 and the column, and nothing is stored
    assert job.status == ImportStatus.FAILED
    assert [(e["row"], e["column"], e["reason"]) for e in job.error_report] == [(2, column, reason)]
    assert _nothing_stored()
    assert not Shipment.objects.exists()


def test_the_api_and_the_import_refuse_a_bad_leg_with_the_same_reason(
    client, setup, org_a, member_a
):
    # when the same implausible mass comes through both doors
    response = _put(client, _order(_leg(mass="200000000 t")), setup)
    job = start_import(org_a, _csv(mass="200000000 t"), by=member_a)
    # then the reasons are the same
    message = api_error(response, 422, "invalid_order", f"{LEG}.mass")
    assert message == f"{LEG}.mass: {job.error_report[0]['reason']}"


# The same bad leg through both doors: (column, the API's value, the CSV cell, other cells of
# the leg as both send them, the reason). The CSV cell is the API's value unless the two media
# spell it differently (a JSON boolean, a yes/no cell).
SAME_BAD_LEGS = [
    ("mass", "200000000 t", None, {}, "at most 1,000,000 t per leg"),
    ("mass", "1e400 t", None, {}, "'1e400 t' is too large"),
    ("mass", "1e20 t", None, {}, "'1e20 t' is too large"),
    ("mass", "NaN t", None, {}, "'NaN t' is not a number with a unit, e.g. 12.5 t"),
    ("mass", "Infinity t", None, {}, "'Infinity t' is not a number with a unit, e.g. 12.5 t"),
    ("mass", "١٢ t", None, {}, "'١٢ t' is not a number with a unit, e.g. 12.5 t"),
    ("mass", "3 ton", None, {}, "'ton' is ambiguous; write t (tonnes), long_ton or short_ton"),
    ("mass", "3 Mt", None, {}, "'Mt' is not a unit here; write 't' for tonnes"),
    ("mass", "3 mt", None, {}, "'mt' is not a unit here; write 't' for tonnes"),
    ("mass", "3 km", None, {}, "'3 km' is not a mass (expected a unit like t, got [length])"),
    ("distance", "12.5 parsecs", None, {},
     "'parsecs' is not accepted for a distance; use one of km, m, mi, nmi"),
    ("distance", "5 nm", None, {}, "'nm' is a nanometre; nautical miles are 'nmi'"),
    ("distance", "60000 km", None, {}, "at most 50,000 km per leg"),
    ("distance", "-5 km", None, {}, "a distance cannot be negative (got '-5 km')"),
    ("fuel_used", "1e300 l", None, {"fuel_type": "diesel"}, "'1e300 l' is too large"),
    ("fuel_used", "2000000000 l", None, {"fuel_type": "diesel"},
     "at most 1,000,000,000 litre per leg"),
    ("fuel_used", "3 gallon", None, {"fuel_type": "diesel"},
     "'gallon' is ambiguous; write US_gallon or imperial_gallon"),
    ("fuel_used", "3 t", None, {"fuel_type": "hfo", "category": "sea.container.average"},
     "'t' is not accepted for fuel; use one of kg"),
    ("fuel_used", None, "", {"fuel_type": "diesel"}, "a fuel type needs the fuel used, e.g. 350 l"),
    ("fuel_type", "coal", None, {"fuel_used": "3 l"},
     "unknown fuel type 'coal'; one of diesel, hfo, jet, electricity"),
    ("fuel_type", None, "", {"fuel_used": "3 l"}, "a fuel amount needs its fuel type"),
    ("fuel_type", "jet", None, {"fuel_used": "3 l"},
     "jet is not a fuel of road freight; one of diesel, electricity"),
    ("fuel_type", "diesel", None, {"fuel_used": "3 l", "category": "air.long_haul"},
     "diesel is not a fuel of air freight; one of jet"),
    ("radiative_forcing", True, "yes", {}, "radiative forcing applies to air freight only"),
    ("category", "road.rocket", None, {}, "unknown transport category 'road.rocket'"),
    ("data_tier", "guessed", None, {},
     "unknown data tier 'guessed'; one of primary, modelled, default"),
    ("origin", "x" * 121, None, {}, "at most 120 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("column", "api_value", "csv_value", "others", "reason"), SAME_BAD_LEGS)
def test_the_api_and_the_import_refuse_the_same_bad_leg_with_the_same_message(
    client, setup, org_a, member_a, column, api_value, csv_value, others, reason
):
    # when the same bad leg is put through the API and imported in a CSV file
    leg = _leg(**others, **({} if api_value is None else {column: api_value}))
    response = _put(client, _order(leg), setup)
    cell = csv_value if csv_value is not None else api_value
    job = start_import(org_a, _csv(**others, **{column: cell}), by=member_a)
    # then both name the same field with the same reason, literally, and store nothing
    body = response.json()
    assert (response.status_code, body["field"]) == (422, f"{LEG}.{column}")
    assert body["message"] == f"{LEG}.{column}: {reason}"
    assert [(e["row"], e["column"], e["reason"]) for e in job.error_report] == [(2, column, reason)]
    assert _nothing_stored()


def test_a_leg_within_every_rule_is_stored_alike_through_both_doors(client, setup, org_a, member_a):
    # when the same leg with fuel data is put and imported (as two orders)
    leg = {"fuel_type": "diesel", "fuel_used": "１２ US_gallon", "mass": "27,557 lb"}
    response = _put(client, _order(_leg(**leg)), setup)
    job = start_import(org_a, _csv(order_id="PO-2", **leg), by=member_a)
    # then both store the same converted values (27,557 lb x 0.45359237 kg/lb = 12.499645 t;
    # 12 US gallons x 3.785411784 l = 45.4249 l)
    assert response.status_code == 201, response.content
    assert job.status == ImportStatus.SUCCEEDED, job.error_report
    stored = {
        leg.shipment.order.external_id: (leg.mass_t, leg.distance_km, leg.fuel_amount)
        for leg in Leg.objects.select_related("shipment__order")
    }
    assert stored == {
        "PO-1": (Decimal("12.499645"), Decimal("100.000"), Decimal("45.4249")),
        "PO-2": (Decimal("12.499645"), Decimal("100.000"), Decimal("45.4249")),
    }


# --- the quantity parser: properties

KINDS = [("mass", "tonne"), ("distance", "km"), ("volume", "litre"), ("energy", "kWh")]


@settings(max_examples=examples(300))
@given(text=st.text(max_size=40), kind=st.sampled_from(KINDS))
def test_any_text_is_a_finite_bounded_quantity_or_a_quantity_error(text, kind):
    try:
        value = parse_quantity(text, field="f", kind=kind[0], to=kind[1])
    except QuantityError:
        return
    assert value.is_finite()
    assert 0 <= value < Decimal("1e15")


@settings(max_examples=examples(200))
@given(
    mantissa=st.decimals(allow_nan=True, allow_infinity=True),
    exponent=st.integers(min_value=-500, max_value=500),
    unit=st.sampled_from(["t", "kg", "lb", "km", "mi", "nmi"]),
)
def test_numbers_of_any_size_are_parsed_or_refused_never_crash(mantissa, exponent, unit):
    kind = ("mass", "tonne") if unit in ("t", "kg", "lb") else ("distance", "km")
    try:
        value = parse_quantity(f"{mantissa}e{exponent} {unit}", field="f", kind=kind[0], to=kind[1])
    except QuantityError:
        return
    assert value.is_finite()
    assert value < Decimal("1e15")


@settings(max_examples=examples(50))
@given(value=st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False))
def test_full_width_digits_read_like_ascii_digits(value):
    full_width = str(value).translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert parse_quantity(f"{full_width} t", field="f", kind="mass", to="tonne") == value


@pytest.mark.parametrize("text", ["١٢ t", "१२ km", "১২ kg"])
def test_digits_of_other_scripts_are_refused(text):
    kind = ("distance", "km") if "km" in text else ("mass", "tonne")
    with pytest.raises(QuantityError):
        parse_quantity(text, field="f", kind=kind[0], to=kind[1])


@pytest.mark.parametrize(
    ("text", "kind", "to", "expected"),
    [
        ("3 long_ton", "mass", "tonne", Decimal("3.048141")),
        ("3 short_ton", "mass", "tonne", Decimal("2.721554")),
        ("10 nmi", "distance", "km", Decimal("18.52")),
        ("2 m3", "volume", "litre", Decimal("2000")),
        ("2 US_gallon", "volume", "litre", Decimal("7.570824")),
        ("2 imperial_gallon", "volume", "litre", Decimal("9.09218")),
        ("1.2 GWh", "energy", "kWh", Decimal("1200000")),
    ],
)
def test_spelled_out_units_convert(text, kind, to, expected):
    value = parse_quantity(text, field="f", kind=kind, to=to)
    assert value.quantize(Decimal("0.000001")) == expected.quantize(Decimal("0.000001"))


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("3 ton", "mass", "'ton' is ambiguous; write t (tonnes), long_ton or short_ton"),
        ("3 MT", "mass", "'MT' is not a unit here; write 't' for tonnes"),
        ("3 Mt", "mass", "'Mt' is not a unit here; write 't' for tonnes"),
        ("3 nm", "distance", "'nm' is a nanometre; nautical miles are 'nmi'"),
        ("3 gallon", "volume", "'gallon' is ambiguous; write US_gallon or imperial_gallon"),
        ("3 oz", "mass", "'oz' is not accepted for a mass; use one of t, tonne, kg, g, lb, "
         "long_ton, short_ton"),
        ("3 ly", "distance", "'ly' is not accepted for a distance; use one of km, m, mi, nmi"),
    ],
)  # fmt: skip
def test_ambiguous_or_unlisted_units_are_refused_with_a_hint(text, kind, message):
    with pytest.raises(QuantityError) as error:
        parse_quantity(text, field="f", kind=kind, to=dict(KINDS)[kind])
    assert error.value.message == message
