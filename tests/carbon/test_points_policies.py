"""Drafting and editing points policies (carbon/points/policies.py), the actions behind the
admin's policy screens: numbering under a race for the next version, and edits refused once a
draft is submitted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from carbon.models import PointsPolicy, PolicyStatus
from carbon.points import actions
from carbon.points.exceptions import PolicyError
from portal.models import AuditEvent
from tests.carbon.test_points_ledger import draft_policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _unsaved() -> PointsPolicy:
    return PointsPolicy(
        effective_from=dt.date(2026, 1, 1),
        points_per_kg=Decimal(1),
        pending_days=1,
        expiry_months=1,
    )


def test_a_draft_that_lost_its_number_to_a_concurrent_draft_tries_again(monkeypatch):
    # given version 1 exists, and the unique version refuses this draft's first save (another
    # draft took number 2 and then rolled back, say)
    draft_policy(version=1)
    staff = UserFactory(is_staff=True)
    real_save = PointsPolicy.save
    tries = []

    def save(self, *args, **kwargs):
        tries.append((self.pk, self.version))
        if len(tries) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(PointsPolicy, "save", save)
    # when this draft is stored
    policy = actions.create_draft_policy(_unsaved(), staff)
    # then it counted again and saved as a new row, once, and the audit names its number
    assert tries == [(None, 2), (None, 2)]
    assert (policy.version, policy.status) == (2, PolicyStatus.DRAFT)
    assert list(PointsPolicy.objects.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]
    audit = AuditEvent.objects.get(action="carbon.points_policy.created")
    assert audit.details == {"version": 2}


def test_a_draft_gives_up_after_three_lost_races(monkeypatch):
    staff = UserFactory(is_staff=True)

    def save(self, *args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(PointsPolicy, "save", save)
    with pytest.raises(IntegrityError):
        actions.create_draft_policy(_unsaved(), staff)
    assert not AuditEvent.objects.filter(action="carbon.points_policy.created").exists()


def test_a_submitted_policy_can_no_longer_be_edited():
    # given a draft that was submitted
    staff = UserFactory(is_staff=True)
    draft = draft_policy()
    actions.submit_policy(draft, staff)
    # when someone saves an edit made on the screen they opened before
    draft.points_per_kg = Decimal(5)
    with pytest.raises(PolicyError) as refused:
        actions.update_draft_policy(draft, staff)
    # then it is refused with what the policy is now, and nothing changed
    assert refused.value.code == "policy_not_draft"
    assert (
        refused.value.message == "Only a draft policy can be edited; this one is awaiting approval."
    )
    assert PointsPolicy.objects.get(pk=draft.pk).points_per_kg == Decimal(1)
    assert not AuditEvent.objects.filter(action="carbon.points_policy.updated").exists()
