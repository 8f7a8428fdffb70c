"""Awards: the points an order earns when it is delivered (policy in force, baseline, cap), and
which orders an award or a reversal is due for. The writes (awarding, activating, settling) are
in carbon.points.actions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from carbon.footprint.factors import FactorTable, default_dataset
from carbon.footprint.provenance import UNVERIFIED, unverified_legs
from carbon.footprint.units import plain_decimal
from carbon.models import (
    CalculationSnapshot,
    EnergyScope,
    EntryKind,
    Order,
    OrderStatus,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
)
from carbon.points import formulas as calc
from carbon.points.exceptions import PointsError, PolicyError
from carbon.points.ledger import FORMULA

BASELINE_CATEGORY = "road.hgv.average_laden"
# The refusal of an order with customer-entered legs that no staff member has verified.
UNATTESTED = "unattested_data"


def live_awards() -> QuerySet[PointsAward]:
    """Awards in force: not superseded by a re-settlement."""
    return PointsAward.objects.filter(superseded_at__isnull=True)


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


@dataclass(frozen=True)
class AwardTerms:
    """What a delivered order earns under a policy, worked out from its current footprint: the
    fields of its `PointsAward`, its breakdown included."""

    policy: PointsPolicy
    snapshot: CalculationSnapshot
    avoided_logistics_kg: Decimal
    avoided_scope2_kg: Decimal
    points: int
    breakdown: dict[str, Any]


def award_terms(order: Order, policy: PointsPolicy | None = None) -> AwardTerms:
    """The award of a delivered order's current snapshot under `policy`, by default the policy
    in force on its delivery date. Refused (PointsError, PolicyError) when the order is not
    delivered, no active policy applies or the order has no footprint yet."""
    if order.status != OrderStatus.DELIVERED or order.delivery_date is None:
        raise PointsError("Only delivered orders earn points.", code="order_not_delivered")
    if unverified_legs().filter(shipment__order=order).exists():
        raise PointsError(str(UNVERIFIED.message), code=UNATTESTED)
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
    return AwardTerms(
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


def unsettled_orders() -> QuerySet[Order]:
    """Orders `carbon.points.actions.settle_order` would change: delivered ones with a current
    footprint, attested legs and no award that delivered on or after the first active policy's
    date; delivered ones whose award is stale (its snapshot is no longer current, or a leg is
    now unverified customer data); and cancelled or returned ones with an award not yet
    reversed."""
    first = (
        PointsPolicy.objects.filter(status=PolicyStatus.ACTIVE)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    live = live_awards().filter(order=OuterRef("pk"))
    unverified = Exists(unverified_legs().filter(shipment__order=OuterRef("pk")))
    current = Exists(CalculationSnapshot.objects.filter(order=OuterRef("pk"), is_current=True))
    to_award = (
        Q(status=OrderStatus.DELIVERED, delivery_date__gte=first)
        & ~Exists(live)
        & current
        & ~unverified
        if first is not None
        else Q(pk__in=[])
    )
    to_resettle = (
        Q(status=OrderStatus.DELIVERED)
        & Exists(live)
        & (~Exists(live.filter(snapshot__is_current=True)) | unverified)
    )
    to_reverse = Q(status__in=[OrderStatus.CANCELLED, OrderStatus.RETURNED]) & Exists(
        PointsAward.objects.filter(order=OuterRef("pk"), points__gt=0).exclude(
            entries__kind=EntryKind.REVERSE
        )
    )
    return Order.objects.filter(to_award | to_resettle | to_reverse)


def awards_using_declaration(declaration_id: int) -> QuerySet[PointsAward]:
    """Awards with points whose footprint snapshot used the green-power declaration."""
    return (
        live_awards()
        .filter(points__gt=0, snapshot__inputs__green_power__declaration_id=declaration_id)
        .select_related("order__organisation", "policy")
        .order_by("id")
    )


def green_power_reward(award: PointsAward) -> int:
    """The part of an award its green power earned: its points less what its logistics part
    alone earns under the same policy rate and cap."""
    logistics_only = calc.points_for(
        award.avoided_logistics_kg, award.policy.points_per_kg, award.policy.per_order_cap
    )
    return max(0, award.points - logistics_only)
