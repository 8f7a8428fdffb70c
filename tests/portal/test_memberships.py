"""Memberships: admins set roles and remove colleagues; members leave; an organisation always
keeps at least one admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal import actions
from portal.exceptions import MembershipError, PermissionDeniedError
from portal.models import AuditEvent, Membership, OutboxEvent, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _membership(user, org) -> Membership:
    return Membership.objects.get(user=user, organisation=org)


def _snapshot() -> dict:
    return {
        "memberships": sorted(Membership.objects.values_list("pk", "role")),
        "events": OutboxEvent.objects.count(),
        "audit": AuditEvent.objects.exclude(action="access.denied").count(),
    }


def _url(name: str, org, **kwargs) -> str:
    return reverse(f"portal:{name}", kwargs={"org_slug": org.slug, **kwargs})


# --- change_role


def test_admin_changes_a_role(
    org_a, admin_a, member_a, received_events, django_capture_on_commit_callbacks
):
    # given a member of Acme
    membership = _membership(member_a, org_a)
    # when the admin makes them admin
    with django_capture_on_commit_callbacks(execute=True):
        actions.change_role(membership, "admin", by=admin_a)
    # then the role is stored, audited with from/to, and published
    assert _membership(member_a, org_a).role == Role.ADMIN
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.actor == admin_a
    assert event.organisation == org_a
    assert event.object_id == str(membership.pk)
    assert event.details == {"user": "member@acme.example", "from": "member", "to": "admin"}
    outbox = OutboxEvent.objects.get()
    assert outbox.type == "greenloop.account.member_role_changed"
    assert outbox.subject == f"users/{member_a.pk}"
    assert outbox.data == {"user_id": member_a.pk, "from": "member", "to": "admin"}
    assert [e.type for e in received_events] == ["greenloop.account.member_role_changed"]


def test_setting_the_same_role_changes_nothing(org_a, admin_a, member_a):
    before = _snapshot()
    actions.change_role(_membership(member_a, org_a), "member", by=admin_a)
    assert _snapshot() == before


def test_member_cannot_change_roles(org_a, admin_a, member_a, viewer_a):
    before = _snapshot()
    with pytest.raises(PermissionDeniedError):
        actions.change_role(_membership(viewer_a, org_a), "admin", by=member_a)
    with pytest.raises(PermissionDeniedError):
        actions.change_role(_membership(member_a, org_a), "admin", by=member_a)
    assert _snapshot() == before


def test_admin_of_another_organisation_cannot_change_roles(org_a, member_a, admin_b):
    before = _snapshot()
    with pytest.raises(PermissionDeniedError):
        actions.change_role(_membership(member_a, org_a), "admin", by=admin_b)
    assert _snapshot() == before


def test_unknown_role_is_refused(org_a, admin_a, member_a):
    before = _snapshot()
    with pytest.raises(MembershipError) as caught:
        actions.change_role(_membership(member_a, org_a), "owner", by=admin_a)
    assert caught.value.field == "role"
    assert _snapshot() == before


def test_last_admin_cannot_be_demoted(org_a, admin_a, member_a):
    # given Acme with a single admin
    before = _snapshot()
    # when that admin tries to make themselves a member
    with pytest.raises(MembershipError) as caught:
        actions.change_role(_membership(admin_a, org_a), "member", by=admin_a)
    # then it is refused and the organisation keeps its admin
    assert caught.value.code == "last_admin"
    assert caught.value.field == "role"
    assert _membership(admin_a, org_a).role == Role.ADMIN
    assert _snapshot() == before


def test_an_admin_can_step_down_when_another_admin_remains(org_a, admin_a, member_a):
    actions.change_role(_membership(member_a, org_a), "admin", by=admin_a)
    actions.change_role(_membership(admin_a, org_a), "viewer", by=admin_a)
    assert _membership(admin_a, org_a).role == Role.VIEWER
    assert Membership.objects.filter(organisation=org_a, role=Role.ADMIN).count() == 1
    assert AuditEvent.objects.filter(action="membership.role_changed").count() == 2


def test_admins_of_other_organisations_do_not_count(org_a, admin_a, org_b, admin_b):
    # given Acme's only admin, who is also admin of Globex
    MembershipFactory(user=admin_b, organisation=org_a, role=Role.MEMBER)
    MembershipFactory(user=admin_a, organisation=org_b, role=Role.ADMIN)
    # when they try to step down in Acme
    with pytest.raises(MembershipError) as caught:
        actions.change_role(_membership(admin_a, org_a), "member", by=admin_a)
    # then it is refused: Globex's admins do not run Acme
    assert caught.value.code == "last_admin"


# --- remove_member


def test_admin_removes_a_member(
    org_a, admin_a, member_a, received_events, django_capture_on_commit_callbacks
):
    # given a member of Acme
    membership_pk = _membership(member_a, org_a).pk
    # when the admin removes them
    with django_capture_on_commit_callbacks(execute=True):
        actions.remove_member(_membership(member_a, org_a), by=admin_a)
    # then the membership is gone but the account remains
    assert not Membership.objects.filter(pk=membership_pk).exists()
    member_a.refresh_from_db()
    assert member_a.is_active
    # and the removal is audited and published
    event = AuditEvent.objects.get(action="membership.removed")
    assert event.actor == admin_a
    assert event.organisation == org_a
    assert event.object_id == str(member_a.pk)
    assert event.details == {"user": "member@acme.example"}
    outbox = OutboxEvent.objects.get()
    assert outbox.type == "greenloop.account.member_removed"
    assert outbox.data == {"user_id": member_a.pk, "left": False, "erased": False}
    assert [e.type for e in received_events] == ["greenloop.account.member_removed"]


def test_member_leaves(org_a, admin_a, member_a):
    # when a member leaves Acme
    actions.remove_member(_membership(member_a, org_a), by=member_a)
    # then they are no longer a member and the trail says they left
    assert Membership.objects.filter(organisation=org_a).count() == 1
    event = AuditEvent.objects.get(action="membership.left")
    assert event.actor == member_a
    assert OutboxEvent.objects.get().data == {"user_id": member_a.pk, "left": True, "erased": False}


def test_member_cannot_remove_a_colleague(org_a, admin_a, member_a, viewer_a):
    before = _snapshot()
    with pytest.raises(PermissionDeniedError):
        actions.remove_member(_membership(viewer_a, org_a), by=member_a)
    assert _snapshot() == before


def test_last_admin_cannot_leave(org_a, admin_a, member_a):
    before = _snapshot()
    with pytest.raises(MembershipError) as caught:
        actions.remove_member(_membership(admin_a, org_a), by=admin_a)
    assert caught.value.code == "last_admin"
    assert _membership(admin_a, org_a).role == Role.ADMIN
    assert _snapshot() == before


def test_an_admin_can_remove_another_admin_while_one_remains(org_a, admin_a):
    other = UserFactory(email="second.admin@acme.example")
    MembershipFactory(user=other, organisation=org_a, role=Role.ADMIN)
    actions.remove_member(_membership(other, org_a), by=admin_a)
    assert list(Membership.objects.filter(organisation=org_a).values_list("user", flat=True)) == [
        admin_a.pk
    ]


# --- the team page and its forms


def test_members_page_lists_the_team(client, org_a, admin_a, member_a, viewer_a, member_b):
    # given an admin of Acme
    client.force_login(admin_a)
    # when they open the team page
    response = client.get(_url("members", org_a))
    # then every member of Acme is listed, with the forms to manage them, and nobody else
    assert response.status_code == 200
    # addresses may break after "@" and before dots (<wbr>); the text is the whole address
    html = response.content.decode().replace("<wbr>", "")
    for email in ("admin@acme.example", "member@acme.example", "viewer@acme.example"):
        assert email in html
    assert "member@globex.example" not in html
    assert list(response.context["memberships"]) == list(
        Membership.objects.filter(organisation=org_a).order_by("user__email")
    )
    assert response.context["can_manage"] is True
    assert _url("invite", org_a) in html
    assert _url("change_role", org_a, pk=_membership(member_a, org_a).pk) in html


def test_members_page_for_a_member_has_no_admin_forms(client, org_a, admin_a, member_a):
    client.force_login(member_a)
    response = client.get(_url("members", org_a))
    assert response.status_code == 200
    # addresses may break after "@" and before dots (<wbr>); the text is the whole address
    html = response.content.decode().replace("<wbr>", "")
    assert "admin@acme.example" in html
    assert response.context["can_manage"] is False
    assert response.context["invitations"] == []
    assert _url("invite", org_a) not in html
    assert _url("change_role", org_a, pk=_membership(admin_a, org_a).pk) not in html


def test_admin_changes_a_role_through_the_page(client, org_a, admin_a, member_a):
    client.force_login(admin_a)
    pk = _membership(member_a, org_a).pk
    response = client.post(_url("change_role", org_a, pk=pk), {"role": "viewer"})
    assert response.status_code == 302
    assert response["Location"] == _url("members", org_a)
    assert Membership.objects.get(pk=pk).role == Role.VIEWER
    assert AuditEvent.objects.get(action="membership.role_changed").ip_address == "127.0.0.1"


def test_invalid_role_through_the_page_changes_nothing(client, org_a, admin_a, member_a):
    client.force_login(admin_a)
    pk = _membership(member_a, org_a).pk
    before = _snapshot()
    response = client.post(_url("change_role", org_a, pk=pk), {"role": "owner"}, follow=True)
    assert response.status_code == 200
    assert "Choose a valid role." in response.content.decode()
    assert _snapshot() == before


def test_last_admin_demotion_through_the_page_shows_the_reason(client, org_a, admin_a):
    client.force_login(admin_a)
    pk = _membership(admin_a, org_a).pk
    response = client.post(_url("change_role", org_a, pk=pk), {"role": "member"}, follow=True)
    assert response.status_code == 200
    assert "An organisation needs at least one admin." in response.content.decode()
    assert Membership.objects.get(pk=pk).role == Role.ADMIN


def test_admin_invites_through_the_page(client, org_a, admin_a, django_capture_on_commit_callbacks):
    from django.core import mail

    client.force_login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("invite", org_a), {"email": "new@example.com", "role": "member"}
        )
    assert response.status_code == 302
    invitation = org_a.invitations.get()
    assert invitation.email == "new@example.com"
    assert len(mail.outbox) == 1
    # the link in the e-mail is absolute, built from the request
    assert f"http://testserver/invitations/{invitation.key}/" in mail.outbox[0].body


def test_admin_withdraws_an_invitation_through_the_page(client, org_a, admin_a):
    invitation = actions.invite_member(org_a, "gone@example.com", "member", by=admin_a)
    client.force_login(admin_a)
    response = client.post(_url("revoke_invitation", org_a, pk=invitation.pk))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


def test_admin_removes_a_member_through_the_page(client, org_a, admin_a, member_a):
    client.force_login(admin_a)
    pk = _membership(member_a, org_a).pk
    response = client.post(_url("remove_member", org_a, pk=pk))
    assert response.status_code == 302
    assert response["Location"] == _url("members", org_a)
    assert not Membership.objects.filter(pk=pk).exists()


def test_member_leaves_through_the_page(client, org_a, admin_a, member_a):
    client.force_login(member_a)
    client.get(_url("org_dashboard", org_a))
    pk = _membership(member_a, org_a).pk
    response = client.post(_url("remove_member", org_a, pk=pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert not Membership.objects.filter(pk=pk).exists()
    # and Acme is gone for them
    assert client.get(_url("org_dashboard", org_a)).status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invite", {"email": "x@example.com", "role": "admin"}),
        ("change_role", {"role": "admin"}),
        ("remove_member", {}),
        ("revoke_invitation", {}),
    ],
)
def test_member_gets_403_on_admin_actions(client, org_a, admin_a, member_a, name, data):
    # given a member of Acme and objects they might aim at
    invitation = actions.invite_member(org_a, "open@example.com", "member", by=admin_a)
    target = {
        "invite": {},
        "change_role": {"pk": _membership(admin_a, org_a).pk},
        "remove_member": {"pk": _membership(admin_a, org_a).pk},
        "revoke_invitation": {"pk": invitation.pk},
    }[name]
    client.force_login(member_a)
    before = _snapshot()
    invitations = sorted(org_a.invitations.values_list("pk", "revoked_at"))
    # when they post to an admin-only action
    response = client.post(_url(name, org_a, **target), data)
    # then they are refused and nothing changed
    assert response.status_code == 403
    assert "You cannot do that here" in response.content.decode()
    assert _snapshot() == before
    assert sorted(org_a.invitations.values_list("pk", "revoked_at")) == invitations
    # and the refusal is on record like every other
    refusal = AuditEvent.objects.get(action="access.denied", actor=member_a)
    assert refusal.details["path"] == _url(name, org_a, **target)


@pytest.mark.parametrize("name", ["tokens", "org_settings", "audit_log"])
def test_member_gets_403_on_admin_pages_and_it_is_audited(client, org_a, member_a, name):
    client.force_login(member_a)
    response = client.get(_url(name, org_a))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == member_a
    assert event.organisation == org_a
    assert event.details["path"] == _url(name, org_a)


def test_viewer_sees_the_dashboard_but_not_the_admin_pages(client, org_a, viewer_a):
    client.force_login(viewer_a)
    assert client.get(_url("org_dashboard", org_a)).status_code == 200
    assert client.get(_url("members", org_a)).status_code == 200
    assert client.get(_url("tokens", org_a)).status_code == 403


def test_removing_a_membership_of_another_organisation_is_404(
    client, org_a, admin_a, member_b, org_b
):
    # given Acme's admin aims at a Globex membership through Acme's URL
    client.force_login(admin_a)
    pk = _membership(member_b, org_b).pk
    response = client.post(_url("remove_member", org_a, pk=pk))
    # then it does not exist for them
    assert response.status_code == 404
    assert Membership.objects.filter(pk=pk).exists()


# --- the organisation switcher


def test_the_switcher_makes_another_organisation_current(client, org_a, org_b, consultant):
    # given a consultant of Acme and Globex
    client.force_login(consultant)
    # when they pick Globex in the switcher
    response = client.post(reverse("portal:switch_organisation"), {"organisation": "globex"})
    # then Globex is current: its dashboard, and the dashboard link, lead there
    assert response.status_code == 302
    assert response["Location"] == "/o/globex/"
    assert client.session["greenloop_current_org"] == "globex"
    assert client.get(reverse("portal:dashboard"))["Location"] == "/o/globex/"


@pytest.mark.parametrize("query", ["?organisation=globex", ""])
def test_a_get_never_switches_the_organisation(client, org_a, org_b, consultant, query):
    # given a consultant working in Acme
    client.force_login(consultant)
    client.post(reverse("portal:switch_organisation"), {"organisation": "acme"})
    # when something makes their browser GET the switcher (an image in a post, a prefetch)
    response = client.get(reverse("portal:switch_organisation") + query)
    # then it is refused and Acme stays current
    assert response.status_code == 405
    assert client.session["greenloop_current_org"] == "acme"
    assert client.get(reverse("portal:dashboard"))["Location"] == "/o/acme/"


def test_opening_a_page_of_another_organisation_does_not_switch(client, org_a, org_b, consultant):
    # given a consultant working in Acme
    client.force_login(consultant)
    client.post(reverse("portal:switch_organisation"), {"organisation": "acme"})
    # when they open a Globex page (a link in an e-mail, or an image URL)
    page = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": "globex"}))
    # then the page is Globex's, with Globex's links, but the current organisation is still Acme
    assert page.status_code == 200
    assert page.context["current_org_slug"] == "globex"
    assert b'href="/o/globex/members/"' in page.content
    assert client.session["greenloop_current_org"] == "acme"


def test_a_member_of_one_organisation_has_its_links_on_every_page(client, org_a, member_a):
    # given a member of Acme only, who has never used the switcher
    client.force_login(member_a)
    # when they open a page outside any organisation (the community)
    page = client.get(reverse("community:index"))
    # then the top bar still leads to Acme's dashboard and team, and nothing was stored
    assert page.status_code == 200
    assert b'href="/o/acme/"' in page.content
    assert b'href="/o/acme/members/"' in page.content
    assert "greenloop_current_org" not in client.session
