"""Inbound from the CRM (portal/crm/inbound.py): idempotent upserts by external id through the
API (integration tokens, scope crm:write) and the signed webhook carrying the same upserts."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from portal import actions
from portal.models import AuditEvent, CrmContact, InboundWebhook, Invitation, Organisation
from tests.api_client import api_error, token_headers
from tests.factories import MembershipFactory, UserFactory

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
