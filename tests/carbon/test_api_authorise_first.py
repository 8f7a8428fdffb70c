"""Authorisation before validation (issue #10, item 11): every carbon and points write checks
the token's scope, the caller's organisation and role before it reads the body, so an invalid
body never tells a caller more than a valid one would: another organisation's slug is 404 and
a missing scope or role is 403, whatever the body."""

from __future__ import annotations

import pytest

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon and points scopes
from carbon.models import ImportJob, Order, Redemption
from tests.api_client import api_error, token_headers

pytestmark = pytest.mark.django_db

INVALID_BODIES = [{}, {"order_date": "not a date", "shipments": "many"}, [], "null"]


def _put(client, slug, body, headers=None):
    return client.put(
        f"/api/v1/organisations/{slug}/orders/X1",
        body,
        content_type="application/json",
        headers=headers or {},
    )


@pytest.mark.parametrize("body", INVALID_BODIES)
def test_upsert_into_another_organisation_is_404_whatever_the_body(client, org_a, org_b, body):
    # given Acme's token with every carbon scope
    headers = token_headers(org_a, ["carbon:read", "carbon:write"])
    # when it puts an invalid body into Globex's orders
    response = _put(client, "globex", body, headers)
    # then it is the same 404 as for an organisation that does not exist
    assert api_error(response, 404, "not_found") == api_error(
        _put(client, "no-such-org", body, headers), 404, "not_found"
    )
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", INVALID_BODIES)
def test_upsert_with_a_read_only_token_is_403_whatever_the_body(client, org_a, body):
    # given Acme's read-only token
    headers = token_headers(org_a, ["carbon:read"])
    # when it puts an invalid body into its own orders
    response = _put(client, "acme", body, headers)
    # then the missing scope is the answer
    assert "carbon:write" in api_error(response, 403, "insufficient_scope")
    assert not Order.objects.exists()


def test_upsert_by_a_viewer_is_403_whatever_the_body(client, viewer_a):
    # given a viewer of Acme signed in
    client.force_login(viewer_a)
    # when they put an invalid body / then their role is the answer
    api_error(_put(client, "acme", {}), 403, "permission_denied")
    assert not Order.objects.exists()


def test_upsert_by_a_session_of_another_organisation_is_404_whatever_the_body(
    client, org_a, member_b
):
    # given a member of Globex signed in
    client.force_login(member_b)
    # when they put an invalid body into Acme's orders / then Acme does not exist for them
    api_error(_put(client, "acme", {}), 404, "not_found")
    assert not Order.objects.exists()


def _import(client, slug, headers):
    # a multipart body whose `file` is a plain field, not a file: invalid
    return client.post(
        f"/api/v1/organisations/{slug}/order-imports", {"file": "not a file"}, headers=headers
    )


def test_import_into_another_organisation_or_without_scope_is_refused_first(client, org_a, org_b):
    # when Acme's tokens send an invalid upload to Globex / to Acme without the write scope
    foreign = _import(client, "globex", token_headers(org_a, ["carbon:read", "carbon:write"]))
    read_only = _import(client, "acme", token_headers(org_a, ["carbon:read"]))
    # then 404 and 403, and no job
    api_error(foreign, 404, "not_found")
    assert "carbon:write" in api_error(read_only, 403, "insufficient_scope")
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("body", INVALID_BODIES)
def test_redeeming_with_a_read_only_token_is_403_whatever_the_body(client, org_a, body):
    # given Acme's token that may read points but not spend them
    headers = {**token_headers(org_a, ["points:read"]), "Idempotency-Key": "k-1"}
    # when it redeems with an invalid body
    response = client.post(
        "/api/v1/redemptions", body, content_type="application/json", headers=headers
    )
    # then the missing scope is the answer
    assert "points:write" in api_error(response, 403, "insufficient_scope")
    assert not Redemption.objects.exists()


def test_redeeming_by_a_viewer_is_403_whatever_the_body(client, viewer_a):
    # given a viewer of Acme (only organisation) signed in
    client.force_login(viewer_a)
    # when they redeem with an invalid body / then their role is the answer
    response = client.post(
        "/api/v1/redemptions", {}, content_type="application/json", headers={"Idempotency-Key": "k"}
    )
    api_error(response, 403, "permission_denied")
    assert not Redemption.objects.exists()
