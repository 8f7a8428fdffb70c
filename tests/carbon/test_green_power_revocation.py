"""Revoking a verified green-power declaration: the site's orders in the period are restated
without it, and the green-power reward their awards earned is reversed on the ledger exactly
once, whether the award was still pending or already available, and a later cancellation of the
order takes back only what is left."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from carbon.footprint.calculation import calculate_order
from carbon.footprint.declaration_actions import revoke_declaration
from carbon.footprint.exceptions import DeclarationError
from carbon.models import (
    CalculationSnapshot,
    DeclarationStatus,
    EntryKind,
    GreenPowerDeclaration,
    LedgerEntry,
    OrderStatus,
    PointsAward,
)
from carbon.points import actions, ledger, settlement, tasks
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import (
    GreenPowerDeclarationFactory,
    OrderLineFactory,
    ProductFactory,
    order_with_legs,
)
from tests.carbon.test_points_ledger import make_policy
from tests.factories import OrganisationFactory, SiteFactory

pytestmark = pytest.mark.django_db

DELIVERED = dt.date(2025, 3, 1)


@pytest.fixture
def org(db):
    return OrganisationFactory()


@pytest.fixture
def awarded(org):
    """A Chinese plant's delivered order (12,000 kWh, 100 t·km by rail) calculated with a
    verified 60 % declaration and awarded under 0.1 point per kg over a 1 kg/t·km baseline."""
    call_command("load_reference_data", stdout=io.StringIO())
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
    declaration = GreenPowerDeclarationFactory(
        organisation=org, site=site, green_ratio=Decimal("0.6")
    )
    calculate_order(order)
    make_policy(points_per_kg=Decimal("0.1"))
    award = actions.award_order(order)
    # logistics 100 x 1 - 3.47 = 96.53 kg; green-power reward basis 6,439.2 - 2,810.88 =
    # 3,628.32 kg; floor(3,724.85 x 0.1) = 372, of which floor(9.653) = 9 for logistics alone
    assert (award.avoided_logistics_kg, award.avoided_scope2_kg, award.points) == (
        Decimal("96.530000"),
        Decimal("3628.320000"),
        372,
    )
    return order, declaration, award


def _balances(org):
    account = ledger.account_for(org)
    account.refresh_from_db()
    return account.pending, account.available


def test_revoking_restates_the_orders_and_reverses_the_reward_once(
    awarded, org, sustainability, django_capture_on_commit_callbacks
):
    order, declaration, award = awarded
    before = CalculationSnapshot.objects.get(order=order, is_current=True)
    # when sustainability staff revoke it (the subscribers run after commit)
    with django_capture_on_commit_callbacks(execute=True):
        revoke_declaration(
            declaration, "Certificates were also sold to another buyer.", sustainability
        )
    # then the order is restated: no market-based figure any more
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.REVOKED
    assert declaration.revocation_reason == "Certificates were also sold to another buyer."
    after = CalculationSnapshot.objects.get(order=order, is_current=True)
    assert after.supersedes == before
    assert after.scope2_market_kg is None
    assert after.inputs["green_power"] is None
    # and the 372-point award is taken back once in all (by the green-power subscriber, 363,
    # and the re-settlement, the rest; or by the re-settlement alone, whichever ran first),
    # and a new award holds the 9 points its logistics alone earn, on the restated snapshot
    award.refresh_from_db()
    assert award.superseded_at is not None
    taken = LedgerEntry.objects.filter(award=award).exclude(kind=EntryKind.EARN_PENDING)
    assert {e.kind for e in taken} <= {EntryKind.REVERSE_GREEN, EntryKind.REVERSE}
    assert sum(e.points for e in taken) == 372
    live = PointsAward.objects.get(order=order, superseded_at__isnull=True)
    assert (live.points, live.snapshot) == (9, after)
    assert _balances(org) == (9, 0)
    # a second delivery of the event, or the tasks run again, writes nothing more
    entries = LedgerEntry.objects.count()
    tasks.reverse_revoked_green_power(declaration.pk, sustainability.pk)
    tasks.reverse_revoked_green_power(declaration.pk, sustainability.pk)
    assert actions.settle_order(order) == "already_awarded"
    assert LedgerEntry.objects.count() == entries
    assert _balances(org) == (9, 0)
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_revoked").count() == 1
    assert AuditEvent.objects.filter(action="carbon.green_power_revoked").count() == 1
    # activation later moves the 9 points
    (activated,) = actions.activate_due(DELIVERED + dt.timedelta(days=14))
    assert (activated.points, activated.pending_delta, activated.available_delta) == (9, -9, 9)
    assert _balances(org) == (0, 9)
    assert ledger.reconcile() == []


def test_when_the_reward_is_taken_back_before_the_re_settlement_nothing_is_taken_twice(
    awarded, org, sustainability, django_capture_on_commit_callbacks, monkeypatch
):
    # given the reward was activated, and the declaration is revoked and its orders restated
    # while the re-settlement of the order has not run yet
    order, declaration, award = awarded
    actions.activate_due(DELIVERED + dt.timedelta(days=14))
    assert _balances(org) == (0, 372)
    with monkeypatch.context() as later:
        later.setattr(actions, "resettle_order", lambda order, live: "not yet")
        with django_capture_on_commit_callbacks(execute=True):
            revoke_declaration(declaration, "Retirement statement was forged.", sustainability)
    # then the green-power subscriber took the reward back (a repeat writes nothing more)
    assert tasks.reverse_revoked_green_power(declaration.pk, sustainability.pk) == 1
    entry = LedgerEntry.objects.get(kind=EntryKind.REVERSE_GREEN)
    assert (entry.points, entry.pending_delta, entry.available_delta) == (363, 0, -363)
    assert entry.approved_by == sustainability
    assert entry.idempotency_key == f"green-power-revoked:{declaration.pk}:{award.pk}"
    assert _balances(org) == (0, 9)
    # then the re-settlement takes only the 9 left and awards the 9 logistics points anew
    assert actions.settle_order(order) == "resettled"
    reverse = LedgerEntry.objects.get(kind=EntryKind.REVERSE)
    assert (reverse.award, reverse.points, reverse.available_delta) == (award, 9, -9)
    assert _balances(org) == (9, 0)
    # and a cancellation takes back only the new award's 9
    order.status = OrderStatus.CANCELLED
    order.save()
    assert actions.settle_order(order) == "reversed"
    assert _balances(org) == (0, 0)
    assert ledger.reconcile() == []


def test_a_reward_already_reversed_with_its_order_is_not_taken_again(
    awarded, org, sustainability, django_capture_on_commit_callbacks
):
    order, declaration, _award = awarded
    order.status = OrderStatus.RETURNED
    order.save()
    assert actions.settle_order(order) == "reversed"
    with django_capture_on_commit_callbacks(execute=True):
        revoke_declaration(declaration, "Double counted.", sustainability)
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSE_GREEN).count() == 0
    assert _balances(org) == (0, 0)


def test_revocation_needs_a_reason_staff_and_a_verified_declaration(
    awarded, admin_a, sustainability
):
    _order, declaration, _award = awarded
    with pytest.raises(DeclarationError, match="Say why the declaration is revoked."):
        revoke_declaration(declaration, "  ", sustainability)
    with pytest.raises(PermissionDeniedError):
        revoke_declaration(declaration, "No.", admin_a)
    assert GreenPowerDeclaration.objects.get(pk=declaration.pk).status == DeclarationStatus.VERIFIED
    revoke_declaration(declaration, "Double counted.", sustainability)
    with pytest.raises(DeclarationError, match="The declaration is revoked."):
        revoke_declaration(declaration, "Again.", sustainability)
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_revoked").count() == 1


def test_an_award_whose_whole_pending_was_taken_back_is_not_activated(awarded, org, sustainability):
    # given the green-power part took back every pending point of the award
    _order, _declaration, award = awarded
    entry = settlement.reverse_green_reward(
        award, 372, key="green-all", reason="Test: all of it.", approved_by=sustainability
    )
    assert (entry.points, entry.pending_delta) == (372, -372)
    # when activation comes due, nothing is left to move
    assert actions.activate_due(DELIVERED + dt.timedelta(days=14)) == []
    assert not LedgerEntry.objects.filter(kind=EntryKind.ACTIVATE).exists()
    assert _balances(org) == (0, 0)
