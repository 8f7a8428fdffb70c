"""The CSV importer's limits on rows, cells and text lengths (issue #11, item 4): each is reported
on its spreadsheet row and column with the literal reason, and a file over a limit stores
nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from carbon.footprint import importer
from carbon.footprint.importer import validate_csv
from tests.carbon.factories import ProductFactory

pytestmark = pytest.mark.django_db

HEADER = "order_id,order_date,sku,quantity,shipment,category,distance,mass,origin,destination"


def _row(**cells: str) -> str:
    values = {
        "order_id": "PO-1",
        "order_date": "2025-03-03",
        "sku": "INV-50K",
        "quantity": "2",
        "shipment": "S1",
        "category": "road.hgv.average_laden",
        "distance": "100 km",
        "mass": "2 t",
        "origin": "Hamburg",
        "destination": "Berlin",
        **cells,
    }
    return ",".join(values[c] for c in HEADER.split(","))


def _errors(org, *lines: str) -> list[tuple[int, str, str, str]]:
    result = validate_csv(org, io.StringIO("\n".join(lines) + "\n"))
    return [(e.row, e.column, e.value, e.reason) for e in result.errors]


@pytest.fixture
def org(org_a):
    ProductFactory(sku="INV-50K", electricity_kwh_per_unit=Decimal("4000"))
    return org_a


def test_a_valid_row_has_no_errors(org):
    # the baseline the other tests change one cell of
    assert _errors(org, HEADER, _row()) == []


# --- rows


def test_the_row_limit_is_one_million():
    assert importer.MAX_ROWS == 1_000_000


def test_rows_beyond_the_limit_stop_the_file_at_the_first_extra_row(org, monkeypatch):
    # a smaller limit stands in for a million rows; the message and row number are the contract
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    rows = [_row(order_id=f"PO-{n}") for n in range(1, 5)]
    assert _errors(org, HEADER, *rows) == [(4, "", "", "at most 2 rows per file")]


def test_blank_lines_are_not_rows(org, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    result = validate_csv(org, io.StringIO(f"{HEADER}\n\n{_row()}\n,,,\n{_row(order_id='PO-2')}\n"))
    assert result.errors == []
    assert result.rows == 2


def test_an_empty_file_is_refused(org):
    result = validate_csv(org, io.StringIO(""))
    assert [(e.row, e.column, e.value, e.reason) for e in result.errors] == [
        (1, "", "", "the file is empty")
    ]


def test_a_header_without_rows_is_refused(org):
    assert _errors(org, HEADER) == [(1, "", "", "the file has a header but no order rows")]


# --- cells


def test_a_row_with_too_few_cells_is_reported_with_its_cells(org):
    assert _errors(org, HEADER, "PO-1,2025-03-03,INV-50K", _row(order_id="PO-2")) == [
        (2, "", "PO-1,2025-03-03,INV-50K", "has 3 cells, the header has 10")
    ]


def test_a_row_with_too_many_cells_shows_at_most_200_characters(org):
    long_row = _row() + "," + "x" * 300
    errors = _errors(org, HEADER, long_row)
    assert errors == [(2, "", long_row[:200], "has 11 cells, the header has 10")]
    assert len(errors[0][2]) == 200


def test_every_row_with_the_wrong_cell_count_is_reported(org):
    errors = _errors(org, HEADER, "PO-1", _row(), "PO-3,2025-03-03")
    assert [(row, reason) for row, _, _, reason in errors] == [
        (2, "has 1 cells, the header has 10"),
        (4, "has 2 cells, the header has 10"),
    ]


def test_a_nul_in_any_cell_is_refused_on_its_column(org):
    assert _errors(org, HEADER, _row(destination="Ber\x00lin")) == [
        (2, "destination", "Ber\x00lin", "contains a NUL character (\\0), which text cannot hold")
    ]


# --- text lengths


@pytest.mark.parametrize(
    ("column", "longest", "reason"),
    [
        ("order_id", 100, "at most 100 characters"),
        ("sku", 64, "at most 64 characters"),
        ("shipment", 100, "at most 100 characters"),
        ("origin", 120, "at most 120 characters"),
        ("destination", 120, "at most 120 characters"),
    ],
)
def test_text_lengths_are_limited(org, column, longest, reason):
    # one character over the limit is refused on its column
    too_long = "A" * (longest + 1)
    assert _errors(org, HEADER, _row(**{column: too_long})) == [(2, column, too_long, reason)]
    # at the limit, the length is not what is reported (a SKU of that length is merely unknown)
    at_limit = _errors(org, HEADER, _row(**{column: "A" * longest}))
    assert all(r != reason for _, _, _, r in at_limit)


def test_an_order_id_is_required(org):
    assert _errors(org, HEADER, _row(order_id="")) == [
        (2, "order_id", "", "an order number is required")
    ]
