"""Footprint calculation: worked examples from the published DESNZ 2025 table, Scope 2 location-
vs market-based, radiative forcing on its own line, snapshots (immutable, idempotent, superseded
with a record of what changed), and property tests for parsing and the engine's arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from pint import DimensionalityError

from carbon.footprint import engine, factors
from carbon.footprint.calculation import calculate_order
from carbon.footprint.estimate import estimate
from carbon.footprint.exceptions import (
    CalculationError,
    FactorError,
    QuantityError,
    UnitMismatchError,
)
from carbon.footprint.units import Q_, parse_quantity, round_stored
from carbon.models import (
    CalculationSnapshot,
    DataTier,
    DeclarationStatus,
    FactorDataset,
    ImmutableError,
    LegDataType,
)
from portal.models import OutboxEvent
from tests.carbon.desnz import (
    AIR_TTW,
    AIR_TTW_RF,
    AIR_WTT,
    ARTIC_TTW,
    ARTIC_WTT,
    DIESEL_TTW,
    DIESEL_TTW_2026,
    DIESEL_WTT,
    DIESEL_WTT_2026,
    SHIP_TTW,
    SHIP_WTT,
    VAN_TTW,
    VAN_WTT,
)
from tests.carbon.factories import (
    GreenPowerDeclarationFactory,
    OrderLineFactory,
    ProductFactory,
    grid_dataset,
    order_with_legs,
    published_dataset,
    reference_dataset,
)
from tests.factories import SiteFactory
from tests.properties import examples

# MEE/NBS announcement 2024 No. 33: China 2022 grid average, and excluding traded non-fossil power
CN_GRID = Decimal("0.5366")
CN_RESIDUAL = Decimal("0.5856")


def _leg(category, mass, distance, **extra):
    return {
        "category": category,
        "mass_t": Decimal(mass),
        "distance_km": Decimal(distance),
        **extra,
    }


def _q6(value: Decimal) -> str:
    return str(round_stored(value))


# --- worked examples against the published table


def test_van_diesel_1_2_t_over_85_km(desnz):
    # given 1.2 t carried 85 km by an average diesel van
    # when estimated with DESNZ 2025
    result = estimate([_leg("road.van.diesel", "1.2", "85")], dataset=desnz).footprint
    # then TTW and WTT are t·km times the published intensities, and WTW is their sum
    tkm = Decimal("1.2") * Decimal("85")  # 102 t·km
    assert result.tkm == tkm
    assert result.ttw == tkm * VAN_TTW == Decimal("64.39260")
    assert result.wtt == tkm * VAN_WTT == Decimal("15.39690")
    assert result.wtw == Decimal("79.78950")
    assert result.totals_json()["wtw_kg"] == "79.789500"
    assert [(f.category, f.energy_scope, f.value) for f in result.factors] == [
        ("road.van.diesel", "TTW", VAN_TTW),
        ("road.van.diesel", "WTT", VAN_WTT),
    ]
    assert {f.dataset for f in result.factors} == {"desnz-2025@1"}


def test_three_leg_shipment_truck_ship_truck(desnz):
    # given 12.5 t: 120 km by artic to the port, 19,500 km by container ship, 300 km by artic
    legs = [
        _leg("road.hgv.articulated", "12.5", "120"),
        _leg("sea.container.average", "12.5", "19500"),
        _leg("road.hgv.articulated", "12.5", "300"),
    ]
    # when estimated
    result = estimate(legs, dataset=desnz).footprint
    # then each leg and the totals follow the table
    expected = [
        (Decimal(1500), ARTIC_TTW, ARTIC_WTT),
        (Decimal(243750), SHIP_TTW, SHIP_WTT),
        (Decimal(3750), ARTIC_TTW, ARTIC_WTT),
    ]
    for leg, (tkm, ttw, wtt) in zip(result.legs, expected, strict=True):
        assert (leg.tkm, leg.ttw, leg.wtt, leg.wtw) == (
            tkm,
            tkm * ttw,
            tkm * wtt,
            tkm * (ttw + wtt),
        )
    ttw_total = Decimal(1500) * ARTIC_TTW + Decimal(243750) * SHIP_TTW + Decimal(3750) * ARTIC_TTW
    wtt_total = Decimal(1500) * ARTIC_WTT + Decimal(243750) * SHIP_WTT + Decimal(3750) * ARTIC_WTT
    assert result.ttw == ttw_total == Decimal("4338.7500")
    assert result.wtt == wtt_total == Decimal("985.395")
    assert result.wtw == Decimal("5324.145")
    assert result.tkm == Decimal(249000)


def test_air_radiative_forcing_is_reported_on_its_own_line(desnz):
    # given 0.5 t flown 9,720 km long-haul, once with radiative forcing asked for (the DESNZ
    # factors' 8% distance uplift comes off a flown distance: as 4,500 t·km at the factor)
    plain = estimate([_leg("air.long_haul", "0.5", "9720")], dataset=desnz).footprint
    with_rf = estimate(
        [_leg("air.long_haul", "0.5", "9720", radiative_forcing=True)], dataset=desnz
    ).footprint
    # then WTW is the same either way (without RF, ISO 14083) ...
    tkm = Decimal(4500)
    assert plain.wtw == with_rf.wtw == tkm * AIR_TTW + tkm * AIR_WTT == Decimal("2999.07")
    # ... and the RF uplift is its own line: TTW with RF minus TTW without
    assert plain.legs[0].radiative_forcing is None
    assert with_rf.legs[0].radiative_forcing == tkm * (AIR_TTW_RF - AIR_TTW) == Decimal("1656.405")
    totals = with_rf.totals_json()
    assert totals["radiative_forcing_kg"] == "1656.405000"
    assert totals["wtw_incl_radiative_forcing_kg"] == "4655.475000"
    assert sorted((f.energy_scope, f.radiative_forcing, f.value) for f in with_rf.factors) == [
        ("TTW", False, AIR_TTW),
        ("TTW", True, AIR_TTW_RF),
        ("WTT", False, AIR_WTT),
    ]


@pytest.mark.parametrize(
    ("slug", "per_litre", "ttw", "wtt", "wtw"),
    [
        ("desnz-2025", (DIESEL_TTW, DIESEL_WTT), "796.95420", "189.41310", "986.36730"),
        # DESNZ 2026, the same rows: TTW up, WTT unchanged
        ("desnz-2026", (DIESEL_TTW_2026, DIESEL_WTT_2026), "800.89740", "189.41310", "990.31050"),
    ],
)
def test_fuel_based_primary_data_replaces_the_intensity(db, slug, per_litre, ttw, wtt, wtw):
    # given an HGV leg with its measured diesel use, 310 litres
    leg = _leg(
        "road.hgv.articulated",
        "12.5",
        "830",
        fuel_type="diesel",
        fuel_amount=Decimal(310),
        data_tier=DataTier.PRIMARY,
    )
    # when estimated with the DESNZ vintage
    result = estimate([leg], dataset=reference_dataset(slug)).footprint
    # then TTW and WTT are the litres times the vintage's fuel factors, not from t·km
    assert result.legs[0].method == "fuel"
    assert result.ttw == 310 * per_litre[0] == Decimal(ttw)
    assert result.wtt == 310 * per_litre[1] == Decimal(wtt)
    assert result.wtw == Decimal(wtw)
    assert result.default_share == 0


# Before the MEE/NBS 2023 factors' validity (2026-01-01): the compiled grid dataset applies.
BEFORE_2026 = dt.date(2025, 6, 1)


def test_scope2_location_and_market_based_for_china(desnz):
    # given 12 MWh attributed to a Chinese site with a 60 % green ratio, shipped in 2025
    result = estimate(
        [_leg("road.van.diesel", "1", "1")],
        dataset=desnz,
        activity_date=BEFORE_2026,
        electricity_kwh=Decimal(12000),
        region="CN",
        green_ratio=Decimal("0.6"),
    ).footprint
    # then location-based uses the grid average, market-based the residual-like factor for 40 %
    assert result.scope2.location == 12000 * CN_GRID == Decimal("6439.2")
    assert result.scope2.market == 12000 * (1 - Decimal("0.6")) * CN_RESIDUAL
    assert result.scope2.market == Decimal("2810.88")
    # and Scope 2 never enters the transport WTW
    assert result.wtw == VAN_TTW + VAN_WTT


def test_a_sub_national_grid_region_falls_back_to_its_country(desnz):
    # given a plant in the region "CN-East", shipped in 2025, for which the compiled dataset
    # publishes national factors only
    result = estimate(
        [_leg("road.van.diesel", "1", "1")],
        dataset=desnz,
        activity_date=BEFORE_2026,
        electricity_kwh=Decimal(12000),
        region="CN-East",
        green_ratio=Decimal("0.6"),
    ).footprint
    # then China's national factors apply
    assert result.scope2.location == Decimal("6439.2")
    assert result.scope2.market == Decimal("2810.88")


def test_an_estimate_for_2026_takes_the_mee_2023_regional_grid_factor(desnz):
    # given the same East China plant shipping in March 2026, when the MEE/NBS 2023 factors
    # (valid from 2026-01-01) apply
    result = estimate(
        [_leg("road.van.diesel", "1", "1")],
        dataset=desnz,
        activity_date=dt.date(2026, 3, 2),
        electricity_kwh=Decimal(12000),
        region="CN-East",
    )
    # then the East China grid's 2023 factor applies: 12,000 kWh x 0.5500 kg CO2/kWh
    assert result.footprint.scope2.location == Decimal("6600")
    # and the estimate says which grid version served that date, and why
    [grid] = [c for c in result.choices.values() if c.role == "grid" and c.basis == "covers"][:1]
    assert grid.dataset.slug == "mee-china-grid-2023"
    assert grid.note.endswith("covers 2026-03-02")


def test_an_eu_member_state_without_a_national_factor_uses_the_eu27_average(desnz):
    # given a plant in Germany (no German factor is loaded, the EU-27 average is)
    result = estimate(
        [_leg("road.van.diesel", "1", "1")],
        dataset=desnz,
        electricity_kwh=Decimal(1000),
        region="DE",
    ).footprint
    # then EEA's EU-27 figure applies: 1,000 kWh x 0.281 kgCO2e/kWh
    assert result.scope2.location == Decimal("281.000")
    assert result.scope2.market is None


def test_scope2_without_residual_factor_has_no_market_figure(desnz):
    # given the UK, for which no residual-mix factor is loaded
    result = estimate(
        [_leg("road.van.diesel", "1", "1")],
        dataset=desnz,
        electricity_kwh=Decimal(1000),
        region="GB",
        green_ratio=Decimal("0.5"),
    ).footprint
    # then there is a location figure but no market figure (never the grid average instead)
    assert result.scope2.location == Decimal("177.000")
    assert result.scope2.market is None


# --- factor resolution


def test_resolve_factors_reads_a_batch_in_one_query(db, django_assert_num_queries):
    dataset = published_dataset()
    with django_assert_num_queries(1):
        resolved = factors.resolve_factors(
            dataset,
            ["road.van.diesel", "air.long_haul", "road.van.diesel"],
            [False, True, False],
        )
    assert resolved.ttw == [Decimal("0.5"), Decimal("0.6"), Decimal("0.5")]
    assert resolved.wtt == [Decimal("0.125"), Decimal("0.14"), Decimal("0.125")]
    assert resolved.ttw_rf == [None, Decimal("1.02"), None]
    assert len(resolved.used) == 5


def test_unknown_category_and_missing_factor_name_the_leg(db):
    dataset = published_dataset(freight={"road.van.diesel": ("0.5", "0.125", None)})
    with pytest.raises(FactorError) as unknown:
        factors.resolve_factors(dataset, ["road.van.diesel", "road.spaceship"], [False, False])
    assert unknown.value.field == "legs[1].category"
    assert unknown.value.code == "unknown_category"
    with pytest.raises(FactorError) as missing:
        factors.resolve_factors(dataset, ["rail.freight"], [False])
    assert missing.value.field == "legs[0].category"
    assert "test-freight@1 has no TTW factor for 'rail.freight'" in missing.value.message
    with pytest.raises(CalculationError) as rf_on_road:
        factors.resolve_factors(dataset, ["road.van.diesel"], [True])
    assert rf_on_road.value.field == "legs[0].radiative_forcing"


# --- orders and snapshots


@pytest.fixture
def datasets(db):
    return published_dataset(), grid_dataset()


def test_calculate_order_stores_a_snapshot_with_inputs_factors_and_results(
    org_a, datasets, django_assert_max_num_queries
):
    # given an order of two legs delivered to a Chinese site
    site = SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN")
    order = order_with_legs(
        org_a,
        [
            _leg("road.hgv.average_laden", "2", "100"),
            _leg("air.long_haul", "0.5", "1080", radiative_forcing=True),
        ],
        delivery_site=site,
    )
    # when its footprint is calculated
    # (about 13 of our own; Wagtail's reference index adds a few when the outbox row is saved)
    with django_assert_max_num_queries(20):
        snapshot = calculate_order(order)
    # then the snapshot keeps totals (HGV 200 t·km x 0.1/0.025; air 540 t·km flown x 0.6/0.14
    # without the factors' 8% distance uplift, i.e. as 500 t·km)
    snapshot.refresh_from_db()
    assert snapshot.is_current
    assert snapshot.tkm == Decimal("740")
    assert snapshot.ttw_kg == Decimal("320.000000")  # 20 + 300
    assert snapshot.wtt_kg == Decimal("75.000000")  # 5 + 70
    assert snapshot.wtw_kg == Decimal("395.000000")
    assert snapshot.results["totals"]["radiative_forcing_kg"] == "210.000000"  # 500 x 0.42
    assert snapshot.method_version == engine.METHOD_VERSION
    assert [d["label"] for d in snapshot.datasets] == ["test-freight@1"]
    # ... the factors by id AND value, and the inputs it read
    assert {
        (f["category"], f["energy_scope"], f["radiative_forcing"], f["value"])
        for f in snapshot.factors
    } == {
        ("road.hgv.average_laden", "TTW", False, "0.1"),
        ("road.hgv.average_laden", "WTT", False, "0.025"),
        ("air.long_haul", "TTW", False, "0.6"),
        ("air.long_haul", "WTT", False, "0.14"),
        ("air.long_haul", "TTW", True, "1.02"),
    }
    assert snapshot.inputs["legs"][0]["mass_t"] == "2"
    assert snapshot.inputs["site"] == {"id": site.pk, "name": "Suzhou plant", "region": "CN"}
    # and the event went out with the order's figure
    event = OutboxEvent.objects.get(type="greenloop.carbon.footprint_calculated")
    assert event.subject == f"orders/{order.pk}"
    assert event.organisation_id == org_a.pk
    assert event.data["order"] == order.external_id
    assert event.data["wtw_kg"] == "395.000000"
    assert event.data["datasets"] == ["test-freight@1"]


def test_recalculating_unchanged_inputs_keeps_the_snapshot(org_a, datasets):
    # given a calculated order
    order = order_with_legs(org_a, [_leg("road.van.diesel", "1.2", "85")])
    first = calculate_order(order)
    events_before = OutboxEvent.objects.count()
    # when it is calculated again with nothing changed
    again = calculate_order(order)
    # then the same snapshot comes back; nothing is written
    assert again.pk == first.pk
    assert CalculationSnapshot.objects.filter(order=order).count() == 1
    assert OutboxEvent.objects.count() == events_before


def test_a_new_dataset_version_supersedes_the_snapshot_and_records_what_changed(org_a, datasets):
    # given an order calculated with version 1
    order = order_with_legs(org_a, [_leg("road.van.diesel", "1.2", "85")])
    old = calculate_order(order)
    # when version 2 corrects the van's TTW factor and becomes the default
    FactorDataset.objects.filter(pk=datasets[0].pk).update(is_default=False)
    v2 = published_dataset(version=2, freight={"road.van.diesel": ("0.6", "0.125", None)}, fuel={})
    new = calculate_order(order)
    # then a new current snapshot supersedes the old one, which stays unchanged but not current
    old.refresh_from_db()
    assert not old.is_current
    assert old.wtw_kg == Decimal("63.750000")
    assert new.is_current
    assert new.supersedes_id == old.pk
    assert new.wtw_kg == Decimal("73.950000")  # 102 x (0.6 + 0.125)
    assert CalculationSnapshot.objects.filter(order=order, is_current=True).get() == new
    # and `changes` says why: datasets, the factor values, old and new totals
    changes = new.changes
    assert set(changes["reasons"]) == {"datasets", "factors"}
    assert changes["datasets"] == {"old": ["test-freight@1"], "new": ["test-freight@2"]}
    ttw_change = next(c for c in changes["factors"]["changed"] if c["energy_scope"] == "TTW")
    assert (ttw_change["old"]["value"], ttw_change["new"]["value"]) == ("0.5", "0.6")
    assert ttw_change["new"]["dataset"] == v2.label
    assert changes["totals"]["wtw_kg"] == {"old": "63.750000", "new": "73.950000"}


def test_changed_inputs_are_recorded(org_a, datasets):
    order = order_with_legs(org_a, [_leg("road.van.diesel", "1.2", "85")])
    calculate_order(order)
    leg = order.shipments.get().legs.get()
    leg.distance_km = Decimal("170")
    leg.save()
    new = calculate_order(order)
    assert new.changes["reasons"] == ["inputs"]
    assert new.changes["inputs"] == ["legs"]
    assert new.changes["totals"]["wtw_kg"] == {"old": "63.750000", "new": "127.500000"}


def test_snapshots_are_immutable(org_a, datasets):
    snapshot = calculate_order(order_with_legs(org_a, [_leg("road.van.diesel", "1", "1")]))
    snapshot.wtw_kg = Decimal(0)
    with pytest.raises(ImmutableError):
        snapshot.save()
    with pytest.raises(ImmutableError):
        snapshot.save(update_fields=["wtw_kg", "is_current"])
    with pytest.raises(ImmutableError):
        snapshot.delete()
    assert CalculationSnapshot.objects.get(pk=snapshot.pk).wtw_kg == Decimal("0.625000")


def test_a_failing_order_leaves_nothing_behind(org_a, datasets):
    # given an order with a leg the dataset has no factor for
    order = order_with_legs(
        org_a, [_leg("road.van.diesel", "1", "1"), _leg("sea.bulk.average", "1", "1")]
    )
    # when calculated / then the error names the leg, and nothing is stored
    with pytest.raises(FactorError) as error:
        calculate_order(order)
    assert error.value.field == "shipments[0].legs[1].category"
    assert not CalculationSnapshot.objects.exists()
    assert not OutboxEvent.objects.filter(type="greenloop.carbon.footprint_calculated").exists()


def test_data_quality_share_of_default_wtw_and_missing_data(org_a, datasets):
    # given a carrier-specific van leg and a customer's modelled HGV leg declared "primary"
    order = order_with_legs(
        org_a,
        [
            _leg("road.van.diesel", "1", "300", data_type=LegDataType.CARRIER_INTENSITY),
            _leg("road.hgv.average_laden", "1", "100", data_tier=DataTier.PRIMARY),
            _leg("road.hgv.average_laden", "0", "50"),
        ],
    )
    # when calculated
    snapshot = calculate_order(order)
    # then the share is the HGV leg's WTW (100 t·km x 0.125 = 12.5 kg, test factors) over the
    # order's (12.5 + 300 x 0.625 = 200 kg), by data type, not declared tier
    assert snapshot.default_share == Decimal("0.062500")
    assert snapshot.results["data_quality"]["default_wtw_kg"] == "12.500000"
    quality = snapshot.results["data_quality"]
    assert quality["legs_with_missing_data"] == 1
    assert quality["missing"] == [{"field": "shipments[0].legs[2].mass", "reason": "mass is zero"}]


# --- Scope 2 of an order


@pytest.fixture
def cn_order(org_a, datasets):
    site = SiteFactory(organisation=org_a, name="Wuxi plant", country="CN", region="CN")
    order = order_with_legs(
        org_a,
        [_leg("road.van.diesel", "1", "10")],
        delivery_site=site,
        order_date=dt.date(2025, 5, 1),
    )
    # 3 inverters x 4,000 kWh each = 12 MWh attributed to the order
    inverter = ProductFactory(sku="INV-50K", electricity_kwh_per_unit=Decimal("4000"))
    OrderLineFactory(order=order, product=inverter, quantity=Decimal(3))
    return order


def test_scope2_with_a_verified_declaration_is_market_based(cn_order):
    GreenPowerDeclarationFactory(
        organisation=cn_order.organisation, site=cn_order.delivery_site, green_ratio=Decimal("0.6")
    )
    snapshot = calculate_order(cn_order)
    assert snapshot.electricity_kwh == Decimal("12000.000000")
    assert snapshot.scope2_location_kg == Decimal("6439.200000")  # 12,000 x 0.5366
    assert snapshot.scope2_market_kg == Decimal("2810.880000")  # 12,000 x 0.4 x 0.5856
    assert snapshot.inputs["green_power"]["green_ratio"] == "0.6"
    assert [d["label"] for d in snapshot.datasets] == ["test-freight@1", "grid-electricity@1"]


def test_a_co2_only_grid_factor_stands_in_for_co2e_and_keeps_its_co2_unit(cn_order):
    snapshot = calculate_order(cn_order)
    # MEE's factor counts CO2 alone; it is the CO2e figure Scope 2 uses, and stays labelled CO2
    assert snapshot.scope2_location_kg == Decimal("6439.200000")  # 12,000 x 0.5366
    location = snapshot.results["scope2"]["location_factor"]
    (used,) = [f for f in snapshot.factors if f["id"] == location]
    assert (used["category"], used["unit"], used["value"]) == (
        "electricity.CN.location",
        "kgCO2 / kWh",
        "0.5366",
    )


def test_co2_and_co2e_never_convert_into_each_other():
    with pytest.raises(DimensionalityError):
        Q_(1, "kgCO2").to("kgCO2e")
    with pytest.raises(DimensionalityError):
        Q_(1, "lbCO2e / kWh").to("kgCO2 / kWh")
    assert Q_(1, "lbCO2 / MWh").to("kgCO2 / kWh").magnitude == pytest.approx(0.00045359237)


def _order_page(client, order, user) -> str:
    client.force_login(user)
    url = reverse(
        "carbon:order_detail", kwargs={"org_slug": order.organisation.slug, "order_id": order.pk}
    )
    return client.get(url).content.decode()


def test_the_order_page_labels_a_co2_only_grid_factor(client, cn_order, member_a):
    calculate_order(cn_order)
    page = _order_page(client, cn_order, member_a)
    # beside the location-based figure and in the factor table's CN location row; there is no
    # market-based figure without a verified declaration
    assert page.count(">CO₂ only</span>") == 2
    assert "kg\xa0CO₂/kWh" in page  # the factor's unit, written for people
    assert "kgCO2 / kWh" not in page


def test_a_market_figure_from_a_co2_only_residual_factor_is_labelled_too(
    client, cn_order, member_a
):
    GreenPowerDeclarationFactory(
        organisation=cn_order.organisation, site=cn_order.delivery_site, green_ratio=Decimal("0.6")
    )
    calculate_order(cn_order)
    page = _order_page(client, cn_order, member_a)
    # both Scope 2 figures, and the CN location and residual rows of the factor table
    assert page.count(">CO₂ only</span>") == 4


@pytest.mark.parametrize(
    "declaration",
    [
        {"status": DeclarationStatus.PENDING},
        {"status": DeclarationStatus.REJECTED},
        {"period_start": dt.date(2025, 6, 1), "period_end": dt.date(2025, 12, 31)},
    ],
    ids=["pending", "rejected", "not covering the order date"],
)
def test_scope2_without_a_verified_covering_declaration_has_no_market_figure(cn_order, declaration):
    GreenPowerDeclarationFactory(
        organisation=cn_order.organisation, site=cn_order.delivery_site, **declaration
    )
    snapshot = calculate_order(cn_order)
    assert snapshot.scope2_location_kg == Decimal("6439.200000")
    assert snapshot.scope2_market_kg is None
    assert snapshot.inputs["green_power"] is None


def test_a_later_verified_declaration_changes_the_market_figure(cn_order):
    first = calculate_order(cn_order)
    declaration = GreenPowerDeclarationFactory(
        organisation=cn_order.organisation,
        site=cn_order.delivery_site,
        green_ratio=Decimal("1"),
        status=DeclarationStatus.PENDING,
    )
    assert calculate_order(cn_order).pk == first.pk  # pending: ignored
    declaration.status = DeclarationStatus.VERIFIED
    declaration.save()
    new = calculate_order(cn_order)
    assert new.scope2_market_kg == Decimal("0.000000")
    assert new.changes["inputs"] == ["green_power"]


# --- property tests: parsing and unit safety

MASS_UNITS = {"t": Decimal(1), "kg": Decimal("0.001"), "g": Decimal("0.000001")}
WRONG_FOR_MASS = ["km", "mi", "kWh", "MWh", "l", "kgCO2e", "tCO2e", "tkm", "s"]
amounts = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False)


@settings(max_examples=examples(60))
@given(value=amounts, unit=st.sampled_from(sorted(MASS_UNITS)))
def test_masses_in_metric_units_convert_exactly(value, unit):
    parsed = parse_quantity(f"{value} {unit}", field="mass", kind="mass", to="tonne")
    assert parsed == value * MASS_UNITS[unit]


@settings(max_examples=examples(60))
@given(value=amounts, unit=st.sampled_from(["lb", "kg", "t", "g"]))
def test_masses_round_trip_through_tonnes(value, unit):
    tonnes = parse_quantity(f"{value} {unit}", field="mass", kind="mass", to="tonne")
    back = parse_quantity(f"{tonnes} t", field="mass", kind="mass", to=unit)
    assert abs(back - value) <= value * Decimal("1e-12")


@settings(max_examples=examples(60))
@given(
    value=amounts,
    unit=st.sampled_from(WRONG_FOR_MASS),
    field=st.from_regex(r"legs\[[0-9]{1,2}\]\.mass", fullmatch=True),
)
def test_a_wrong_dimension_is_always_refused_naming_the_field(value, unit, field):
    with pytest.raises(QuantityError) as error:
        parse_quantity(f"{value} {unit}", field=field, kind="mass", to="tonne")
    assert error.value.field == field
    assert "is not a mass" in error.value.message


@settings(max_examples=examples(60))
@given(
    value=st.decimals(min_value=Decimal("0.001"), max_value=10**6, places=3, allow_nan=False),
    kind_unit=st.sampled_from([("mass", "t"), ("distance", "km"), ("distance", "mi")]),
)
def test_negative_masses_and_distances_are_refused(value, kind_unit):
    kind, unit = kind_unit
    with pytest.raises(QuantityError) as error:
        parse_quantity(f"-{value} {unit}", field="x", kind=kind, to=unit)
    assert error.value.field == "x"
    assert "cannot be negative" in error.value.message


def test_cargo_mass_and_co2e_mass_never_mix():
    with pytest.raises(UnitMismatchError):
        engine.magnitude(Q_(np.array([1.0]), "kg"), "kgCO2e")
    with pytest.raises(QuantityError):
        parse_quantity("12 kgCO2e", field="legs[0].mass", kind="mass", to="tonne")


# --- property tests: the engine's arithmetic in Decimal

masses = st.decimals(min_value=0, max_value=10**4, places=3, allow_nan=False)
distances = st.decimals(min_value=0, max_value=10**5, places=1, allow_nan=False)
intensities = st.decimals(min_value=0, max_value=10, places=5, allow_nan=False)


def _run(mass, distance, ttw, wtt):
    def arr(values):
        return engine.decimal_array(values)

    return engine.leg_emissions(
        Q_(arr(mass), "tonne"),
        Q_(arr(distance), "km"),
        Q_(arr(ttw), "kgCO2e / (tonne * km)"),
        Q_(arr(wtt), "kgCO2e / (tonne * km)"),
    )


@settings(max_examples=examples(80))
@given(
    legs=st.lists(st.tuples(masses, distances, intensities, intensities), min_size=1, max_size=8)
)
def test_doubling_the_mass_doubles_the_emissions_exactly(legs):
    mass, distance, ttw, wtt = (list(column) for column in zip(*legs, strict=True))
    single = _run(mass, distance, ttw, wtt)
    double = _run([m * 2 for m in mass], distance, ttw, wtt)
    assert list(double.ttw) == [2 * v for v in single.ttw]
    assert list(double.wtt) == [2 * v for v in single.wtt]


@settings(max_examples=examples(80))
@given(
    legs=st.lists(st.tuples(masses, distances, intensities, intensities), min_size=1, max_size=8)
)
def test_wtw_is_ttw_plus_wtt_exactly(legs):
    mass, distance, ttw, wtt = (list(column) for column in zip(*legs, strict=True))
    result = _run(mass, distance, ttw, wtt)
    for i, (m, d, t, w) in enumerate(legs):
        assert isinstance(result.wtw[i], Decimal)
        assert result.ttw[i] == m * d * t
        assert result.wtt[i] == m * d * w
        assert result.wtw[i] == result.ttw[i] + result.wtt[i]
    totals = engine.order_totals(result, np.ones(len(legs), dtype=bool))
    assert totals.wtw == totals.ttw + totals.wtt
