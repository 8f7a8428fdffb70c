"""The period inventory (carbon.reports): worked examples against the pure aggregation, the
reporting periods, and the data hash. No database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from carbon.reports.inventory import (
    COUNTING_RULE,
    Balance,
    DeclarationUsed,
    Exclusion,
    LedgerRow,
    LegRow,
    OrderRow,
    SnapshotFigures,
    build_inventory,
    canonical_json,
)
from carbon.reports.period import PeriodError, PeriodKind, ReportingPeriod

D = Decimal
Q1_2026 = ReportingPeriod.quarter(2026, 1)

# Made-up factors (tests/carbon/factories.py TEST_FREIGHT), kgCO2e per t·km:
#   road.hgv.average_laden TTW 0.1, WTT 0.025; road.van.diesel TTW 0.5, WTT 0.125;
#   air.long_haul TTW 0.6, WTT 0.14, TTW with radiative forcing 1.02.
HGV = LegRow("road.hgv.average_laden", D("200"), D("20"), D("5"), data_tier="primary")
VAN = LegRow("road.van.diesel", D("200"), D("100"), D("25"), data_tier="default")
# 200 t·km x 0.6 = 120 TTW; x 0.14 = 28 WTT; RF uplift 200 x (1.02 - 0.6) = 84
AIR = LegRow("air.long_haul", D("200"), D("120"), D("28"), D("84"), data_tier="primary")
DECLARATION = DeclarationUsed(7, "gec", D("0.6"), dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def snapshot(snapshot_id: int, legs: tuple[LegRow, ...], **fields) -> SnapshotFigures:
    return SnapshotFigures(
        snapshot_id=snapshot_id,
        method_version="1",
        tkm=sum((leg.tkm for leg in legs), D(0)),
        ttw_kg=sum((leg.ttw_kg for leg in legs), D(0)),
        wtt_kg=sum((leg.wtt_kg for leg in legs), D(0)),
        radiative_forcing_kg=sum((leg.radiative_forcing_kg for leg in legs), D(0)),
        legs=legs,
        datasets=("test-freight v1",),
        **fields,
    )


def order(order_id: int, status: str, delivered: dt.date | None, figures=None) -> OrderRow:
    return OrderRow(order_id, f"PO-{order_id}", 1, status, delivered, figures)


def worked_orders(hgv: LegRow = HGV) -> list[OrderRow]:
    return [
        # two road legs; 100 kWh: location 100 x 0.5366 = 53.66, market 0.4 x 0.5856 x 100 = 23.424
        order(
            1,
            "delivered",
            dt.date(2026, 2, 10),
            snapshot(
                11,
                (hgv, VAN),
                electricity_kwh=D("100"),
                scope2_location_kg=D("53.66"),
                scope2_market_kg=D("23.424"),
                declaration=DECLARATION,
                legs_without_data=1,
            ),
        ),
        # one air leg with radiative forcing, delivered on the period's last day; 10 kWh:
        # location 5.366, no declaration so no market-based figure
        order(
            2,
            "delivered",
            dt.date(2026, 3, 31),
            snapshot(12, (AIR,), electricity_kwh=D("10"), scope2_location_kg=D("5.366")),
        ),
        order(3, "cancelled", None, snapshot(13, (HGV,))),
        order(4, "delivered", dt.date(2026, 4, 1), snapshot(14, (HGV,))),
        order(5, "delivered", dt.date(2026, 1, 15), None),
    ]


# Points: opening pending 100, available 50, held 0; then earned 300 (pending +300), activated
# 100 (pending -100, available +100), held 40 for a redemption and captured (redeemed), 10 expired.
OPENING = Balance(pending=100, available=50, held=0)
LEDGER = [
    LedgerRow("earn_pending", 300, pending_delta=300),
    LedgerRow("activate", 100, pending_delta=-100, available_delta=100),
    LedgerRow("hold", 40, available_delta=-40, held_delta=40),
    LedgerRow("capture", 40, held_delta=-40),
    LedgerRow("expire", 10, available_delta=-10),
]


def test_worked_example_totals_split_and_radiative_forcing_on_its_own_line():
    inventory = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING)

    # delivered in the period with a snapshot: orders 1 and 2
    assert inventory.orders == 2
    assert inventory.order_ids == (1, 2)
    # t·km 200 + 200 + 200 = 600
    assert inventory.tkm == D("600")
    # TTW 20 + 100 + 120 = 240; WTT 5 + 25 + 28 = 58; WTW 240 + 58 = 298 (RF not included)
    assert inventory.ttw_kg == D("240")
    assert inventory.wtt_kg == D("58")
    assert inventory.wtw_kg == D("298")
    assert inventory.radiative_forcing_kg == D("84")
    # 298 kg x 1000 / 600 t·km = 496.666... g -> 496.667
    assert inventory.intensity_g_per_tkm == D("496.667")
    assert inventory.counting_rule == COUNTING_RULE
    assert "delivery date" in inventory.counting_rule


def test_worked_example_intensity_by_mode_and_vehicle_category():
    inventory = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING)

    # air: 148 kg / 200 t·km = 740 g; road: (25 + 125) kg / 400 t·km = 375 g
    assert [(m.key, m.legs, m.tkm, m.wtw_kg, m.intensity_g_per_tkm) for m in inventory.by_mode] == [
        ("air", 1, D("200"), D("148"), D("740")),
        ("road", 2, D("400"), D("150"), D("375")),
    ]
    # hgv 25 kg / 200 t·km = 125 g; van 125 kg / 200 t·km = 625 g
    assert [(c.key, c.intensity_g_per_tkm) for c in inventory.by_vehicle_category] == [
        ("air.long_haul", D("740")),
        ("road.hgv.average_laden", D("125")),
        ("road.van.diesel", D("625")),
    ]


def test_worked_example_scope2_with_the_declaration_used():
    scope2 = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING).scope2

    # location 53.66 + 5.366 = 59.026; market only where a declaration gave one: 23.424
    assert scope2.electricity_kwh == D("110")
    assert scope2.location_kg == D("59.026")
    assert scope2.market_kg == D("23.424")
    assert (scope2.orders_with_market, scope2.orders_without_market) == (1, 1)
    assert scope2.declarations == (DECLARATION,)


def test_worked_example_points_of_the_period_and_balance_at_its_end():
    points = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING).points

    assert (points.earned, points.activated, points.redeemed, points.expired) == (300, 100, 40, 10)
    # pending 100 + 300 - 100 = 300; available 50 + 100 - 40 - 10 = 100; held 0 + 40 - 40 = 0
    assert points.balance == Balance(pending=300, available=100, held=0)
    assert points.balance.total == 400


def test_worked_example_data_quality_and_exclusions():
    quality = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING).data_quality

    # primary t·km: hgv 200 + air 200 = 400 of 600 = 2/3; default: van 200 of 600 = 1/3
    assert quality.primary_tkm_share == D("0.666667")
    assert quality.default_tkm_share == D("0.333333")
    # primary WTW: 25 + 148 = 173 of 298 = 0.5805369... ; default 125 of 298 = 0.4194630...
    assert quality.primary_wtw_share == D("0.580537")
    assert quality.default_wtw_share == D("0.419463")
    assert quality.tkm_by_tier == {"default": D("200"), "primary": D("400")}
    assert (quality.legs, quality.legs_without_data) == (3, 1)
    # the cancelled order, the one delivered the day after the period, the one never calculated
    assert [(o.order_id, o.reason) for o in quality.excluded] == [
        (3, Exclusion.NOT_DELIVERED),
        (4, Exclusion.DELIVERED_OUTSIDE_PERIOD),
        (5, Exclusion.NO_CURRENT_SNAPSHOT),
    ]
    assert quality.excluded_by_reason == {
        "delivered_outside_period": 1,
        "no_current_snapshot": 1,
        "not_delivered": 1,
    }


def test_an_empty_period_has_zero_totals_and_no_ratios():
    inventory = build_inventory(Q1_2026, [], [])

    assert (inventory.orders, inventory.wtw_kg, inventory.intensity_g_per_tkm) == (0, 0, None)
    assert inventory.data_quality.primary_tkm_share is None
    assert inventory.points.balance == Balance()


# --- the data hash


def test_the_same_input_gives_the_same_hash():
    first = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING)
    again = build_inventory(Q1_2026, list(reversed(worked_orders())), list(LEDGER), OPENING)

    assert first == again
    assert first.data_hash == again.data_hash
    assert first.data_hash == hashlib.sha256(canonical_json(first).encode()).hexdigest()
    assert len(first.data_hash) == 64


def test_a_changed_figure_changes_the_hash():
    first = build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING)
    changed_leg = dataclasses.replace(HGV, ttw_kg=D("20.000001"))
    changed = build_inventory(Q1_2026, worked_orders(changed_leg), LEDGER, OPENING)
    other_points = build_inventory(Q1_2026, worked_orders(), LEDGER[:-1], OPENING)

    assert changed.data_hash != first.data_hash
    assert other_points.data_hash != first.data_hash


def test_the_canonical_json_has_sorted_keys_and_decimal_strings():
    text = canonical_json(build_inventory(Q1_2026, worked_orders(), LEDGER, OPENING))

    assert '"wtw_kg":"298.000000"' in text
    assert '"period":{"end":"2026-03-31","kind":"quarter","period":"2026-Q1"' in text
    assert " " not in text.split('"counting_rule":')[0]


# --- reporting periods


def test_a_quarter_is_its_three_months():
    period = ReportingPeriod.parse("2026-Q1")

    assert (period.start, period.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert period == Q1_2026
    assert (period.kind, str(period), period.label) == (PeriodKind.QUARTER, "2026-Q1", "Q1 2026")
    assert period.previous() == ReportingPeriod.quarter(2025, 4)
    assert ReportingPeriod.parse("2026-q3").previous() == ReportingPeriod.quarter(2026, 2)


def test_february_of_a_leap_year_has_29_days():
    leap = ReportingPeriod.parse("2024-02")
    common = ReportingPeriod.month(2026, 2)

    assert (leap.end, leap.days) == (dt.date(2024, 2, 29), 29)
    assert (common.end, common.days) == (dt.date(2026, 2, 28), 28)
    assert leap.label == "February 2024"
    assert ReportingPeriod.month(2026, 1).previous() == ReportingPeriod.month(2025, 12)


def test_a_year_and_its_previous():
    period = ReportingPeriod.parse("2026")

    assert (period.start, period.end, period.days) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        365,
    )
    assert period.previous() == ReportingPeriod.year(2025)
    assert dt.date(2026, 12, 31) in period
    assert dt.date(2027, 1, 1) not in period


def test_a_custom_range_includes_both_days_and_its_previous_is_as_long():
    period = ReportingPeriod.parse("2026-01-05..2026-01-14")

    assert (period.kind, period.days) == (PeriodKind.CUSTOM, 10)
    assert ReportingPeriod.parse(str(period)) == period
    assert period.previous() == ReportingPeriod.custom(dt.date(2025, 12, 26), dt.date(2026, 1, 4))


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-31..2026-01-01",  # ends before it starts
        "2026-02-30..2026-03-01",  # no such day
        "2010-01-01..2026-01-01",  # longer than ten years
        "2026-13",
        "2026-Q5",
        "last year",
        "",
    ],
)
def test_a_period_that_makes_no_sense_is_refused(text):
    with pytest.raises(PeriodError):
        ReportingPeriod.parse(text)


def test_a_period_built_directly_cannot_end_before_it_starts():
    with pytest.raises(PeriodError):
        ReportingPeriod.custom(dt.date(2026, 2, 1), dt.date(2026, 1, 31))


def test_worked_example_months_sites_and_the_orders_table():
    hgv = dataclasses.replace(
        HGV,
        shipment="SH-1",
        sequence=1,
        origin="Suzhou",
        destination="Shanghai",
        mass_t=D("2"),
        distance_km=D("100"),
        method="distance",
        factor_ids=(("ttw", 5), ("wtt", 6)),
    )
    orders = worked_orders(hgv)
    orders[0] = dataclasses.replace(
        orders[0], snapshot=dataclasses.replace(orders[0].snapshot, site="Plant A")
    )
    ledger = [
        dataclasses.replace(LEDGER[0], month="2026-01"),
        dataclasses.replace(LEDGER[1], month="2026-02"),
        dataclasses.replace(LEDGER[3], month="2026-03"),
    ]
    inventory = build_inventory(Q1_2026, orders, ledger, OPENING)

    # every month of the quarter, the empty January too; order 1 in February (25 + 125 kg over
    # 400 t·km = 375 g), order 2 in March (148 kg over 200 t·km = 740 g)
    assert [
        (m.month, m.orders, m.tkm, m.wtw_kg, m.intensity_g_per_tkm, m.points_earned)
        for m in inventory.by_month
    ] == [
        ("2026-01", 0, D("0"), D("0"), None, 300),
        ("2026-02", 1, D("400"), D("150"), D("375"), 0),
        ("2026-03", 1, D("200"), D("148"), D("740"), 0),
    ]
    assert [m.points_redeemed for m in inventory.by_month] == [0, 0, 40]
    # order 2 has no site: its own line, named ""; sites sorted by name
    assert [
        (s.site, s.orders, s.tkm, s.wtw_kg, s.scope2_location_kg, s.scope2_market_kg)
        for s in inventory.by_site
    ] == [
        ("", 1, D("200"), D("148"), D("5.366"), D("0")),
        ("Plant A", 1, D("400"), D("150"), D("53.66"), D("23.424")),
    ]
    first, second = inventory.lines
    assert (first.order_id, first.external_id, first.delivery_date, first.site) == (
        1,
        "PO-1",
        dt.date(2026, 2, 10),
        "Plant A",
    )
    assert (first.snapshot_id, first.wtw_kg, first.scope2_market_kg) == (11, D("150"), D("23.424"))
    assert second.scope2_market_kg is None
    assert second.radiative_forcing_kg == D("84")
    assert first.legs[0].factor_ids == (("ttw", 5), ("wtt", 6))
    assert first.legs[0].origin == "Suzhou"
    # the orders table is part of the hashed data: a leg's factor id changes the hash
    other = list(orders)
    other[0] = dataclasses.replace(
        orders[0],
        snapshot=dataclasses.replace(
            orders[0].snapshot,
            legs=(dataclasses.replace(hgv, factor_ids=(("ttw", 9), ("wtt", 6))), VAN),
        ),
    )
    assert build_inventory(Q1_2026, other, ledger, OPENING).data_hash != inventory.data_hash


def test_a_period_in_one_month_has_one_month_line():
    inventory = build_inventory(ReportingPeriod.month(2026, 2), worked_orders(), [], OPENING)
    assert [(m.month, m.orders) for m in inventory.by_month] == [("2026-02", 1)]
