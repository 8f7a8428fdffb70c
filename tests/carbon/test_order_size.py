"""Order size is bounded (issue #10, item 5): at most 50 legs per shipment and 100 shipments per
order through the API (422 naming the first one over) and the CSV import (its row), and the
order page shows its legs a page at a time with a number of queries that does not grow."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint.actions import start_import
from carbon.footprint.calculation import calculate_order
from carbon.footprint.importer import COLUMNS
from carbon.models import ImportStatus, Leg, Order, Shipment
from tests.api_client import api_error, token_headers
from tests.carbon.factories import order_with_legs, published_dataset

pytestmark = pytest.mark.django_db

UPSERT = "/api/v1/organisations/acme/orders/PO-1"
LEG = {"category": "road.hgv.average_laden", "mass": "1 t", "distance": "10 km"}


@pytest.fixture
def headers(org_a):
    published_dataset()
    return token_headers(org_a, ["carbon:read", "carbon:write"])


def _put(client, shipments, headers):
    body = {"order_date": "2025-03-14", "shipments": shipments}
    return client.put(UPSERT, body, content_type="application/json", headers=headers)


def _stored():
    return (Order.objects.count(), Shipment.objects.count(), Leg.objects.count())


def test_a_shipment_of_50_legs_is_stored(client, headers):
    response = _put(client, [{"reference": "S1", "legs": [LEG] * 50}], headers)
    assert response.status_code == 201, response.content
    assert _stored() == (1, 1, 50)


def test_a_shipment_of_51_legs_is_422_naming_the_first_leg_over(client, headers):
    # when a shipment has one leg more than allowed
    response = _put(client, [{"reference": "S1", "legs": [LEG] * 51}], headers)
    # then the 51st leg is named and nothing is stored
    message = api_error(response, 422, "invalid_order", "shipments[0].legs[50]")
    assert message == "shipments[0].legs[50]: at most 50 legs per shipment"
    assert _stored() == (0, 0, 0)


def test_an_order_of_101_shipments_is_422_naming_the_first_shipment_over(client, headers):
    shipments = [{"reference": f"S{i}", "legs": [LEG]} for i in range(101)]
    response = _put(client, shipments, headers)
    message = api_error(response, 422, "invalid_order", "shipments[100]")
    assert message == "shipments[100]: at most 100 shipments per order"
    assert _stored() == (0, 0, 0)


def _csv(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for shipment, leg in rows:
        cells = {
            "order_id": "PO-1",
            "order_date": "2025-03-03",
            "shipment": shipment,
            "leg": str(leg),
            "category": "road.hgv.average_laden",
            "distance": "10 km",
            "mass": "1 t",
        }
        writer.writerow([cells.get(c, "") for c in COLUMNS])
    return SimpleUploadedFile("orders.csv", out.getvalue().encode(), content_type="text/csv")


@pytest.mark.parametrize(
    ("rows", "row", "value", "reason"),
    [
        ([("S1", n) for n in range(1, 52)], 52, "S1", "at most 50 legs per shipment"),
        ([(f"S{n}", 1) for n in range(101)], 102, "S100", "at most 100 shipments per order"),
    ],
)
def test_the_import_applies_the_same_caps_at_the_row(org_a, member_a, rows, row, value, reason):
    published_dataset()
    # when a file with one leg / one shipment too many is imported
    job = start_import(org_a, _csv(rows), by=member_a)
    # then the report names the row of the first one over, and nothing is stored
    assert job.status == ImportStatus.FAILED
    assert job.error_report == [
        {"row": row, "column": "shipment", "value": value, "reason": reason}
    ]
    assert _stored() == (0, 0, 0)


def _order(org, legs: int) -> Order:
    order = order_with_legs(
        org,
        [
            {"category": "road.hgv.average_laden", "mass_t": 1, "distance_km": n}
            for n in range(1, legs + 1)
        ],
    )
    calculate_order(order)
    return order


def _page(client, org, order, **params):
    url = reverse("carbon:order_detail", kwargs={"org_slug": org.slug, "order_id": order.pk})
    return client.get(url, params)


def test_the_order_page_shows_legs_a_page_at_a_time(client, org_a, member_a):
    # given an order of 120 legs, leg n going n km with 1 t
    published_dataset()
    order = _order(org_a, 120)
    client.force_login(member_a)
    # when the third page of legs is shown
    response = _page(client, org_a, order, page=3)
    # then it holds legs 101 to 120, each beside its own figures
    rows = response.context["breakdown"]
    assert [r["leg"].sequence for r in rows] == list(range(101, 121))
    assert [Decimal(r["tkm"]) for r in rows] == [Decimal(n) for n in range(101, 121)]
    assert "Page 3 of 3" in response.content.decode()
    assert len(_page(client, org_a, order).context["breakdown"]) == 50


def test_the_order_page_queries_do_not_grow_with_its_legs(
    client, org_a, member_a, django_assert_max_num_queries
):
    # given a small and a large order
    published_dataset()
    small, large = _order(org_a, 2), _order(org_a, 150)
    client.force_login(member_a)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert _page(client, org_a, small).status_code == 200
    # when the large order's pages are shown / then they take no more queries
    for page in (1, 3):
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert _page(client, org_a, large, page=page).status_code == 200
