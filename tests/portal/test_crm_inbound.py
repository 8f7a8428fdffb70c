"""Inbound from the CRM (portal/crm/inbound.py): idempotent upserts by external id through the
API (integration tokens, scope crm:write) and the signed webhook carrying the same upserts."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from carbon.models import Order, Product
from portal import actions, privacy
from portal.crm.inbound import purge_inbound_webhook_ids
from portal.models import (
    AuditEvent,
    CrmContact,
    InboundWebhook,
    Invitation,
    Organisation,
    OutboxEvent,
    User,
)
from tests.api_client import api_error, token_headers
from tests.carbon.factories import ProductFactory, grid_dataset, published_dataset
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

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


# Queries of one order upsert through the CRM (authentication, lookups, the write path's bulk
# inserts, the footprint, the event and the audit record), independent of its size.
QUERY_BOUND = 45


def test_a_big_order_costs_no_more_queries(client, crm, account, django_assert_max_num_queries):
    legs = [{"category": "road.hgv.average_laden", "mass": "2 t", "distance": "10 km"}] * 10
    body = {**ORDER, "shipments": [{"reference": f"S{n}", "legs": legs} for n in range(10)]}
    with django_assert_max_num_queries(QUERY_BOUND):
        response = _put(client, "organisations/ACC-1/orders/PO-BIG", body, crm)
    assert response.status_code == 201, response.content


def test_an_order_is_created_then_unchanged_then_replaced(
    client, crm, account, django_assert_max_num_queries
):
    # when the CRM pushes an order of the account (bounded queries, whatever the legs: a big
    # order below costs no more)
    with django_assert_max_num_queries(QUERY_BOUND):
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


# --- contacts


def test_a_contact_becomes_one_invitation_never_an_account(
    client, crm, account, mailoutbox, django_capture_on_commit_callbacks
):
    body = {"organisation_external_id": "ACC-1", "email": "Li.Wei@Nordwind.example"}
    users = User.objects.count()
    # when the CRM pushes a contact
    with django_capture_on_commit_callbacks(execute=True):
        response = _put(client, "contacts/C-1", body, crm)
    # then the address is invited (one e-mail, one event), and nobody got an account
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["invitation_status"] == "pending"
    assert created["email"] == "li.wei@nordwind.example"
    invitation = Invitation.objects.get(organisation=account)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "li.wei@nordwind.example",
        "member",
        None,
    )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].body.startswith("You are invited to join Customer")
    assert User.objects.count() == users
    invited = OutboxEvent.objects.filter(type="greenloop.account.member_invited")
    assert invited.count() == 1
    # when the same contact comes again / then no second invitation is sent
    with django_capture_on_commit_callbacks(execute=True):
        again = _put(client, "contacts/C-1", body, crm)
    assert again.status_code == 200
    assert again.json() == {**created, "created": False}
    assert Invitation.objects.count() == 1
    assert len(mailoutbox) == 1
    assert invited.count() == 1
    assert CrmContact.objects.get().invitation == invitation


def test_a_contact_whose_address_changes_is_invited_anew(client, crm, account):
    body = {"organisation_external_id": "ACC-1", "email": "old@nordwind.example"}
    _put(client, "contacts/C-1", body, crm)
    response = _put(client, "contacts/C-1", {**body, "email": "new@nordwind.example"}, crm)
    assert response.status_code == 200
    old, new = Invitation.objects.order_by("pk")
    assert (old.status, new.status, new.email) == ("revoked", "pending", "new@nordwind.example")
    # the withdrawal is in the trail, by nobody (the CRM), saying which contact caused it
    withdrawn = AuditEvent.objects.get(action="invitation.revoked")
    assert (withdrawn.actor, withdrawn.object_id) == (None, str(old.pk))
    assert withdrawn.details == {"source": "crm", "contact": "C-1"}


def test_a_changed_role_changes_the_pending_invitation(
    client, crm, account, mailoutbox, django_capture_on_commit_callbacks
):
    body = {"organisation_external_id": "ACC-1", "email": "li.wei@nordwind.example"}
    with django_capture_on_commit_callbacks(execute=True):
        first = _put(client, "contacts/C-1", body, crm).json()
    assert (first["role"], first["invitation_status"]) == ("member", "pending")
    # when the CRM makes the contact an admin while the invitation is still pending
    with django_capture_on_commit_callbacks(execute=True):
        response = _put(client, "contacts/C-1", {**body, "role": "admin"}, crm)
    # then the same invitation now says admin (no second invitation, no second e-mail)
    assert response.status_code == 200, response.content
    assert response.json() == {**first, "role": "admin", "created": False}
    invitation = Invitation.objects.get()
    assert (invitation.pk, invitation.role, invitation.status) == (
        first["invitation_id"],
        "admin",
        "pending",
    )
    assert len(mailoutbox) == 1
    assert OutboxEvent.objects.filter(type="greenloop.account.member_invited").count() == 1
    # and the change is audited on the invitation, by the CRM
    changed = AuditEvent.objects.get(action="invitation.role_changed")
    assert (changed.actor, changed.organisation, changed.object_id) == (
        None,
        account,
        str(invitation.pk),
    )
    assert changed.details == {"from": "member", "to": "admin", "source": "crm", "contact": "C-1"}
    assert AuditEvent.objects.get(action="crm.contact_updated").details == {
        "external_id": "C-1",
        "invitation": invitation.pk,
        "role": "admin",
    }
    # when the same body comes again / then nothing more is written
    audits = AuditEvent.objects.count()
    again = _put(client, "contacts/C-1", {**body, "role": "admin"}, crm)
    assert again.status_code == 200
    assert AuditEvent.objects.count() == audits
    # and the person joins with the new role
    person = UserFactory(email="li.wei@nordwind.example")
    assert actions.accept_invitation(invitation.key, person).role == "admin"


def test_a_changed_role_never_changes_an_accepted_invitation(client, crm, account):
    body = {"organisation_external_id": "ACC-1", "email": "li.wei@nordwind.example"}
    _put(client, "contacts/C-1", body, crm)
    invitation = Invitation.objects.get()
    membership = actions.accept_invitation(invitation.key, UserFactory(email=body["email"]))
    # when the CRM changes the role of a contact who has joined
    response = _put(client, "contacts/C-1", {**body, "role": "admin"}, crm)
    # then the contact records it, but the accepted invitation and the membership stay as they
    # were: a member's role is the organisation's admins' to change
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["invitation_status"]) == (
        "admin",
        "accepted",
    )
    invitation.refresh_from_db()
    membership.refresh_from_db()
    assert (invitation.role, membership.role) == ("member", "member")
    assert not AuditEvent.objects.filter(action="invitation.role_changed").exists()


def test_a_changed_role_leaves_an_expired_or_withdrawn_invitation_alone(client, crm, account):
    body = {"organisation_external_id": "ACC-1", "email": "li.wei@nordwind.example"}
    _put(client, "contacts/C-1", body, crm)
    _put(client, "contacts/C-2", {**body, "email": "jonas@nordwind.example"}, crm)
    expired = Invitation.objects.get(email="li.wei@nordwind.example")
    expired.expires_at = timezone.now() - dt.timedelta(days=1)
    expired.save(update_fields=["expires_at"])
    withdrawn = Invitation.objects.get(email="jonas@nordwind.example")
    withdrawn.revoked_at = timezone.now()
    withdrawn.save(update_fields=["revoked_at"])
    # when the CRM changes both contacts' roles
    assert (
        _put(client, "contacts/C-1", {**body, "role": "viewer"}, crm).json()["invitation_status"]
        == "expired"
    )
    response = _put(
        client, "contacts/C-2", {**body, "email": "jonas@nordwind.example", "role": "viewer"}, crm
    )
    assert response.json()["invitation_status"] == "revoked"
    # then neither invitation changed
    assert sorted(Invitation.objects.values_list("role", flat=True)) == ["member", "member"]
    assert not AuditEvent.objects.filter(action="invitation.role_changed").exists()


def test_a_contact_who_is_a_member_already_is_not_invited(client, crm, account):
    member = MembershipFactory(organisation=account).user
    body = {"organisation_external_id": "ACC-1", "email": member.email}
    response = _put(client, "contacts/C-1", body, crm)
    assert response.status_code == 201
    assert (response.json()["member"], response.json()["invitation_id"]) == (True, None)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"email": "a@b.example"}, 422, "validation_error", "payload.organisation_external_id"),
        ({"organisation_external_id": "ACC-1"}, 422, "validation_error", "payload.email"),
        (
            {"organisation_external_id": "ACC-1", "email": "not-an-address"},
            422,
            "validation_error",
            "payload.email",
        ),
        (
            {"organisation_external_id": "ACC-1", "email": "a@b.example", "role": "owner"},
            422,
            "validation_error",
            "payload.role",
        ),
        (
            {"organisation_external_id": "ACC-9", "email": "a@b.example"},
            422,
            "unknown_organisation",
            "payload.organisation_external_id",
        ),
    ],
)
def test_bad_contact_fields_are_refused_naming_the_field(
    client, crm, account, body, status, code, field
):
    api_error(_put(client, "contacts/C-1", body, crm), status, code, field)
    assert not Invitation.objects.exists()
    assert not CrmContact.objects.exists()


# --- the signed webhook

WEBHOOK = "/api/v1/crm/webhook"


def _event(type_, data, event_id=None):
    return {
        "specversion": "1.0",
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "source": "crm://test",
        "type": type_,
        "datacontenttype": "application/json",
        "data": data,
    }


def _signed(event, *, secret=None, timestamp=None, webhook_id=None):
    body = json.dumps(event)
    moment = timestamp if timestamp is not None else int(time.time())
    from datetime import UTC, datetime

    signature = Webhook(secret or settings.GREENLOOP_CRM_INBOUND_SECRET).sign(
        webhook_id or event["id"], datetime.fromtimestamp(moment, tz=UTC), body
    )
    return body, {
        "webhook-id": webhook_id or event["id"],
        "webhook-timestamp": str(moment),
        "webhook-signature": signature,
    }


def _post(client, body, headers):
    return client.post(WEBHOOK, body, content_type="application/cloudevents+json", headers=headers)


def test_a_signed_account_event_runs_the_same_upsert(client):
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT})
    response = _post(client, *_signed(event))
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["type"], answer["created"]) == ("crm.account.upserted", True)
    assert answer["result"]["slug"] == "nordwind-energie-gmbh"
    assert Organisation.objects.get(crm_external_id="ACC-7").account_owner == "Mei Chen"
    # a new event with the same data changes nothing
    again = _post(client, *_signed(_event("crm.account.upserted", event["data"])))
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert InboundWebhook.objects.count() == 2


def test_signed_contact_product_and_order_events(client, account):
    contact = _event(
        "crm.contact.upserted",
        {"external_id": "C-1", "organisation_external_id": "ACC-1", "email": "x@y.example"},
    )
    assert _post(client, *_signed(contact)).status_code == 200
    assert Invitation.objects.filter(organisation=account).count() == 1
    product = _event("crm.product.upserted", {"sku": "PV-1", "name": "Panel"})
    assert _post(client, *_signed(product)).status_code == 200
    assert Product.objects.filter(sku="PV-1").exists()
    order = _event(
        "crm.order.upserted",
        {"organisation_external_id": "ACC-1", "external_id": "PO-9", **ORDER},
    )
    response = _post(client, *_signed(order))
    assert response.status_code == 200, response.content
    assert Order.objects.filter(organisation=account, external_id="PO-9").exists()


def test_a_bad_signature_is_401(client):
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT})
    other = "whsec_" + "b3RoZXItc2VjcmV0LW9mLWF0LWxlYXN0LTI0LWJ5dGVz"
    body, headers = _signed(event, secret=other)
    api_error(_post(client, body, headers), 401, "invalid_signature", "webhook-signature")
    # a body changed after signing, and a malformed signature, likewise
    body, headers = _signed(event)
    tampered = body.replace("Nordwind", "Evil")
    api_error(_post(client, tampered, headers), 401, "invalid_signature", "webhook-signature")
    api_error(
        _post(client, body, {**headers, "webhook-signature": "garbage"}),
        401,
        "invalid_signature",
        "webhook-signature",
    )
    assert not Organisation.objects.filter(crm_external_id="ACC-7").exists()
    assert not InboundWebhook.objects.exists()


def test_no_signature_at_all_is_401(client):
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT})
    api_error(_post(client, json.dumps(event), {}), 401, "not_authenticated")


def test_a_timestamp_older_than_five_minutes_or_ahead_is_401(client):
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT})
    old = _post(client, *_signed(event, timestamp=int(time.time()) - 6 * 60))
    message = api_error(old, 401, "webhook_timestamp_too_old", "webhook-timestamp")
    assert "5 minutes" in message
    ahead = _post(client, *_signed(event, timestamp=int(time.time()) + 6 * 60))
    api_error(ahead, 401, "webhook_timestamp_too_new", "webhook-timestamp")
    # four minutes old is fine
    assert _post(client, *_signed(event, timestamp=int(time.time()) - 4 * 60)).status_code == 200


def test_a_replayed_webhook_id_is_409_and_changes_nothing(client):
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT})
    assert _post(client, *_signed(event)).status_code == 200
    # the same id again, freshly signed and with other data / then refused, nothing changes
    replay = {**event, "data": {**event["data"], "name": "Replayed"}}
    response = _post(client, *_signed(replay))
    api_error(response, 409, "webhook_replayed", "webhook-id")
    assert Organisation.objects.get(crm_external_id="ACC-7").name == ACCOUNT["name"]


def test_a_refused_event_is_not_remembered(client):
    # given an event whose data is invalid / then 422 naming the data's field
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT, "tier": "x"})
    api_error(_post(client, *_signed(event)), 422, "validation_error", "data.tier")
    # and its id may be used again once corrected
    fixed = {**event, "data": {**event["data"], "tier": "gold"}}
    assert _post(client, *_signed(fixed)).status_code == 200


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"type": "crm.unknown.upserted"}, "unknown_event_type", "type"),
        ({"data": {**ACCOUNT}}, "validation_error", "data.external_id"),
        ({"data": "text"}, "validation_error", "event.data"),
        ({"specversion": None}, "validation_error", "event.specversion"),
    ],
)
def test_bad_events_are_422_naming_the_field(client, change, code, field):
    event = {**_event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT}), **change}
    api_error(_post(client, *_signed(event)), 422, code, field)


def test_a_mismatched_event_id_is_422(client):
    event = _event("crm.account.upserted", {"external_id": "ACC-7", **ACCOUNT})
    body, headers = _signed(event, webhook_id="msg_other")
    api_error(_post(client, body, headers), 422, "validation_error", "id")


def test_a_body_that_is_not_json_is_refused_not_500(client):
    body, headers = _signed({"id": "x"}, webhook_id="msg_1")
    response = _post(client, "\xff{not json", headers)
    assert response.status_code == 401
    response = _post(client, body, headers)
    assert response.status_code == 422


def test_an_integration_token_gets_nothing_from_the_customer_api(client, crm, org_b):
    # given the vendor's integration token / when it calls every customer operation, with
    # another organisation's objects in the path
    from tests import authz, authz_walk

    refused = []
    for path, method, _ in authz_walk.api_operations(client):
        if path.startswith(authz.INTEGRATION_API_PREFIX):
            continue
        url = authz_walk._api_url(path, org_b, org_b)
        response = getattr(client, method)(url, content_type="application/json", headers=crm)
        # then only "who am I" and the event catalogue answer; everything else is refused
        if path in {"/api/v1/me", "/api/v1/events/schema"}:
            ok = response.status_code == 200
        else:
            ok = response.status_code in {403, 404, 422}
        if not ok:
            refused.append(f"{method.upper()} {path}: {response.status_code}")
    assert refused == []


def test_the_integration_token_is_issued_on_the_server(client, capsys):
    from django.core.management import CommandError, call_command

    from portal.models import ApiToken

    # when the operator issues the CRM's token / then it belongs to no organisation and works
    call_command("issue_api_token", "--integration", "--name", "CRM", "--scopes", "crm:write")
    plaintext = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="CRM")
    assert (token.organisation, token.scopes) == (None, ["crm:write"])
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert _put(client, "organisations/ACC-1", ACCOUNT, headers).status_code == 201
    # a customer scope on it, or an organisation and --integration together, are refused
    with pytest.raises(CommandError):
        call_command("issue_api_token", "--integration", "--name", "X", "--scopes", "carbon:write")
    with pytest.raises(CommandError):
        call_command(
            "issue_api_token", "acme", "--integration", "--name", "X", "--scopes", "crm:write"
        )


def test_a_pushed_contact_is_in_the_person_s_export_and_goes_with_erasure(client, crm, account):
    person = UserFactory(email="jonas.weber@nordwind.example")
    body = {"organisation_external_id": "ACC-1", "email": "Jonas.Weber@nordwind.example"}
    assert _put(client, "contacts/C-9", body, crm).status_code == 201
    # then the person's export lists what the CRM pushed about their address
    exported = privacy.personal_data(person)["portal"]["crm_contacts"]
    assert [(c["external_id"], c["organisation"], c["role"]) for c in exported] == [
        ("C-9", account.name, "member")
    ]
    # and erasure deletes it with the invitation it became
    summary = privacy.erase_personal_data(person)
    assert (summary["crm_contacts_deleted"], summary["invitations_deleted"]) == (1, 1)
    assert not CrmContact.objects.filter(external_id="C-9").exists()


def test_accepted_webhook_ids_are_forgotten_after_their_retention(settings):
    old = InboundWebhook.objects.create(webhook_id="msg_old", event_type="crm.account.upserted")
    young = InboundWebhook.objects.create(webhook_id="msg_new", event_type="crm.account.upserted")
    InboundWebhook.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert settings.GREENLOOP_RETENTION["inbound_webhook_hours"] == 24
    assert purge_inbound_webhook_ids() == 1
    assert list(InboundWebhook.objects.values_list("webhook_id", flat=True)) == [young.webhook_id]
    assert settings.CELERY_BEAT_SCHEDULE["portal-crm-purge-inbound-webhook-ids"]["task"] == (
        "portal.crm.purge_inbound_webhook_ids"
    )
