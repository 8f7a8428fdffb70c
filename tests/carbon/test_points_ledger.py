"""Points policies, awards (worked examples from the published DESNZ 2025 table) and the ledger:
earn pending -> activate -> hold -> capture/release, FIFO expiry, reversals, adjustments,
idempotency, append-only entries, database constraints and `check_ledger`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from carbon.footprint.calculation import calculate_order
from carbon.models import (
    AppendOnlyError,
    CalculationSnapshot,
    EntryKind,
    LedgerEntry,
    Order,
    OrderStatus,
    PointsAccount,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
)
from carbon.points import actions, ledger, settlement, tasks
from carbon.points.exceptions import (
    IdempotencyConflict,
    InsufficientPoints,
    PointsError,
    PolicyError,
)
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import (
    GreenPowerDeclarationFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    hold,
    order_with_legs,
)
from tests.factories import OrganisationFactory, SiteFactory, UserFactory

DELIVERED = dt.date(2025, 3, 1)


# --- helpers shared with the property and concurrency tests


def make_policy(version: int = 1, **fields) -> PointsPolicy:
    """An active, approved policy: 1 point per kg above a 1 kg/t·km baseline unless told."""
    submitter = UserFactory(is_staff=True)
    approver = UserFactory(is_staff=True)
    values = {
        "effective_from": dt.date(2025, 1, 1),
        "baseline_kg_per_tkm": Decimal(1),
        "points_per_kg": Decimal(1),
        "include_green_power": True,
        "pending_days": 14,
        "expiry_months": 12,
        "status": PolicyStatus.ACTIVE,
        "submitted_by": submitter,
        "approved_by": approver,
        "approved_at": dt.datetime(2024, 12, 1, tzinfo=dt.UTC),
        **fields,
    }
    return PointsPolicy.objects.create(version=version, **values)


def delivered_order(organisation, points: int, delivered: dt.date = DELIVERED):
    """A delivered order whose current snapshot earns `points` under `make_policy()`'s defaults
    (t·km = points, WTW = 0), without running the calculation."""
    order = OrderFactory(
        organisation=organisation, status=OrderStatus.DELIVERED, delivery_date=delivered
    )
    CalculationSnapshot.objects.create(
        order=order,
        method_version="test",
        tkm=Decimal(points),
        ttw_kg=0,
        wtt_kg=0,
        wtw_kg=0,
        default_share=1,
    )
    return order


def draft_policy(version: int = 1) -> PointsPolicy:
    return PointsPolicy.objects.create(
        version=version,
        effective_from=dt.date(2026, 1, 1),
        points_per_kg=Decimal(1),
        pending_days=1,
        expiry_months=1,
    )


def account_state(account: PointsAccount) -> tuple[int, int, int, int]:
    account.refresh_from_db()
    return account.pending, account.available, account.held, account.entries.count()


def two_lots(organisation) -> tuple:
    """Order A's 100 points (delivered 2025-03-01, expiring 2026-03-15) and order B's 50
    (delivered 2025-05-01, expiring 2026-05-15), both available: (order A, order B, account)."""
    order_a = delivered_order(organisation, 100, dt.date(2025, 3, 1))
    actions.award_order(order_a)
    order_b = delivered_order(organisation, 50, dt.date(2025, 5, 1))
    actions.award_order(order_b)
    actions.activate_due(dt.date(2025, 6, 1))
    return order_a, order_b, PointsAccount.objects.get(organisation=organisation)


def spend(account: PointsAccount, points: int) -> None:
    """Redemption No. 1 holds `points` and is fulfilled."""
    hold(account, points, "h1", redemption_id=1)
    ledger.capture_hold(account, 1, "c1")


def take_back(order, status: str, key: str) -> list[LedgerEntry]:
    """The order is cancelled or returned (`status`) and the ledger reverses its award."""
    order.status = status
    order.save()
    return settlement.reverse_order(order, key)


@pytest.fixture
def staff(db):
    return UserFactory(email="sustainability@greenloop.example", is_staff=True)


@pytest.fixture
def policy(db):
    return make_policy()


@pytest.fixture
def org(db):
    return OrganisationFactory()


@pytest.fixture
def account(org):
    return ledger.account_for(org)


def funded(account, points: int, key: str = "fund") -> PointsAccount:
    approver = UserFactory(is_staff=True)
    actions.adjust(account, points, "Opening balance", approver, key)
    account.refresh_from_db()
    return account


# --- policies


def test_a_policy_is_approved_by_a_second_staff_member_and_audited(staff):
    # given a draft written and submitted by one sustainability staff member
    draft = PointsPolicy.objects.create(
        version=7,
        effective_from=dt.date(2026, 1, 1),
        points_per_kg=Decimal("0.1"),
        pending_days=30,
        expiry_months=24,
        created_by=staff,
    )
    actions.submit_policy(draft, staff)
    approver = UserFactory(email="approver@greenloop.example", is_staff=True)
    # when another staff member approves it
    actions.approve_policy(draft, approver)
    # then it is active from its date, with the approval in the audit trail
    stored = PointsPolicy.objects.get(pk=draft.pk)
    assert stored.status == PolicyStatus.ACTIVE
    assert stored.approved_by == approver
    assert stored.approved_at is not None
    event = AuditEvent.objects.get(action="carbon.points_policy.approved")
    assert event.actor == approver
    assert event.details == {"version": 7, "effective_from": "2026-01-01"}
    assert PointsPolicy.objects.in_force(dt.date(2025, 12, 31)) is None
    assert PointsPolicy.objects.in_force(dt.date(2026, 1, 1)) == stored


def test_the_submitter_cannot_approve_their_own_policy(staff):
    draft = draft_policy()
    actions.submit_policy(draft, staff)
    with pytest.raises(PolicyError) as refused:
        actions.approve_policy(draft, staff)
    assert refused.value.code == "policy_four_eyes"
    assert PointsPolicy.objects.get(pk=draft.pk).status == PolicyStatus.AWAITING_APPROVAL
    assert not AuditEvent.objects.filter(action="carbon.points_policy.approved").exists()


def test_a_draft_cannot_be_approved_without_being_submitted(staff):
    draft = draft_policy()
    with pytest.raises(PolicyError):
        actions.approve_policy(draft, UserFactory(is_staff=True))
    assert PointsPolicy.objects.get(pk=draft.pk).status == PolicyStatus.DRAFT


def test_the_database_refuses_an_active_policy_approved_by_its_submitter(staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_policy(submitted_by=staff, approved_by=staff)


def test_the_policy_in_force_is_the_latest_effective_one(db):
    first = make_policy(1, effective_from=dt.date(2025, 1, 1))
    second = make_policy(2, effective_from=dt.date(2025, 7, 1))
    make_policy(3, effective_from=dt.date(2025, 8, 1), status=PolicyStatus.DRAFT)
    assert PointsPolicy.objects.in_force(dt.date(2025, 6, 30)) == first
    assert PointsPolicy.objects.in_force(dt.date(2025, 9, 1)) == second


# --- awards: worked examples against the published DESNZ 2025 table


def test_rail_instead_of_truck_earns_points_for_the_avoided_emissions(desnz, org):
    # given the policy's per-class baselines (rail competes with road up to 1,500 km, so the leg
    # is compared with the DESNZ 2025 average-laden HGV, 0.12522 kg/t·km WTW), 0.5 points per kg
    policy = make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.5"))
    # and 20 t carried 350 km by rail (7,000 t·km at 0.02779 + 0.00691 = 0.03470 kg/t·km)
    order = order_with_legs(
        org,
        [{"category": "rail.freight", "mass_t": Decimal(20), "distance_km": Decimal(350)}],
        status=OrderStatus.DELIVERED,
        delivery_date=DELIVERED,
    )
    snapshot = calculate_order(order)
    assert snapshot.wtw_kg == Decimal("242.900000")
    # when the order is awarded
    award = actions.award_order(order)
    # then 7,000 x 0.12522 - 242.9 = 633.64 kg were avoided, floor(633.64 x 0.5) = 316 points
    assert award.avoided_logistics_kg == Decimal("633.640000")
    assert award.avoided_scope2_kg == 0
    assert award.points == 316
    assert award.policy == policy
    assert award.snapshot == snapshot
    [leg] = award.breakdown["legs"]
    assert (leg["service_class"], leg["baseline_class"]) == ("rail", "road")
    assert (leg["baseline_kg_per_tkm"], leg["reference_tkm"]) == ("0.12522", "7000")
    assert "27_304_3140_14_1" in leg["baseline_source"]
    assert award.breakdown["inputs"]["tkm"] == "7000"
    assert award.breakdown["period"]["uncapped_points"] == 316
    # and the points are pending on the organisation's account, with an event for the CRM
    account = PointsAccount.objects.get(organisation=org)
    assert (account.pending, account.available, account.held) == (316, 0, 0)
    entry = LedgerEntry.objects.get(account=account)
    assert (entry.kind, entry.points, entry.pending_delta) == (EntryKind.EARN_PENDING, 316, 316)
    event = OutboxEvent.objects.get(type="greenloop.carbon.points_awarded")
    assert event.data["points"] == 316
    assert event.data["award_id"] == award.pk


@pytest.fixture
def cn_order(desnz, org):
    """12,000 kWh attributed to a Chinese plant with a verified 60 % green ratio, and 2 t carried
    50 km by rail (100 t·km)."""
    site = SiteFactory(organisation=org, name="Wuxi plant", country="CN", region="CN")
    order = order_with_legs(
        org,
        [{"category": "rail.freight", "mass_t": Decimal(2), "distance_km": Decimal(50)}],
        delivery_site=site,
        order_date=dt.date(2025, 2, 1),
        status=OrderStatus.DELIVERED,
        delivery_date=DELIVERED,
    )
    inverter = ProductFactory(sku="INV-50K", electricity_kwh_per_unit=Decimal("4000"))
    OrderLineFactory(order=order, product=inverter, quantity=Decimal(3))
    GreenPowerDeclarationFactory(organisation=org, site=site, green_ratio=Decimal("0.6"))
    snapshot = calculate_order(order)
    assert snapshot.scope2_location_kg == Decimal("6439.200000")  # 12,000 x 0.5366
    assert snapshot.scope2_market_kg == Decimal("2810.880000")  # 12,000 x 0.4 x 0.5856
    return order


def test_verified_green_power_adds_the_avoided_scope2(cn_order):
    make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.1"))
    award = actions.award_order(cn_order)
    # logistics: 100 x 0.12522 - 100 x 0.03470 = 9.052 kg; Scope 2: 6,439.2 - 2,810.88 = 3,628.32
    assert award.avoided_logistics_kg == Decimal("9.052000")
    assert award.avoided_scope2_kg == Decimal("3628.320000")
    # floor((9.052 + 3,628.32) x 0.1) = floor(363.7372) = 363
    assert award.points == 363


def test_the_per_period_cap_limits_the_points(cn_order):
    make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.1"), per_period_cap=300)
    award = actions.award_order(cn_order)
    assert award.points == 300
    assert award.breakdown["period"]["uncapped_points"] == 363
    assert award.breakdown["period"]["cap"] == 300


def test_without_green_power_only_logistics_counts_and_zero_points_write_no_entry(cn_order, org):
    make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.1"), include_green_power=False)
    award = actions.award_order(cn_order)
    assert award.avoided_scope2_kg == 0
    assert award.points == 0  # floor(9.052 x 0.1)
    assert not LedgerEntry.objects.exists()
    assert not OutboxEvent.objects.filter(type="greenloop.carbon.points_awarded").exists()


def test_awarding_twice_returns_the_first_award(org, policy):
    order = delivered_order(org, 40)
    first = actions.award_order(order)
    again = actions.award_order(order)
    assert again.pk == first.pk
    assert PointsAward.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert PointsAccount.objects.get(organisation=org).pending == 40


@pytest.mark.parametrize("status", [OrderStatus.OPEN, OrderStatus.SHIPPED, OrderStatus.CANCELLED])
def test_only_delivered_orders_are_awarded(org, policy, status):
    order = delivered_order(org, 40)
    order.status = status
    order.save()
    with pytest.raises(PointsError):
        actions.award_order(order)
    assert not PointsAward.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_an_order_earns_under_the_policy_in_force_on_its_delivery_date(org):
    # given version 1 from 2025-01-01 (1 point per kg) and version 2 from 2025-06-01 (2 per kg)
    first = make_policy(1)
    second = make_policy(2, effective_from=dt.date(2025, 6, 1), points_per_kg=Decimal(2))
    # when orders delivered either side of the change are awarded
    before = actions.award_order(delivered_order(org, 10, dt.date(2025, 5, 31)))
    after = actions.award_order(delivered_order(org, 10, dt.date(2025, 6, 1)))
    # then each carries its own policy version
    assert (before.policy, before.points, before.breakdown["policy_version"]) == (first, 10, 1)
    assert (after.policy, after.points, after.breakdown["policy_version"]) == (second, 20, 2)


def test_an_order_without_a_policy_in_force_is_refused(org):
    make_policy(effective_from=dt.date(2026, 1, 1))
    with pytest.raises(PolicyError):
        actions.award_order(delivered_order(org, 40))
    assert not PointsAward.objects.exists()


# --- activation


def test_points_activate_after_the_pending_period_and_expire_a_year_later(org, policy):
    order = delivered_order(org, 50)
    actions.award_order(order)
    account = PointsAccount.objects.get(organisation=org)
    # not before delivery + 14 days
    assert actions.activate_due(DELIVERED + dt.timedelta(days=13)) == []
    assert account_state(account) == (50, 0, 0, 1)
    # then moved to available, expiring 12 months after the due date
    [entry] = actions.activate_due(dt.date(2025, 4, 1))
    assert entry.kind == EntryKind.ACTIVATE
    assert entry.expires_on == dt.date(2026, 3, 15)
    assert account_state(account) == (0, 50, 0, 2)
    activated = OutboxEvent.objects.get(type="greenloop.carbon.points_activated")
    assert activated.data["expires_on"] == "2026-03-15"
    # and a second run does nothing
    assert actions.activate_due(dt.date(2025, 4, 2)) == []
    assert account_state(account) == (0, 50, 0, 2)


def test_an_order_that_lost_its_delivery_date_waits_and_others_still_activate(org, policy):
    # given two awarded orders, one of which was later stored again without a delivery date
    # (an upsert may omit it while the status stays delivered)
    undated = delivered_order(org, 30)
    actions.award_order(undated)
    actions.award_order(delivered_order(org, 50))
    Order.objects.filter(pk=undated.pk).update(delivery_date=None)
    # when the daily activation runs, then the dated order's points activate, the other's wait
    [entry] = actions.activate_due(dt.date(2025, 4, 1))
    assert entry.points == 50
    assert account_state(PointsAccount.objects.get(organisation=org)) == (30, 50, 0, 3)


def test_the_daily_tasks_activate_and_expire_through_the_ledger(org, policy, settings):
    # given points earned on a delivered order
    actions.award_order(delivered_order(org, 50))
    account = PointsAccount.objects.get(organisation=org)
    # when beat runs the daily activation task after the pending period (eager in tests)
    assert tasks.activate_due_points.delay("2025-04-01").get() == 1
    assert account_state(account) == (0, 50, 0, 2)
    # and again the same day: nothing more
    assert tasks.activate_due_points.delay("2025-04-01").get() == 0
    # then the expiry task removes the lot once it has run out
    assert tasks.expire_due_points.delay("2026-03-15").get() == 1
    assert account_state(account)[1] == 0
    # and both are on beat's daily schedule
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"carbon.tasks.activate_due_points", "carbon.tasks.expire_due_points"} <= scheduled


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert ledger.add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert ledger.add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert ledger.add_months(dt.date(2025, 11, 15), 3) == dt.date(2026, 2, 15)


# --- holds


def test_a_hold_moves_available_points_to_held(account):
    funded(account, 100)
    entry = hold(account, 60, "redeem-1", redemption_id=1)
    assert (entry.kind, entry.available_delta, entry.held_delta) == (EntryKind.HOLD, -60, 60)
    assert account_state(account) == (0, 40, 60, 2)


def test_a_hold_larger_than_the_balance_is_refused_and_changes_nothing(account):
    funded(account, 100)
    before = account_state(account)
    with pytest.raises(InsufficientPoints):
        hold(account, 101, "redeem-1", redemption_id=1)
    assert account_state(account) == before


def test_a_repeated_hold_writes_nothing_and_its_key_keeps_the_first_entry(account):
    # (a repeated redemption request gets the first redemption back before it reaches the
    # ledger: tests/carbon/test_redemptions.py; the ledger's unique key is the last guard)
    funded(account, 100)
    first = hold(account, 50, "redeem-1", redemption_id=1)
    # (the balance still covers the repeat: the key alone refuses it)
    with pytest.raises(IntegrityError):
        hold(account, 50, "redeem-1", redemption_id=1)
    assert LedgerEntry.objects.get(account=account, idempotency_key="redeem-1").pk == first.pk
    assert account_state(account) == (0, 50, 50, 2)


def test_the_same_key_for_a_different_hold_is_refused(account):
    funded(account, 100)
    hold(account, 60, "redeem-1", redemption_id=1)
    with pytest.raises(IntegrityError):
        hold(account, 10, "redeem-1", redemption_id=1)
    with pytest.raises(IdempotencyConflict):
        ledger.capture_hold(account, 1, "redeem-1")
    assert account_state(account) == (0, 40, 60, 2)


def test_capture_spends_and_release_returns_the_held_points(account):
    funded(account, 100)
    hold(account, 30, "h1", redemption_id=1)
    hold(account, 20, "h2", redemption_id=2)
    capture = ledger.capture_hold(account, 1, "c1")
    release = ledger.release_hold(account, 2, "r2")
    assert (capture.points, capture.held_delta, capture.available_delta) == (30, -30, 0)
    assert (release.points, release.held_delta, release.available_delta) == (20, -20, 20)
    assert account_state(account) == (0, 70, 0, 5)
    # a settled hold cannot be settled again under a new key
    with pytest.raises(PointsError):
        ledger.release_hold(account, 1, "r1")
    assert ledger.capture_hold(account, 1, "c1").pk == capture.pk
    assert account_state(account) == (0, 70, 0, 5)


def test_a_hold_needs_a_key_and_positive_points(account):
    funded(account, 100)
    with pytest.raises(PointsError):
        hold(account, 10, "", redemption_id=1)
    with pytest.raises(PointsError):
        hold(account, 0, "k", redemption_id=1)
    assert account_state(account) == (0, 100, 0, 1)


# --- expiry


def test_expiry_is_first_in_first_out(org, policy):
    # given two lots: 100 points expiring 2026-03-15 and 50 expiring 2026-05-15
    actions.award_order(delivered_order(org, 100, dt.date(2025, 3, 1)))
    actions.award_order(delivered_order(org, 50, dt.date(2025, 5, 1)))
    actions.activate_due(dt.date(2025, 6, 1))
    account = PointsAccount.objects.get(organisation=org)
    # and 70 points spent, which come out of the older lot
    spend(account, 70)
    assert ledger.balances(account, dt.date(2025, 12, 20)).expiring_soon == 30
    # when the first lot's date passes, only its unspent 30 expire
    assert actions.expire_due(dt.date(2026, 3, 14)) == []
    [expired] = actions.expire_due(dt.date(2026, 3, 15))
    assert (expired.kind, expired.points, expired.available_delta) == (EntryKind.EXPIRE, 30, -30)
    assert account_state(account)[:3] == (0, 50, 0)
    assert OutboxEvent.objects.get(type="greenloop.carbon.points_expired").data["points"] == 30
    # a second run the same day and later runs before the next lot's date change nothing
    assert actions.expire_due(dt.date(2026, 3, 15)) == []
    assert actions.expire_due(dt.date(2026, 4, 1)) == []
    # then the second lot expires in full
    [second] = actions.expire_due(dt.date(2026, 5, 15))
    assert second.points == 50
    assert account_state(account)[:3] == (0, 0, 0)


def test_held_points_do_not_expire(org, policy):
    actions.award_order(delivered_order(org, 100))
    actions.activate_due(dt.date(2025, 4, 1))
    account = PointsAccount.objects.get(organisation=org)
    hold(account, 100, "h1", redemption_id=1)
    assert actions.expire_due(dt.date(2026, 6, 1)) == []
    # a hold released after the lot's date returns to available and then expires
    ledger.release_hold(account, 1, "r1")
    [expired] = actions.expire_due(dt.date(2026, 6, 2))
    assert expired.points == 100
    assert account_state(account)[:3] == (0, 0, 0)


# --- reversals


def test_a_cancelled_order_reverses_its_pending_points(org, policy):
    order = delivered_order(org, 80)
    actions.award_order(order)
    [entry] = take_back(order, OrderStatus.CANCELLED, "cancel-1")
    assert (entry.pending_delta, entry.available_delta, entry.points) == (-80, 0, 80)
    account = PointsAccount.objects.get(organisation=org)
    assert account_state(account)[:3] == (0, 0, 0)
    assert OutboxEvent.objects.get(type="greenloop.carbon.points_reversed").data["points"] == 80
    # a repeat returns the same entry; the award never activates afterwards
    assert [e.pk for e in settlement.reverse_order(order, "cancel-1")] == [entry.pk]
    assert actions.activate_due(dt.date(2026, 1, 1)) == []
    assert account_state(account) == (0, 0, 0, 2)


def test_reversing_spent_points_makes_the_balance_negative_and_blocks_holds(org, policy):
    order = delivered_order(org, 80)
    other = delivered_order(org, 30)
    actions.award_order(order)
    actions.activate_due(dt.date(2025, 4, 1))
    account = PointsAccount.objects.get(organisation=org)
    spend(account, 80)
    take_back(order, OrderStatus.RETURNED, "return-1")
    assert account_state(account)[:3] == (0, -80, 0)
    # a new award is pending; nothing can be held while available is negative
    actions.award_order(other)
    with pytest.raises(InsufficientPoints):
        hold(account, 1, "h2", redemption_id=2)
    actions.activate_due(dt.date(2025, 4, 1))
    assert account_state(account)[:3] == (0, -50, 0)
    with pytest.raises(InsufficientPoints):
        hold(account, 1, "h2", redemption_id=2)


def test_a_reversal_after_partial_expiry_takes_back_only_what_did_not_expire(org, policy):
    # given two lots: order A's 100 points expiring 2026-03-15, order B's 50 expiring 2026-05-15
    order_a, _, account = two_lots(org)
    # and 70 points spent, which came out of A's lot (it expires first)
    spend(account, 70)
    # and the other 30 of A's lot expired on its date
    [expired] = actions.expire_due(dt.date(2026, 3, 15))
    assert expired.points == 30
    assert account_state(account)[:3] == (0, 50, 0)
    # when order A is returned
    [entry] = take_back(order_a, OrderStatus.RETURNED, "return-a")
    # then 100 - 30 expired = 70 are taken back (the spent 70), not 100: available 50 - 70 = -20
    assert (entry.points, entry.pending_delta, entry.available_delta) == (70, 0, -70)
    assert account_state(account)[:3] == (0, -20, 0)
    event = OutboxEvent.objects.get(type="greenloop.carbon.points_reversed")
    assert (event.data["points"], event.data["already_expired"]) == (70, 30)
    # and B's 50 went towards the spent points, so nothing is left to expire on its date
    assert ledger.balances(account, dt.date(2026, 4, 1)).expiring_soon == 0
    assert actions.expire_due(dt.date(2026, 5, 15)) == []
    assert account_state(account)[:3] == (0, -20, 0)


def test_a_reversal_after_the_unspent_part_expired_takes_the_rest(org, policy):
    # given A's 100 (2026-03-15) and B's 50 (2026-05-15); 30 spent from A, A's other 70 expired
    order_a, _, account = two_lots(org)
    spend(account, 30)
    assert actions.expire_due(dt.date(2026, 3, 15))[0].points == 70
    # when A is cancelled, its 30 spent points come out of B's lot
    [entry] = take_back(order_a, OrderStatus.CANCELLED, "cancel-a")
    assert (entry.points, entry.available_delta) == (30, -30)
    assert account_state(account)[:3] == (0, 20, 0)
    # then B's remaining 20 expire on B's date
    assert actions.expire_due(dt.date(2026, 5, 15))[0].points == 20
    assert account_state(account)[:3] == (0, 0, 0)


def test_reversing_a_later_lot_leaves_the_earlier_lot_to_expire_in_full(org, policy):
    # given A's 100 expiring 2026-03-15 and B's 50 expiring 2026-05-15, nothing spent
    _, order_b, account = two_lots(org)
    # when B is cancelled, its own lot goes (not the first-expiring one)
    [entry] = take_back(order_b, OrderStatus.CANCELLED, "cancel-b")
    assert (entry.points, entry.available_delta) == (50, -50)
    # then all of A's 100 still expire on A's date
    assert ledger.expiring_lots(account, 90, dt.date(2026, 1, 1)) == [(dt.date(2026, 3, 15), 100)]
    assert actions.expire_due(dt.date(2026, 3, 15))[0].points == 100
    assert account_state(account)[:3] == (0, 0, 0)


def test_reversing_a_lot_that_expired_in_full_writes_nothing(org, policy):
    order = delivered_order(org, 100)
    actions.award_order(order)
    actions.activate_due(dt.date(2025, 4, 1))
    account = PointsAccount.objects.get(organisation=org)
    assert actions.expire_due(dt.date(2026, 3, 15))[0].points == 100
    assert take_back(order, OrderStatus.CANCELLED, "cancel-1") == []
    assert account_state(account) == (0, 0, 0, 3)
    assert not OutboxEvent.objects.filter(type="greenloop.carbon.points_reversed").exists()


def test_points_held_from_a_reversed_lot_are_held_from_the_next_one(org, policy):
    # given A's 100 (2026-03-15) and B's 50 (2026-05-15), and 60 held from A for a redemption
    order_a, _, account = two_lots(org)
    hold(account, 60, "h1", redemption_id=1)
    # when A is cancelled: nothing of it expired, so all 100 go (40 unspent + the 60 held)
    [entry] = take_back(order_a, OrderStatus.CANCELLED, "cancel-a")
    assert (entry.points, entry.available_delta) == (100, -100)
    # then the 60 stay held, now from B's 50 and 10 on credit: available 90 - 100 = -10
    assert account_state(account)[:3] == (0, -10, 60)
    assert ledger.expiring_lots(account, 365, dt.date(2025, 7, 1)) == []
    # and when the redemption is cancelled, the 10 repay the credit and B gets its 50 back
    ledger.release_hold(account, 1, "r1")
    assert account_state(account)[:3] == (0, 50, 0)
    assert ledger.expiring_lots(account, 365, dt.date(2025, 7, 1)) == [(dt.date(2026, 5, 15), 50)]


def test_only_cancelled_or_returned_orders_are_reversed(org, policy):
    order = delivered_order(org, 80)
    actions.award_order(order)
    with pytest.raises(PointsError):
        settlement.reverse_order(order, "cancel-1")
    assert LedgerEntry.objects.count() == 1


def test_a_reversal_key_used_for_another_order_is_refused(org, policy):
    first, second = delivered_order(org, 10), delivered_order(org, 20)
    for order in (first, second):
        actions.award_order(order)
        order.status = OrderStatus.CANCELLED
        order.save()
    settlement.reverse_order(first, "cancel")
    with pytest.raises(IdempotencyConflict):
        settlement.reverse_order(second, "cancel")
    assert PointsAccount.objects.get(organisation=org).pending == 20


# --- adjustments


def test_an_adjustment_needs_a_reason_and_a_staff_approver_and_is_audited(account, staff):
    with pytest.raises(PointsError):
        actions.adjust(account, 10, "", staff, "adj-1")
    with pytest.raises(PointsError):
        actions.adjust(account, 10, "Goodwill", None, "adj-1")
    with pytest.raises(PointsError):
        actions.adjust(account, 10, "Goodwill", UserFactory(), "adj-1")
    assert account_state(account) == (0, 0, 0, 0)
    entry = actions.adjust(account, -15, "Correction of ticket 42", staff, "adj-1")
    assert (entry.points, entry.available_delta, entry.approved_by) == (15, -15, staff)
    assert account_state(account) == (0, -15, 0, 1)
    audit = AuditEvent.objects.get(action="carbon.points.adjusted")
    assert audit.details == {"points": -15, "reason": "Correction of ticket 42"}


# --- the ledger's own guards


def test_entries_are_append_only(account):
    entry = funded(account, 10).entries.get()
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(points=1)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).reason == "Opening balance"


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "hold", "points": 5, "available_delta": -5, "held_delta": 4, "redemption_id": 1},
        {"kind": "earn_pending", "points": 5, "pending_delta": -5},
        {"kind": "capture", "points": 5, "held_delta": -5},  # no redemption
        {"kind": "adjust", "points": 5, "available_delta": 5},  # no reason nor approver
        {"kind": "activate", "points": 5, "pending_delta": -5, "available_delta": 5},  # no expiry
        {"kind": "reverse", "points": 5, "pending_delta": -2, "available_delta": -2},
        {"kind": "expire", "points": 0, "available_delta": 0},
        {"kind": "bonus", "points": 5, "available_delta": 5},
    ],
    ids=["hold", "earn", "capture", "adjust", "activate", "reverse", "zero", "unknown kind"],
)
def test_the_database_refuses_entries_that_break_the_sign_convention(account, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account, idempotency_key="x", request_fingerprint="x", **fields
        )


def test_the_database_refuses_a_negative_held_or_pending_balance(account):
    for column in ("held", "pending"):
        with pytest.raises(IntegrityError), transaction.atomic():
            PointsAccount.objects.filter(pk=account.pk).update(**{column: -1})


def test_balances_are_summed_from_the_entries(org, policy):
    actions.award_order(delivered_order(org, 100))
    actions.award_order(delivered_order(org, 40, dt.date(2025, 6, 1)))
    actions.activate_due(dt.date(2025, 4, 1))
    account = PointsAccount.objects.get(organisation=org)
    hold(account, 25, "h1", redemption_id=1)
    assert ledger.balances(account, dt.date(2025, 4, 1)) == ledger.Balances(
        pending=40, available=75, held=25, expiring_soon=0
    )
    # the 100-point lot expires 2026-03-15: 75 of it are still available
    assert ledger.balances(account, dt.date(2025, 12, 15)).expiring_soon == 75


# --- check_ledger


def test_check_ledger_passes_when_every_balance_reconciles(org, policy, capsys):
    actions.award_order(delivered_order(org, 100))
    actions.activate_due(dt.date(2025, 4, 1))
    PointsAccount.objects.get_or_create(organisation=OrganisationFactory())
    call_command("check_ledger")
    assert "2 points account(s) reconcile." in capsys.readouterr().out


def test_check_ledger_fails_when_a_cached_balance_was_tampered_with(org, policy, capsys):
    actions.award_order(delivered_order(org, 100))
    account = PointsAccount.objects.get(organisation=org)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PointsAccount._meta.db_table} SET available = available + 5 WHERE id = %s",  # noqa: S608
            [account.pk],
        )
    with pytest.raises(CommandError, match="1 points account"):
        call_command("check_ledger")
    assert "cached pending/available/held (100, 5, 0) != entries (100, 0, 0)" in (
        capsys.readouterr().err
    )
