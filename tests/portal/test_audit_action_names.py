"""The customer's audit trail names actions in the reader's language; each app names its own
codes through the `greenloop_audit_actions` hook."""

from __future__ import annotations

import pathlib
import re

import pytest
from django.urls import reverse

from portal import audit
from portal.audit_actions import action_choices, action_name

pytestmark = pytest.mark.django_db

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _audit_url(org) -> str:
    return reverse("portal:audit_log", kwargs={"org_slug": org.slug})


def test_the_trail_shows_names_not_codes(
    client, org_a, org_b, admin_a, django_assert_max_num_queries
):
    # given Acme's trail with a carbon, a community and a portal action, and Globex's own
    audit.record("carbon.green_power_verified", organisation=org_a)
    audit.record("community.post_edited", organisation=org_a)
    audit.record("invitation.sent", organisation=org_a)
    audit.record("beta.nda_accepted", organisation=org_b)
    client.force_login(admin_a)
    # when Acme's admin opens it
    with django_assert_max_num_queries(20):
        html = client.get(_audit_url(org_a)).content.decode()
    # then each action reads as a sentence, with the code kept as its tooltip
    assert (
        '<span title="carbon.green_power_verified">Green-power declaration verified</span>' in html
    )
    assert "Community post edited" in html
    assert "Invitation sent" in html
    # and the filter offers Acme's actions only, by name
    assert (
        '<option value="carbon.green_power_verified">Green-power declaration verified</option>'
        in html
    )
    assert "beta.nda_accepted" not in html
    assert "Beta NDA accepted" not in html


def test_the_trail_in_chinese(client, org_a, admin_a):
    audit.record("carbon.redemption.fulfilled", organisation=org_a)
    client.force_login(admin_a)
    html = client.get(_audit_url(org_a), headers={"accept-language": "zh-hans"}).content.decode()
    assert '<span title="carbon.redemption.fulfilled">积分兑换已完成</span>' in html
    assert '<option value="">全部操作</option>' in html


def test_filtering_by_a_named_action(client, org_a, admin_a):
    # given two kinds of actions in Acme's trail
    audit.record("auth.signed_in", organisation=org_a)
    audit.record("membership.role_changed", organisation=org_a)
    client.force_login(admin_a)
    # when the admin picks one
    html = client.get(_audit_url(org_a), {"action": "membership.role_changed"}).content.decode()
    # then only it is listed, and it stays selected
    assert '<option value="membership.role_changed" selected>Member role changed</option>' in html
    assert '<span title="auth.signed_in">' not in html


def test_another_organisations_trail_is_404(client, org_b, admin_a):
    audit.record("carbon.green_power_verified", organisation=org_b)
    client.force_login(admin_a)
    assert client.get(_audit_url(org_b)).status_code == 404


def test_an_unnamed_code_is_shown_as_it_is():
    assert action_name("someapp.something_new") == "someapp.something_new"
    assert action_choices(["someapp.x", "auth.signed_out"]) == [
        ("auth.signed_out", "Signed out"),
        ("someapp.x", "someapp.x"),
    ]


# A literal first argument of audit.record / record_aggregated, or an AuditedView's
# `audit_action`, including "a" if ... else "b".
_CALL = re.compile(
    r'(?:audit\.record(?:_aggregated)?\(\s*|audit_action = )"([a-z_.]+)"'
    r'(?:\s+if .+? else "([a-z_.]+)")?'
)


def test_every_audit_code_in_the_source_has_a_name():
    # given every literal action code the apps record
    codes = set()
    for app in ("portal", "carbon", "community", "beta_program"):
        for path in (ROOT / app).rglob("*.py"):
            for match in _CALL.finditer(path.read_text()):
                codes.update(code for code in match.groups() if code)
    # then each has a name of its own
    assert len(codes) > 80
    assert sorted(code for code in codes if action_name(code) == code) == []


@pytest.mark.django_db
def test_the_admin_audit_trail_names_actions_in_the_staff_members_language(
    client, enable_totp, org_a
):
    # given an audit row of a green-power verification and an auditor on staff
    from portal.staff_roles import StaffRole
    from tests.conftest import _staff

    audit.record("carbon.green_power_verified", organisation=org_a)
    auditor = _staff("auditor@greenloop.example", StaffRole.SUSTAINABILITY)
    enable_totp(auditor)
    client.force_login(auditor)
    # when they open the audit trail in English, then in Chinese
    english = client.get("/admin/auditevent/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get("/admin/auditevent/", headers={"Accept-Language": "zh-hans"})
    # then the action is shown by its name, not its code
    assert "Green-power declaration verified" in english
    assert ">carbon.green_power_verified<" not in english
    assert "已核验绿色电力声明" in chinese.content.decode()
