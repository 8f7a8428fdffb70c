"""Carbon API: estimate, factors, order upsert by external id, order list/detail/footprint —
authentication (401), scopes and roles (403), tenancy (404), and field-named errors (422)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint.calculation import calculate_order
from carbon.models import CalculationSnapshot, Order
from portal import actions
from portal.models import Role
from tests.carbon.factories import (
    ProductFactory,
    grid_dataset,
    order_with_legs,
    published_dataset,
)
from tests.factories import MembershipFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

ESTIMATE = "/api/v1/carbon/estimate"
FACTORS = "/api/v1/carbon/factors"
ORDERS = "/api/v1/orders"
VAN_LEG = {"category": "road.van.diesel", "mass": "1 t", "distance": "1 km"}


def _upsert_url(external_id, slug="acme"):
    return f"/api/v1/organisations/{slug}/orders/{external_id}"


@pytest.fixture
def datasets(db):
    return published_dataset(), grid_dataset()


def _token(org, scopes=("carbon:read", "carbon:write")):
    _, plaintext = actions.issue_api_token(org, "ERP", list(scopes), by=None)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def token_a(org_a):
    return _token(org_a)


def _error(response, status, code, field):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert (body["code"], body["field"]) == (code, field)
    return body["message"]


# --- POST /carbon/estimate


def test_estimate_a_van_leg(client, datasets, token_a):
    # given 1.2 t by diesel van over 85 km
    body = {
        "legs": [{"category": "road.van.diesel", "mass": "1,200 kg", "distance": "85 km"}],
        "electricity": "12 MWh",
        "region": "CN",
        "green_ratio": "0.6",
    }
    # when estimated with the default dataset
    response = client.post(ESTIMATE, body, content_type="application/json", headers=token_a)
    # then per-leg and total figures come back as decimal strings with the factors used
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["dataset"] == "test-freight@1"
    assert result["legs"][0] | {"factors": None, "distance": None} == {
        "index": 0,
        "shipment": "",
        "sequence": 1,
        "category": "road.van.diesel",
        "mode": "road",
        "method": "distance",
        "tkm": "102.000000",
        "ttw_kg": "51.000000",
        "wtt_kg": "12.750000",
        "hub_wtw_kg": "0.000000",
        "wtw_kg": "63.750000",
        "radiative_forcing_kg": None,
        "factors": None,
        "distance": None,
    }
    # no origin or destination: no known locations, the declared distance stands for points
    distance = result["legs"][0]["distance"]
    assert (distance["basis"], distance["reference_km"], distance["unknown"]) == (
        "declared",
        None,
        ["origin", "destination"],
    )
    assert result["totals"]["wtw_kg"] == "63.750000"
    assert result["scope2"]["location_kg"] == "6439.200000"
    assert result["scope2"]["market_kg"] == "2810.880000"
    assert [(f["category"], f["energy_scope"], f["value"]) for f in result["factors"]] == [
        ("road.van.diesel", "TTW", "0.5"),
        ("road.van.diesel", "WTT", "0.125"),
        ("electricity.CN.location", "TTW", "0.5366"),
        ("electricity.CN.residual", "TTW", "0.5856"),
    ]
    assert result["factors"][0]["source_label"] == "Test row road.van.diesel TTW"
    assert [d["label"] for d in result["datasets"]] == ["test-freight@1", "grid-electricity@1"]


def test_estimate_with_radiative_forcing_and_fuel_data(client, datasets, token_a):
    body = {
        "dataset": "test-freight@1",
        "legs": [
            {
                "category": "air.long_haul",
                "mass": "500 kg",
                # flown distance: the factor's 8% uplift comes off (1,080 / 1.08 = 1,000 km)
                "distance": "1080 km",
                "radiative_forcing": True,
            },
            {
                "category": "road.hgv.average_laden",
                "mass": "2 t",
                "distance": "100 km",
                "fuel_type": "diesel",
                "fuel_used": "10 l",
                "data_tier": "primary",
            },
        ],
    }
    result = client.post(ESTIMATE, body, content_type="application/json", headers=token_a).json()
    air, truck = result["legs"]
    assert (air["wtw_kg"], air["radiative_forcing_kg"]) == ("370.000000", "210.000000")
    assert (truck["method"], truck["ttw_kg"], truck["wtt_kg"]) == ("fuel", "25.000000", "6.000000")
    assert result["totals"]["wtw_kg"] == "401.000000"
    assert result["totals"]["wtw_incl_radiative_forcing_kg"] == "611.000000"
    assert result["scope2"] is None


@pytest.mark.parametrize(
    ("leg", "code", "field", "message"),
    [
        ({"mass": "1.2 km"}, "invalid_quantity", "legs[0].mass", "is not a mass"),
        ({"mass": "-3 t"}, "invalid_quantity", "legs[0].mass", "cannot be negative"),
        ({"distance": "85 leagues-ish"}, "invalid_quantity", "legs[0].distance", "unknown unit"),
        ({"distance": "85"}, "invalid_quantity", "legs[0].distance", "has no unit"),
        ({"category": "road.rocket"}, "unknown_category", "legs[0].category", "road.rocket"),
        ({"category": "sea.bulk.average"}, "missing_factor", "legs[0].category", "no TTW factor"),
        ({"radiative_forcing": True}, "calculation_error", "legs[0].radiative_forcing", "air"),
        (
            {"fuel_type": "diesel", "fuel_used": "3 kWh"},
            "invalid_quantity",
            "legs[0].fuel_used",
            "is not a volume",
        ),
    ],
)
def test_estimate_errors_name_the_field(client, datasets, token_a, leg, code, field, message):
    body = {"legs": [{"category": "road.van.diesel", "mass": "1 t", "distance": "1 km", **leg}]}
    response = client.post(ESTIMATE, body, content_type="application/json", headers=token_a)
    assert message in _error(response, 422, code, field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"green_ratio": False}, "payload.green_ratio"),
        ({"legs": [{**VAN_LEG, "radiative_forcing": 0}]}, "payload.legs.0.radiative_forcing"),
    ],
)
def test_estimate_refuses_values_of_the_wrong_type(client, datasets, token_a, change, field):
    # when a boolean stands where a ratio belongs, or a number where a boolean belongs
    body = {"legs": [VAN_LEG], "electricity": "1 MWh", "region": "CN", **change}
    response = client.post(ESTIMATE, body, content_type="application/json", headers=token_a)
    # then it is refused as the schema says, rather than read as 0 or false (a union's error
    # names the field and then the member it tried, e.g. `payload.green_ratio.str`)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["field"].startswith(field)


def test_order_filters_refuse_a_number_as_a_date(client, datasets, token_a):
    response = client.get(ORDERS, {"to": "0"}, headers=token_a)
    _error(response, 422, "validation_error", "to")


def test_estimate_refuses_an_unknown_dataset_and_a_bad_region(client, datasets, token_a):
    leg = {"category": "road.van.diesel", "mass": "1 t", "distance": "1 km"}
    response = client.post(
        ESTIMATE,
        {"dataset": "nope", "legs": [leg]},
        content_type="application/json",
        headers=token_a,
    )
    _error(response, 422, "unknown_dataset", "dataset")
    response = client.post(
        ESTIMATE,
        {"legs": [leg], "electricity": "1 MWh", "region": "XX"},
        content_type="application/json",
        headers=token_a,
    )
    _error(response, 422, "missing_factor", "region")
    response = client.post(
        ESTIMATE,
        {"legs": [leg], "electricity": "1 MWh"},
        content_type="application/json",
        headers=token_a,
    )
    _error(response, 422, "calculation_error", "region")
    response = client.post(ESTIMATE, {"legs": []}, content_type="application/json", headers=token_a)
    _error(response, 422, "validation_error", "payload.legs")


def test_estimate_needs_credentials_and_the_read_scope(client, org_a, datasets):
    leg = {"category": "road.van.diesel", "mass": "1 t", "distance": "1 km"}
    response = client.post(ESTIMATE, {"legs": [leg]}, content_type="application/json")
    _error(response, 401, "not_authenticated", None)
    response = client.post(
        ESTIMATE,
        {"legs": [leg]},
        content_type="application/json",
        headers=_token(org_a, ["account:read"]),
    )
    _error(response, 403, "insufficient_scope", None)


def test_session_user_may_estimate(client, datasets, viewer_a):
    client.force_login(viewer_a)
    leg = {"category": "road.van.diesel", "mass": "1 t", "distance": "1 km"}
    response = client.post(ESTIMATE, {"legs": [leg]}, content_type="application/json")
    assert response.json()["totals"]["wtw_kg"] == "0.625000"


# --- GET /carbon/factors


def test_factors_filter_and_paginate(client, datasets, token_a):
    response = client.get(FACTORS, {"category": "air.", "page_size": 2}, headers=token_a)
    page = response.json()
    assert page["count"] == 3
    assert len(page["items"]) == 2
    second = client.get(FACTORS, {"category": "air.", "page_size": 2, "page": 2}, headers=token_a)
    assert len(second.json()["items"]) == 1
    wtt = client.get(
        FACTORS,
        {"dataset": "test-freight", "energy_scope": "WTT", "kind": "freight"},
        headers=token_a,
    ).json()
    assert wtt["count"] == 5
    assert {f["energy_scope"] for f in wtt["items"]} == {"WTT"}
    grid = client.get(FACTORS, {"kind": "electricity"}, headers=token_a).json()
    assert [f["category"] for f in grid["items"]] == [
        "electricity.CN.location",
        "electricity.CN.residual",
        "electricity.DE.location",
    ]


def test_factors_hide_drafts_and_check_the_page_size(client, token_a, datasets):
    published_dataset("draft-set", status="draft", is_default=False)
    all_items = client.get(FACTORS, {"page_size": 200}, headers=token_a).json()
    assert "draft-set@1" not in {f["dataset"] for f in all_items["items"]}
    response = client.get(FACTORS, {"page_size": 1000}, headers=token_a)
    _error(response, 422, "validation_error", "page_size")


# --- PUT /organisations/{slug}/orders/{external_id}


@pytest.fixture
def catalogue(org_a):
    SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN")
    ProductFactory(sku="INV-50K", electricity_kwh_per_unit=Decimal("4000"))


def _put(client, external_id, body, headers):
    return client.put(
        _upsert_url(external_id), body, content_type="application/json", headers=headers
    )


def _order_body(**changes):
    body = {
        "order_date": "2025-03-14",
        "delivery_date": "2025-04-20",
        "status": "shipped",
        "site": "Suzhou plant",
        "lines": [{"sku": "INV-50K", "quantity": "3"}],
        "shipments": [
            {
                "reference": "SHP-1",
                "legs": [
                    {
                        "category": "road.hgv.average_laden",
                        "mass": "2 t",
                        "distance": "100 km",
                        "origin": "Shenzhen",
                        "destination": "Yantian",
                    },
                    {
                        "category": "air.long_haul",
                        "mass": "500 kg",
                        # flown: the factor's 8% uplift comes off (1,080 / 1.08 = 1,000 km)
                        "distance": "1,080 km",
                        "radiative_forcing": True,
                    },
                ],
            }
        ],
    }
    body.update(changes)
    return body


def test_upsert_creates_then_is_idempotent_then_replaces(client, datasets, catalogue, token_a):
    # when an ERP puts a new order
    response = client.put(
        _upsert_url("PO-1"), _order_body(), content_type="application/json", headers=token_a
    )
    # then it is created with its footprint
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["created"] is True
    assert created["footprint"]["wtw_kg"] == "395.000000"  # 200 x 0.125 + 500 x 0.74
    assert created["footprint"]["scope2_location_kg"] == "6439.200000"
    assert created["shipments"][0]["legs"][1]["mass_t"] == "0.500000"
    order = Order.objects.get(external_id="PO-1")
    # when the same body comes again / then nothing changes
    again = client.put(
        _upsert_url("PO-1"), _order_body(), content_type="application/json", headers=token_a
    )
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert CalculationSnapshot.objects.filter(order=order).count() == 1
    # when a leg changes / then a new snapshot supersedes the old one
    body = _order_body()
    body["shipments"][0]["legs"][0]["distance"] = "200 km"
    changed = client.put(
        _upsert_url("PO-1"), body, content_type="application/json", headers=token_a
    )
    assert changed.status_code == 200
    assert changed.json()["footprint"]["wtw_kg"] == "420.000000"
    assert CalculationSnapshot.objects.filter(order=order).count() == 2
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"legs": [{"category": "road.van.diesel", "mass": "2 km", "distance": "1 km"}]},
            "shipments[0].legs[0].mass",
        ),
        (
            {"legs": [{"category": "road.nope", "mass": "2 t", "distance": "1 km"}]},
            "shipments[0].legs[0].category",
        ),
        (
            {"legs": [{"category": "sea.bulk.average", "mass": "2 t", "distance": "1 km"}]},
            "shipments[0].legs[0].category",
        ),
    ],
)
def test_upsert_errors_name_the_field_and_store_nothing(
    client, datasets, catalogue, token_a, change, field
):
    body = _order_body(shipments=[{"reference": "S", **change}])
    response = client.put(
        _upsert_url("PO-1"), body, content_type="application/json", headers=token_a
    )
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # 2025-03-14 and 2025-04-20 at midnight UTC as Unix timestamps
        ({"order_date": 1741910400}, "payload.order_date"),
        ({"delivery_date": "1745107200"}, "payload.delivery_date"),
    ],
)
def test_upsert_dates_are_iso_dates(client, datasets, catalogue, token_a, change, field):
    # when an order date is a number (which pydantic alone reads as a Unix timestamp)
    response = _put(client, "PO-1", _order_body(**change), token_a)
    # then it is refused as the schema says (YYYY-MM-DD), and nothing is stored
    _error(response, 422, "validation_error", field)
    assert not Order.objects.exists()


def test_upsert_refuses_a_number_as_radiative_forcing(client, datasets, catalogue, token_a):
    body = _order_body()
    body["shipments"][0]["legs"][0]["radiative_forcing"] = 1
    response = _put(client, "PO-1", body, token_a)
    _error(response, 422, "validation_error", "payload.shipments.0.legs.0.radiative_forcing")
    assert not Order.objects.exists()


def test_upsert_refuses_unknown_sku_and_site(client, datasets, catalogue, token_a):
    body = _order_body(lines=[{"sku": "NOPE", "quantity": "1"}], site="Atlantis")
    response = client.put(
        _upsert_url("PO-1"), body, content_type="application/json", headers=token_a
    )
    assert response.json()["field"] in {"lines[0].sku", "site"}
    assert response.status_code == 422
    response = client.put(_upsert_url("PO-1"), content_type="application/json", headers=token_a)
    _error(response, 422, "validation_error", "body")
    assert not Order.objects.exists()


def test_upsert_for_another_organisation_is_404(client, datasets, catalogue, token_a, org_b):
    response = client.put(
        _upsert_url("PO-1", slug="globex"),
        _order_body(),
        content_type="application/json",
        headers=token_a,
    )
    _error(response, 404, "not_found", None)
    assert not Order.objects.exists()


def test_upsert_needs_the_write_scope(client, datasets, catalogue, org_a):
    response = client.put(
        _upsert_url("PO-1"),
        _order_body(),
        content_type="application/json",
        headers=_token(org_a, ["carbon:read"]),
    )
    assert "carbon:write" in _error(response, 403, "insufficient_scope", None)


def test_upsert_by_session_needs_the_member_role(client, datasets, catalogue, viewer_a, member_a):
    client.force_login(viewer_a)
    response = client.put(_upsert_url("PO-1"), _order_body(), content_type="application/json")
    _error(response, 403, "permission_denied", None)
    assert not Order.objects.exists()
    client.force_login(member_a)
    response = client.put(_upsert_url("PO-1"), _order_body(), content_type="application/json")
    assert response.status_code == 201


def test_get_order_by_external_id(client, datasets, catalogue, token_a, org_b):
    client.put(_upsert_url("PO-1"), _order_body(), content_type="application/json", headers=token_a)
    response = client.get(_upsert_url("PO-1"), headers=token_a)
    assert response.json()["external_id"] == "PO-1"
    _error(client.get(_upsert_url("PO-2"), headers=token_a), 404, "not_found", None)
    _error(client.get(_upsert_url("PO-1", "globex"), headers=token_a), 404, "not_found", None)


# --- GET /orders, /orders/{id}, /orders/{id}/footprint


def _calculated(org, legs, **fields):
    order = order_with_legs(org, legs, **fields)
    calculate_order(order)
    return order


def _legs(category="road.van.diesel", mass="1", distance="100"):
    return [{"category": category, "mass_t": Decimal(mass), "distance_km": Decimal(distance)}]


def test_orders_list_with_footprints_scoped_to_the_caller(client, datasets, org_a, org_b, token_a):
    import datetime as dt

    site = SiteFactory(organisation=org_a, name="Suzhou plant")
    van = _calculated(org_a, _legs(), order_date=dt.date(2025, 1, 10))
    rail = _calculated(
        org_a,
        _legs("rail.freight", "10", "1000"),
        order_date=dt.date(2025, 2, 10),
        delivery_site=site,
    )
    pending = order_with_legs(org_a, _legs("air.long_haul"), order_date=dt.date(2025, 3, 10))
    _calculated(org_b, _legs())
    page = client.get(ORDERS, headers=token_a).json()
    assert page["count"] == 3
    assert [o["id"] for o in page["items"]] == [pending.pk, rail.pk, van.pk]
    assert page["items"][2]["footprint"]["wtw_kg"] == "62.500000"
    assert page["items"][0]["footprint"] is None
    assert page["items"][1]["modes"] == ["rail"]

    def ids(**params):
        return [o["id"] for o in client.get(ORDERS, params, headers=token_a).json()["items"]]

    assert ids(**{"from": "2025-02-01", "to": "2025-02-28"}) == [rail.pk]
    assert ids(mode="road") == [van.pk]
    assert ids(site="Suzhou plant") == [rail.pk]
    assert ids(sort="-wtw_kg") == [rail.pk, van.pk, pending.pk]  # 370 > 62.5 > not calculated
    assert ids(sort="wtw_kg") == [van.pk, rail.pk, pending.pk]
    assert ids(page_size=1, page=2) == [rail.pk]
    response = client.get(ORDERS, {"sort": "price"}, headers=token_a)
    _error(response, 422, "validation_error", "sort")


def test_orders_list_query_count_is_bounded(
    client, datasets, org_a, token_a, django_assert_max_num_queries
):
    for _ in range(3):
        _calculated(org_a, _legs() * 2)
    # (9 includes setting and restoring the request's row-level scope, portal/tenancy.py)
    with django_assert_max_num_queries(9):
        assert client.get(ORDERS, headers=token_a).json()["count"] == 3
    for _ in range(12):
        _calculated(org_a, _legs() * 3)
    with django_assert_max_num_queries(9):
        assert client.get(ORDERS, headers=token_a).json()["count"] == 15


def test_session_orders_list_is_bounded_too(
    client, datasets, org_a, member_a, django_assert_max_num_queries
):
    for _ in range(10):
        _calculated(org_a, _legs())
    client.force_login(member_a)
    with django_assert_max_num_queries(10):
        assert client.get(ORDERS).json()["count"] == 10


def test_order_detail_and_footprint(client, datasets, org_a, token_a):
    order = _calculated(org_a, _legs() + _legs("air.long_haul", "0.5", "1080"))
    # (1,080 km flown: the DESNZ factor's 8% uplift comes off, as for 1,000 km with it)
    detail = client.get(f"{ORDERS}/{order.pk}", headers=token_a).json()
    assert detail["external_id"] == order.external_id
    assert detail["footprint"]["wtw_kg"] == "432.500000"  # 62.5 + 370
    assert [leg["category"] for leg in detail["shipments"][0]["legs"]] == [
        "road.van.diesel",
        "air.long_haul",
    ]
    footprint = client.get(f"{ORDERS}/{order.pk}/footprint", headers=token_a).json()
    assert footprint["is_current"] is True
    assert footprint["method_version"] == "greenloop-iso14083-aligned-2026.2"
    assert [d["label"] for d in footprint["datasets"]] == ["test-freight@1"]
    assert footprint["datasets"][0]["source_url"] == "https://example.org/factors"
    assert [leg["wtw_kg"] for leg in footprint["legs"]] == ["62.500000", "370.000000"]
    assert footprint["totals"]["wtw_kg"] == "432.500000"
    used = {f["id"]: f for f in footprint["factors"]}
    assert used[footprint["legs"][0]["factors"]["ttw"]]["source_label"] == (
        "Test row road.van.diesel TTW"
    )
    assert footprint["inputs"]["legs"][1]["distance_km"] == "1080"


def test_footprint_of_an_uncalculated_order_is_404(client, datasets, org_a, token_a):
    order = order_with_legs(org_a, _legs())
    response = client.get(f"{ORDERS}/{order.pk}/footprint", headers=token_a)
    _error(response, 404, "not_calculated", None)


def test_another_organisations_order_is_404(client, datasets, org_a, org_b, token_a, member_a):
    theirs = _calculated(org_b, _legs())
    for url in (f"{ORDERS}/{theirs.pk}", f"{ORDERS}/{theirs.pk}/footprint"):
        _error(client.get(url, headers=token_a), 404, "not_found", None)
    client.force_login(member_a)
    for url in (f"{ORDERS}/{theirs.pk}", f"{ORDERS}/{theirs.pk}/footprint"):
        _error(client.get(url), 404, "not_found", None)
    assert client.get(ORDERS).json()["count"] == 0


def test_order_reads_need_the_read_scope(client, datasets, org_a):
    order = _calculated(org_a, _legs())
    headers = _token(org_a, ["carbon:write"])
    for url in (ORDERS, f"{ORDERS}/{order.pk}", f"{ORDERS}/{order.pk}/footprint", FACTORS):
        _error(client.get(url, headers=headers), 403, "insufficient_scope", None)
    for url in (ORDERS, f"{ORDERS}/{order.pk}", f"{ORDERS}/{order.pk}/footprint", FACTORS):
        _error(client.get(url), 401, "not_authenticated", None)


def test_vendor_staff_read_every_organisations_orders(client, datasets, org_b, staff_success):
    order = _calculated(org_b, _legs())
    client.force_login(staff_success)
    assert client.get(f"{ORDERS}/{order.pk}").status_code == 200


def test_a_member_of_two_organisations_sees_both(client, datasets, org_a, org_b):
    user = UserFactory(email="both@example.com")
    MembershipFactory(user=user, organisation=org_a, role=Role.VIEWER)
    MembershipFactory(user=user, organisation=org_b, role=Role.VIEWER)
    _calculated(org_a, _legs())
    _calculated(org_b, _legs())
    client.force_login(user)
    assert client.get(ORDERS).json()["count"] == 2
    assert client.get(ORDERS, {"organisation": "globex"}).json()["count"] == 1


def test_openapi_documents_the_carbon_endpoints(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {
        "/api/v1/carbon/estimate",
        "/api/v1/carbon/factors",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/footprint",
        "/api/v1/organisations/{slug}/orders/{external_id}",
    } <= set(paths)
    estimate = paths["/api/v1/carbon/estimate"]["post"]
    assert estimate["summary"] == "Estimate a shipment's footprint without storing it"
    assert "422" in estimate["responses"]
    body_ref = estimate["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    example = schema["components"]["schemas"][body_ref.rsplit("/", 1)[1]]["examples"][0]
    assert example["legs"][2] == {
        "category": "road.van.diesel",
        "mass": "1.2 t",
        "distance": "85 km",
    }
    assert (
        paths["/api/v1/organisations/{slug}/orders/{external_id}"]["put"]["requestBody"]["required"]
        is True
    )
