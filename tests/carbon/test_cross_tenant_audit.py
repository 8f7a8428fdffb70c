"""Asking for another organisation's order answers the same 404 as a missing one, and is
recorded once per principal and minute (portal.access.reachable_or_404)."""

from __future__ import annotations

import pytest

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from portal import actions
from portal.models import AuditEvent
from tests.carbon.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_a_token_asking_for_another_organisations_order_is_recorded(
    client, org_a, org_b, frozen_minute
):
    # given an Acme order and Globex's carbon token
    order = OrderFactory(organisation=org_a)
    token, plaintext = actions.issue_api_token(org_b, "ERP", ["carbon:read"], by=None)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    # when the token asks for the order, its footprint, and an order that does not exist
    foreign = [
        client.get(f"/api/v1/orders/{order.pk}", **auth),
        client.get(f"/api/v1/orders/{order.pk}/footprint", **auth),
    ]
    missing = client.get(f"/api/v1/orders/{order.pk + 1000}", **auth)
    # then all three are the same 404
    assert {(r.status_code, r.content) for r in [*foreign, missing]} == {
        (404, b'{"code": "not_found", "message": "Not found.", "field": null}')
    }
    # and Globex's trail has one row for the minute
    row = AuditEvent.objects.exclude(action="api_token.issued").get()
    assert (row.action, row.organisation) == ("access.cross_tenant", org_b)
    assert row.details == {
        "target": f"carbon.order:pk={order.pk}",
        "path": f"/api/v1/orders/{order.pk}",
        "principal": f"token:{token.lookup}",
        "minute": "2026-03-02T10:10Z",
    }


def test_a_member_asking_for_another_organisations_order_page_is_recorded(
    client, org_a, org_b, member_b, frozen_minute
):
    # given an Acme order, and a Globex member signed in
    order = OrderFactory(organisation=org_a)
    client.force_login(member_b)
    # when they ask for it under their own organisation's address
    response = client.get(f"/o/globex/orders/{order.pk}/")
    # then it is 404, and recorded
    assert response.status_code == 404
    row = AuditEvent.objects.get()
    assert (row.action, row.actor, row.organisation) == ("access.cross_tenant", member_b, None)
    assert row.details == {
        "target": f"carbon.order:pk={order.pk}",
        "path": f"/o/globex/orders/{order.pk}/",
        "principal": f"user:{member_b.pk}",
        "minute": "2026-03-02T10:10Z",
    }
