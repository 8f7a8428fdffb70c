"""Orders and green-power declarations are scoped to the caller's organisations (the querysets
every carbon page and API lookup starts from), with literal expectations; part of the mutation
module "scoped-querysets" (scripts/mutation.sh)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from carbon.models import GreenPowerDeclaration, Order
from portal.models import User
from tests.carbon.factories import GreenPowerDeclarationFactory, OrderFactory
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def rows(org_a, org_b):
    closed = OrganisationFactory(slug="closed", is_active=False)
    for org, ref in [(org_a, "PO-ACME"), (org_b, "PO-GLOBEX"), (closed, "PO-CLOSED")]:
        OrderFactory(organisation=org, external_id=ref)
        GreenPowerDeclarationFactory(organisation=org)


def _orders(user) -> list[str]:
    return sorted(Order.objects.for_user(user).values_list("external_id", flat=True))


def _declarations(user) -> list[str]:
    return sorted(
        GreenPowerDeclaration.objects.for_user(user).values_list("organisation__slug", flat=True)
    )


def test_a_member_reaches_their_organisations_rows_only(rows, member_a, consultant):
    assert _orders(_fresh(member_a)) == ["PO-ACME"]
    assert _declarations(_fresh(member_a)) == ["acme"]
    assert _orders(_fresh(consultant)) == ["PO-ACME", "PO-GLOBEX"]
    assert _declarations(_fresh(consultant)) == ["acme", "globex"]


def test_staff_reach_active_organisations_and_anonymous_nothing(rows, staff_success):
    assert _orders(staff_success) == ["PO-ACME", "PO-GLOBEX"]
    assert _declarations(staff_success) == ["acme", "globex"]
    assert _orders(AnonymousUser()) == []
    assert _declarations(AnonymousUser()) == []
