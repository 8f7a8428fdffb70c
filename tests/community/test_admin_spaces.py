"""Moderators and product staff manage spaces in the Wagtail admin, on the audit trail; customers
cannot, and nobody deletes a space (it is archived instead)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from community.models import Audience, Space
from portal.models import AuditEvent, Tier
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"community_spaces:{name}", args=args)


@pytest.fixture
def staff_in(enable_totp):
    def make(role):
        ensure_staff_groups()
        user = UserFactory(email=f"{role.lower()}@greenloop.example", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        enable_totp(user)
        return user

    return make


@pytest.mark.parametrize("role", [StaffRole.MODERATOR, StaffRole.PRODUCT])
def test_moderators_and_product_staff_create_and_edit_spaces(client, staff_in, org_a, role):
    user = staff_in(role)
    client.force_login(user)
    assert client.get(url("index")).status_code == 200
    assert client.get(url("add")).status_code == 200
    response = client.post(
        url("add"),
        {
            "name": "Gold customers",
            "slug": "gold-customers",
            "description": "",
            "sort_order": "0",
            "audience": Audience.TIERS,
            "tiers": [Tier.GOLD],
            "who_can_post": "members",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Space.objects.get(slug="gold-customers")
    assert created.tiers == [Tier.GOLD]
    assert created.created_by == user
    assert client.get(url("edit", created.pk)).status_code == 200


def test_admin_refuses_a_grandchild(client, staff_in):
    top = Space.objects.create(name="Top", slug="top")
    child = Space.objects.create(name="Child", slug="child", parent=top)
    client.force_login(staff_in(StaffRole.MODERATOR))
    response = client.post(
        url("add"),
        {
            "name": "Grandchild",
            "slug": "grandchild",
            "parent": child.pk,
            "sort_order": "0",
            "audience": Audience.CUSTOMERS,
            "who_can_post": "members",
        },
    )
    assert response.status_code == 200
    assert not Space.objects.filter(slug="grandchild").exists()


def test_customers_cannot_reach_the_space_admin(client, member_a):
    client.force_login(member_a)
    assert client.get(url("index")).status_code in (302, 403)


def test_creating_and_changing_a_space_goes_to_the_audit_trail(client, staff_in, org_a):
    user = staff_in(StaffRole.MODERATOR)
    client.force_login(user)
    # when a moderator creates a space for chosen organisations
    data = {
        "name": "Acme board",
        "slug": "acme-board",
        "description": "",
        "sort_order": "0",
        "audience": Audience.ORGANISATIONS,
        "organisations": [org_a.pk],
        "who_can_post": "members",
    }
    assert client.post(url("add"), data).status_code == 302
    space = Space.objects.get(slug="acme-board")
    # and then lets only staff post in it
    response = client.post(url("edit", space.pk), {**data, "who_can_post": "staff"})
    assert response.status_code == 302
    # then both steps are on the audit trail, with what changed
    created, changed = AuditEvent.objects.filter(action__startswith="community.space_").order_by(
        "pk"
    )
    assert (created.action, created.actor, created.object_id) == (
        "community.space_created",
        user,
        str(space.pk),
    )
    assert created.details["audience"] == Audience.ORGANISATIONS
    assert (changed.action, changed.actor) == ("community.space_changed", user)
    assert changed.details["changed"] == ["who_can_post"]
    assert changed.details["who_can_post"] == "staff"


def test_nobody_deletes_a_space_not_even_a_superuser(client, superuser):
    space = Space.objects.create(name="Old", slug="old")
    client.force_login(superuser)
    response = client.post(url("delete", space.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert Space.objects.filter(pk=space.pk).exists()
