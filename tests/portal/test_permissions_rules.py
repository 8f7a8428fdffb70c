"""portal.permissions answered directly, with literal expectations: who holds staff power, which
customer role may do what, and the caches that make it cheap. Written so that every mutant of
the module (scripts/mutation.sh, module "permissions") changes at least one answer here."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from portal import permissions
from portal.models import Membership, Organisation, Role, User
from portal.permissions import Perm, has_perm
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _staff(email: str, *groups: str, **extra) -> User:
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    user = UserFactory(email=email, is_staff=True, **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def _fresh(user: User) -> User:
    """The same account as a new request would load it: no cached roles, groups or factor."""
    return User.objects.get(pk=user.pk)


def _authenticator(user: User, kind: str):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.create(user=user, type=kind, data={})


@pytest.fixture
def two_factor(enable_totp):
    def staff(email: str, *groups: str, **extra) -> User:
        user = _staff(email, *groups, **extra)
        enable_totp(user)
        return _fresh(user)

    return staff


# --- customer roles: the literal matrix of the organisation permissions


MATRIX = {
    # permission: (viewer, member, admin)
    "organisation.view": (True, True, True),
    "organisation.manage_members": (False, False, True),
    "organisation.manage_tokens": (False, False, True),
    "organisation.view_audit": (False, False, True),
    "organisation.edit_settings": (False, False, True),
}


@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_customer_roles_follow_the_matrix(perm, org_a, viewer_a, member_a, admin_a):
    answers = tuple(has_perm(_fresh(u), perm, org_a) for u in (viewer_a, member_a, admin_a))
    assert answers == MATRIX[perm]


@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_no_role_in_another_organisation(perm, org_a, org_b, admin_b):
    assert has_perm(_fresh(admin_b), perm, org_a) is False
    assert has_perm(_fresh(admin_b), perm, org_b) is MATRIX[perm][2]


def test_an_object_of_the_organisation_answers_like_the_organisation(org_a, admin_a, viewer_a):
    # A Membership has an `organisation` attribute: the permission follows it.
    membership = Membership.objects.get(user=viewer_a)
    assert has_perm(_fresh(admin_a), "organisation.manage_members", membership) is True
    assert has_perm(_fresh(viewer_a), "organisation.manage_members", membership) is False


def test_no_object_means_no_organisation_permission(admin_a, superuser):
    assert has_perm(_fresh(admin_a), "organisation.view", None) is False
    assert has_perm(superuser, "organisation.view", None) is False
    assert has_perm(_fresh(admin_a), "organisation.view", object()) is False


def test_nobody_without_an_active_account_holds_anything(org_a, admin_a):
    assert has_perm(None, "organisation.view", org_a) is False
    assert has_perm(AnonymousUser(), "organisation.view", org_a) is False
    admin_a.is_active = False
    admin_a.save()
    assert has_perm(_fresh(admin_a), "organisation.view", org_a) is False


def test_an_unknown_permission_is_an_error(org_a, admin_a):
    with pytest.raises(KeyError, match="Unknown permission 'organisation.fly'"):
        has_perm(_fresh(admin_a), "organisation.fly", org_a)


# --- vendor staff


def test_account_facing_staff_see_every_organisation_but_manage_none(org_a, two_factor):
    for role in ("Customer success", "Sustainability", "Integration admin"):
        user = two_factor(f"{role[:4].lower()}@greenloop.example", role)
        assert has_perm(user, "organisation.view", org_a) is True, role
        assert has_perm(user, "organisation.manage_members", org_a) is False, role
        assert permissions.is_vendor_staff(user) is True, role


def test_other_staff_roles_see_no_organisation(org_a, two_factor):
    for role in ("Product", "Moderator"):
        user = two_factor(f"{role.lower()}@greenloop.example", role)
        assert has_perm(user, "organisation.view", org_a) is False, role
        assert permissions.is_vendor_staff(user) is False, role


def test_a_superuser_is_vendor_staff_and_in_every_staff_role(superuser):
    assert permissions.is_vendor_staff(superuser) is True
    assert permissions.in_staff_role(superuser, "Moderator") is True


def test_staff_power_needs_the_second_factor(org_a, enable_totp):
    user = _staff("cs@greenloop.example", "Customer success")
    assert permissions.is_staff_account(user) is True
    assert permissions.holds_staff_power(_fresh(user)) is False
    assert permissions.is_vendor_staff(_fresh(user)) is False
    assert permissions.in_staff_role(_fresh(user), "Customer success") is False
    assert has_perm(_fresh(user), "organisation.view", org_a) is False
    assert has_perm(_fresh(user), "audit.view_all") is False
    enable_totp(user)
    assert permissions.holds_staff_power(_fresh(user)) is True
    assert permissions.in_staff_role(_fresh(user), "Customer success") is True
    assert permissions.in_staff_role(_fresh(user), "Moderator", "Product") is False
    assert has_perm(_fresh(user), "organisation.view", org_a) is True


def test_staff_power_needs_an_active_staff_account(enable_totp):
    customer = UserFactory(email="customer@acme.example")
    enable_totp(customer)
    assert permissions.holds_staff_power(_fresh(customer)) is False
    assert permissions.is_staff_account(customer) is False
    gone = _staff("gone@greenloop.example", "Customer success", is_active=False)
    enable_totp(gone)
    assert permissions.holds_staff_power(_fresh(gone)) is False
    assert permissions.is_staff_account(gone) is False
    assert permissions.holds_staff_power(AnonymousUser()) is False
    assert permissions.is_staff_account(AnonymousUser()) is False


def test_a_superuser_without_the_staff_flag_is_a_staff_account():
    root = UserFactory(email="root@greenloop.example", is_superuser=True)
    assert permissions.is_staff_account(root) is True


def test_the_whole_trail_needs_staff_power_and_the_audit_permission(two_factor, admin_a):
    assert has_perm(two_factor("cs@greenloop.example", "Customer success"), "audit.view_all")
    assert has_perm(two_factor("mod@greenloop.example", "Moderator"), "audit.view_all")
    assert not has_perm(two_factor("prod@greenloop.example", "Product"), "audit.view_all")
    assert not has_perm(_fresh(admin_a), "audit.view_all")


def test_act_for_staff_vouches_for_the_factor_of_that_object_only():
    user = _staff("seed@greenloop.example", "Customer success")
    assert permissions.act_for_staff(user) is user
    assert permissions.holds_staff_power(user) is True
    assert permissions.holds_staff_power(_fresh(user)) is False
    assert permissions.act_for_staff(None) is None


# --- second factors


def test_which_factors_count():
    from allauth.mfa.models import Authenticator

    totp, key, codes, none = (UserFactory(email=f"{n}@acme.example") for n in "abcd")
    _authenticator(totp, Authenticator.Type.TOTP)
    _authenticator(key, Authenticator.Type.WEBAUTHN)
    _authenticator(codes, Authenticator.Type.RECOVERY_CODES)
    answers = {u.email: permissions.has_second_factor(_fresh(u)) for u in (totp, key, codes, none)}
    assert answers == {
        "a@acme.example": True,
        "b@acme.example": True,
        "c@acme.example": False,
        "d@acme.example": False,
    }
    assert permissions.has_second_factor(AnonymousUser()) is False
    with_factor = User.objects.filter(permissions.has_second_factor_q()).order_by("email")
    assert list(with_factor.values_list("email", flat=True)) == ["a@acme.example", "b@acme.example"]
    memberships = Membership.objects.none()  # the outer reference can be named
    assert memberships.count() == 0
    org = OrganisationFactory(slug="factor-co")
    for user in (totp, codes):
        MembershipFactory(user=user, organisation=org)
    through = Membership.objects.filter(permissions.has_second_factor_q("user_id"))
    assert list(through.values_list("user__email", flat=True)) == ["a@acme.example"]


def test_the_factor_is_cached_on_the_user_object(enable_totp):
    user = _fresh(UserFactory(email="a@acme.example"))
    assert permissions.has_second_factor(user) is False
    assert user._greenloop_mfa is False
    enable_totp(_fresh(user))
    assert permissions.has_second_factor(user) is False  # this request's answer stands
    assert permissions.has_second_factor(_fresh(user)) is True


# --- roles and groups, cached per request


def test_role_in_reads_the_membership(org_a, org_b, member_a, admin_a):
    assert permissions.role_in(_fresh(member_a), org_a) == Role.MEMBER
    assert isinstance(permissions.role_in(_fresh(member_a), org_a), Role)
    assert permissions.role_in(_fresh(admin_a), org_a) == Role.ADMIN
    assert permissions.role_in(_fresh(member_a), org_b) is None
    assert permissions.role_in(AnonymousUser(), org_a) is None


def test_roles_and_groups_are_cached_until_forgotten(org_a, member_a):
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    user = _fresh(member_a)
    assert permissions.role_in(user, org_a) == Role.MEMBER
    assert permissions._groups(user) == set()
    assert permissions.has_second_factor(user) is False
    Membership.objects.filter(user=member_a).update(role=Role.ADMIN)
    member_a.groups.add(Group.objects.get(name="Moderator"))
    # the cache answers within the request ...
    assert permissions.role_in(user, org_a) == Role.MEMBER
    assert permissions._groups(user) == set()
    # ... until it is forgotten, every part of it
    permissions.forget_cached_roles(user)
    for attr in ("_greenloop_roles", "_greenloop_groups", "_greenloop_mfa"):
        assert not hasattr(user, attr), attr
    assert permissions.role_in(user, org_a) == Role.ADMIN
    assert permissions._groups(user) == {"Moderator"}
    assert user._greenloop_groups == {"Moderator"}
    assert user._greenloop_roles == {org_a.pk: "admin"}
    permissions.forget_cached_roles(UserFactory(email="nothing-cached@acme.example"))


# --- what plugins register


class _Thing:
    def __init__(self, organisation):
        self.owner = organisation


class _Other:
    pass


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(permissions, "_rules", dict(permissions._rules))
    monkeypatch.setattr(permissions, "_min_role", dict(permissions._min_role))
    monkeypatch.setattr(permissions, "_staff_org_perms", set(permissions._staff_org_perms))
    monkeypatch.setattr(permissions, "_owners", list(permissions._owners))


def test_owner_of(org_a, clean_registry):
    permissions.register_owner(_Thing, lambda thing: thing.owner)
    assert permissions.owner_of(org_a) == org_a
    assert permissions.owner_of(_Thing(org_a)) == org_a
    assert permissions.owner_of(Membership(organisation=org_a)) == org_a
    assert permissions.owner_of(_Other()) is None
    assert isinstance(permissions.owner_of(org_a), Organisation)


def test_a_registered_rule_decides(org_a, org_b, member_a, viewer_a, clean_registry):
    # the rule is given both the user and the object
    permissions.register_rule(
        "thing.poke", lambda user, obj: user.email == "member@acme.example" and obj == org_a
    )
    assert has_perm(_fresh(member_a), "thing.poke", org_a) is True
    assert has_perm(_fresh(member_a), "thing.poke", org_b) is False
    assert has_perm(_fresh(viewer_a), "thing.poke", org_a) is False
    assert "thing.poke" not in permissions._min_role


def test_a_registered_minimum_role_decides(org_a, member_a, viewer_a, two_factor, clean_registry):
    permissions.register_owner(_Thing, lambda thing: thing.owner)
    permissions.register_rule("thing.edit", min_role=Role.MEMBER)
    assert "thing.edit" not in permissions._rules
    assert has_perm(_fresh(member_a), "thing.edit", _Thing(org_a)) is True
    assert has_perm(_fresh(viewer_a), "thing.edit", _Thing(org_a)) is False
    staff = two_factor("cs@greenloop.example", "Customer success")
    assert has_perm(staff, "thing.edit", _Thing(org_a)) is False
    permissions.grant_staff("thing.edit")
    assert has_perm(staff, "thing.edit", _Thing(org_a)) is True
    assert has_perm(_fresh(viewer_a), "thing.edit", _Thing(org_a)) is False


def test_perm_values_are_the_literal_names():
    assert {p.value for p in Perm} == {
        "organisation.view",
        "organisation.manage_members",
        "organisation.manage_tokens",
        "organisation.view_audit",
        "organisation.edit_settings",
        "audit.view_all",
    }
