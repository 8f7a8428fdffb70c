"""Invitations met on the way in: accepted by signing up, and listed for a person with pending
invitations who is in no organisation yet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal import actions
from portal.models import Invitation, Membership, Role
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


def _url(invitation: Invitation) -> str:
    return reverse("portal:invitation", kwargs={"key": invitation.key})


def test_signing_up_from_the_link_joins_with_a_welcome(client, org_a, admin_a):
    # given an invitee who followed the link
    invitation = actions.invite_member(org_a, "new.person@example.com", Role.VIEWER, by=admin_a)
    client.get(_url(invitation))
    # when they create their account
    client.post(
        reverse("account_signup"),
        {
            "email": "new.person@example.com",
            "first_name": "New",
            "last_name": "Person",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    page = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": "acme"}))
    # then they are in Acme with the invited role, welcomed, without pressing "Accept"
    assert Membership.objects.get(user__email="new.person@example.com").role == Role.VIEWER
    assert "Welcome to Acme Solar." in page.content.decode()


def test_the_chinese_sign_up_form_asks_for_the_family_name_first(client, org_a, admin_a):
    # given an invitee who followed the link, reading Chinese
    invitation = actions.invite_member(org_a, "wang.fang@example.com", Role.MEMBER, by=admin_a)
    client.get(_url(invitation))
    # when they open the sign-up form
    html = client.get(reverse("account_signup"), headers={"Accept-Language": "zh-hans"})
    text = html.content.decode()
    # then 姓 comes before 名, and the sign-in hint ends with a full-width full stop
    assert text.index('name="last_name"') < text.index('name="first_name"')
    assert "已有账号？请" in text
    assert "登录</a>。" in text


def test_a_withdrawn_invitation_is_not_accepted_by_a_sign_up_in_progress(client, org_a, admin_a):
    # given an invitee on the sign-up form whose invitation is withdrawn meanwhile
    invitation = actions.invite_member(org_a, "late@example.com", Role.MEMBER, by=admin_a)
    client.get(_url(invitation))
    form = client.get(reverse("account_signup"))
    actions.revoke_invitation(invitation, by=admin_a)
    # when they submit it
    response = client.post(
        reverse("account_signup"),
        {
            "email": "late@example.com",
            "first_name": "Late",
            "last_name": "Person",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    # then sign-up is closed and nobody joined
    assert form.status_code == 200
    assert response.status_code == 200
    assert Membership.objects.filter(organisation=org_a).count() == 1


def test_no_organisation_page_lists_the_persons_pending_invitations(
    client, org_a, org_b, admin_a, django_assert_max_num_queries
):
    # given a person in no organisation, invited by Acme, with invitations that are not theirs
    # or no longer usable
    person = UserFactory(email="Drifter@Example.com")
    mine = InvitationFactory(organisation=org_a, email="drifter@example.com", invited_by=admin_a)
    InvitationFactory(organisation=org_b, email="someone.else@example.com")
    InvitationFactory(
        organisation=org_b,
        email="drifter@example.com",
        expires_at=timezone.now() - timedelta(days=1),
    )
    client.force_login(person)
    # when they sign in and land on the dashboard
    with django_assert_max_num_queries(12):
        page = client.get(reverse("portal:dashboard"))
    html = page.content.decode()
    # then Acme's invitation is offered with a POST button to accept it, and nothing else
    assert page.status_code == 200
    assert "You have been invited to join:" in html
    assert f'<form method="post" action="{_url(mine)}" class="inline-form">' in html
    assert '<button type="submit">Join Acme Solar</button>' in html
    assert "Globex Power" not in html
    assert "csrfmiddlewaretoken" in html


def test_accepting_from_the_no_organisation_page_opens_the_organisation(client, org_a, admin_a):
    # given the person on the no-organisation page with Acme's invitation
    person = UserFactory(email="drifter@example.com")
    invitation = InvitationFactory(organisation=org_a, email="drifter@example.com")
    client.force_login(person)
    # when they press the button
    response = client.post(_url(invitation))
    # then they are members and on Acme's dashboard
    assert response["Location"] == reverse("portal:org_dashboard", kwargs={"org_slug": "acme"})
    assert Membership.objects.get(user=person).organisation == org_a


def test_another_persons_invitation_cannot_be_accepted_from_there(client, org_b, member_a):
    # given an invitation of Globex for someone else
    invitation = InvitationFactory(organisation=org_b, email="someone.else@example.com")
    client.force_login(member_a)
    # when a member of Acme posts its key
    response = client.post(_url(invitation))
    # then it is refused and nothing changed
    assert response.status_code == 403
    assert not Membership.objects.filter(organisation=org_b).exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_no_organisation_page_in_chinese(client, org_a):
    # given a Chinese-speaking person with one pending invitation
    person = UserFactory(email="wang@example.com", preferred_language="zh-hans")
    InvitationFactory(organisation=org_a, email="wang@example.com")
    client.force_login(person)
    # when they open the dashboard in Chinese
    html = client.get(reverse("portal:dashboard"), headers={"accept-language": "zh-hans"})
    # then the list is in Chinese with full-width punctuation
    assert "您已受邀加入：" in html.content.decode()
    assert "加入 Acme Solar" in html.content.decode()


def test_no_organisation_page_without_invitations_says_whom_to_ask(client, db):
    client.force_login(UserFactory(email="alone@example.com"))
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Ask an admin of your company" in html
    assert "You have been invited to join:" not in html
