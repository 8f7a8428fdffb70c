"""Inbound from the CRM (portal/crm/inbound.py): idempotent upserts by external id through the
API (integration tokens, scope crm:write) and the signed webhook carrying the same upserts."""

from __future__ import annotations

import json

import pytest

from carbon.models import Order, Product
from portal import actions
from portal.models import (
    AuditEvent,
    Organisation,
    OutboxEvent,
)
from tests.api_client import api_error, token_headers
from tests.carbon.factories import ProductFactory, grid_dataset, published_dataset
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "name": "Nordwind Energie GmbH",
    "country": "DE",
    "tier": "gold",
    "region": "EMEA",
    "owner": "Mei Chen",
    "contract_value": "125000.50",
    "contract_currency": "EUR",
}


@pytest.fixture
def crm():
    """The headers of the vendor's integration token (no organisation, scope crm:write)."""
    _, plaintext = actions.issue_api_token(None, "CRM", ["crm:write"], by=None)
    return {"Authorization": f"Bearer {plaintext}"}


def _put(client, path, body, headers):
    return client.put(
        f"/api/v1/crm/{path}", json.dumps(body), content_type="application/json", headers=headers
    )


# --- organisations


def test_an_account_is_created_then_unchanged_then_updated(client, crm):
    # when the CRM pushes a new account
    response = _put(client, "organisations/ACC-1", ACCOUNT, crm)
    # then it is an organisation, 201
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert body["slug"] == "nordwind-energie-gmbh"
    organisation = Organisation.objects.get(crm_external_id="ACC-1")
    assert (organisation.name, organisation.tier, organisation.region) == (
        "Nordwind Energie GmbH",
        "gold",
        "EMEA",
    )
    assert (organisation.account_owner, str(organisation.contract_value)) == (
        "Mei Chen",
        "125000.50",
    )
    audits = AuditEvent.objects.filter(action__startswith="crm.organisation").count()
    # when the same body comes again / then 200, nothing new
    again = _put(client, "organisations/ACC-1", ACCOUNT, crm)
    assert again.status_code == 200
    assert again.json() == {**body, "created": False}
    assert Organisation.objects.filter(crm_external_id="ACC-1").count() == 1
    assert AuditEvent.objects.filter(action__startswith="crm.organisation").count() == audits
    # when the tier changes / then the organisation follows, audited with what changed
    changed = _put(client, "organisations/ACC-1", {**ACCOUNT, "tier": "strategic"}, crm)
    assert changed.status_code == 200
    assert changed.json()["tier"] == "strategic"
    update = AuditEvent.objects.get(action="crm.organisation_updated")
    assert update.details == {"external_id": "ACC-1", "tier": "strategic"}
    assert Organisation.objects.get(crm_external_id="ACC-1").slug == "nordwind-energie-gmbh"


def test_a_second_account_of_the_same_name_gets_its_own_slug(client, crm):
    _put(client, "organisations/ACC-1", ACCOUNT, crm)
    response = _put(client, "organisations/ACC-2", ACCOUNT, crm)
    assert response.status_code == 201
    assert response.json()["slug"] == "nordwind-energie-gmbh-2"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "payload.name"),
        ({"country": "Germany"}, "payload.country"),
        ({"tier": "platinum"}, "payload.tier"),
        ({"contract_value": "-1"}, "payload.contract_value"),
        ({"contract_value": "abc"}, "payload.contract_value"),
        ({"contract_currency": "euro"}, "payload.contract_currency"),
        ({"contract_currency": None}, "payload.contract_currency"),
        ({"region": "x" * 51}, "payload.region"),
        ({"owner": "a\x00b"}, "payload.owner"),
    ],
)
def test_bad_account_fields_are_422_naming_the_field(client, crm, change, field):
    response = _put(client, "organisations/ACC-1", {**ACCOUNT, **change}, crm)
    api_error(response, 422, "validation_error", field)
    assert not Organisation.objects.filter(crm_external_id="ACC-1").exists()


def test_a_missing_body_or_an_overlong_key_is_422(client, crm):
    response = client.put("/api/v1/crm/organisations/ACC-1", headers=crm)
    assert response.status_code == 422
    response = _put(client, "organisations/" + "x" * 101, ACCOUNT, crm)
    api_error(response, 422, "validation_error", "external_id")


def test_a_customer_token_is_refused(client, org_a):
    # given a customer's token with every scope a customer can have
    from portal.api_scopes import SCOPES

    headers = token_headers(org_a, list(SCOPES))
    # when it pushes an account / then 403 in the API's error format, nothing written
    response = _put(client, "organisations/ACC-1", ACCOUNT, headers)
    api_error(response, 403, "insufficient_scope")
    assert not Organisation.objects.filter(crm_external_id="ACC-1").exists()


def test_a_customer_token_cannot_be_given_the_crm_scope(org_a):
    from portal.exceptions import TokenError

    with pytest.raises(TokenError):
        actions.issue_api_token(org_a, "sneaky", ["crm:write"], by=None)


def test_a_person_is_refused_even_staff(client, admin_a, staff_success):
    for person in (admin_a, staff_success):
        client.force_login(person)
        response = _put(client, "organisations/ACC-1", ACCOUNT, {})
        api_error(response, 403, "integration_only")


def test_an_integration_token_without_the_scope_is_refused(client, monkeypatch):
    from portal.api_scopes import INTEGRATION_SCOPES

    monkeypatch.setitem(INTEGRATION_SCOPES, "crm:read", "test only")
    _, plaintext = actions.issue_api_token(None, "CRM reader", ["crm:read"], by=None)
    response = _put(
        client, "organisations/ACC-1", ACCOUNT, {"Authorization": f"Bearer {plaintext}"}
    )
    api_error(response, 403, "insufficient_scope")


def test_an_integration_token_reaches_no_customer_data(client, crm, org_a):
    me = client.get("/api/v1/me", headers=crm)
    assert me.status_code == 200
    assert me.json()["organisations"] == []
    response = client.get(f"/api/v1/organisations/{org_a.slug}", headers=crm)
    assert response.status_code in {403, 404}


# --- products


def test_a_product_is_created_then_unchanged_then_updated(client, crm):
    body = {"name": "Inverter 50 kW", "electricity_kwh_per_unit": "4000"}
    response = _put(client, "products/INV-50K", body, crm)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "sku": "INV-50K",
        "name": "Inverter 50 kW",
        "electricity_kwh_per_unit": "4000.0000",
        "created": True,
    }
    again = _put(client, "products/INV-50K", body, crm)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert AuditEvent.objects.filter(action="crm.product_created").count() == 1
    assert not AuditEvent.objects.filter(action="crm.product_updated").exists()
    changed = _put(client, "products/INV-50K", {**body, "electricity_kwh_per_unit": "3500"}, crm)
    assert changed.status_code == 200
    assert Product.objects.get(sku="INV-50K").electricity_kwh_per_unit == 3500
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "payload.name"),
        ({"name": "x", "electricity_kwh_per_unit": "-1"}, "payload.electricity_kwh_per_unit"),
        ({"name": "x", "electricity_kwh_per_unit": "1e30"}, "payload.electricity_kwh_per_unit"),
    ],
)
def test_bad_product_fields_are_422_naming_the_field(client, crm, body, field):
    api_error(_put(client, "products/P-1", body, crm), 422, "validation_error", field)
    assert not Product.objects.exists()


def test_a_customer_token_cannot_push_products(client, org_a):
    headers = token_headers(org_a, ["carbon:read", "carbon:write"])
    api_error(_put(client, "products/P-1", {"name": "x"}, headers), 403, "insufficient_scope")


# --- orders

ORDER = {
    "order_date": "2025-03-14",
    "delivery_date": "2025-04-20",
    "status": "shipped",
    "lines": [{"sku": "INV-50K", "quantity": "3"}],
    "shipments": [
        {
            "reference": "SHP-1",
            "legs": [
                {"category": "road.hgv.average_laden", "mass": "2 t", "distance": "100 km"},
                {"category": "sea.container.average", "mass": "2 t", "distance": "19,500 km"},
            ],
        }
    ],
}


@pytest.fixture
def account(db):
    published_dataset()
    grid_dataset()
    ProductFactory(sku="INV-50K")
    return OrganisationFactory(slug="nordwind", crm_external_id="ACC-1")


def test_an_order_is_created_then_unchanged_then_replaced(
    client, crm, account, django_assert_max_num_queries
):
    # when the CRM pushes an order of the account (bounded queries, whatever the legs)
    with django_assert_max_num_queries(60):
        response = _put(client, "organisations/ACC-1/orders/PO-1", ORDER, crm)
    # then it is stored through carbon's write path, with its footprint and event
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert body["organisation"] == "nordwind"
    order = Order.objects.get(organisation=account, external_id="PO-1")
    assert order.shipments.get().legs.count() == 2
    assert order.snapshots.filter(is_current=True).exists()
    upserted = OutboxEvent.objects.filter(type="greenloop.carbon.order_upserted")
    assert upserted.count() == 1
    # when the same body comes again / then nothing changes: no event, no audit
    again = _put(client, "organisations/ACC-1/orders/PO-1", ORDER, crm)
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert upserted.count() == 1
    assert AuditEvent.objects.filter(action__startswith="crm.order_").count() == 1
    # when a leg changes / then the order is replaced and announced again
    changed = json.loads(json.dumps(ORDER))
    changed["shipments"][0]["legs"][0]["distance"] = "200 km"
    response = _put(client, "organisations/ACC-1/orders/PO-1", changed, crm)
    assert (response.status_code, response.json()["changed"]) == (200, True)
    assert upserted.count() == 2
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "leg",
    [
        {"category": "road.van.diesel", "mass": "2 km", "distance": "1 km"},
        {"category": "road.nope", "mass": "2 t", "distance": "1 km"},
        {"category": "sea.bulk.average", "mass": "2 t", "distance": "1 km"},
    ],
)
def test_a_bad_leg_is_refused_as_the_customer_api_refuses_it(client, crm, account, leg):
    # given the same order with a bad leg, through the customer API and through the CRM's
    body = {**ORDER, "shipments": [{"reference": "S", "legs": [leg]}]}
    customer = client.put(
        f"/api/v1/organisations/{account.slug}/orders/PO-1",
        json.dumps(body),
        content_type="application/json",
        headers=token_headers(account, ["carbon:write"]),
    )
    response = _put(client, "organisations/ACC-1/orders/PO-1", body, crm)
    # then both refuse it with the same code, field and message, and store nothing
    assert customer.status_code == 422
    assert response.status_code == 422
    assert response.json() == customer.json()
    assert not Order.objects.exists()


def test_an_order_of_an_unknown_account_is_422(client, crm, account):
    response = _put(client, "organisations/ACC-404/orders/PO-1", ORDER, crm)
    api_error(response, 422, "unknown_organisation", "organisation_external_id")


def test_bad_order_fields_are_422_naming_the_field(client, crm, account):
    body = {**ORDER, "order_date": 1741910400}
    response = _put(client, "organisations/ACC-1/orders/PO-1", body, crm)
    api_error(response, 422, "validation_error", "payload.order_date")
    body = {**ORDER, "lines": [{"sku": "NOPE", "quantity": "1"}]}
    response = _put(client, "organisations/ACC-1/orders/PO-1", body, crm)
    assert response.status_code == 422
    assert response.json()["field"] == "lines[0].sku"
