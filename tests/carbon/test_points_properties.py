"""Property-based test of the points ledger: random sequences of earn, activate, redeem (through
the redemption flow and straight through the ledger's hold for redemptions), fulfil/capture,
cancel/reject/release, expire, reverse, adjust and repeated requests keep every invariant after
every step."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import IntegrityError
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

from carbon.models import EntryKind, LedgerEntry, OrderStatus, PointsAccount, Redemption
from carbon.points import actions, ledger, settlement
from carbon.points.exceptions import InsufficientPoints
from tests.carbon.factories import ServiceFactory, hold
from tests.carbon.test_points_ledger import delivered_order, make_policy
from tests.factories import OrganisationFactory, UserFactory
from tests.properties import histories
from tests.properties import steps as history_steps


class PointsLedgerMachine(RuleBasedStateMachine):
    """One organisation's account driven through a random life. Each example uses a fresh
    organisation; the policy, the approver and the fulfilling staff member are shared."""

    policy = None
    approver = None
    fulfiller = None
    ran: Counter[str] = Counter()  # what the random histories exercised, across examples

    @initialize(first=st.integers(min_value=1, max_value=300), second=st.integers(1, 300))
    def open_account(self, first, second):
        self.account = ledger.account_for(OrganisationFactory())
        self.today = dt.date(2025, 1, 1)
        # two activated lots to start with, so that redeeming is not mostly refused
        self.orders = [
            delivered_order(self.account.organisation, points, self.today)
            for points in (first, second)
        ]
        for order in self.orders:
            actions.award_order(order)
        self.today += dt.timedelta(days=14)
        actions.activate_due(self.today)
        self.holds = {}  # redemption id -> points still held (ledger holds)
        self.requests = {}  # Redemption pk -> points still held (redemption flow)
        self.next_id = 10**6  # ledger-only redemption ids, clear of Redemption pks
        self.calls = []  # (callable, first result's pk) for replaying idempotent requests
        self.reversing = False  # whether the last step was a reversal
        self.last_available = 0

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

    def _step(self, reversing: bool = False, did: str = "") -> None:
        self.reversing = reversing
        if did:
            self.ran[did] += 1

    # --- earning

    @rule(points=st.integers(min_value=1, max_value=400))
    def earn(self, points):
        self._step(did="earn")
        order = delivered_order(self.account.organisation, points, self.today)
        actions.award_order(order)
        self.orders.append(order)

    @rule(days=st.integers(min_value=0, max_value=60))
    def activate(self, days):
        self._step()
        self.today += dt.timedelta(days=days)
        if actions.activate_due(self.today):
            self.ran["activate"] += 1

    @rule(points=st.integers(min_value=1, max_value=200))
    def adjust_up(self, points):
        self._step(did="adjust")
        key = f"adjust-{self._id()}"
        entry = actions.adjust(self.account, points, "Goodwill", self.approver, key)
        self.calls.append(
            (lambda: actions.adjust(self.account, points, "Goodwill", self.approver, key), entry.pk)
        )

    # --- redeeming

    @rule(points=st.integers(min_value=1, max_value=150))
    def hold(self, points):
        self._step()
        before = self._state()
        redemption, key = self._id(), f"hold-{self.next_id}"
        if before[1] < points:
            with pytest.raises(InsufficientPoints):
                hold(self.account, points, key, redemption)
            assert self._state() == before  # a refusal changes nothing
            self.ran["hold refused"] += 1
            return
        self.ran["hold"] += 1
        entry = hold(self.account, points, key, redemption)
        self.holds[redemption] = points

        def again():
            # a repeated hold writes nothing (the unique key, or a short balance refuses it)
            # and its key still names the first entry
            with pytest.raises((IntegrityError, InsufficientPoints)):
                hold(self.account, points, key, redemption)
            return LedgerEntry.objects.get(account=self.account, idempotency_key=key)

        self.calls.append((again, entry.pk))

    @rule(cost=st.integers(min_value=1, max_value=150))
    def request_service(self, cost):
        self._step()
        service = ServiceFactory(points_cost=cost)
        organisation = self.account.organisation
        before = self._state()
        requests_before = Redemption.objects.filter(organisation=organisation).count()
        key = f"request-{self._id()}"
        if before[1] < cost:
            with pytest.raises(InsufficientPoints):
                actions.request_redemption(organisation, service, None, key=key, today=self.today)
            assert self._state() == before
            assert Redemption.objects.filter(organisation=organisation).count() == requests_before
            self.ran["request refused"] += 1
            return
        self.ran["request"] += 1
        redemption, created = actions.request_redemption(
            organisation, service, None, key=key, today=self.today
        )
        assert created
        self.requests[redemption.pk] = cost

        def again():
            return actions.request_redemption(
                organisation, service, None, key=key, today=self.today
            )[0]

        self.calls.append((again, redemption.pk))

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), capture=st.booleans())
    def settle(self, data, capture):
        self._step()
        redemption = data.draw(st.sampled_from(sorted(self.holds)))
        action = ledger.capture_hold if capture else ledger.release_hold
        key = f"settle-{redemption}"
        entry = action(self.account, redemption, key)
        assert entry.points == self.holds.pop(redemption)
        self.ran["capture" if capture else "release"] += 1
        self.calls.append((lambda: action(self.account, redemption, key), entry.pk))

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), outcome=st.sampled_from(["fulfil", "reject", "cancel"]))
    def decide(self, data, outcome):
        self._step()
        pk = data.draw(st.sampled_from(sorted(self.requests)))
        redemption = Redemption.objects.get(pk=pk)
        if outcome == "fulfil":
            actions.fulfil(
                redemption, self.fulfiller, scheduled_for=self.today, assignee="Field team"
            )
            kind = EntryKind.CAPTURE
        elif outcome == "reject":
            actions.reject(redemption, self.fulfiller, reason="No engineer free")
            kind = EntryKind.RELEASE
        else:
            actions.cancel(redemption, None)
            kind = EntryKind.RELEASE
        entry = LedgerEntry.objects.get(account=self.account, redemption_id=pk, kind=kind)
        assert entry.points == self.requests.pop(pk)
        self.ran[outcome] += 1

    # --- expiring and reversing

    @rule(days=st.integers(min_value=0, max_value=120))
    def expire(self, days):
        self._step()
        self.today += dt.timedelta(days=days)
        before = self._state()[1]
        ran_today = self.account.entries.filter(idempotency_key=f"expire:{self.today}").exists()
        due = 0 if ran_today else ledger.allocation(self.account).due(self.today)
        written = actions.expire_due(self.today)
        mine = [e for e in written if e.account_id == self.account.pk]
        # exactly the unspent, unheld points of the lots that have run out expire
        assert sum(e.points for e in mine) == due
        assert self._state()[1] == before - due
        if due:
            self.ran["expire"] += 1

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def reverse(self, data):
        self._step(reversing=True)
        order = data.draw(st.sampled_from(self.orders))
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
        key = f"reverse-{order.pk}"
        [award] = order.points_awards.all()
        lot = ledger.allocation(self.account).lot_for_award(award.pk)
        fully_expired = lot is not None and lot.expired == lot.amount
        entries = settlement.reverse_order(order, key)
        if fully_expired:
            assert entries == []  # nothing left to take back
            self.ran["reverse expired lot"] += 1
            return
        [entry] = entries
        if lot is None:
            self.ran["reverse pending"] += 1
        elif lot.expired:
            self.ran["reverse partly expired lot"] += 1
        elif lot.spent + lot.held:
            self.ran["reverse spent lot"] += 1
        else:
            self.ran["reverse unspent lot"] += 1
        self.calls.append((lambda: settlement.reverse_order(order, key)[0], entry.pk))

    @precondition(lambda self: self.calls)
    @rule(data=st.data())
    def repeat(self, data):
        self._step()
        call, first_pk = data.draw(st.sampled_from(self.calls))
        before = self._state()
        assert call().pk == first_pk
        assert self._state() == before
        self.ran["repeat"] += 1

    # --- invariants, checked after every step (one method: fewer queries per step)

    @invariant()
    def the_ledger_keeps_its_invariants(self):
        if not hasattr(self, "account"):
            return
        self.account.refresh_from_db()
        pending, available, held = self.account.pending, self.account.available, self.account.held
        entries = list(self.account.entries.select_related("award").order_by("id"))
        # cached balances equal the sums of the entries; pending and held never go negative
        summed = tuple(
            sum(getattr(e, f"{bucket}_delta") for e in entries)
            for bucket in ("pending", "available", "held")
        )
        assert (pending, available, held) == summed
        assert pending >= 0
        assert held >= 0
        assert held == sum(self.holds.values()) + sum(self.requests.values())
        # available goes below zero (or further below) only through a reversal
        if available < 0 and not self.reversing:
            assert available >= self.last_available
        self.last_available = available
        # every key is used once
        keys = [e.idempotency_key for e in entries]
        assert len(keys) == len(set(keys))
        # lots: expired + spent + reversed never exceed the lot, and the parts add up
        allocation = ledger.allocation(self.account)
        assert allocation.available == available
        expiring_soon = allocation.due(self.today + dt.timedelta(days=ledger.EXPIRING_SOON_DAYS))
        assert 0 <= expiring_soon <= max(available, 0)
        assert allocation.deficit >= 0
        for lot in allocation.lots:
            parts = (lot.remaining, lot.held, lot.spent, lot.expired, lot.reversed)
            assert min(parts) >= 0, lot
            assert sum(parts) == lot.amount, lot
            assert lot.expired + lot.spent + lot.reversed <= lot.amount
            if allocation.deficit:
                assert lot.remaining == 0  # a deficit is paid before anything is kept
        expired = sum(e.points for e in entries if e.kind == EntryKind.EXPIRE)
        assert sum(lot.expired for lot in allocation.lots) == expired
        # a reversal never takes an award's expired points a second time
        for entry in entries:
            if entry.kind == EntryKind.REVERSE and entry.available_delta < 0:
                lot = allocation.lot_for_award(entry.award_id)
                assert -entry.available_delta + lot.expired == entry.award.points


# Marked like the @given tests (Hypothesis marks those itself) so `scripts/test.sh --deep` runs it.
@pytest.mark.hypothesis
@pytest.mark.django_db
def test_random_ledger_histories_keep_the_invariants():
    PointsLedgerMachine.policy = make_policy(pending_days=14, expiry_months=3)
    PointsLedgerMachine.approver = UserFactory(is_staff=True)
    PointsLedgerMachine.fulfiller = UserFactory(is_staff=True, is_superuser=True)
    run_state_machine_as_test(
        PointsLedgerMachine,
        settings=settings(max_examples=histories(16), stateful_step_count=history_steps(40)),
    )
    assert ledger.reconcile() == []
    assert PointsAccount.objects.count() >= 1
    # the random histories went through every kind of step (counts over all examples)
    ran = PointsLedgerMachine.ran
    steps = {
        "earn": ran["earn"],
        "activate": ran["activate"],
        "redeem": ran["hold"] + ran["request"],
        "refused": ran["hold refused"] + ran["request refused"],
        "capture": ran["capture"] + ran["fulfil"],
        "release": ran["release"] + ran["reject"] + ran["cancel"],
        "expire": ran["expire"],
        "reverse": sum(n for step, n in ran.items() if step.startswith("reverse")),
        "repeat": ran["repeat"],
    }
    assert [step for step, n in steps.items() if not n] == [], ran
