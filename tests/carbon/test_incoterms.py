"""Incoterms 2020 on orders: who pays the main carriage, the customer's Scope 3 category 4 vs
9 view, and the refusals of the API and the CSV import (4xx naming the field)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint import importer, incoterms
from carbon.models import Order
from carbon.reports.scope3 import scope3_lines
from portal import actions
from tests.carbon.factories import ProductFactory, grid_dataset, published_dataset

D = Decimal


@pytest.mark.parametrize(
    ("rule", "payer", "category"),
    [
        ("EXW", "buyer", 4),
        ("FCA", "buyer", 4),
        ("FAS", "buyer", 4),
        ("FOB", "buyer", 4),
        ("CPT", "seller", 9),
        ("CIP", "seller", 9),
        ("CFR", "seller", 9),
        ("CIF", "seller", 9),
        ("DAP", "seller", 9),
        ("DPU", "seller", 9),
        ("DDP", "seller", 9),
        ("", None, None),
    ],
)
def test_each_rule_says_who_pays_the_main_carriage(rule, payer, category):
    # given an Incoterms 2020 rule / then its payer and the customer's Scope 3 category
    assert incoterms.main_carriage_payer(rule) == payer
    assert incoterms.scope3_category(rule) == category


def test_a_code_that_is_no_incoterms_2020_rule_is_refused():
    # given DEQ (an Incoterms 2000 rule, withdrawn) / then it is no rule of 2020
    assert incoterms.problem("deq") == (
        "unknown Incoterm 'DEQ'; one of CFR, CIF, CIP, CPT, DAP, DDP, DPU, EXW, FAS, FCA, FOB"
    )
    assert incoterms.problem(" fob ") is None


def test_the_scope3_view_splits_the_orders_by_who_paid():
    # given a FOB order (100 kg), a DAP order (40 kg) and one without an Incoterm (7 kg)
    lines = scope3_lines(
        [("FOB", D(1000), D(100)), ("DAP", D(200), D(40)), ("", D(50), D(7)), ("EXW", D(1), D(1))]
    )
    # then category 4 holds FOB + EXW, category 9 DAP, and "not stated" the rest
    assert [(x.key, x.category, x.paid_by, x.orders, x.tkm, x.wtw_kg) for x in lines] == [
        ("category_4", 4, "buyer", 2, D(1001), D(101)),
        ("category_9", 9, "seller", 1, D(200), D(40)),
        ("not_stated", None, None, 1, D(50), D(7)),
    ]


# --- through the API and the import

URL = "/api/v1/organisations/acme/orders/PO-9"


@pytest.fixture
def token_a(org_a):
    published_dataset(), grid_dataset()
    ProductFactory(sku="INV-50K", electricity_kwh_per_unit=Decimal("10"))
    _, plaintext = actions.issue_api_token(org_a, "ERP", ["carbon:read", "carbon:write"], by=None)
    return {"Authorization": f"Bearer {plaintext}"}


def _body(**changes):
    body = {
        "order_date": "2025-03-14",
        "status": "shipped",
        "shipments": [
            {
                "legs": [
                    {"category": "road.hgv.average_laden", "mass": "2 t", "distance": "100 km"},
                    {"category": "hub.warehouse.ambient", "mass": "2 t"},
                ]
            }
        ],
    }
    return body | changes


@pytest.mark.django_db
def test_the_api_stores_the_incoterm_and_shows_the_scope3_category(client, token_a):
    # given an order sent with "fob" and a warehouse stop of 2 t
    response = client.put(
        URL, _body(incoterm="fob"), content_type="application/json", headers=token_a
    )
    # then it is stored as FOB: the customer pays, category 4
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["incoterm"], body["main_carriage_paid_by"], body["scope3_category"]) == (
        "FOB",
        "buyer",
        4,
    )
    assert Order.objects.get().incoterm == "FOB"
    # and the warehouse's 2 x 17.5 = 35 kg are in WTW (200 t·km x 0.125 = 25 kg by road)
    assert body["footprint"]["wtw_kg"] == "60.000000"
    assert body["method_statement"] == {
        "api": "/api/v1/carbon/method",
        "page": "/o/acme/method/",
    }
    # when sent again without one / then it is "not stated"
    again = client.put(URL, _body(), content_type="application/json", headers=token_a).json()
    assert (again["incoterm"], again["scope3_category"]) == (None, None)


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_incoterm_naming_the_field(client, token_a):
    # when an order comes with DEQ / then 422 on "incoterm" and nothing is stored
    response = client.put(
        URL, _body(incoterm="DEQ"), content_type="application/json", headers=token_a
    )
    assert response.status_code == 422
    assert response.json()["field"] == "incoterm"
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_the_api_refuses_an_airport_hub_naming_the_leg(client, token_a):
    # when a leg is an airport hub, which has no GLEC default / then 422 on that leg's category
    body = _body()
    body["shipments"][0]["legs"][1]["category"] = "hub.airport.ambient"
    response = client.put(URL, body, content_type="application/json", headers=token_a)
    assert response.status_code == 422
    assert response.json()["field"] == "shipments[0].legs[1].category"
    assert Order.objects.count() == 0


def _csv(incoterm: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["order_id", "order_date", "incoterm", "category", "mass", "distance"])
    writer.writerow(["PO-7", "2025-03-05", incoterm, "road.hgv.average_laden", "1 t", "10 km"])
    return out.getvalue()


@pytest.mark.django_db
def test_the_import_reads_the_incoterm_column_and_names_a_bad_one(org_a):
    published_dataset()
    # given a file with CIF / when validated / then the order carries it
    good = importer.validate_csv(org_a, io.StringIO(_csv("cif")))
    assert good.errors == []
    assert [o.incoterm for o in good.orders] == ["CIF"]
    # given a file with "FOB2020" / then row 2's incoterm column is named
    bad = importer.validate_csv(org_a, io.StringIO(_csv("FOB2020")))
    assert [(e.row, e.column) for e in bad.errors] == [(2, "incoterm")]


def test_the_inventory_shows_hub_wtw_and_the_scope3_view():
    # given a FOB order: 200 t·km by HGV (20 + 5 kg) and a 12 t warehouse stop (12 x 17.5 =
    # 210 kg WTW, unsplit); a DDP order: 200 t·km by van (100 + 25 kg); an order without one
    import datetime as dt

    from carbon.reports.inventory import LegRow, OrderRow, SnapshotFigures, build_inventory
    from carbon.reports.period import ReportingPeriod

    hgv = LegRow("road.hgv.average_laden", D(200), D(20), D(5))
    hub = LegRow("hub.warehouse.ambient", D(0), D(0), D(0), hub_wtw_kg=D(210))
    van = LegRow("road.van.diesel", D(200), D(100), D(25))

    def figures(pk, legs):
        return SnapshotFigures(
            snapshot_id=pk,
            method_version="greenloop-iso14083-aligned-2026.2",
            tkm=sum((leg.tkm for leg in legs), D(0)),
            ttw_kg=sum((leg.ttw_kg for leg in legs), D(0)),
            wtt_kg=sum((leg.wtt_kg for leg in legs), D(0)),
            hub_wtw_kg=sum((leg.hub_wtw_kg for leg in legs), D(0)),
            legs=legs,
        )

    day = dt.date(2026, 2, 1)
    orders = [
        OrderRow(1, "PO-1", 1, "delivered", day, figures(11, (hgv, hub)), incoterm="FOB"),
        OrderRow(2, "PO-2", 1, "delivered", day, figures(12, (van,)), incoterm="DDP"),
        OrderRow(3, "PO-3", 1, "delivered", day, figures(13, (van,))),
    ]
    # when the quarter's inventory is built
    inventory = build_inventory(ReportingPeriod.quarter(2026, 1), orders, [])
    # then WTW holds the hub's 210 kg: 25 + 210 + 125 + 125
    assert (inventory.wtw_kg, inventory.hub_wtw_kg) == (D("485.000000"), D("210.000000"))
    assert {line.key: line.wtw_kg for line in inventory.by_mode}["hub"] == D("210.000000")
    # and the Scope 3 view splits it by who paid
    assert [(x.key, x.orders, x.wtw_kg) for x in inventory.by_scope3_category] == [
        ("category_4", 1, D("235.000000")),
        ("category_9", 1, D("125.000000")),
        ("not_stated", 1, D("125.000000")),
    ]


@pytest.mark.django_db
def test_the_order_page_shows_the_incoterm_or_not_stated(client, org_a, member_a):
    from django.urls import reverse

    from tests.carbon.factories import OrderFactory

    fob = OrderFactory(organisation=org_a, incoterm="FOB")
    unknown = OrderFactory(organisation=org_a)
    client.force_login(member_a)

    def page(order):
        url = reverse("carbon:order_detail", kwargs={"org_slug": "acme", "order_id": order.pk})
        return client.get(url).content.decode()

    # then a FOB order says who pays, and one stored without an Incoterm says "not stated"
    assert "FOB – Free On Board" in page(fob)
    assert "Main carriage paid by the customer: Scope 3 category 4 (upstream)" in page(fob)
    assert "not stated" in page(unknown)


def test_the_inventory_data_quality_share_follows_the_data_type_not_the_tier():
    import datetime as dt

    from carbon.reports.inventory import LegRow, OrderRow, SnapshotFigures, build_inventory
    from carbon.reports.period import ReportingPeriod

    # given a carrier-specific leg declared "default" (25 kg WTW) and a modelled one declared
    # "primary" (125 kg WTW)
    carrier = LegRow("road.hgv.average_laden", D(200), D(20), D(5), data_type="carrier_intensity")
    modelled = LegRow("road.van.diesel", D(200), D(100), D(25), data_tier="primary")
    figures = SnapshotFigures(1, "v", D(400), D(120), D(30), legs=(carrier, modelled))
    orders = [OrderRow(1, "PO-1", 1, "delivered", dt.date(2026, 2, 1), figures)]
    # when the inventory is built
    quality = build_inventory(ReportingPeriod.quarter(2026, 1), orders, []).data_quality
    # then 125 of 150 kg WTW are on modelled defaults
    assert quality.modelled_default_wtw_share == D("0.833333")
