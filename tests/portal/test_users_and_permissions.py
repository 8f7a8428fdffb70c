"""Accounts (`create_user`, `create_superuser`), where `/dashboard/` sends a person, and the
object-level answers of `portal.permissions.has_perm`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from portal import permissions
from portal.models import Role
from portal.permissions import Perm, has_perm
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- create_user / create_superuser


def test_create_user_normalises_the_address_and_hashes_the_password():
    user = get_user_model().objects.create_user("Someone@Example.COM", "A-l0ng-passphrase")
    user.refresh_from_db()
    # the whole address is stored in lower case, so it is one login however it is typed
    assert user.email == "someone@example.com"
    assert user.password != "A-l0ng-passphrase"
    assert user.check_password("A-l0ng-passphrase")
    assert user.is_staff is False
    assert user.is_superuser is False
    assert user.is_active is True


def test_create_user_without_a_password_cannot_sign_in():
    user = get_user_model().objects.create_user("nopassword@example.com")
    assert user.has_usable_password() is False


@pytest.mark.parametrize("email", [None, ""])
def test_create_user_requires_an_address(email):
    with pytest.raises(ValueError, match="An e-mail address is required."):
        get_user_model().objects.create_user(email, "A-l0ng-passphrase")
    assert get_user_model().objects.count() == 0


def test_create_superuser_is_staff_and_superuser():
    user = get_user_model().objects.create_superuser("Root@GreenLoop.example", "A-l0ng-passphrase")
    user.refresh_from_db()
    assert user.email == "root@greenloop.example"
    assert user.is_staff is True
    assert user.is_superuser is True
    assert user.check_password("A-l0ng-passphrase")


def test_create_user_keeps_explicit_flags():
    user = get_user_model().objects.create_user(
        "staff@greenloop.example", "A-l0ng-passphrase", is_staff=True
    )
    assert (user.is_staff, user.is_superuser) == (True, False)


# --- /dashboard/


def test_a_person_in_no_organisation_is_told_to_ask_for_an_invitation(client):
    client.force_login(UserFactory(email="alone@example.com"))
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are not in an organisation yet" in html
    assert "invite you" in html


def test_staff_in_no_organisation_go_to_the_admin(client, superuser):
    client.force_login(superuser)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_dashboard_opens_the_first_organisation_by_name(client, consultant):
    client.force_login(consultant)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/"


def test_dashboard_opens_the_organisation_used_last(client, consultant):
    client.force_login(consultant)
    client.post(reverse("portal:switch_organisation"), {"organisation": "globex"})
    response = client.get("/dashboard/")
    assert response["Location"] == "/o/globex/"


def test_dashboard_ignores_a_remembered_organisation_the_person_left(client, consultant, org_b):
    client.force_login(consultant)
    client.post(reverse("portal:switch_organisation"), {"organisation": "globex"})
    consultant.memberships.filter(organisation=org_b).delete()
    response = client.get("/dashboard/")
    assert response["Location"] == "/o/acme/"


def test_dashboard_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- has_perm on objects


@pytest.fixture
def owned(org_a):
    """Any object with an `organisation` attribute belongs to that organisation."""
    return SimpleNamespace(organisation=org_a)


@pytest.mark.parametrize(
    ("who", "perm", "allowed"),
    [
        ("viewer_a", Perm.ORG_VIEW, True),
        ("viewer_a", Perm.ORG_MANAGE_MEMBERS, False),
        ("member_a", Perm.ORG_VIEW, True),
        ("member_a", Perm.ORG_VIEW_AUDIT, False),
        ("admin_a", Perm.ORG_MANAGE_MEMBERS, True),
        ("admin_a", Perm.ORG_MANAGE_TOKENS, True),
        ("admin_a", Perm.ORG_VIEW_AUDIT, True),
        ("admin_a", Perm.ORG_EDIT_SETTINGS, True),
        ("admin_b", Perm.ORG_VIEW, False),
        ("admin_b", Perm.ORG_MANAGE_MEMBERS, False),
    ],
)
def test_roles_decide_on_objects_of_the_organisation(request, owned, who, perm, allowed):
    user = request.getfixturevalue(who)
    assert has_perm(user, perm, owned) is allowed


def test_the_organisation_itself_is_its_own_owner(org_a, org_b, admin_a):
    assert has_perm(admin_a, Perm.ORG_MANAGE_MEMBERS, org_a) is True
    assert has_perm(admin_a, Perm.ORG_MANAGE_MEMBERS, org_b) is False


def test_an_object_without_an_owner_is_refused_to_everyone(admin_a, superuser):
    for user in (admin_a, superuser):
        assert has_perm(user, Perm.ORG_VIEW, None) is False
        assert has_perm(user, Perm.ORG_VIEW, SimpleNamespace(organisation=None)) is False


def test_a_registered_owner_function_decides_the_organisation(monkeypatch, org_a, org_b, admin_a):
    class Invoice:
        def __init__(self, buyer):
            self.buyer = buyer

    monkeypatch.setattr(permissions, "_owners", [*permissions._owners])
    permissions.register_owner(Invoice, lambda invoice: invoice.buyer)
    assert has_perm(admin_a, Perm.ORG_MANAGE_MEMBERS, Invoice(org_a)) is True
    assert has_perm(admin_a, Perm.ORG_MANAGE_MEMBERS, Invoice(org_b)) is False


def test_anonymous_and_inactive_people_hold_nothing(owned, admin_a):
    assert has_perm(AnonymousUser(), Perm.ORG_VIEW, owned) is False
    assert has_perm(None, Perm.ORG_VIEW, owned) is False
    admin_a.is_active = False
    assert has_perm(admin_a, Perm.ORG_VIEW, owned) is False


def test_account_facing_staff_view_every_organisation_but_manage_none(staff_success, owned):
    assert has_perm(staff_success, Perm.ORG_VIEW, owned) is True
    assert has_perm(staff_success, Perm.ORG_MANAGE_MEMBERS, owned) is False
    assert has_perm(staff_success, Perm.ORG_VIEW_AUDIT, owned) is False


def _staff_in(role: str, enable_totp):
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    user = UserFactory(email=f"{role.lower()}@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    enable_totp(user)
    return user


def test_staff_outside_the_account_facing_roles_see_no_organisation(enable_totp, owned):
    for role in ("Moderator", "Product"):
        assert has_perm(_staff_in(role, enable_totp), Perm.ORG_VIEW, owned) is False, role


def test_a_staff_member_who_is_also_a_customer_keeps_the_customer_role(org_a, staff_success):
    MembershipFactory(user=staff_success, organisation=org_a, role=Role.ADMIN)
    permissions.forget_cached_roles(staff_success)
    assert has_perm(staff_success, Perm.ORG_MANAGE_MEMBERS, org_a) is True


def test_the_whole_audit_trail_is_for_staff_with_the_permission(enable_totp, superuser, admin_a):
    # the Moderator role holds the audit permission, Product does not; the superuser holds all
    assert has_perm(_staff_in("Moderator", enable_totp), Perm.AUDIT_VIEW_ALL) is True
    assert has_perm(_staff_in("Product", enable_totp), Perm.AUDIT_VIEW_ALL) is False
    assert has_perm(superuser, Perm.AUDIT_VIEW_ALL) is True
    assert has_perm(admin_a, Perm.AUDIT_VIEW_ALL) is False


def test_staff_without_a_second_factor_hold_no_staff_permission(db, owned):
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    staff = UserFactory(email="no2fa@greenloop.example", is_staff=True)
    staff.groups.add(Group.objects.get(name="Customer success"))
    assert has_perm(staff, Perm.ORG_VIEW, owned) is False
    assert has_perm(staff, Perm.AUDIT_VIEW_ALL) is False


def test_a_registered_rule_gets_the_user_and_the_object(monkeypatch, owned, member_a):
    seen = []
    monkeypatch.setattr(permissions, "_rules", dict(permissions._rules))

    def rule(user, obj):
        seen.append((user, obj))
        return True

    permissions.register_rule("test.anything", rule)
    assert has_perm(member_a, "test.anything", owned) is True
    assert seen == [(member_a, owned)]


def test_a_minimum_role_registered_by_a_plugin_applies(monkeypatch, owned, viewer_a, member_a):
    monkeypatch.setattr(permissions, "_min_role", dict(permissions._min_role))
    permissions.register_rule("test.write", min_role=Role.MEMBER)
    assert has_perm(viewer_a, "test.write", owned) is False
    assert has_perm(member_a, "test.write", owned) is True


def test_an_unknown_permission_is_an_error_not_a_no(member_a, owned):
    with pytest.raises(KeyError, match="test.never_registered"):
        has_perm(member_a, "test.never_registered", owned)


def test_roles_are_cached_until_forgotten(org_a, org_b, member_a):
    assert permissions.role_in(member_a, org_b) is None
    MembershipFactory(user=member_a, organisation=org_b, role=Role.VIEWER)
    # the per-request cache still answers from before
    assert permissions.role_in(member_a, org_b) is None
    permissions.forget_cached_roles(member_a)
    assert permissions.role_in(member_a, org_b) == Role.VIEWER
    assert permissions.role_in(AnonymousUser(), org_a) is None


def test_a_new_organisation_has_no_members(member_a):
    other = OrganisationFactory(slug="initech", name="Initech")
    assert has_perm(member_a, Perm.ORG_VIEW, other) is False
