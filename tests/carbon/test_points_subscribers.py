"""Points follow orders: an order delivered through `upsert_order` (or an import, or a
recalculation) is awarded after commit by a background task, and reversed when it is later
cancelled or returned; the daily sweep settles whatever the events missed."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from carbon.footprint import calculation
from carbon.footprint.actions import store_orders, upsert_order
from carbon.footprint.orders import LegData, OrderData, ShipmentData
from carbon.models import (
    EntryKind,
    LedgerEntry,
    LegSource,
    Order,
    OrderStatus,
    PointsAccount,
    PointsAward,
)
from carbon.points import actions, awards, tasks
from tests.carbon.factories import published_dataset
from tests.carbon.test_points_ledger import delivered_order, make_policy

# These orders stand for the CRM's data (attested), so they earn points as they are.
CRM = LegSource.CRM

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(db):
    return published_dataset()


@pytest.fixture
def policy(db):
    """Baseline from the dataset: road HGV WTW = 0.1 + 0.025 = 0.125 kg/t·km; 0.1 point/kg."""
    return make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.1"))


def rail_order(status: str = "delivered", external_id: str = "PO-2001", **changes) -> OrderData:
    """20 t by rail over 500 km: 10,000 t·km at 0.03 + 0.007 = 0.037 kg/t·km WTW = 370 kg."""
    data = OrderData(
        external_id=external_id,
        order_date=dt.date(2025, 3, 3),
        delivery_date=dt.date(2025, 4, 10) if status != "open" else None,
        status=status,
        site_name=None,
        shipments=[
            ShipmentData(
                reference="SHP-1",
                legs=[LegData("rail.freight", Decimal("20"), Decimal("500"))],
            )
        ],
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def account_state(organisation) -> tuple[int, int, int, int]:
    account = PointsAccount.objects.filter(organisation=organisation).first()
    if account is None:
        return (0, 0, 0, 0)
    return account.pending, account.available, account.held, account.entries.count()


def test_a_delivered_order_is_awarded_after_its_upsert_commits(
    org_a, dataset, policy, django_capture_on_commit_callbacks
):
    # given an approved policy in force on the delivery date
    # when a delivered order is upserted (as the API and the CRM sync do)
    with django_capture_on_commit_callbacks(execute=True):
        order, created = upsert_order(org_a, rail_order(), source=CRM)
    # then it earns 10,000 x 0.12522 (the policy's road baseline) - 370 = 882.2 kg avoided
    # x 0.1 = 88 points, pending
    assert created
    award = PointsAward.objects.get(order=order)
    assert (award.points, award.avoided_logistics_kg, award.policy) == (
        88,
        Decimal("882.200000"),
        policy,
    )
    assert account_state(org_a) == (88, 0, 0, 1)


def test_a_cancelled_order_is_reversed_when_it_is_upserted_again(
    org_a, dataset, policy, django_capture_on_commit_callbacks
):
    # given a delivered order awarded through its upsert, whose points have activated
    with django_capture_on_commit_callbacks(execute=True):
        order, _ = upsert_order(org_a, rail_order(), source=CRM)
    actions.activate_due(dt.date(2025, 5, 1))
    assert account_state(org_a) == (0, 88, 0, 2)
    # when the CRM sends it again as cancelled (only its status changes: no new footprint)
    with django_capture_on_commit_callbacks(execute=True):
        upsert_order(org_a, rail_order(status="cancelled"), source=CRM)
    # then its points are reversed once, under the key reverse:<order>
    entry = LedgerEntry.objects.get(kind=EntryKind.REVERSE)
    assert (entry.points, entry.available_delta, entry.pending_delta) == (88, -88, 0)
    assert entry.idempotency_key == f"reverse:{order.pk}:{entry.award_id}"
    assert account_state(org_a) == (0, 0, 0, 3)
    # and a later change to the cancelled order reverses nothing more
    with django_capture_on_commit_callbacks(execute=True):
        upsert_order(org_a, rail_order(status="returned"), source=CRM)
    assert account_state(org_a) == (0, 0, 0, 3)


def test_an_order_delivered_later_is_awarded_on_the_upsert_that_delivers_it(
    org_a, dataset, policy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upsert_order(org_a, rail_order(status="shipped", delivery_date=None), source=CRM)
    assert not PointsAward.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        order, _ = upsert_order(org_a, rail_order(), source=CRM)
    assert PointsAward.objects.get().order == order
    assert account_state(org_a) == (88, 0, 0, 1)


def test_without_a_policy_the_upsert_succeeds_and_nothing_is_awarded(
    org_a, dataset, django_capture_on_commit_callbacks, caplog
):
    # given no policy in force on the delivery date
    make_policy(effective_from=dt.date(2026, 1, 1))
    # when a delivered order is upserted
    with (
        caplog.at_level(logging.INFO, logger="carbon.points.ledger"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        order, created = upsert_order(org_a, rail_order(), source=CRM)
    # then the order is stored, nothing is awarded, and the skip is logged at info
    assert created
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert not PointsAward.objects.exists()
    assert account_state(org_a) == (0, 0, 0, 0)
    skipped = [r for r in caplog.records if "not awarded" in r.getMessage()]
    assert skipped
    assert {r.levelno for r in skipped} == {logging.INFO}
    assert "no_policy" in skipped[0].getMessage()


def test_nothing_is_awarded_before_the_transaction_commits(org_a, dataset, policy):
    # the test's own transaction never commits, so the after-commit handlers never run
    upsert_order(org_a, rail_order(), source=CRM)
    assert not PointsAward.objects.exists()


def test_an_import_awards_its_delivered_orders_and_reverses_its_cancelled_ones(
    org_a, dataset, policy, django_capture_on_commit_callbacks
):
    # given an import of two delivered orders
    with django_capture_on_commit_callbacks(execute=True):
        store_orders(org_a, [rail_order(), rail_order(external_id="PO-2002")], source=CRM)
    assert PointsAward.objects.count() == 2
    assert account_state(org_a) == (176, 0, 0, 2)
    # when the next import cancels one of them (its footprint is unchanged)
    with django_capture_on_commit_callbacks(execute=True):
        store_orders(
            org_a,
            [rail_order(), rail_order(status="cancelled", external_id="PO-2002")],
            source=CRM,
        )
    # then that one's pending points are reversed
    reversal = LedgerEntry.objects.get(kind=EntryKind.REVERSE)
    assert reversal.order.external_id == "PO-2002"
    assert account_state(org_a) == (88, 0, 0, 3)


def test_a_recalculation_awards_orders_delivered_before_a_footprint_existed(
    org_a, dataset, policy, django_capture_on_commit_callbacks
):
    # given a delivered order without a footprint yet (stored before the dataset was loaded)
    order = Order.objects.create(
        organisation=org_a,
        external_id="PO-3001",
        order_date=dt.date(2025, 3, 1),
        delivery_date=dt.date(2025, 3, 20),
        status=OrderStatus.DELIVERED,
    )
    shipment = order.shipments.create(reference="SHP-1")
    shipment.legs.create(
        sequence=1,
        category="rail.freight",
        mass_t=Decimal(20),
        distance_km=Decimal(500),
        source=CRM,
    )
    # when the footprints are recalculated in bulk (one event per organisation)
    with django_capture_on_commit_callbacks(execute=True):
        result = calculation.recalculate(org_a)
    # then the order is awarded from the new snapshot
    assert result.created == 1
    assert PointsAward.objects.get().order == order
    assert account_state(org_a) == (88, 0, 0, 1)


def test_the_daily_sweep_settles_what_the_events_missed(org_a, settings):
    # given orders changed without events: one delivered, one cancelled with pending points,
    # one delivered before the policy's date, and one already awarded
    make_policy(points_per_kg=Decimal(1))
    missed = delivered_order(org_a, 40)
    cancelled = delivered_order(org_a, 30)
    actions.award_order(cancelled)
    Order.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    too_early = delivered_order(org_a, 20, dt.date(2024, 12, 31))
    done = delivered_order(org_a, 10)
    actions.award_order(done)
    assert set(awards.unsettled_orders()) == {missed, cancelled}
    # when the daily task runs (eager in tests), in batches of one
    outcome = tasks.award_delivered_orders.delay(batch_size=1).get()
    # then the missed one is awarded and the cancelled one reversed; the others are untouched
    assert outcome == {"awarded": 1, "reversed": 1}
    assert PointsAward.objects.filter(order=missed, points=40).exists()
    assert not PointsAward.objects.filter(order=too_early).exists()
    assert LedgerEntry.objects.get(kind=EntryKind.REVERSE).order == cancelled
    assert account_state(org_a) == (50, 0, 0, 4)
    # and a second run finds nothing to do
    assert list(awards.unsettled_orders()) == []
    assert tasks.award_delivered_orders.delay().get() == {}
    # and it is on beat's daily schedule
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "carbon.tasks.award_delivered_orders" in scheduled


def test_settling_an_order_twice_changes_nothing_the_second_time(org_a):
    make_policy()
    order = delivered_order(org_a, 40)
    assert tasks.settle_order_points.delay(order.pk).get() == "awarded"
    assert tasks.settle_order_points.delay(order.pk).get() == "already_awarded"
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.RETURNED)
    assert tasks.settle_order_points.delay(order.pk).get() == "reversed"
    assert tasks.settle_order_points.delay(order.pk).get() == "already_reversed"
    assert account_state(org_a) == (0, 0, 0, 2)
    assert tasks.settle_order_points.delay(10**9).get() == "missing"
