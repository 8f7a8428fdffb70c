"""The refusals and guards of the points ledger, its lots and the redemption actions that the
worked examples elsewhere do not reach (issue #11, item 4: these modules are held to 100% line
coverage): each refusal names its code or field and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from carbon.models import EntryKind, LedgerEntry, OrderStatus, PointsAccount, PointsPolicy
from carbon.points import actions, awards, ledger, lots, redemptions
from carbon.points.baselines import default_baseline_settings
from carbon.points.exceptions import PointsError, PolicyError
from carbon.points.lots import Movement
from tests.carbon.factories import OrderFactory, ServiceFactory, fund
from tests.carbon.test_points_ledger import delivered_order, draft_policy, make_policy
from tests.factories import SiteFactory, UserFactory

TODAY = dt.date(2025, 6, 10)
MAR = dt.date(2026, 3, 15)


def _entries() -> int:
    return LedgerEntry.objects.count()


# --- policies


@pytest.mark.django_db
def test_only_a_draft_policy_can_be_submitted():
    policy = make_policy()
    with pytest.raises(PolicyError) as refused:
        actions.submit_policy(policy, UserFactory(is_staff=True))
    assert refused.value.code == "policy_not_draft"


@pytest.mark.django_db
def test_a_customer_cannot_approve_a_policy():
    policy = actions.submit_policy(draft_policy(), UserFactory(is_staff=True))
    with pytest.raises(PolicyError) as refused:
        actions.approve_policy(policy, UserFactory(email="customer@acme.example"))
    assert refused.value.code == "policy_not_staff"
    assert PointsPolicy.objects.get(pk=policy.pk).status == "awaiting_approval"


@pytest.mark.django_db
def test_a_policy_whose_baselines_lack_a_service_class_cannot_give_a_baseline():
    baselines = default_baseline_settings()
    del baselines["classes"]["air"]
    policy = make_policy(baseline_kg_per_tkm=None, baselines=baselines)
    with pytest.raises(PolicyError) as refused:
        awards.policy_baselines(policy)
    assert refused.value.code == "no_baseline"
    assert "air" in refused.value.message


# --- awards, activation, settling


@pytest.mark.django_db
def test_an_order_without_a_footprint_is_not_awarded(org_a):
    make_policy()
    order = OrderFactory(
        organisation=org_a, status=OrderStatus.DELIVERED, delivery_date=dt.date(2025, 3, 1)
    )
    with pytest.raises(PointsError) as refused:
        actions.award_order(order)
    assert refused.value.code == "no_footprint"
    assert actions.settle_order(order) == "no_footprint"
    assert _entries() == 0


@pytest.mark.django_db
def test_a_cancelled_order_that_earned_nothing_has_nothing_to_reverse(org_a):
    order = OrderFactory(organisation=org_a, status=OrderStatus.CANCELLED)
    assert actions.settle_order(order) == "no_award"
    assert _entries() == 0


@pytest.mark.django_db
def test_activation_skips_an_award_another_run_activated_first(org_a, monkeypatch):
    # given an award due for activation
    make_policy()
    actions.award_order(delivered_order(org_a, 100))
    # when another run activates it between this run's listing and its row lock
    real_account_for = ledger.account_for
    other_run = []

    def account_for(organisation):
        if not other_run:
            monkeypatch.setattr(ledger, "account_for", real_account_for)
            other_run.extend(actions.activate_due(dt.date(2025, 6, 1)))
        return real_account_for(organisation)

    monkeypatch.setattr(ledger, "account_for", account_for)
    written = actions.activate_due(dt.date(2025, 6, 1))
    # then the points are activated once, by the other run
    assert [e.kind for e in other_run] == [EntryKind.ACTIVATE]
    assert written == []
    assert LedgerEntry.objects.filter(kind=EntryKind.ACTIVATE).count() == 1
    account = PointsAccount.objects.get(organisation=org_a)
    assert (account.pending, account.available) == (0, 100)


@pytest.mark.django_db
def test_no_expiry_reminder_when_nothing_expires_soon(org_a):
    account = fund(org_a, 500)
    assert actions.record_expiry_reminders(account, TODAY) == []


# --- holds and adjustments


@pytest.mark.django_db(transaction=True)
def test_a_hold_for_a_redemption_needs_positive_points_and_a_transaction(org_a):
    account = fund(org_a, 500)
    before = _entries()
    with pytest.raises(PointsError, match="positive number of points") as refused:
        ledger.hold_for_redemption(account, 0, "h0", redemption_id=1)
    assert refused.value.field == "points"
    with pytest.raises(PointsError, match="must run inside a transaction"):
        ledger.hold_for_redemption(account, 10, "h1", redemption_id=1)
    assert _entries() == before


@pytest.mark.django_db
def test_an_adjustment_of_zero_points_is_refused(org_a):
    account = fund(org_a, 500)
    before = _entries()
    with pytest.raises(PointsError, match="must change the balance") as refused:
        actions.adjust(account, 0, "typo", approved_by=None, key="adj-0")
    assert refused.value.field == "points"
    assert _entries() == before


# --- redemptions


@pytest.mark.django_db
def test_a_request_needs_an_idempotency_key(org_a, member_a):
    fund(org_a, 1000)
    service = ServiceFactory(points_cost=300)
    with pytest.raises(actions.RedemptionError) as refused:
        actions.request_redemption(org_a, service, member_a, key="", today=TODAY)
    assert refused.value.field == "key"


@pytest.mark.django_db
def test_a_site_service_counts_the_countries_of_the_organisations_sites(org_a):
    # a German customer with a plant in China may redeem a China-only on-site service
    service = ServiceFactory(eligible_countries=["CN"], requires_site=True)
    assert redemptions.ineligibility(service, org_a, TODAY) == (
        "region_not_eligible",
        "This service is offered in China only.",
    )
    SiteFactory(organisation=org_a, country="CN")
    assert redemptions.ineligibility(service, org_a, TODAY) is None


@pytest.mark.django_db
def test_fulfilling_needs_a_date_and_an_assignee(org_a, member_a, staff_success):
    fund(org_a, 1000)
    service = ServiceFactory(points_cost=300)
    redemption, _ = actions.request_redemption(org_a, service, member_a, key="k", today=TODAY)
    with pytest.raises(actions.RedemptionError) as refused:
        actions.fulfil(redemption, staff_success, scheduled_for=None, assignee="Li")
    assert refused.value.field == "scheduled_for"
    with pytest.raises(actions.RedemptionError) as refused:
        actions.fulfil(redemption, staff_success, scheduled_for=TODAY, assignee="  ")
    assert refused.value.field == "assignee"
    redemption.refresh_from_db()
    assert redemption.status == "requested"
    account = PointsAccount.objects.get(organisation=org_a)
    assert (account.available, account.held) == (700, 300)


# --- lots: histories the ledger itself does not write, replayed as given


def _identities(allocation: lots.Allocation) -> None:
    assert allocation.available == sum(lot.remaining for lot in allocation.lots) - (
        allocation.deficit
    )
    for lot in allocation.lots:
        parts = (lot.remaining, lot.held, lot.spent, lot.expired, lot.reversed)
        assert sum(parts) == lot.amount
        assert min(parts) >= 0


def test_reversing_an_award_twice_takes_the_second_amount_from_the_other_lots():
    allocation = lots.replay(
        [
            Movement("activate", 100, 100, award_id=1, expires_on=MAR),
            Movement("activate", 50, 50, award_id=2, expires_on=MAR),
            Movement("reverse", 100, -100, award_id=1),
            Movement("reverse", 20, -20, award_id=1),
        ]
    )
    assert allocation.available == 30
    assert allocation.lot_for_award(2).remaining == 30
    _identities(allocation)


def test_releasing_a_hold_on_credit_pays_the_deficit_then_refills_the_paying_lot():
    # given 100 points all held, then the award behind them reversed: the hold is on credit
    allocation = lots.replay(
        [
            Movement("activate", 100, 100, award_id=1, expires_on=MAR),
            Movement("hold", 100, -100, redemption_id=7),
            Movement("reverse", 100, -100, award_id=1),
        ]
    )
    assert (allocation.available, allocation.deficit) == (-100, 100)
    # and a new award of 30 pays towards the deficit
    allocation.apply(Movement("activate", 30, 30, award_id=2, expires_on=MAR))
    assert (allocation.available, allocation.deficit) == (-70, 70)
    # when the hold is released, the deficit is gone and the award's 30 points are back
    allocation.apply(Movement("release", 100, 100, redemption_id=7))
    assert (allocation.available, allocation.deficit) == (30, 0)
    assert allocation.lot_for_award(2).remaining == 30
    assert allocation.payers == []
    _identities(allocation)


def test_a_release_larger_than_its_hold_opens_a_lot_for_the_excess():
    allocation = lots.replay(
        [
            Movement("activate", 100, 100, award_id=1, expires_on=MAR),
            Movement("hold", 10, -10, redemption_id=7),
            Movement("release", 15, 15, redemption_id=7),
        ]
    )
    assert allocation.available == 105
    assert sorted(lot.remaining for lot in allocation.lots) == [5, 100]
    _identities(allocation)


def test_a_reversal_smaller_than_the_lot_gives_the_rest_back():
    allocation = lots.replay(
        [
            Movement("activate", 100, 100, award_id=1, expires_on=MAR),
            Movement("reverse", 40, -40, award_id=1),
        ]
    )
    assert allocation.available == 60
    assert allocation.lot_for_award(1).closed is True
    _identities(allocation)
