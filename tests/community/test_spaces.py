"""Spaces: who sees which space (one query), one level of sub-spaces, and who may post."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ValidationError

from community.models import Audience, Space, WhoCanPost
from community.permissions import POST, can_post
from portal.models import Role, Tier
from portal.permissions import forget_cached_roles, has_perm
from portal.staff_roles import StaffRole
from tests.conftest import _staff
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def space(slug, **kwargs):
    organisations = kwargs.pop("organisations", ())
    groups = kwargs.pop("groups", ())
    created = Space.objects.create(name=slug.title(), slug=slug, **kwargs)
    created.organisations.set(organisations)
    created.groups.set(groups)
    return created


@pytest.fixture
def cohort(db):
    return Group.objects.create(name="Beta cohort")


@pytest.fixture
def spaces(org_a, cohort):
    return {
        "public": space("public"),
        "acme": space("acme-only", audience=Audience.ORGANISATIONS, organisations=[org_a]),
        "gold": space("gold", audience=Audience.TIERS, tiers=[Tier.GOLD, Tier.STRATEGIC]),
        "beta": space("beta", audience=Audience.GROUPS, groups=[cohort]),
        "archived": space("archived", is_archived=True),
    }


@pytest.fixture
def gold_member(db):
    gold = OrganisationFactory(slug="goldco", tier=Tier.GOLD)
    return MembershipFactory(organisation=gold, role=Role.MEMBER).user


@pytest.fixture
def beta_tester(member_b, cohort):
    member_b.groups.add(cohort)
    return member_b


@pytest.fixture
def vendor_staff(db, enable_totp):
    user = _staff("cs@greenloop.example", StaffRole.CUSTOMER_SUCCESS)
    enable_totp(user)
    return user


def visible(user):
    return set(Space.objects.visible_to(user).values_list("slug", flat=True))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("member_a", {"public", "acme-only"}),
        ("member_b", {"public"}),
        ("gold_member", {"public", "gold"}),
        ("beta_tester", {"public", "beta"}),
        ("anonymous", set()),
        ("vendor_staff", {"public", "acme-only", "gold", "beta"}),
    ],
)
def test_visibility_matrix(request, spaces, who, expected):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    assert visible(user) == expected


def test_member_of_inactive_organisation_sees_nothing(member_a, org_a, spaces):
    org_a.is_active = False
    org_a.save()
    assert visible(member_a) == set()


def test_signed_in_user_without_membership_sees_nothing(spaces):
    assert visible(UserFactory()) == set()


def test_sub_space_narrows_never_widens(org_a, member_a, member_b, spaces):
    # A sub-space open to all customers under an Acme-only parent stays Acme-only.
    space("acme-open-child", parent=spaces["acme"])
    # A sub-space open to Globex under an Acme-only parent is visible to nobody but staff.
    space(
        "acme-globex-child",
        parent=spaces["acme"],
        audience=Audience.ORGANISATIONS,
        organisations=[member_b.memberships.get().organisation],
    )
    space(
        "public-acme-child",
        parent=spaces["public"],
        audience=Audience.ORGANISATIONS,
        organisations=[org_a],
    )
    assert visible(member_a) == {"public", "acme-only", "acme-open-child", "public-acme-child"}
    assert visible(member_b) == {"public"}


def test_sub_space_of_archived_parent_is_hidden(member_a, spaces):
    spaces["archived"].is_archived = False
    parent = spaces["archived"]
    space("child-of-archived", parent=parent)
    parent.is_archived = True
    parent.save()
    assert "child-of-archived" not in visible(member_a)


def test_visible_to_is_one_query(member_a, org_a, cohort, django_assert_num_queries):
    tops = [
        space(
            f"top-{i}",
            audience=list(Audience.values)[i % 4],
            tiers=[Tier.STANDARD],
            organisations=[org_a],
            groups=[cohort],
        )
        for i in range(10)
    ]
    for i, parent in enumerate(tops):
        space(f"sub-{i}", parent=parent, audience=Audience.TIERS, tiers=[Tier.STANDARD])
    forget_cached_roles(member_a)
    with django_assert_num_queries(1):
        slugs = [s.slug for s in Space.objects.visible_to(member_a)]
    # Acme is a standard-tier organisation: everything but the group spaces and their subs.
    assert len(slugs) == 20 - 2 * sum(1 for i in range(10) if i % 4 == 3)


def test_sub_space_cannot_have_sub_spaces(spaces):
    child = space("child", parent=spaces["public"])
    grandchild = Space(name="Grandchild", slug="grandchild", parent=child)
    with pytest.raises(ValidationError) as exc:
        grandchild.full_clean()
    assert "parent" in exc.value.message_dict
    with pytest.raises(ValidationError):
        grandchild.save()
    assert not Space.objects.filter(slug="grandchild").exists()


def test_space_with_sub_spaces_cannot_become_one(spaces):
    space("child", parent=spaces["public"])
    spaces["public"].parent = spaces["acme"]
    with pytest.raises(ValidationError):
        spaces["public"].full_clean()


def test_space_cannot_be_its_own_parent(spaces):
    spaces["public"].parent = spaces["public"]
    with pytest.raises(ValidationError):
        spaces["public"].full_clean()


def test_unknown_tier_is_refused():
    with pytest.raises(ValidationError) as exc:
        Space(name="X", slug="x", audience=Audience.TIERS, tiers=["platinum"]).full_clean()
    assert "tiers" in exc.value.message_dict


@pytest.mark.parametrize(
    ("who", "slug", "allowed"),
    [
        ("member_a", "public", True),
        ("member_a", "acme-only", True),
        ("viewer_a", "acme-only", False),  # viewers read
        ("member_b", "acme-only", False),  # cannot even see it
        ("member_a", "staff-only", False),  # customers read
        ("vendor_staff", "staff-only", True),
        ("vendor_staff", "acme-only", True),
        ("beta_tester", "beta", True),
        ("gold_member", "gold", True),
        ("member_a", "archived", False),
        ("vendor_staff", "archived", False),
        ("anonymous", "public", False),
    ],
)
def test_posting_rule(request, spaces, who, slug, allowed):
    space("staff-only", who_can_post=WhoCanPost.STAFF)
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    target = Space.objects.get(slug=slug)
    assert can_post(user, target) is allowed
    assert has_perm(user, POST, target) is allowed


def test_group_member_without_posting_role_only_reads(cohort, spaces):
    outsider = UserFactory()
    outsider.groups.add(cohort)
    assert visible(outsider) == {"beta"}
    assert not can_post(outsider, spaces["beta"])
