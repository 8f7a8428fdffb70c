"""Races on PostgreSQL: two people (or two tabs) accepting the same invitation at once."""

from __future__ import annotations

import pytest

from portal import actions
from portal.exceptions import InvitationError
from portal.models import AuditEvent, Invitation, Membership, OutboxEvent, Role
from tests.concurrency import race
from tests.factories import InvitationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.race, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_accepts_make_one_membership(org_a, admin_a):
    # given an invitation and the invited person, signed in in two tabs
    invitation = actions.invite_member(org_a, "racer@example.com", "member", by=admin_a)
    user = UserFactory(email="racer@example.com")
    # when both tabs accept at the same moment
    results = race(lambda _: actions.accept_invitation(invitation.key, user), 2)
    assert results.overlapped, results.intervals
    # then exactly one succeeds and the other is told the invitation is used
    memberships = [r for r in results if isinstance(r, Membership)]
    errors = [r for r in results if isinstance(r, InvitationError)]
    assert len(memberships) == 1, results
    assert len(errors) == 1, results
    assert errors[0].code == "invitation_used"
    assert Membership.objects.filter(organisation=org_a, user=user).count() == 1
    assert Membership.objects.get(organisation=org_a, user=user).role == Role.MEMBER
    assert Invitation.objects.get(pk=invitation.pk).accepted_by == user
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1
    assert OutboxEvent.objects.filter(type="greenloop.account.member_joined").count() == 1


def test_many_concurrent_accepts_make_one_membership(org_a, admin_a):
    invitation = InvitationFactory(organisation=org_a, email="crowd@example.com", role=Role.VIEWER)
    user = UserFactory(email="crowd@example.com")
    results = race(lambda _: actions.accept_invitation(invitation.key, user), 6)
    assert results.overlapped, results.intervals
    assert sum(isinstance(r, Membership) for r in results) == 1, results
    assert sum(isinstance(r, InvitationError) for r in results) == 5, results
    assert Membership.objects.filter(organisation=org_a, user=user).count() == 1
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1


def test_concurrent_duplicate_invitations_store_one(org_a, admin_a):
    # given two admins' tabs inviting the same address at the same moment
    results = race(
        lambda _: actions.invite_member(org_a, "twice@example.com", "member", by=admin_a), 2
    )
    assert results.overlapped, results.intervals
    # then the database's constraint lets one through and the other gets a clear refusal
    assert sum(isinstance(r, Invitation) for r in results) == 1, results
    errors = [r for r in results if isinstance(r, InvitationError)]
    assert len(errors) == 1, results
    assert errors[0].field == "email"
    assert Invitation.objects.filter(email="twice@example.com").count() == 1
    assert AuditEvent.objects.filter(action="invitation.sent").count() == 1
    assert OutboxEvent.objects.filter(type="greenloop.account.member_invited").count() == 1
