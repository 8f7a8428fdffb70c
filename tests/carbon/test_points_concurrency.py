"""Races on PostgreSQL: real threads holding points against one balance (through
`ledger.hold_for_redemption`, the hold a redemption request makes) at the same moment, a
reversal racing holds, two workers settling one order and concurrent reminder runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError

from carbon.models import (
    EntryKind,
    ExpiryReminder,
    LedgerEntry,
    OrderStatus,
    PointsAccount,
    PointsAward,
)
from carbon.points import actions, ledger, settlement, tasks
from carbon.points.exceptions import InsufficientPoints
from portal.models import Role
from tests.carbon.factories import hold
from tests.carbon.test_points_ledger import delivered_order, make_policy
from tests.concurrency import race
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.race, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture
def account():
    account = ledger.account_for(OrganisationFactory())
    actions.adjust(account, 100, "Opening balance", UserFactory(is_staff=True), "fund")
    return account


def test_eight_threads_with_repeated_keys_never_overdraw_nor_duplicate(account):
    # given 100 points, and 4 redemptions of 30 points each sent twice (8 threads), held the way
    # a redemption request holds them (the request-level race, where a repeat gets its twin's
    # redemption back, is in tests/carbon/test_redemptions.py)
    # when all 8 holds arrive at once
    results = race(lambda i: hold(account, 30, f"redeem-{i % 4}", i % 4), THREADS)
    assert results.overlapped, results.intervals
    # then 3 redemptions are held once each, and the fourth is refused in both its requests
    entries = [r for r in results if isinstance(r, LedgerEntry)]
    short = [i for i, r in enumerate(results) if isinstance(r, InsufficientPoints)]
    assert len(entries) == 3, results
    assert len({entry.idempotency_key for entry in entries}) == 3
    unheld = {f"redeem-{n}" for n in range(4)} - {entry.idempotency_key for entry in entries}
    [twin_a, twin_b] = [i for i in range(THREADS) if f"redeem-{i % 4}" in unheld]
    assert isinstance(results[twin_a], InsufficientPoints), results
    assert isinstance(results[twin_b], InsufficientPoints), results
    for index, result in enumerate(results):
        twin = results[(index + 4) % THREADS]
        if isinstance(result, LedgerEntry):
            # the repeat wrote nothing: the key was taken (the unique key), or, once the points
            # were gone, the balance was short
            assert isinstance(twin, IntegrityError | InsufficientPoints), results
    assert len(short) + len(entries) + sum(isinstance(r, IntegrityError) for r in results) == 8
    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.HOLD).count() == 3
    stored = PointsAccount.objects.get(pk=account.pk)
    assert (stored.available, stored.held) == (10, 90)
    assert ledger.reconcile() == []


def test_many_small_holds_from_eight_threads_stop_exactly_at_zero(account):
    # given 100 points and 8 threads each trying 20 holds of 7 points
    def worker(index: int) -> list:
        outcomes = []
        for n in range(20):
            try:
                hold(account, 7, f"t{index}-{n}", index * 100 + n)
                outcomes.append(True)
            except InsufficientPoints:
                outcomes.append(False)
        return outcomes

    results = race(worker, THREADS)
    assert results.overlapped, results.intervals
    # then exactly floor(100 / 7) = 14 holds succeed and 2 points stay available
    assert all(isinstance(r, list) for r in results), results
    assert sum(sum(r) for r in results) == 14
    stored = PointsAccount.objects.get(pk=account.pk)
    assert (stored.available, stored.held) == (2, 98)
    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.HOLD).count() == 14
    assert ledger.reconcile() == []


def test_a_reversal_racing_holds_never_overdraws_and_happens_once():
    # given 100 points in the lot of one order, which the customer then returns
    make_policy()
    organisation = OrganisationFactory()
    order = delivered_order(organisation, 100)
    actions.award_order(order)
    actions.activate_due(dt.date(2025, 4, 1))
    order.status = OrderStatus.RETURNED
    order.save(update_fields=["status"])
    account = ledger.account_for(organisation)

    # when six threads hold 30 points each while two reverse the order at the same moment
    def worker(index: int):
        if index < 2:
            return settlement.reverse_order(order, "return")
        return hold(account, 30, f"h{index}", index)

    results = race(worker, THREADS)
    assert results.overlapped, results.intervals
    # then the order is reversed exactly once, in full (nothing had expired)
    reversals = results[:2]
    assert all(isinstance(r, list) and len(r) == 1 for r in reversals), results
    assert reversals[0][0].pk == reversals[1][0].pk
    assert reversals[0][0].points == 100
    # and the holds that got in before it were covered: at most 3, and every other was refused
    held = [r for r in results[2:] if isinstance(r, LedgerEntry)]
    refused = [r for r in results[2:] if isinstance(r, InsufficientPoints)]
    assert len(held) + len(refused) == 6, results
    assert len(held) <= 3
    stored = PointsAccount.objects.get(pk=account.pk)
    assert (stored.available, stored.held) == (100 - 30 * len(held) - 100, 30 * len(held))
    assert ledger.reconcile() == []


def test_two_workers_settling_one_delivered_order_award_it_once():
    make_policy()
    order = delivered_order(OrganisationFactory(), 40)
    results = race(lambda i: tasks.settle_order_points(order.pk), 4)
    assert results.overlapped, results.intervals
    # the order is read before the account lock is taken, so a late worker may still call
    # award_order; under the lock it finds the first award and writes nothing
    assert results.count("awarded") >= 1, results
    assert set(results) <= {"awarded", "already_awarded"}, results
    assert PointsAward.objects.filter(order=order).count() == 1
    assert LedgerEntry.objects.filter(award__order=order, kind=EntryKind.EARN_PENDING).count() == 1
    assert ledger.reconcile() == []


def test_concurrent_reminder_runs_send_each_reminder_once(mailoutbox):

    make_policy(pending_days=14, expiry_months=12)
    organisation = OrganisationFactory()
    MembershipFactory(user=UserFactory(), organisation=organisation, role=Role.ADMIN)
    actions.award_order(delivered_order(organisation, 120))
    actions.activate_due(dt.date(2025, 4, 1))
    results = race(lambda i: tasks.send_expiry_reminders("2026-02-20"), 4)
    assert results.overlapped, results.intervals
    assert sorted(results) == [0, 0, 0, 1], results
    assert ExpiryReminder.objects.get().points == 120
    assert len(mailoutbox) == 1
