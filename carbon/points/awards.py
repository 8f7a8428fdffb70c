"""Awards: what an order contributes when it is delivered (each leg against the baseline of its
service class, netted), the points of its organisation's settlement period, and which orders an
award or a reversal is due for. The writes (awarding, activating, settling) are
in carbon.points.actions."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from carbon.footprint import hubs, locations
from carbon.footprint.model import mode_of
from carbon.footprint.provenance import UNVERIFIED, unverified_legs
from carbon.footprint.units import plain_decimal
from carbon.models import (
    CalculationSnapshot,
    EntryKind,
    Order,
    OrderStatus,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
    SettlementPeriod,
)
from carbon.points import baselines
from carbon.points import formulas as calc
from carbon.points.exceptions import PointsError, PolicyError
from carbon.points.ledger import FORMULA
from portal.models import Organisation

# The refusal of an order with customer-entered legs that no staff member has verified.
UNATTESTED = "unattested_data"


def live_awards() -> QuerySet[PointsAward]:
    """Awards in force: not superseded by a re-settlement."""
    return PointsAward.objects.filter(superseded_at__isnull=True)


def reference_distance_km(leg: baselines.LegBasis) -> Decimal | None:
    """The leg's reference distance for points, or None to use its declared distance: the
    great circle between its two ends x the GLEC distance adjustment factor of its mode (air:
    + 95 km), capped by the declared distance (`carbon.footprint.locations`), so a longer
    route earns nothing extra. None when an end is not a known location (the declared distance
    is then the basis, and the order page says so).

    Read from the distances the calculation stored with the leg; worked out from its ends only
    for a leg stored before reference distances."""
    if leg.category is None:
        return None
    if leg.distance is not None:
        stored = leg.distance.get("reference_km")
        return None if stored in (None, "") else Decimal(str(stored))
    reference, _ = locations.reference_distance_km(
        mode_of(leg.category), leg.origin, leg.destination, leg.declared_km
    )
    return reference


def policy_baselines(policy: PointsPolicy) -> baselines.BaselineSettings:
    """The policy's baselines per service class. A policy with one `baseline_kg_per_tkm` uses
    that value for every class (and no modal shift). Malformed data raises PolicyError."""
    if policy.baseline_kg_per_tkm is not None:
        one = policy.baseline_kg_per_tkm
        return baselines.BaselineSettings(
            classes={
                name: baselines.Baseline(name, one, "policy") for name in baselines.SERVICE_CLASSES
            },
            modal_shift=(),
            short_sea_max_km=Decimal(baselines.DEFAULT_SHORT_SEA_MAX_KM),
        )
    try:
        return baselines.BaselineSettings.parse(policy.baselines or {})
    except baselines.BaselineSettingsError as malformed:
        raise PolicyError(str(malformed), code="no_baseline") from malformed


def snapshot_legs(snapshot: CalculationSnapshot) -> list[baselines.LegBasis]:
    """The legs of a footprint snapshot as the baseline comparison needs them: category, mass
    and declared distance from its inputs, actual WTW from its results. A snapshot without
    per-leg results (none made by the calculation) is one leg of its totals, compared as road."""
    results = (snapshot.results or {}).get("legs") or []
    inputs = {
        (leg.get("shipment"), leg.get("sequence")): leg
        for leg in (snapshot.inputs or {}).get("legs") or []
    }
    legs = []
    for result in results:
        if hubs.is_hub(result.get("category") or ""):
            # A hub operation (warehouse, terminal) is the same with or without the greener
            # transport it serves: it neither earns nor costs points, so declaring one never
            # pays less than leaving it out.
            continue
        given = inputs.get((result.get("shipment"), result.get("sequence")), {})
        mass, distance = given.get("mass_t"), given.get("distance_km")
        tkm = Decimal(str(result.get("tkm") or 0))
        if mass in (None, "") or distance in (None, ""):
            mass, distance = "1", tkm  # an input lost: its t·km as 1 t over that many km
        legs.append(
            baselines.LegBasis(
                category=result.get("category"),
                mass_t=Decimal(str(mass)),
                declared_km=Decimal(str(distance)),
                wtw_kg=Decimal(str(result.get("wtw_kg") or 0)),
                origin=given.get("origin") or "",
                destination=given.get("destination") or "",
                distance=result.get("distance"),
            )
        )
    if not results:
        legs.append(
            baselines.LegBasis(
                category=None,
                mass_t=Decimal(1),
                declared_km=snapshot.tkm,
                wtw_kg=snapshot.wtw_kg,
            )
        )
    return legs


@dataclass(frozen=True)
class Contribution:
    """What one order adds to its settlement period's avoided emissions (signed)."""

    legs: list[baselines.LegContribution]
    logistics_kg: Decimal
    scope2_kg: Decimal

    @property
    def total_kg(self) -> Decimal:
        return self.logistics_kg + self.scope2_kg


def contribution(snapshot: CalculationSnapshot, policy: PointsPolicy) -> Contribution:
    """The order's signed contribution under `policy`: each leg against the baseline of its
    service class (or of the mode the policy says it displaced), netted, plus its verified
    green power when the policy counts it."""
    settings = policy_baselines(policy)
    legs = [
        baselines.leg_contribution(leg, settings, reference_distance_km)
        for leg in snapshot_legs(snapshot)
    ]
    scope2 = (
        calc.avoided_scope2_kg(snapshot.scope2_location_kg, snapshot.scope2_market_kg)
        if policy.include_green_power
        else Decimal(0)
    )
    return Contribution(legs, baselines.net_avoided_kg(legs), scope2)


@dataclass(frozen=True)
class AwardTerms:
    """What a delivered order contributes under a policy, worked out from its current
    footprint: the fields of its `PointsAward` but its points, which are the change it makes to
    its period's total and are worked out under the account's lock
    (`carbon.points.settlement.write_award`)."""

    policy: PointsPolicy
    snapshot: CalculationSnapshot
    avoided_logistics_kg: Decimal
    avoided_scope2_kg: Decimal
    period: tuple[dt.date, dt.date]
    breakdown: dict[str, Any]


def settlement_period(policy: PointsPolicy, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the policy's settlement period containing `day`."""
    if policy.settlement_period == SettlementPeriod.QUARTER:
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = day.replace(month=first_month, day=1)
        end_month = first_month + 2
    else:
        start, end_month = day.replace(day=1), day.month
    return start, day.replace(month=end_month, day=calendar.monthrange(day.year, end_month)[1])


def award_terms(order: Order, policy: PointsPolicy | None = None) -> AwardTerms:
    """The contribution of a delivered order's current snapshot under `policy`, by default the
    policy in force on its delivery date. Refused (PointsError, PolicyError) when the order is
    not delivered, no active policy applies or the order has no footprint yet."""
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
    own = contribution(snapshot, policy)
    return AwardTerms(
        policy=policy,
        snapshot=snapshot,
        avoided_logistics_kg=own.logistics_kg,
        avoided_scope2_kg=own.scope2_kg,
        period=settlement_period(policy, order.delivery_date),
        breakdown={
            "policy_version": policy.version,
            "snapshot_id": snapshot.pk,
            "inputs": {
                "tkm": plain_decimal(snapshot.tkm),
                "wtw_kg": plain_decimal(snapshot.wtw_kg),
                "scope2_location_kg": plain_decimal(snapshot.scope2_location_kg),
                "scope2_market_kg": plain_decimal(snapshot.scope2_market_kg),
            },
            "legs": [leg.as_json() for leg in own.legs],
            "include_green_power": policy.include_green_power,
            "avoided_logistics_kg": plain_decimal(own.logistics_kg),
            "avoided_scope2_kg": plain_decimal(own.scope2_kg),
            "points_per_kg": plain_decimal(policy.points_per_kg),
            "formula": FORMULA,
        },
    )


@dataclass(frozen=True)
class PeriodTotal:
    """An organisation's settlement period under one policy: its earning orders' netted
    contributions and the points they earn together."""

    start: dt.date
    end: dt.date
    orders: list[int]
    avoided_kg: Decimal
    uncapped_points: int
    points: int
    cap: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "orders": len(self.orders),
            "avoided_kg": plain_decimal(self.avoided_kg),
            "uncapped_points": self.uncapped_points,
            "points": self.points,
            "cap": self.cap,
        }


def period_orders(
    organisation: Organisation, policy: PointsPolicy, period: tuple[dt.date, dt.date]
) -> QuerySet[Order]:
    """The organisation's orders that count in the period: delivered in it, with a current
    footprint and attested data (orders under another policy are dropped by `period_total`)."""
    return Order.objects.filter(
        organisation=organisation,
        status=OrderStatus.DELIVERED,
        delivery_date__range=period,
    ).exclude(pk__in=unverified_legs().values("shipment__order"))


def period_total(
    organisation: Organisation,
    policy: PointsPolicy,
    period: tuple[dt.date, dt.date],
    include: Order | None = None,
) -> PeriodTotal:
    """The points of the period: floor(max(0, sum of its orders' signed contributions) x rate),
    at most the policy's per-period cap. Independent of how the legs are split into orders.

    Its orders are the period's orders settled under `policy` (a live award) and `include`, the
    order being settled: an order not settled yet joins the total when it is, so that each
    award is the change its own order makes."""
    settled = live_awards().filter(
        policy=policy, order__in=period_orders(organisation, policy, period)
    )
    members = set(settled.values_list("order_id", flat=True))
    if include is not None:
        members.add(include.pk)
    snapshots = CalculationSnapshot.objects.filter(order__in=members, is_current=True)
    total = sum((contribution(s, policy).total_kg for s in snapshots), Decimal(0))
    cap = policy.per_period_cap
    return PeriodTotal(
        start=period[0],
        end=period[1],
        orders=[s.order_id for s in snapshots],
        avoided_kg=total,
        uncapped_points=calc.points_for(total, policy.points_per_kg, None),
        points=calc.points_for(total, policy.points_per_kg, cap),
        cap=cap,
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
    alone earns at the policy's rate (nothing when its legs netted to an excess)."""
    logistics_only = calc.points_for(award.avoided_logistics_kg, award.policy.points_per_kg, None)
    return max(0, award.points - logistics_only)
