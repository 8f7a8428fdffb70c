"""`seed_demo`: idempotent demo organisations and logins, refused outside the demo."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portal.demo import DEMO_PASSWORD, ORGS, PEOPLE
from portal.models import (
    AccountHealth,
    AuditEvent,
    Membership,
    Organisation,
    OutboxEvent,
    Role,
    Site,
    User,
)
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


def test_seed_demo_scores_each_organisations_account_health(client, demo_seed, enable_totp):
    # given the seeded demo (orders, points, community and beta data from every app)
    rows = AccountHealth.objects.select_related("organisation").order_by("organisation__slug")
    # then each organisation has today's score from the daily run's code: every app's components
    assert [(r.organisation.slug, r.day, r.trigger) for r in rows] == [
        ("huadong-pv", timezone.localdate(), "daily"),
        ("nordwind", timezone.localdate(), "daily"),
    ]
    for row in rows:
        assert [c["key"] for c in row.components] == [
            "active_users",
            "sign_in_recency",
            "carbon_intensity",
            "points_use",
            "community",
            "beta",
            "ideas",
        ]
        # four members each (the consultant is in both), none signed in yet
        assert row.components[0]["signals"] == {"members": 4, "active_30d": 0}
        assert isinstance(row.score, int)
        assert 0 <= row.score <= 100
    assert OutboxEvent.objects.filter(type="greenloop.account.signals").count() == 2
    # and customer success sees both scores on Customers > Account health
    success = User.objects.get(email="success@greenloop.example")
    enable_totp(success)
    client.force_login(success)
    html = client.get(reverse("account_health:index")).content.decode()
    for row in rows:
        assert f"<strong>{row.score}</strong>" in html
    # when the demo is seeded again the same day, then the day's scores stand, published once
    _seed()
    assert AccountHealth.objects.count() == 2
    assert OutboxEvent.objects.filter(type="greenloop.account.signals").count() == 2


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


def _readme_logins() -> list[tuple[str, str]]:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \| (.+?) \|$", section, flags=re.M)


def test_the_readme_lists_the_demo_logins_as_seeded(db):
    # given the README a newcomer reads (its table written out here, so the demo, the README and
    # this contract change together)
    logins = _readme_logins()
    assert logins == [
        (
            "li.wei@huadong.example",
            "admin of 华东光伏科技有限公司 (Chinese PV plant operator; prefers 简体中文)",
        ),
        ("zhang.min@huadong.example", "member of 华东光伏科技有限公司"),
        ("chen.jing@huadong.example", "viewer of 华东光伏科技有限公司"),
        ("anna.schmidt@nordwind.example", "admin of Nordwind Energietechnik GmbH (Germany)"),
        ("jonas.weber@nordwind.example", "member of Nordwind Energietechnik GmbH"),
        ("lena.fischer@nordwind.example", "viewer of Nordwind Energietechnik GmbH"),
        (
            "consultant@energyaudit.example",
            "member of both organisations (try the organisation switcher)",
        ),
        ("sustainability@greenloop.example", "vendor staff: Sustainability"),
        ("product@greenloop.example", "vendor staff: Product"),
        ("moderator@greenloop.example", "vendor staff: Moderator"),
        ("success@greenloop.example", "vendor staff: Customer success"),
        ("integration@greenloop.example", "vendor staff: Integration admin"),
        ("admin@greenloop.example", "vendor superuser"),
    ]
    assert "Every demo account's password is **`greenloop-demo`**." in Path(
        Path(__file__).resolve().parents[2] / "README.md"
    ).read_text(encoding="utf-8")
    # when the demo is seeded
    _seed()
    # then exactly those people exist, each as the README says, with the published password
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(e for e, _ in logins)
    for email, who in logins:
        user = User.objects.get(email=email)
        assert user.check_password("greenloop-demo"), email
        if "prefers 简体中文" in who:
            assert user.preferred_language == "zh-hans", email
        memberships = sorted(user.memberships.values_list("role", "organisation__name"))
        groups = list(user.groups.values_list("name", flat=True))
        if who.startswith("vendor staff: "):
            assert (user.is_staff, user.is_superuser, groups, memberships) == (
                True,
                False,
                [who.removeprefix("vendor staff: ")],
                [],
            ), email
        elif who == "vendor superuser":
            assert (user.is_staff, user.is_superuser, memberships) == (True, True, []), email
        elif who.startswith("member of both organisations"):
            assert memberships == [
                ("member", "Nordwind Energietechnik GmbH"),
                ("member", "华东光伏科技有限公司"),
            ]
        else:
            role, organisation = re.match(r"(\w+) of ([^(]+?)(?: \(|$)", who).groups()
            assert (user.is_staff, memberships) == (False, [(role, organisation)]), email
    # and the README's API example names an organisation that exists
    assert Organisation.objects.filter(slug="nordwind").exists()
