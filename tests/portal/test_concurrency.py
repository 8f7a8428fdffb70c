"""Races on PostgreSQL: two people (or two tabs) accepting the same invitation at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from portal import actions
from portal.exceptions import InvitationError
from portal.models import AuditEvent, Invitation, Membership, OutboxEvent, Role
from tests.factories import InvitationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(worker, count: int) -> list:
    """Run `worker()` in `count` threads released together; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = worker()
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_concurrent_accepts_make_one_membership(org_a, admin_a):
    # given an invitation and the invited person, signed in in two tabs
    invitation = actions.invite_member(org_a, "racer@example.com", "member", by=admin_a)
    user = UserFactory(email="racer@example.com")
    # when both tabs accept at the same moment
    results = _race(lambda: actions.accept_invitation(invitation.key, user), 2)
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
    results = _race(lambda: actions.accept_invitation(invitation.key, user), 6)
    assert sum(isinstance(r, Membership) for r in results) == 1, results
    assert sum(isinstance(r, InvitationError) for r in results) == 5, results
    assert Membership.objects.filter(organisation=org_a, user=user).count() == 1
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1


def test_concurrent_duplicate_invitations_store_one(org_a, admin_a):
    # given two admins' tabs inviting the same address at the same moment
    results = _race(
        lambda: actions.invite_member(org_a, "twice@example.com", "member", by=admin_a), 2
    )
    # then the database's constraint lets one through and the other gets a clear refusal
    assert sum(isinstance(r, Invitation) for r in results) == 1, results
    errors = [r for r in results if isinstance(r, InvitationError)]
    assert len(errors) == 1, results
    assert errors[0].field == "email"
    assert Invitation.objects.filter(email="twice@example.com").count() == 1
    assert AuditEvent.objects.filter(action="invitation.sent").count() == 1
    assert OutboxEvent.objects.filter(type="greenloop.account.member_invited").count() == 1
