"""Plausibility per transport mode: the gaming attempts found in review are refused with the
figures in the message (API: a 422 naming the leg and field; CSV: the row), and nothing is
stored."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carbon import api as carbon_api  # noqa: F401 - registers the carbon scopes and routes
from carbon.footprint.actions import start_import
from carbon.footprint.legs import LegData, validate_leg
from carbon.models import ImportStatus, Leg, Order
from portal import actions as portal_actions
from tests.api_client import api_error, token_headers
from tests.carbon.factories import TEST_FREIGHT, published_dataset
from tests.carbon.test_import import csv_text

pytestmark = pytest.mark.django_db

UPSERT = "/api/v1/organisations/acme/orders/PO-1"
LEG = "shipments[0].legs[0]"


@pytest.fixture
def headers(org_a):
    published_dataset(
        freight={**TEST_FREIGHT, "road.hgv.laden_100": ("0.06", "0.015", None)},
    )
    return token_headers(org_a, ["carbon:read", "carbon:write"])


def order(**leg):
    return {
        "order_date": "2025-03-14",
        "delivery_date": "2025-04-01",
        "status": "delivered",
        "shipments": [{"reference": "S1", "legs": [leg]}],
    }


def put(client, body, headers, url=UPSERT):
    return client.put(url, body, content_type="application/json", headers=headers)


def nothing_stored():
    return (Order.objects.count(), Leg.objects.count()) == (0, 0)


def test_a_bulk_leg_of_a_billion_km_is_refused(client, headers):
    body = order(category="sea.bulk.average", mass="10 t", distance="1,000,000,000 km")
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.distance")
    assert message == f"{LEG}.distance: at most 50,000 km per leg"
    assert nothing_stored()


def test_a_sea_leg_longer_than_any_sailing_is_refused_with_the_figures(client, headers):
    body = order(category="sea.container.average", mass="10 t", distance="40,000 km")
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.distance")
    assert message == (
        f"{LEG}.distance: 40,000 km is longer than any sea route: at most 30,000 km per sea leg"
    )
    assert nothing_stored()


def test_one_litre_over_ten_thousand_tkm_is_refused(client, headers):
    # the review's example: it cut WTW from 1,252 kg to 3 kg
    body = order(
        category="road.hgv.average_laden",
        mass="10 t",
        distance="1,000 km",
        fuel_type="diesel",
        fuel_used="1 l",
    )
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.fuel_used")
    assert message == (
        f"{LEG}.fuel_used: 1 litre over 10,000 t·km is 0.0001 litre per t·km; road diesel takes "
        "0.005 to 1.5 litre per t·km (below what any vehicle burns)"
    )
    assert nothing_stored()


def test_a_plausible_amount_of_fuel_is_stored(client, headers):
    # 400 l over 10,000 t·km is 0.04 l per t·km, the DESNZ average HGV
    body = order(
        category="road.hgv.average_laden",
        mass="10 t",
        distance="1,000 km",
        fuel_type="diesel",
        fuel_used="400 l",
    )
    response = put(client, body, headers)
    assert response.status_code == 201, response.content
    assert Leg.objects.get().fuel_amount == Decimal("400.0000")


def test_jet_fuel_above_any_freighter_is_refused(client, headers):
    body = order(
        category="air.long_haul",
        mass="1 t",
        distance="1,000 km",
        fuel_type="jet",
        fuel_used="5000 l",
    )
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.fuel_used")
    assert message == (
        f"{LEG}.fuel_used: 5,000 litre over 1,000 t·km is 5 litre per t·km; air jet takes "
        "0.05 to 3 litre per t·km (above any vehicle)"
    )


def test_diesel_on_an_air_leg_is_refused(client, headers):
    body = order(
        category="air.long_haul",
        mass="1 t",
        distance="1,000 km",
        fuel_type="diesel",
        fuel_used="200 l",
    )
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.fuel_type")
    assert message == f"{LEG}.fuel_type: diesel is not a fuel of air freight; one of jet"
    assert nothing_stored()


def test_a_road_leg_heavier_than_any_truck_is_refused(client, headers):
    body = order(category="road.hgv.articulated", mass="150 t", distance="100 km")
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.mass")
    assert message == (
        f"{LEG}.mass: 150 t is more than one road vehicle carries: at most 100 t per road leg "
        "(record one leg per vehicle)"
    )


def test_the_fully_laden_row_chosen_by_a_customer_is_refused(client, headers):
    body = order(category="road.hgv.laden_100", mass="10 t", distance="1,000 km")
    message = api_error(put(client, body, headers), 422, "invalid_order", f"{LEG}.category")
    assert message == (
        f"{LEG}.category: the road.hgv.laden_100 row needs attested data (a carrier system, the "
        "CRM or GreenLoop staff); customer-entered legs use road.hgv.average_laden"
    )
    assert nothing_stored()


def test_the_fully_laden_row_from_a_carrier_system_is_stored(client, headers, org_a):
    type(org_a).objects.filter(pk=org_a.pk).update(crm_external_id="ACC-1")
    _, plaintext = portal_actions.issue_api_token(
        None, "Carrier", ["crm:write", "carbon:attest"], by=None
    )
    body = order(category="road.hgv.laden_100", mass="10 t", distance="1,000 km")
    response = put(
        client,
        body,
        {"Authorization": f"Bearer {plaintext}"},
        "/api/v1/crm/organisations/ACC-1/orders/PO-1",
    )
    assert response.status_code == 201, response.content
    assert list(Leg.objects.values_list("category", "source")) == [
        ("road.hgv.laden_100", "carrier")
    ]


def test_csv_errors_name_the_row(org_a, member_a, headers):
    rows = [
        ["PO-1", "2025-03-03", "2025-04-10", "delivered", "", "", "", "S1", "1",
         "road.hgv.average_laden", "Suzhou", "Shanghai", "1000 km", "10 t", "", "diesel", "1 l",
         ""],
        ["PO-2", "2025-03-03", "2025-04-10", "delivered", "", "", "", "S1", "1",
         "air.long_haul", "PVG", "FRA", "8900 km", "1 t", "", "diesel", "900 l", ""],
    ]  # fmt: skip
    job = start_import(org_a, SimpleUploadedFile("o.csv", csv_text(rows).encode()), by=member_a)
    assert job.status == ImportStatus.FAILED
    assert [(e["row"], e["column"]) for e in job.error_report] == [
        (2, "fuel_used"),
        (3, "fuel_type"),
    ]
    assert job.error_report[0]["reason"].startswith("1 litre over 10,000 t·km is 0.0001 litre")
    assert nothing_stored()


def test_a_customer_csv_with_the_fully_laden_row_names_the_row(org_a, member_a, headers):
    rows = [
        ["PO-1", "2025-03-03", "2025-04-10", "delivered", "", "", "", "S1", "1",
         "road.hgv.average_laden", "Suzhou", "Shanghai", "100 km", "10 t", "", "", "", ""],
        ["PO-1", "2025-03-03", "2025-04-10", "delivered", "", "", "", "S1", "2",
         "road.hgv.laden_100", "Shanghai", "Ningbo", "200 km", "10 t", "", "", "", ""],
    ]  # fmt: skip
    job = start_import(org_a, SimpleUploadedFile("o.csv", csv_text(rows).encode()), by=member_a)
    assert job.status == ImportStatus.FAILED
    assert [(e["row"], e["column"], e["reason"]) for e in job.error_report] == [
        (
            3,
            "category",
            "the road.hgv.laden_100 row needs attested data (a carrier system, the CRM or "
            "GreenLoop staff); customer-entered legs use road.hgv.average_laden",
        )
    ]
    assert nothing_stored()


def test_a_customer_may_resend_the_carriers_laden_leg_but_not_change_it(client, headers, org_a):
    # given the carrier's system stored a 100%-laden leg
    type(org_a).objects.filter(pk=org_a.pk).update(crm_external_id="ACC-1")
    _, plaintext = portal_actions.issue_api_token(
        None, "Carrier", ["crm:write", "carbon:attest"], by=None
    )
    laden = order(category="road.hgv.laden_100", mass="10 t", distance="1,000 km")
    carrier = {"Authorization": f"Bearer {plaintext}"}
    stored = put(client, laden, carrier, "/api/v1/crm/organisations/ACC-1/orders/PO-1")
    assert stored.status_code == 201, stored.content
    # when the customer sends it again with a new delivery date, the leg stays the carrier's
    response = put(client, {**laden, "delivery_date": "2025-04-02"}, headers)
    assert response.status_code == 200, response.content
    assert list(Leg.objects.values_list("source", "distance_km")) == [
        ("carrier", Decimal("1000.000"))
    ]
    # when the customer changes the leg itself, it is refused and nothing changes
    changed = order(category="road.hgv.laden_100", mass="10 t", distance="900 km")
    message = api_error(put(client, changed, headers), 422, "invalid_order", f"{LEG}.category")
    assert message.startswith(f"{LEG}.category: the road.hgv.laden_100 row needs attested data")
    assert list(Leg.objects.values_list("source", "distance_km")) == [
        ("carrier", Decimal("1000.000"))
    ]


@pytest.mark.parametrize(
    ("mode_leg", "field"),
    [
        (LegData("rail.freight", Decimal(60_000), Decimal(100)), "mass_t"),
        (LegData("rail.freight", Decimal(100), Decimal(16_000)), "distance_km"),
        (LegData("air.long_haul", Decimal(200), Decimal(100)), "mass_t"),
        (LegData("air.long_haul", Decimal(1), Decimal(21_000)), "distance_km"),
        (LegData("sea.bulk.average", Decimal(600_000), Decimal(100)), "mass_t"),
        (LegData("road.van.diesel", Decimal(1), Decimal(13_000)), "distance_km"),
        (
            LegData("rail.freight", Decimal(1000), Decimal(1000), fuel_type="diesel",
                    fuel_amount=Decimal(1000)),
            "fuel_amount",
        ),
        (
            LegData("sea.container.average", Decimal(1000), Decimal(10_000), fuel_type="hfo",
                    fuel_amount=Decimal(1000)),
            "fuel_amount",
        ),
    ],
)  # fmt: skip
def test_each_mode_has_its_limits(mode_leg, field):
    assert [name for name, _ in validate_leg(mode_leg)] == [field]


def test_real_legs_pass():
    # the demo's lanes and a full truck, a heavy-haul train and a full 747-8F
    for leg in (
        LegData("sea.container.average", Decimal("2.4"), Decimal(19_800)),
        LegData("road.hgv.average_laden", Decimal(26), Decimal(1_200), "", "", "primary", False,
                "diesel", Decimal(600)),
        LegData("rail.freight", Decimal(30_000), Decimal(400), "", "", "primary", False, "diesel",
                Decimal(36_000)),
        LegData("air.long_haul", Decimal(130), Decimal(9_000), "", "", "primary", False, "jet",
                Decimal(180_000)),
    ):  # fmt: skip
        assert validate_leg(leg) == []
