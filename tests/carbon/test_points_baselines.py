"""Baselines per transport service class and points per settlement period: worked examples from
the published DESNZ 2025 rows (fixtures/desnz-2025-freight.csv) and the property that splitting
or merging orders within a period never changes the period's points."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon.models import (
    CalculationSnapshot,
    EntryKind,
    LedgerEntry,
    OrderStatus,
    PointsAward,
    PointsPolicy,
    SettlementPeriod,
)
from carbon.points import actions, awards
from carbon.points.baselines import (
    BaselineSettings,
    BaselineSettingsError,
    LegBasis,
    default_baseline_settings,
    leg_contribution,
    net_avoided_kg,
)
from tests.carbon.factories import OrderFactory
from tests.carbon.test_points_ledger import make_policy
from tests.factories import OrganisationFactory

DEFAULTS = BaselineSettings.parse(default_baseline_settings())
# Per t·km WTW of the DESNZ 2025 rows the legs below use (TTW + WTT, without RF).
WTW = {
    "sea.container.large": Decimal("0.01553"),
    "sea.container.average": Decimal("0.01977"),
    "air.short_haul": Decimal("0.96054"),
    "road.hgv.articulated": Decimal("0.09623"),
    "road.hgv.rigid": Decimal("0.24080"),
    "rail.freight": Decimal("0.03470"),
}


def leg(category: str, mass_t: str, km: str) -> LegBasis:
    mass, distance = Decimal(mass_t), Decimal(km)
    return LegBasis(category, mass, distance, mass * distance * WTW[category])


# --- worked examples (pure)


def test_a_container_ship_is_compared_with_the_deep_sea_baseline_not_a_truck():
    # given 10 t from Shanghai to Hamburg, 19,800 km, on an 8000+ TEU ship (0.01553 kg/t·km)
    sea = leg("sea.container.large", "10", "19800")
    # when it is compared with its baseline
    result = leg_contribution(sea, DEFAULTS)
    # then against the average container ship (0.01977): 198,000 x (0.01977 - 0.01553) kg
    assert (result.service_class, result.baseline_class) == ("deep_sea", "deep_sea")
    assert result.avoided_kg == Decimal("839.52000")
    # and an average container ship on the same lane avoids nothing
    average = leg_contribution(leg("sea.container.average", "10", "19800"), DEFAULTS)
    assert average.avoided_kg == Decimal("0")


def test_an_air_legs_excess_nets_against_a_sea_legs_saving():
    # given the sea leg above (839.52 kg saved) and 2 t flown 1,000 km short-haul
    sea = leg_contribution(leg("sea.container.large", "10", "19800"), DEFAULTS)
    air = leg_contribution(leg("air.short_haul", "2", "1000"), DEFAULTS)
    # then the flight is 2,000 x (0.96054 - 0.61709) = 686.90 kg above the air baseline
    assert air.avoided_kg == Decimal("-686.90000")
    # and the two net to 152.62 kg
    assert net_avoided_kg([sea, air]) == Decimal("152.62000")


def test_an_international_flight_earns_nothing_against_its_own_row():
    # given 10 t flown 1,000 km on the DESNZ international row, as the footprint counts it:
    # 10,000 t·km x 0.66646 / 1.08 (DESNZ's own distance uplift taken off) = 6,170.9259... kg
    wtw = Decimal(10) * Decimal(1000) * Decimal("0.66646") / Decimal("1.08")
    flight = LegBasis("air.international", Decimal(10), Decimal(1000), wtw)
    # when it is compared with the air baseline, the same row on the same footing (0.61709)
    result = leg_contribution(flight, DEFAULTS)
    # then it avoids nothing: 10,000 x 0.61709 = 6,170.9 kg, 0.0259 kg below its footprint
    assert (result.baseline_class, result.baseline.kg_per_tkm) == ("air", Decimal("0.61709"))
    assert result.avoided_kg.quantize(Decimal("0.0001")) == Decimal("-0.0259")


def test_rail_earns_against_road_only_where_road_was_a_realistic_alternative():
    # given 20 t by rail, 1,290 km (Shenzhen - Hefei) and 10,800 km (Suzhou - Duisburg)
    short = leg_contribution(leg("rail.freight", "20", "1290"), DEFAULTS)
    long = leg_contribution(leg("rail.freight", "20", "10800"), DEFAULTS)
    # then the short one is compared with the average truck: 25,800 x (0.12522 - 0.03470) kg
    assert (short.baseline_class, short.avoided_kg) == ("road", Decimal("2335.41600"))
    # and the long one with rail itself (no truck competes over 10,800 km)
    assert (long.baseline_class, long.avoided_kg) == ("rail", Decimal("0"))


def test_a_longer_declared_route_earns_nothing_extra_once_the_reference_distance_is_used():
    # given a reference distance of 500 km for the lane (great-circle x adjustment factor)
    def reference(_leg: LegBasis) -> Decimal:
        return Decimal(500)

    # when the same 10 t articulated truck declares 500 km, then 800 km
    direct = leg_contribution(leg("road.hgv.articulated", "10", "500"), DEFAULTS, reference)
    detour = leg_contribution(leg("road.hgv.articulated", "10", "800"), DEFAULTS, reference)
    # then both are compared over 5,000 reference t·km; the detour's extra WTW earns less
    assert (direct.reference_tkm, detour.reference_tkm) == (Decimal(5000), Decimal(5000))
    assert direct.avoided_kg == Decimal("144.95000")
    assert detour.avoided_kg == Decimal("-143.74000")
    # and a declared distance shorter than the reference one caps it
    short = leg_contribution(leg("road.hgv.articulated", "10", "300"), DEFAULTS, reference)
    assert short.reference_km == Decimal(300)


def test_points_use_the_great_circle_reference_between_known_places():
    # given 10 t by articulated truck from Rotterdam (NLRTM) to Hamburg (DEHAM), declared as a
    # 1,200 km detour, and the same truck between two places the portal does not know
    detour = leg("road.hgv.articulated", "10", "1200")
    known = LegBasis(
        detour.category, detour.mass_t, detour.declared_km, detour.wtw_kg, "NLRTM", "DEHAM"
    )
    unknown = LegBasis(
        detour.category,
        detour.mass_t,
        detour.declared_km,
        detour.wtw_kg,
        "Werk Hamburg",
        "Rotterdam DC",
    )
    # when their reference distances are taken
    # then the known lane is its great circle (407 km) x the road factor 1.05, and the unknown
    # one falls back to the declared distance
    assert awards.reference_distance_km(known) == Decimal("427.35")
    assert awards.reference_distance_km(unknown) is None
    # and the detour is compared over 4,273.5 t·km only: 4,273.5 x 0.12522 baseline - its
    # 12,000 t·km x 0.09623 actual WTW
    result = leg_contribution(known, DEFAULTS, awards.reference_distance_km)
    assert result.reference_tkm == Decimal("4273.50")
    assert result.avoided_kg == Decimal("-619.63233")


def test_a_sea_leg_between_known_ports_is_compared_over_its_declared_route():
    # given 9.4 t by an 8000+ TEU ship from Shanghai to Hamburg, 19,800 km declared
    ship = leg("sea.container.large", "9.4", "19800")
    known = LegBasis(ship.category, ship.mass_t, ship.declared_km, ship.wtw_kg, "CNSHA", "DEHAM")
    # when it is compared with the deep-sea baseline
    result = leg_contribution(known, DEFAULTS, awards.reference_distance_km)
    # then over the whole declared route (the great circle crosses land):
    # 186,120 t·km x (0.01977 - 0.01553) kg
    assert (result.baseline_class, result.reference_tkm) == ("deep_sea", Decimal("186120.0"))
    assert result.avoided_kg == Decimal("789.14880")


def _stored_snapshot(distance: dict | None) -> CalculationSnapshot:
    """10 t by articulated truck, Rotterdam (NLRTM) - Hamburg (DEHAM), 1,200 km declared,
    12,000 t·km x 0.09623 = 1,154.76 kg WTW, with the distances the calculation stored."""
    result = {
        "shipment": 1,
        "sequence": 1,
        "category": "road.hgv.articulated",
        "wtw_kg": "1154.76",
        "tkm": "12000",
    }
    if distance is not None:
        result["distance"] = distance
    return CalculationSnapshot(
        inputs={
            "legs": [
                {
                    "shipment": 1,
                    "sequence": 1,
                    "mass_t": "10",
                    "distance_km": "1200",
                    "origin": "NLRTM",
                    "destination": "DEHAM",
                }
            ]
        },
        results={"legs": [result]},
    )


def test_points_read_the_reference_distance_stored_with_the_snapshot():
    # given a snapshot whose leg carries the reference distance the calculation stored
    # (500 km here, not the 427.35 km the two ports' great circle x 1.05 would give today)
    snapshot = _stored_snapshot({"basis": "great_circle", "reference_km": "500"})
    # when its legs are compared with their baselines
    [result] = [
        leg_contribution(g, DEFAULTS, awards.reference_distance_km)
        for g in awards.snapshot_legs(snapshot)
    ]
    # then the stored distance is the basis: 5,000 t·km x 0.12522 - 1,154.76 = -528.66 kg
    assert (result.reference_km, result.reference_basis) == (Decimal(500), "great_circle")
    assert result.avoided_kg == Decimal("-528.66000")
    assert result.as_json()["reference_basis"] == "great_circle"
    # and a stored "declared" basis (an end not known) compares over the declared 1,200 km
    [declared] = [
        leg_contribution(g, DEFAULTS, awards.reference_distance_km)
        for g in awards.snapshot_legs(_stored_snapshot({"basis": "declared", "reference_km": None}))
    ]
    assert (declared.reference_km, declared.reference_basis) == (Decimal(1200), "declared")
    # and a snapshot stored before reference distances has it worked out from its ends:
    # 407 km great circle x 1.05 = 427.35 km
    [legacy] = [
        leg_contribution(g, DEFAULTS, awards.reference_distance_km)
        for g in awards.snapshot_legs(_stored_snapshot(None))
    ]
    assert (legacy.reference_km, legacy.reference_basis) == (Decimal("427.35"), "")


@pytest.mark.django_db
def test_a_hub_stop_neither_earns_nor_costs_points():
    # given a snapshot of a sea leg and a warehouse stop (210 kg WTW at 17.5 kg per tonne)
    snapshot = CalculationSnapshot(
        inputs={
            "legs": [
                {"shipment": 1, "sequence": 1, "mass_t": "10", "distance_km": "19800"},
                {"shipment": 1, "sequence": 2, "mass_t": "12", "distance_km": "0"},
            ]
        },
        results={
            "legs": [
                {
                    "shipment": 1,
                    "sequence": 1,
                    "category": "sea.container.large",
                    "wtw_kg": "3074.94",
                    "tkm": "198000",
                },
                {
                    "shipment": 1,
                    "sequence": 2,
                    "category": "hub.warehouse.ambient",
                    "wtw_kg": "210",
                    "tkm": "0",
                },
            ]
        },
    )
    # when the legs the baselines compare are taken from it
    legs = awards.snapshot_legs(snapshot)
    # then only the sea leg is compared: the hub is the same with any transport
    assert [leg.category for leg in legs] == ["sea.container.large"]


def test_malformed_baselines_are_refused_with_what_is_missing():
    # given baselines without a deep-sea row
    data = default_baseline_settings()
    del data["classes"]["deep_sea"]
    # when they are read, then the error names the classes
    with pytest.raises(BaselineSettingsError, match="deep_sea"):
        BaselineSettings.parse(data)


# --- settlement periods (database)

DELIVERED = dt.date(2025, 3, 10)


def order_of_legs(organisation, legs: list[LegBasis], delivered: dt.date = DELIVERED):
    """A delivered order whose current snapshot has `legs` (inputs and results), without
    running the calculation."""
    order = OrderFactory(
        organisation=organisation, status=OrderStatus.DELIVERED, delivery_date=delivered
    )
    tkm = sum((g.mass_t * g.declared_km for g in legs), Decimal(0))
    wtw = sum((g.wtw_kg for g in legs), Decimal(0))
    CalculationSnapshot.objects.create(
        order=order,
        method_version="test",
        inputs={
            "legs": [
                {
                    "shipment": 1,
                    "sequence": n,
                    "mass_t": str(g.mass_t),
                    "distance_km": str(g.declared_km),
                }
                for n, g in enumerate(legs)
            ]
        },
        results={
            "legs": [
                {
                    "shipment": 1,
                    "sequence": n,
                    "category": g.category,
                    "tkm": str(g.mass_t * g.declared_km),
                    "wtw_kg": str(g.wtw_kg),
                }
                for n, g in enumerate(legs)
            ]
        },
        tkm=tkm,
        ttw_kg=wtw,
        wtt_kg=0,
        wtw_kg=wtw,
        default_share=1,
    )
    return order


def live_points(organisation) -> int:
    return (
        PointsAward.objects.filter(order__organisation=organisation, superseded_at__isnull=True)
        .exclude(entries__kind=EntryKind.REVERSE)
        .aggregate(p=Sum("points"))["p"]
        or 0
    )


def pending(organisation) -> int:
    return (
        LedgerEntry.objects.filter(account__organisation=organisation).aggregate(
            p=Sum("pending_delta")
        )["p"]
        or 0
    )


def per_class_policy(**fields) -> PointsPolicy:
    return make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.1"), **fields)


SEA = leg("sea.container.large", "10", "19800")  # +839.52 kg
AIR = leg("air.short_haul", "2", "1000")  # -686.90 kg


@pytest.mark.django_db
def test_the_air_and_sea_order_earns_the_same_as_one_order_or_two():
    # given the per-class policy at 0.1 points per kg, and two organisations
    per_class_policy()
    one, two = OrganisationFactory(), OrganisationFactory()
    # when one ships sea + air as one order and the other as two orders
    actions.settle_order(order_of_legs(one, [SEA, AIR]))
    actions.settle_order(order_of_legs(two, [SEA]))
    air_order = order_of_legs(two, [AIR])
    actions.settle_order(air_order)
    # then both earn floor((839.52 - 686.90) x 0.1) = floor(15.262) = 15 points for the period
    assert (live_points(one), live_points(two)) == (15, 15)
    assert (pending(one), pending(two)) == (15, 15)
    # and the air order's award is 0: its excess was taken from the sea order's award
    assert PointsAward.objects.get(order=air_order).points == 0
    # when the air order is cancelled, the sea order gets its 83 points back (exactly once)
    air_order.status = OrderStatus.CANCELLED
    air_order.save(update_fields=["status"])
    assert actions.settle_order(air_order) == "no_award"
    assert actions.settle_order(air_order) == "no_award"
    assert (live_points(two), pending(two)) == (83, 83)


@pytest.mark.django_db
def test_the_period_cap_is_the_same_however_the_orders_are_split():
    # given a cap of 50 points per organisation and month
    per_class_policy(per_period_cap=50)
    one, two = OrganisationFactory(), OrganisationFactory()
    # when 2 x 839.52 kg are delivered as one order and as two
    actions.settle_order(order_of_legs(one, [SEA, SEA]))
    actions.settle_order(order_of_legs(two, [SEA]))
    actions.settle_order(order_of_legs(two, [SEA]))
    # then each organisation has 50 points for the month, not 50 per order
    assert (live_points(one), live_points(two)) == (50, 50)


@pytest.mark.django_db
def test_orders_in_different_months_are_settled_apart():
    # given the sea order in March and the air order in April
    per_class_policy()
    organisation = OrganisationFactory()
    actions.settle_order(order_of_legs(organisation, [SEA]))
    actions.settle_order(order_of_legs(organisation, [AIR], delivered=dt.date(2025, 4, 2)))
    # then March earns 83 and April nothing (its excess does not reach into March)
    assert live_points(organisation) == 83


LEGS = st.sampled_from(
    [
        SEA,
        AIR,
        leg("road.hgv.articulated", "4", "130"),
        leg("road.hgv.rigid", "4", "25"),
        leg("rail.freight", "20", "1290"),
    ]
)


@pytest.mark.django_db
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    legs=st.lists(LEGS, min_size=1, max_size=5),
    groups=st.lists(st.integers(0, 3), min_size=5, max_size=5),
)
def test_splitting_or_merging_orders_never_changes_the_periods_points(legs, groups):
    # given the per-class policy (made once per example: versions are unique)
    if not PointsPolicy.objects.exists():
        per_class_policy()
    merged, split = OrganisationFactory(), OrganisationFactory()
    # when the legs are delivered as one order, and spread over up to 4 orders
    actions.settle_order(order_of_legs(merged, legs))
    parts: dict[int, list[LegBasis]] = {}
    for n, one_leg in enumerate(legs):
        parts.setdefault(groups[n], []).append(one_leg)
    for part in parts.values():
        actions.settle_order(order_of_legs(split, part))
    # then the period's points are the same, and the ledger's pending points match them
    expected = awards.calc.points_for(
        net_avoided_kg(leg_contribution(g, DEFAULTS) for g in legs), Decimal("0.1"), None
    )
    assert live_points(merged) == live_points(split) == expected
    assert pending(merged) == pending(split) == expected


def test_a_snapshot_leg_whose_inputs_were_lost_is_compared_as_its_t_km():
    # given a snapshot whose leg result has no matching input row
    snapshot = CalculationSnapshot(
        inputs={"legs": []},
        results={
            "legs": [
                {
                    "shipment": 1,
                    "sequence": 1,
                    "category": "rail.freight",
                    "wtw_kg": "34.7",
                    "tkm": "1000",
                }
            ]
        },
    )
    # then the leg is 1 t over as many km as it had t·km
    (only,) = awards.snapshot_legs(snapshot)
    assert (only.mass_t, only.declared_km, only.wtw_kg) == (
        Decimal(1),
        Decimal(1000),
        Decimal("34.7"),
    )


def test_a_quarterly_policy_settles_calendar_quarters():
    policy = PointsPolicy(settlement_period=SettlementPeriod.QUARTER)
    assert awards.settlement_period(policy, dt.date(2025, 5, 17)) == (
        dt.date(2025, 4, 1),
        dt.date(2025, 6, 30),
    )
    assert awards.settlement_period(policy, dt.date(2025, 12, 31)) == (
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    )
