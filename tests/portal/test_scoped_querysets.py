"""The organisation-scoped querysets and loaders, asked directly with literal expectations: which
rows each kind of caller reaches. Written so that every mutant of them (scripts/mutation.sh,
module "scoped-querysets") changes an answer here."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from portal import access, audit
from portal.models import AuditEvent, Membership, Organisation, User
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _slugs(queryset) -> list[str]:
    return sorted(queryset.values_list("slug", flat=True))


@pytest.fixture
def closed_org(admin_a):
    """An inactive organisation that admin_a still has a membership in."""
    org = OrganisationFactory(slug="closed", name="Closed GmbH", is_active=False)
    MembershipFactory(user=admin_a, organisation=org, role="admin")
    return org


@pytest.fixture
def cs_staff(db, enable_totp):
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    user = UserFactory(email="cs@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name="Customer success"))
    enable_totp(user)
    return _fresh(user)


# --- Organisation.objects.for_user


def test_organisations_of_a_member(org_a, org_b, admin_a, closed_org):
    assert _slugs(Organisation.objects.for_user(_fresh(admin_a))) == ["acme"]


def test_organisations_of_a_consultant_are_listed_once(consultant, org_a, org_b):
    # a second member in each organisation would multiply the join without distinct()
    MembershipFactory(user=UserFactory(email="x@acme.example"), organisation=org_a)
    found = list(Organisation.objects.for_user(_fresh(consultant)).values_list("slug", flat=True))
    assert sorted(found) == ["acme", "globex"]


def test_account_facing_staff_reach_every_active_organisation(org_a, org_b, closed_org, cs_staff):
    assert _slugs(Organisation.objects.for_user(cs_staff)) == ["acme", "globex"]


def test_no_organisation_for_anonymous_or_inactive_users(org_a, admin_a):
    assert _slugs(Organisation.objects.for_user(AnonymousUser())) == []
    admin_a.is_active = False
    admin_a.save()
    assert _slugs(Organisation.objects.for_user(_fresh(admin_a))) == []


def test_for_member_gives_staff_no_shortcut(org_a, org_b, closed_org, admin_a, cs_staff):
    assert _slugs(Organisation.objects.for_member(_fresh(admin_a))) == ["acme"]
    assert _slugs(Organisation.objects.for_member(cs_staff)) == []
    assert _slugs(Organisation.objects.for_member(AnonymousUser())) == []


# --- Membership.objects.for_user


def _emails(memberships) -> list[str]:
    return sorted(memberships.values_list("user__email", flat=True))


def test_memberships_a_member_sees_are_their_organisations(
    org_a, org_b, admin_a, member_a, admin_b
):
    assert _emails(Membership.objects.for_user(_fresh(member_a))) == [
        "admin@acme.example",
        "member@acme.example",
    ]


def test_memberships_staff_see_and_anonymous_do_not(org_a, org_b, admin_a, admin_b, cs_staff):
    assert _emails(Membership.objects.for_user(cs_staff)) == [
        "admin@acme.example",
        "admin@globex.example",
    ]
    assert _emails(Membership.objects.for_user(AnonymousUser())) == []


# --- AuditEvent.objects.for_user


@pytest.fixture
def trail(org_a, org_b):
    audit.record("test.acme", organisation=org_a)
    audit.record("test.globex", organisation=org_b)
    audit.record("test.system")


def _actions(events) -> list[str]:
    return sorted(events.values_list("action", flat=True))


def test_an_admin_sees_their_organisations_trail_only(trail, admin_a, member_a):
    assert _actions(AuditEvent.objects.for_user(_fresh(admin_a))) == ["test.acme"]
    assert _actions(AuditEvent.objects.for_user(_fresh(member_a))) == []
    assert _actions(AuditEvent.objects.for_user(AnonymousUser())) == []


def test_staff_with_the_audit_permission_see_the_whole_trail(trail, cs_staff):
    assert _actions(AuditEvent.objects.for_user(cs_staff)) == [
        "test.acme",
        "test.globex",
        "test.system",
    ]


@pytest.mark.parametrize("role", ["Product", "Moderator"])
def test_staff_who_serve_no_accounts_see_no_trail(trail, enable_totp, role):
    # A moderator holds the audit view permission but serves no customer accounts.
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    staff = UserFactory(email="staff@greenloop.example", is_staff=True)
    staff.groups.add(Group.objects.get(name=role))
    enable_totp(staff)
    assert _actions(AuditEvent.objects.for_user(_fresh(staff))) == []


# --- portal.access.reachable_or_404


def _request(user, path: str = "/o/acme/things/1/"):
    request = RequestFactory().get(path, REMOTE_ADDR="203.0.113.9")
    request.user = user
    return request


def test_an_object_in_reach_is_returned(org_a, admin_a):
    found = access.reachable_or_404(
        _request(admin_a), Organisation.objects.for_user(_fresh(admin_a)), slug="acme"
    )
    assert found == org_a


def test_a_foreign_object_is_404_and_recorded(org_a, org_b, admin_a, frozen_minute):
    reachable = Organisation.objects.for_user(_fresh(admin_a))
    with pytest.raises(Http404):
        access.reachable_or_404(_request(admin_a), reachable, slug="globex")
    row = AuditEvent.objects.get(action="access.cross_tenant")
    assert row.organisation is None
    assert row.details["target"] == "portal.organisation:slug=globex"
    assert row.details["path"] == "/o/acme/things/1/"
    assert row.details["principal"] == f"user:{admin_a.pk}"


def test_a_missing_object_is_404_and_not_recorded(org_a, admin_a):
    reachable = Organisation.objects.for_user(_fresh(admin_a))
    with pytest.raises(Http404):
        access.reachable_or_404(_request(admin_a), reachable, slug="nowhere")
    with pytest.raises(Http404):
        access.reachable_or_404(None, reachable, slug="globex")
    assert not AuditEvent.objects.filter(action="access.cross_tenant").exists()


def test_the_lookup_is_described_in_name_order(org_a, org_b, admin_a, frozen_minute):
    reachable = Organisation.objects.for_user(_fresh(admin_a))
    with pytest.raises(Http404):
        access.reachable_or_404(_request(admin_a), reachable, slug="globex", country="CN")
    row = AuditEvent.objects.get(action="access.cross_tenant")
    assert row.details["target"] == "portal.organisation:country=CN,slug=globex"


def test_the_target_and_path_are_cut_at_200_characters(admin_a, frozen_minute):
    long_path = "/o/acme/" + "p" * 300
    access.record_cross_tenant(_request(admin_a, long_path), "t" * 300)
    row = AuditEvent.objects.get(action="access.cross_tenant")
    assert row.details["target"] == "t" * 200
    assert row.details["path"] == long_path[:200]


def test_principal_of_each_kind_of_caller(org_b, admin_a):
    from portal import actions

    token, _ = actions.issue_api_token(org_b, "ERP", ["account:read"], by=None)
    with_token = _request(AnonymousUser())
    with_token.auth = type("Auth", (), {"token": token})()
    assert access.principal_of(with_token) == (f"token:{token.lookup}", org_b)
    assert access.principal_of(_request(admin_a)) == (f"user:{admin_a.pk}", None)
    assert access.principal_of(_request(AnonymousUser())) == ("ip:203.0.113.9", None)
    no_user = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    assert access.principal_of(no_user) == ("ip:203.0.113.7", None)
    nowhere = RequestFactory().get("/", REMOTE_ADDR="")
    nowhere.user = AnonymousUser()
    assert access.principal_of(nowhere) == ("ip:-", None)
