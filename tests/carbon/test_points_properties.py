"""Property-based test of the points ledger: random sequences of earn, activate, hold, capture,
release, expire, reverse, adjust and repeated requests keep every invariant."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from carbon import ledger
from carbon.exceptions import InsufficientPoints
from carbon.models import LedgerEntry, OrderStatus, PointsAccount
from tests.carbon.test_points_ledger import delivered_order, make_policy
from tests.factories import OrganisationFactory, UserFactory


class PointsLedgerMachine(RuleBasedStateMachine):
    """One organisation's account driven through a random life. Each example uses a fresh
    organisation; policies and the approver are shared."""

    policy = None
    approver = None

    @initialize()
    def open_account(self):
        self.account = ledger.account_for(OrganisationFactory())
        self.today = dt.date(2025, 1, 1)
        self.orders = []  # delivered or cancelled orders with an award
        self.holds = {}  # redemption id -> points still held
        self.next_id = 0
        self.calls = []  # (callable, first result) for replaying idempotent requests

    def _state(self):
        self.account.refresh_from_db()
        return (
            self.account.pending,
            self.account.available,
            self.account.held,
            self.account.entries.count(),
        )

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    @rule(points=st.integers(min_value=1, max_value=400))
    def earn(self, points):
        order = delivered_order(self.account.organisation, points, self.today)
        ledger.award_order(order)
        self.orders.append(order)

    @rule(days=st.integers(min_value=0, max_value=60))
    def activate(self, days):
        self.today += dt.timedelta(days=days)
        ledger.activate_due(self.today)

    @rule(points=st.integers(min_value=1, max_value=500))
    def hold(self, points):
        before = self._state()
        redemption, key = self._id(), f"hold-{self.next_id}"
        if before[1] < points:
            with pytest.raises(InsufficientPoints):
                ledger.hold_points(self.account, points, key, redemption)
            assert self._state() == before  # a refusal changes nothing
            return
        entry = ledger.hold_points(self.account, points, key, redemption)
        self.holds[redemption] = points
        self.calls.append(
            (lambda: ledger.hold_points(self.account, points, key, redemption), entry.pk)
        )
        assert self._state()[1] >= 0  # a hold never overdraws

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), capture=st.booleans())
    def settle(self, data, capture):
        redemption = data.draw(st.sampled_from(sorted(self.holds)))
        action = ledger.capture_hold if capture else ledger.release_hold
        key = f"settle-{redemption}"
        entry = action(self.account, redemption, key)
        assert entry.points == self.holds.pop(redemption)
        self.calls.append((lambda: action(self.account, redemption, key), entry.pk))

    @rule(days=st.integers(min_value=0, max_value=400))
    def expire(self, days):
        self.today += dt.timedelta(days=days)
        ledger.expire_due(self.today)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def reverse(self, data):
        order = data.draw(st.sampled_from(self.orders))
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
        key = f"reverse-{order.pk}"
        entries = ledger.reverse_order(order, key)
        assert len(entries) == 1
        self.calls.append((lambda: ledger.reverse_order(order, key)[0], entries[0].pk))

    @rule(points=st.integers(min_value=-200, max_value=200).filter(bool))
    def adjust(self, points):
        key = f"adjust-{self._id()}"
        entry = ledger.adjust(self.account, points, "Correction", self.approver, key)
        self.calls.append(
            (
                lambda: ledger.adjust(self.account, points, "Correction", self.approver, key),
                entry.pk,
            )
        )

    @precondition(lambda self: self.calls)
    @rule(data=st.data())
    def repeat(self, data):
        call, first_pk = data.draw(st.sampled_from(self.calls))
        before = self._state()
        assert call().pk == first_pk
        assert self._state() == before

    @invariant()
    def cached_balances_equal_the_sums_of_the_entries(self):
        if not hasattr(self, "account"):
            return
        pending, available, held, _ = self._state()
        summed = ledger.balances(self.account, self.today)
        assert (pending, available, held) == (summed.pending, summed.available, summed.held)
        assert pending >= 0
        assert held == sum(self.holds.values())
        assert 0 <= summed.expiring_soon <= max(available, 0)

    @invariant()
    def every_key_is_used_once(self):
        if not hasattr(self, "account"):
            return
        keys = list(LedgerEntry.objects.filter(account=self.account).values_list(
            "idempotency_key", flat=True
        ))  # fmt: skip
        assert len(keys) == len(set(keys))


@pytest.mark.django_db
def test_random_ledger_histories_keep_the_invariants():
    PointsLedgerMachine.policy = make_policy(pending_days=14, expiry_months=6)
    PointsLedgerMachine.approver = UserFactory(is_staff=True)
    run_state_machine_as_test(
        PointsLedgerMachine,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None),
    )
    assert ledger.reconcile() == []
    assert PointsAccount.objects.count() >= 1
