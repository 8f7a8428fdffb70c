"""Invitations: an admin invites an address, the invitee follows the link and joins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal import actions
from portal.adapter import INVITATION_SESSION_KEY
from portal.exceptions import InvitationError, PermissionDeniedError
from portal.models import AuditEvent, Invitation, Membership, OutboxEvent, Role, User
from tests.factories import TEST_PASSWORD, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


def _counts() -> dict[str, int]:
    return {
        "invitations": Invitation.objects.count(),
        "memberships": Membership.objects.count(),
        "users": User.objects.count(),
        "events": OutboxEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _invitation_url(invitation: Invitation) -> str:
    return reverse("portal:invitation", kwargs={"key": invitation.key})


# --- inviting


def test_admin_invites_a_colleague(org_a, admin_a, django_capture_on_commit_callbacks):
    # given an admin of Acme
    # when they invite a new colleague as viewer
    with django_capture_on_commit_callbacks(execute=True):
        invitation = actions.invite_member(org_a, "  New.Person@Example.com ", "viewer", by=admin_a)

    # then one open invitation is stored for the normalised address
    stored = Invitation.objects.get()
    assert stored == invitation
    assert stored.organisation == org_a
    assert stored.email == "new.person@example.com"
    assert stored.role == Role.VIEWER
    assert stored.invited_by == admin_a
    assert stored.status == "pending"
    assert len(stored.key) >= 40
    # and the invitee is e-mailed the link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert "Acme Solar" in message.subject
    assert f"/invitations/{stored.key}/" in message.body
    # and the audit trail and the CRM outbox both know
    event = AuditEvent.objects.get()
    assert event.action == "invitation.sent"
    assert event.actor == admin_a
    assert event.organisation == org_a
    assert event.object_id == str(stored.pk)
    assert event.details == {"email": "new.person@example.com", "role": "viewer"}
    outbox = OutboxEvent.objects.get()
    assert outbox.type == "greenloop.account.member_invited"
    assert outbox.organisation == org_a
    assert outbox.subject == f"invitations/{stored.pk}"
    # the address stays in the portal: the event names the invitation (data minimisation)
    assert outbox.data == {"invitation_id": stored.pk, "role": "viewer"}


def test_the_email_is_sent_only_after_commit(org_a, admin_a, django_capture_on_commit_callbacks):
    # given an admin / when the invitation is created but the transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.invite_member(org_a, "later@example.com", "member", by=admin_a)
    # then nothing has been sent yet; the e-mail waits for the commit
    assert mail.outbox == []
    assert len(callbacks) >= 1


@pytest.mark.parametrize("who", ["member_a", "viewer_a"])
def test_member_or_viewer_cannot_invite(request, org_a, admin_a, who):
    # given a member or viewer of Acme
    user = request.getfixturevalue(who)
    before = _counts()
    # when they try to invite someone
    with pytest.raises(PermissionDeniedError):
        actions.invite_member(org_a, "friend@example.com", "admin", by=user)
    # then nothing is stored and nothing is sent
    assert _counts() == before
    assert mail.outbox == []


def test_admin_of_another_organisation_cannot_invite(org_a, admin_b):
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        actions.invite_member(org_a, "friend@example.com", "member", by=admin_b)
    assert _counts() == before


def test_duplicate_open_invitation_is_refused(org_a, admin_a):
    # given an open invitation for an address
    first = actions.invite_member(org_a, "dup@example.com", "member", by=admin_a)
    before = _counts()
    # when the admin invites the same address again (in another case)
    with pytest.raises(InvitationError) as caught:
        actions.invite_member(org_a, "DUP@example.com", "admin", by=admin_a)
    # then it is refused on the e-mail field and nothing changes
    assert caught.value.field == "email"
    assert "open invitation" in caught.value.message
    assert _counts() == before
    assert Invitation.objects.get() == first
    assert Invitation.objects.get().role == Role.MEMBER


def test_same_address_may_be_invited_by_two_organisations(org_a, admin_a, org_b, admin_b):
    actions.invite_member(org_a, "both@example.com", "member", by=admin_a)
    actions.invite_member(org_b, "both@example.com", "member", by=admin_b)
    assert Invitation.objects.filter(email="both@example.com").count() == 2


def test_an_expired_invitation_can_be_replaced(org_a, admin_a):
    # given an invitation that expired unused
    old = InvitationFactory(
        organisation=org_a,
        email="late@example.com",
        invited_by=admin_a,
        expires_at=timezone.now() - timedelta(days=1),
    )
    # when the admin sends a new one, as the expired page tells the invitee to ask for
    new = actions.invite_member(org_a, "late@example.com", "member", by=admin_a)
    # then the new one is open and the old one can no longer be used
    assert Invitation.objects.pending().get() == new
    old.refresh_from_db()
    assert old.status != "pending"
    assert old.accepted_at is None
    with pytest.raises(InvitationError):
        actions.check_invitation(old.key)


def test_already_member_is_refused(org_a, admin_a, member_a):
    before = _counts()
    with pytest.raises(InvitationError) as caught:
        actions.invite_member(org_a, "MEMBER@acme.example", "admin", by=admin_a)
    assert caught.value.field == "email"
    assert "already a member" in caught.value.message
    assert _counts() == before


def test_unknown_role_is_refused(org_a, admin_a):
    before = _counts()
    with pytest.raises(InvitationError) as caught:
        actions.invite_member(org_a, "x@example.com", "owner", by=admin_a)
    assert caught.value.field == "role"
    assert _counts() == before


def test_admin_revokes_an_invitation(org_a, admin_a):
    # given an open invitation
    invitation = actions.invite_member(org_a, "gone@example.com", "member", by=admin_a)
    # when the admin withdraws it
    actions.revoke_invitation(invitation, by=admin_a)
    # then it is revoked and audited
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert AuditEvent.objects.filter(action="invitation.revoked", actor=admin_a).count() == 1


def test_member_cannot_revoke_an_invitation(org_a, admin_a, member_a):
    invitation = actions.invite_member(org_a, "stay@example.com", "member", by=admin_a)
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        actions.revoke_invitation(invitation, by=member_a)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert _counts() == before


# --- accepting


def test_accept_creates_the_membership_with_the_invited_role(
    org_a, admin_a, received_events, django_capture_on_commit_callbacks
):
    # given an invitation as viewer and the invited person's account
    invitation = actions.invite_member(org_a, "joiner@example.com", "viewer", by=admin_a)
    joiner = UserFactory(email="joiner@example.com")
    # when they accept
    with django_capture_on_commit_callbacks(execute=True):
        membership = actions.accept_invitation(invitation.key, joiner)
    # then they are a viewer of Acme
    assert Membership.objects.get(user=joiner) == membership
    assert membership.organisation == org_a
    assert membership.role == Role.VIEWER
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == joiner
    # and the acceptance is audited and published
    event = AuditEvent.objects.get(action="invitation.accepted")
    assert event.actor == joiner
    assert event.organisation == org_a
    assert event.details == {"role": "viewer", "new_member": True}
    joined = OutboxEvent.objects.get(type="greenloop.account.member_joined")
    assert joined.subject == f"users/{joiner.pk}"
    assert joined.data == {"user_id": joiner.pk, "role": "viewer"}
    assert [e.type for e in received_events] == ["greenloop.account.member_joined"]


def _refused(key: str, user) -> InvitationError:
    before = _counts()
    memberships = set(Membership.objects.values_list("pk", "role"))
    with pytest.raises(InvitationError) as caught:
        actions.accept_invitation(key, user)
    assert set(Membership.objects.values_list("pk", "role")) == memberships
    assert Membership.objects.count() == before["memberships"]
    assert OutboxEvent.objects.count() == before["events"]
    return caught.value


def test_expired_invitation_is_refused(org_a, admin_a):
    invitation = InvitationFactory(
        organisation=org_a,
        email="late@example.com",
        invited_by=admin_a,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    user = UserFactory(email="late@example.com")
    error = _refused(invitation.key, user)
    assert error.code == "invitation_expired"
    assert "expired" in error.message
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_used_invitation_is_refused(org_a, admin_a):
    invitation = actions.invite_member(org_a, "once@example.com", "member", by=admin_a)
    user = UserFactory(email="once@example.com")
    actions.accept_invitation(invitation.key, user)
    accepted_at = Invitation.objects.get().accepted_at
    # when the same link is used again
    error = _refused(invitation.key, user)
    # then it is refused as used, and the first acceptance stands unchanged
    assert error.code == "invitation_used"
    assert Invitation.objects.get().accepted_at == accepted_at


def test_revoked_invitation_is_refused(org_a, admin_a):
    invitation = actions.invite_member(org_a, "withdrawn@example.com", "member", by=admin_a)
    actions.revoke_invitation(invitation, by=admin_a)
    user = UserFactory(email="withdrawn@example.com")
    error = _refused(invitation.key, user)
    assert error.code == "invitation_revoked"
    assert not Membership.objects.filter(user=user).exists()


def test_unknown_invitation_is_refused(member_a):
    error = _refused("no-such-key", member_a)
    assert error.code == "invitation_unknown"


def test_invitation_for_another_address_is_refused_and_audited(org_a, admin_a, member_b):
    # given an invitation for someone else
    invitation = actions.invite_member(org_a, "invited@example.com", "admin", by=admin_a)
    # when a signed-in member of Globex who got hold of the link tries to accept it
    error = _refused(invitation.key, member_b)
    # then it is refused, the invitation stays open, and the attempt is on the audit trail
    assert error.code == "invitation_foreign"
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Membership.objects.filter(user=member_b, organisation=org_a).exists()
    event = AuditEvent.objects.get(action="invitation.refused_foreign")
    assert event.actor == member_b
    assert event.organisation == org_a
    assert event.object_id == str(invitation.pk)


def test_accepting_when_already_a_member_keeps_the_role(org_a, admin_a):
    # given an invitation to a person who joined Acme by other means in the meantime
    invitation = actions.invite_member(org_a, "early@example.com", "viewer", by=admin_a)
    user = UserFactory(email="early@example.com")
    Membership.objects.create(user=user, organisation=org_a, role=Role.MEMBER)
    # when they accept
    membership = actions.accept_invitation(invitation.key, user)
    # then their membership is unchanged and no join is published
    assert Membership.objects.get(user=user).role == Role.MEMBER
    assert membership.role == Role.MEMBER
    assert not OutboxEvent.objects.filter(type="greenloop.account.member_joined").exists()
    assert AuditEvent.objects.get(action="invitation.accepted").details == {
        "role": "member",
        "new_member": False,
    }


# --- the invitation page


def test_anonymous_visitor_without_account_sees_sign_up(client, org_a, admin_a):
    # given an invitation to an address with no account
    invitation = actions.invite_member(org_a, "fresh@example.com", "member", by=admin_a)
    # when the invitee opens the link
    response = client.get(_invitation_url(invitation))
    # then the page explains the invitation and offers sign-up
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Solar" in html
    # the address may wrap after its @ and before a dot: a long one no longer runs past the card
    # on a phone
    assert '<strong><span translate="no">fresh@<wbr>example<wbr>.com</span></strong>' in html
    assert reverse("account_signup") in html
    assert "Create account" in html
    # and the session remembers the invitation and treats the address as verified
    assert client.session[INVITATION_SESSION_KEY] == invitation.key
    assert client.session["account_verified_email"] == "fresh@example.com"


def test_anonymous_visitor_with_account_is_asked_to_sign_in(client, org_a, admin_a):
    UserFactory(email="known@example.com")
    invitation = actions.invite_member(org_a, "known@example.com", "member", by=admin_a)
    response = client.get(_invitation_url(invitation))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{reverse('account_login')}?next=" in html
    assert client.session[INVITATION_SESSION_KEY] == invitation.key
    # an existing account is not re-verified by the link
    assert client.session.get("account_verified_email") is None


def test_unknown_key_is_404(client, db):
    before = _counts()
    response = client.get(reverse("portal:invitation", kwargs={"key": "nope"}))
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()
    assert INVITATION_SESSION_KEY not in client.session
    assert _counts() == before


def test_expired_link_is_410_with_the_reason(client, org_a, admin_a):
    # given an expired invitation
    invitation = InvitationFactory(
        organisation=org_a,
        invited_by=admin_a,
        expires_at=timezone.now() - timedelta(days=2),
    )
    # when the invitee opens it
    response = client.get(_invitation_url(invitation))
    # then they get 410 Gone with the reason and what to do
    assert response.status_code == 410
    html = response.content.decode()
    assert "This invitation expired on" in html
    assert "Ask your administrator for a new one." in html
    assert 'data-code="invitation_expired"' in html
    assert INVITATION_SESSION_KEY not in client.session
    # and the refusal is audited
    event = AuditEvent.objects.get(action="invitation.refused")
    assert event.details == {"reason": "invitation_expired"}
    assert event.organisation == org_a


def test_used_link_is_410_with_the_reason(client, org_a, admin_a):
    invitation = actions.invite_member(org_a, "used@example.com", "member", by=admin_a)
    actions.accept_invitation(invitation.key, UserFactory(email="used@example.com"))
    response = client.get(_invitation_url(invitation))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This invitation has already been used." in html
    assert 'data-code="invitation_used"' in html


def test_signed_in_invitee_accepts_and_lands_on_the_dashboard(client, org_a, admin_a):
    # given the invited person, signed in
    invitation = actions.invite_member(org_a, "signed.in@example.com", "member", by=admin_a)
    user = UserFactory(email="signed.in@example.com")
    client.force_login(user)
    # when they open the link, then accept
    page = client.get(_invitation_url(invitation))
    response = client.post(_invitation_url(invitation))
    # then they are a member and are sent to Acme's dashboard
    assert page.status_code == 200
    assert "Accept invitation" in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:org_dashboard", kwargs={"org_slug": "acme"})
    assert Membership.objects.get(user=user).role == Role.MEMBER
    assert INVITATION_SESSION_KEY not in client.session
    assert client.get(response["Location"]).status_code == 200


def test_signed_in_other_person_is_refused_on_post(client, org_a, admin_a, member_b):
    invitation = actions.invite_member(org_a, "someone@example.com", "member", by=admin_a)
    client.force_login(member_b)
    page = client.get(_invitation_url(invitation))
    assert "Only the invited address can accept." in page.content.decode()
    response = client.post(_invitation_url(invitation))
    assert response.status_code == 403
    assert 'data-code="invitation_foreign"' in response.content.decode()
    assert not Membership.objects.filter(user=member_b, organisation=org_a).exists()
    assert Invitation.objects.get().status == "pending"


def test_existing_user_signs_in_from_the_invitation_and_comes_back(client, org_a, admin_a):
    # given an invited person who already has an account (in another organisation)
    user = UserFactory(email="returning@example.com")
    invitation = actions.invite_member(org_a, "returning@example.com", "viewer", by=admin_a)
    client.get(_invitation_url(invitation))
    # when they sign in
    response = client.post(
        reverse("account_login"), {"login": "returning@example.com", "password": TEST_PASSWORD}
    )
    # then they come back to the invitation, where they can accept it
    assert response.status_code == 302
    assert response["Location"] == _invitation_url(invitation)
    accepted = client.post(_invitation_url(invitation))
    assert accepted.status_code == 302
    assert Membership.objects.get(user=user, organisation=org_a).role == Role.VIEWER


# --- sign-up


def _signup(client, email: str, **extra):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "first_name": "Fresh",
            "last_name": "Person",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            **extra,
        },
    )


def test_sign_up_through_an_invitation(client, org_a, admin_a):
    # given an invitee who followed the link and has no account
    invitation = actions.invite_member(org_a, "fresh@example.com", "member", by=admin_a)
    client.get(_invitation_url(invitation))
    # when they sign up
    response = _signup(client, "fresh@example.com")
    # then the account exists with a verified address, without a second confirmation e-mail
    user = User.objects.get(email="fresh@example.com")
    assert (user.first_name, user.last_name) == ("Fresh", "Person")
    address = EmailAddress.objects.get(user=user)
    assert address.verified is True
    assert address.primary is True
    assert len(mail.outbox) == 0
    # and they are signed in and already members: creating the account accepted the invitation
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Membership.objects.get(user=user).organisation == org_a
    assert Invitation.objects.get(pk=invitation.pk).accepted_by == user
    assert INVITATION_SESSION_KEY not in client.session
    dashboard = client.get(response["Location"])
    assert dashboard["Location"] == reverse("portal:org_dashboard", kwargs={"org_slug": "acme"})


def test_sign_up_for_another_address_than_the_invited_one_is_refused(client, org_a, admin_a):
    invitation = actions.invite_member(org_a, "fresh@example.com", "member", by=admin_a)
    client.get(_invitation_url(invitation))
    users = User.objects.count()
    response = _signup(client, "someone.else@example.com")
    assert response.status_code == 200
    assert "Sign up with the address the invitation was sent to" in response.content.decode()
    assert User.objects.count() == users


def test_open_sign_up_is_closed(client, db):
    # given a visitor without an invitation
    users = User.objects.count()
    # when they open or post the sign-up form
    page = client.get(reverse("account_signup"))
    response = _signup(client, "stranger@example.com")
    # then sign-up is closed and no account is created
    for result in (page, response):
        assert result.status_code == 200
        html = result.content.decode()
        assert "We are sorry, but the sign up is currently closed." in html
        assert 'name="password1"' not in html
    assert User.objects.count() == users
    assert not User.objects.filter(email="stranger@example.com").exists()


def test_sign_up_is_closed_once_the_invitation_is_withdrawn(client, org_a, admin_a):
    # given a visitor who opened an invitation that was withdrawn afterwards
    invitation = actions.invite_member(org_a, "fresh@example.com", "member", by=admin_a)
    client.get(_invitation_url(invitation))
    actions.revoke_invitation(invitation, by=admin_a)
    users = User.objects.count()
    # when they try to sign up, with any address
    responses = [_signup(client, "stranger@example.com"), _signup(client, "fresh@example.com")]
    # then sign-up is closed and no account is created
    for response in responses:
        assert "We are sorry, but the sign up is currently closed." in response.content.decode()
    assert User.objects.count() == users
