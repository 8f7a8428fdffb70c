"""Awards: the points an order earns when it is delivered (policy in force, baseline, cap), their
activation after the pending period, and keeping awards in step with orders (award on delivery,
reverse on cancellation or return). Every write goes through the ledger's append path."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from carbon.footprint.exceptions import CalculationError
from carbon.footprint.factors import FactorTable, default_dataset
from carbon.footprint.units import plain_decimal
from carbon.models import (
    CalculationSnapshot,
    EnergyScope,
    EntryKind,
    LedgerEntry,
    Order,
    OrderStatus,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
)
from carbon.points import formulas as calc
from carbon.points.events import POINTS_ACTIVATED, POINTS_AWARDED
from carbon.points.exceptions import PointsError, PolicyError
from carbon.points.ledger import (
    FORMULA,
    account_for,
    add_months,
    append_entry,
    lock_account,
    publish_entry_event,
    request_fingerprint,
    reverse_order,
)

logger = logging.getLogger(__name__)

BASELINE_CATEGORY = "road.hgv.average_laden"


def baseline_intensity(policy: PointsPolicy) -> tuple[Decimal, dict[str, Any]]:
    """The policy's baseline in kgCO2e per t·km, and where it comes from. Without a value of its
    own: the active dataset's road.hgv.average_laden WTW (its WTW row, else TTW + WTT)."""
    if policy.baseline_kg_per_tkm is not None:
        return policy.baseline_kg_per_tkm, {"source": "policy"}
    dataset = default_dataset()
    table = FactorTable.load(dataset, categories=[BASELINE_CATEGORY])
    wtw = table.get(BASELINE_CATEGORY, EnergyScope.WTW)
    ttw = table.get(BASELINE_CATEGORY, EnergyScope.TTW)
    wtt = table.get(BASELINE_CATEGORY, "WTT")
    refs = [wtw] if wtw is not None else [ttw, wtt] if ttw is not None and wtt is not None else []
    if not refs:
        raise PolicyError(
            f"The dataset {dataset.label} has no {BASELINE_CATEGORY} factors for the baseline.",
            code="no_baseline",
        )
    value = sum((ref.canonical for ref in refs), Decimal(0))
    return value, {"source": "dataset", "factors": [ref.as_json() for ref in refs]}


def award_order(order: Order, *, policy: PointsPolicy | None = None) -> PointsAward:
    """Award points for a delivered order's current snapshot under the policy in force on its
    delivery date, as pending points. Idempotent per order and policy: a repeat returns the
    first award (its entry's key is ``earn:<order>:<policy>``)."""
    if order.status != OrderStatus.DELIVERED or order.delivery_date is None:
        raise PointsError("Only delivered orders earn points.", code="order_not_delivered")
    policy = policy or PointsPolicy.objects.in_force(order.delivery_date)
    if policy is None or policy.status != PolicyStatus.ACTIVE:
        raise PolicyError("No active points policy applies to this order.", code="no_policy")
    snapshot = CalculationSnapshot.objects.filter(order=order, is_current=True).first()
    if snapshot is None:
        raise PointsError("The order has no calculated footprint yet.", code="no_footprint")
    baseline, baseline_source = baseline_intensity(policy)
    logistics = calc.avoided_logistics_kg(snapshot.tkm, snapshot.wtw_kg, baseline)
    scope2 = (
        calc.avoided_scope2_kg(snapshot.scope2_location_kg, snapshot.scope2_market_kg)
        if policy.include_green_power
        else Decimal(0)
    )
    uncapped = calc.points_for(logistics + scope2, policy.points_per_kg, None)
    earned = calc.points_for(logistics + scope2, policy.points_per_kg, policy.per_order_cap)
    account = account_for(order.organisation)
    key = f"earn:{order.pk}:{policy.pk}"
    with transaction.atomic():
        account = lock_account(account)
        existing = PointsAward.objects.filter(order=order, policy=policy).first()
        if existing is not None:
            return existing
        award = PointsAward.objects.create(
            order=order,
            policy=policy,
            snapshot=snapshot,
            avoided_logistics_kg=logistics,
            avoided_scope2_kg=scope2,
            points=earned,
            breakdown={
                "policy_version": policy.version,
                "snapshot_id": snapshot.pk,
                "inputs": {
                    "tkm": plain_decimal(snapshot.tkm),
                    "wtw_kg": plain_decimal(snapshot.wtw_kg),
                    "scope2_location_kg": plain_decimal(snapshot.scope2_location_kg),
                    "scope2_market_kg": plain_decimal(snapshot.scope2_market_kg),
                },
                "baseline": {"kg_per_tkm": plain_decimal(baseline), **baseline_source},
                "include_green_power": policy.include_green_power,
                "avoided_logistics_kg": plain_decimal(logistics),
                "avoided_scope2_kg": plain_decimal(scope2),
                "points_per_kg": plain_decimal(policy.points_per_kg),
                "uncapped_points": uncapped,
                "cap": policy.per_order_cap,
                "points": earned,
                "formula": FORMULA,
            },
        )
        if earned > 0:
            entry = append_entry(
                account,
                EntryKind.EARN_PENDING,
                earned,
                key=key,
                fingerprint=request_fingerprint("earn", order=order.pk, policy=policy.pk),
                pending=earned,
                order=order,
                award=award,
            )
            publish_entry_event(
                POINTS_AWARDED, account, entry, order=order.external_id, award_id=award.pk
            )
    return award


def activate_due(today: dt.date) -> list[LedgerEntry]:
    """Move each award's pending points to available once `pending_days` after delivery have
    passed. The lot expires `expiry_months` after its due date (not after the run), so a late
    run never lengthens a lot's life. Key: ``activate:<award>``."""
    candidates = (
        PointsAward.objects.filter(points__gt=0, order__status=OrderStatus.DELIVERED)
        .exclude(entries__kind__in=[EntryKind.ACTIVATE, EntryKind.REVERSE])
        .select_related("order", "policy")
        .order_by("id")
    )
    written = []
    for award in candidates:
        delivered_on = award.order.delivery_date
        if delivered_on is None:
            # Stored again without a delivery date since the award: it waits for one, and the
            # other awards of the run go on.
            continue
        due = delivered_on + dt.timedelta(days=award.policy.pending_days)
        if due > today:
            continue
        account = account_for(award.order.organisation)
        key = f"activate:{award.pk}"
        with transaction.atomic():
            account = lock_account(account)
            if LedgerEntry.objects.filter(
                award=award, kind__in=[EntryKind.ACTIVATE, EntryKind.REVERSE]
            ).exists():
                continue  # another run, or a reversal, got there first
            entry = append_entry(
                account,
                EntryKind.ACTIVATE,
                award.points,
                key=key,
                fingerprint=request_fingerprint("activate", award=award.pk),
                pending=-award.points,
                available=award.points,
                order=award.order,
                award=award,
                expires_on=add_months(due, award.policy.expiry_months),
            )
            publish_entry_event(POINTS_ACTIVATED, account, entry, expires_on=entry.expires_on)
        written.append(entry)
    return written


def settle_order(order: Order) -> str:
    """Award a delivered order or reverse a cancelled/returned one, whichever applies; called
    after every change to an order or its footprint, so it must be safe to call any number of
    times. Returns what it did: "awarded", "reversed" or why it did nothing ("already_awarded",
    "no_policy", "no_footprint", ...). A missing policy or footprint is normal (the order is
    awarded once both exist), so it is logged at info and never raised."""
    if order.status == OrderStatus.DELIVERED:
        if order.delivery_date is None:
            return "no_delivery_date"
        if order.points_awards.exists():
            return "already_awarded"
        try:
            award_order(order)
        except (PointsError, CalculationError) as refused:  # no policy, footprint, baseline
            logger.info("Order %s not awarded: %s (%s)", order.pk, refused.code, refused.message)
            return refused.code
        return "awarded"
    if order.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        awards = order.points_awards.filter(points__gt=0)
        if not awards.exists():
            return "no_award"
        if not awards.exclude(entries__kind=EntryKind.REVERSE).exists():
            return "already_reversed"
        written = reverse_order(order, key=f"reverse:{order.pk}")
        return "reversed" if written else "nothing_to_reverse"
    return "not_settled"


def unsettled_orders() -> QuerySet[Order]:
    """Orders `settle_order` would change: delivered ones with a current footprint and no award
    that delivered on or after the first active policy's date, and cancelled or returned ones
    with an award not yet reversed."""
    first = (
        PointsPolicy.objects.filter(status=PolicyStatus.ACTIVE)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    to_award = (
        Q(
            status=OrderStatus.DELIVERED,
            delivery_date__gte=first,
            points_awards__isnull=True,
            snapshots__is_current=True,
        )
        if first is not None
        else Q(pk__in=[])
    )
    to_reverse = Q(
        status__in=[OrderStatus.CANCELLED, OrderStatus.RETURNED],
        points_awards__points__gt=0,
    ) & ~Q(points_awards__entries__kind=EntryKind.REVERSE)
    return Order.objects.filter(to_award | to_reverse).distinct()
