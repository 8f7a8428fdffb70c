"""Refusals and repeats of the points ledger and redemptions with their literal codes, messages
and limits (found missing by the mutation runs, scripts/mutation.sh)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from carbon.models import PointsPolicy, PolicyStatus
from carbon.points import actions, ledger
from carbon.points.exceptions import InsufficientPoints, PolicyError
from tests.carbon.factories import ServiceFactory, fund
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 10)


def test_only_staff_approve_a_points_policy():
    submitter = UserFactory(email="sustainability@greenloop.example", is_staff=True)
    draft = PointsPolicy.objects.create(
        version=3,
        effective_from=dt.date(2026, 1, 1),
        points_per_kg=Decimal(1),
        pending_days=1,
        expiry_months=1,
    )
    actions.submit_policy(draft, submitter)
    with pytest.raises(PolicyError) as refused:
        actions.approve_policy(draft, UserFactory(email="customer@acme.example"))
    assert refused.value.code == "policy_not_staff"
    assert refused.value.message == "Only staff can approve a points policy."
    assert PointsPolicy.objects.get(pk=draft.pk).status == PolicyStatus.AWAITING_APPROVAL


def test_a_short_hold_names_what_was_asked_and_what_is_there(org_a):
    fund(org_a, 100)
    with pytest.raises(InsufficientPoints) as refused, transaction.atomic():
        ledger.hold_for_redemption(org_a, 300, "hold-1", redemption_id=1)
    assert refused.value.message == "300 points requested, 100 available."
    assert (refused.value.field, refused.value.available) == ("points", 100)


def test_a_note_of_2000_characters_is_accepted_and_one_more_is_not(org_a, member_a):
    service = ServiceFactory(points_cost=100)
    fund(org_a, 1000)
    with pytest.raises(actions.RedemptionError) as refused:
        actions.request_redemption(org_a, service, member_a, key="k1", today=TODAY, note="n" * 2001)
    assert (refused.value.code, refused.value.field) == ("redemption_error", "note")
    redemption, created = actions.request_redemption(
        org_a, service, member_a, key="k2", today=TODAY, note="n" * 2000
    )
    assert created is True
    assert len(redemption.customer_note) == 2000


def test_a_repeat_without_a_preferred_date_returns_the_first(org_a, member_a):
    service = ServiceFactory(points_cost=100)
    fund(org_a, 1000)
    first, created = actions.request_redemption(org_a, service, member_a, key="k1", today=TODAY)
    again, created_again = actions.request_redemption(
        org_a, service, member_a, key="k1", today=TODAY
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.preferred_date is None
