"""`seed_demo`: idempotent demo organisations and logins, refused outside the demo."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from portal.demo import DEMO_PASSWORD, ORGS, PEOPLE
from portal.models import AuditEvent, Membership, Organisation, OutboxEvent, Role, Site, User
from portal.staff_roles import ROLE_PERMISSIONS, StaffRole

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "sites": Site.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "emails": EmailAddress.objects.count(),
        "groups": Group.objects.count(),
        "group_members": User.groups.through.objects.count(),
        "audit": AuditEvent.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def test_seed_demo_creates_the_demo(demo_seed):
    # when the demo is seeded into an empty database
    output = demo_seed
    # then both organisations exist, one with its Chinese name
    assert "Demo data ready: 2 organisations, 13 logins" in output
    assert sorted(Organisation.objects.values_list("slug", "name", "country")) == [
        ("huadong-pv", "华东光伏科技有限公司", "CN"),
        ("nordwind", "Nordwind Energietechnik GmbH", "DE"),
    ]
    assert Site.objects.filter(organisation__slug="huadong-pv").count() == 2
    assert Site.objects.get(organisation__slug="nordwind").name == "Werk Hamburg"
    # and every person can sign in with the published password and a verified address
    assert User.objects.count() == len(PEOPLE) == 13
    for person in PEOPLE:
        user = User.objects.get(email=person.email)
        assert user.check_password(DEMO_PASSWORD)
        address = EmailAddress.objects.get(user=user)
        assert (address.email, address.verified, address.primary) == (person.email, True, True)
    # with their roles
    assert (
        Membership.objects.get(
            user__email="li.wei@huadong.example", organisation__slug="huadong-pv"
        ).role
        == Role.ADMIN
    )
    consultant = User.objects.get(email="consultant@energyaudit.example")
    assert sorted(consultant.memberships.values_list("organisation__slug", "role")) == [
        ("huadong-pv", "member"),
        ("nordwind", "member"),
    ]
    # and every staff group exists, each staff login in its group
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in StaffRole}
    for person in PEOPLE:
        user = User.objects.get(email=person.email)
        assert user.is_staff == bool(person.staff_role or person.superuser)
        assert user.is_superuser == person.superuser
        if person.staff_role:
            assert list(user.groups.values_list("name", flat=True)) == [person.staff_role]


def test_staff_groups_carry_their_permissions(demo_seed):
    for role, permissions in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {
            f"{app}.{codename}"
            for app, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert permissions <= held, role
        assert "wagtailadmin.access_admin" in held


def test_seed_demo_twice_gives_the_same_data(demo_seed):
    # given a seeded demo
    first = _counts()
    memberships = sorted(
        Membership.objects.values_list("user__email", "organisation__slug", "role")
    )
    # when it is seeded again
    _seed()
    # then nothing is duplicated or changed
    assert _counts() == first
    assert (
        sorted(Membership.objects.values_list("user__email", "organisation__slug", "role"))
        == memberships
    )


def test_seed_demo_restores_edited_demo_data(demo_seed):
    # given a demo whose admin was demoted and whose password changed
    Membership.objects.filter(user__email="li.wei@huadong.example").update(role=Role.VIEWER)
    user = User.objects.get(email="li.wei@huadong.example")
    user.set_password("something-else-entirely")
    user.save()
    # when it is seeded again
    _seed()
    # then the README's logins work as documented
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert Membership.objects.get(user=user).role == Role.ADMIN


def test_seed_demo_refuses_outside_the_demo(settings, db):
    # given production-like settings
    settings.GREENLOOP_IS_DEMO = False
    before = _counts()
    # when seed_demo runs
    with pytest.raises(CommandError, match="refuses to run"):
        _seed()
    # then nothing was created
    assert _counts() == before
    assert Organisation.objects.count() == 0


def test_demo_definition_matches_the_brief():
    assert len(ORGS) == 2
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in org.name) for org in ORGS)
