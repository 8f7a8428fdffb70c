"""Worked examples against the pure footprint model (carbon/footprint/model.py): no database,
factors written out by hand, every figure computed on paper first."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from carbon.footprint.model import (
    FactorRef,
    FootprintInput,
    GridFactors,
    LegFactors,
    LegInput,
    compute,
)

D = Decimal


def factor(pk: int, category: str, scope: str, canonical: str, *, rf: bool = False) -> FactorRef:
    return FactorRef(
        id=pk,
        dataset_id=1,
        dataset="worked-example@1",
        category=category,
        kind="freight",
        energy_scope=scope,
        radiative_forcing=rf,
        value=D(canonical),
        unit="kgCO2e / (tonne * km)",
        region="GLO",
        description="",
        source_label="",
        canonical=D(canonical),
    )


HGV = LegFactors(
    ttw=factor(1, "road.hgv.average_laden", "TTW", "0.1"),
    wtt=factor(2, "road.hgv.average_laden", "WTT", "0.025"),
)
AIR_RF = LegFactors(
    ttw=factor(3, "air.long_haul", "TTW", "1.0"),
    wtt=factor(4, "air.long_haul", "WTT", "0.2"),
    ttw_rf=factor(5, "air.long_haul", "TTW", "1.7", rf=True),
)
DIESEL = LegFactors(
    ttw=HGV.ttw,
    wtt=HGV.wtt,
    fuel_ttw=factor(6, "fuel.diesel", "TTW", "2.5"),
    fuel_wtt=factor(7, "fuel.diesel", "WTT", "0.6"),
)


def one(legs: list[LegInput], factors: list[LegFactors], **kwargs):
    (footprint,) = compute([FootprintInput(legs=legs, **kwargs)], [factors], [GridFactors()])
    return footprint


def test_a_distance_based_road_leg():
    # 10 t x 100 km = 1,000 t·km; TTW 1,000 x 0.1 = 100 kg; WTT 1,000 x 0.025 = 25 kg.
    fp = one([LegInput("road.hgv.average_laden", D(10), D(100))], [HGV])
    assert (fp.tkm, fp.ttw, fp.wtt, fp.wtw) == (D(1000), D(100), D(25), D(125))
    assert fp.intensity == D("0.125")
    assert fp.radiative_forcing == 0
    assert fp.legs[0].method == "distance"
    assert fp.totals_json() == {
        "tkm": "1000.000000",
        "ttw_kg": "100.000000",
        "wtt_kg": "25.000000",
        "hub_wtw_kg": "0.000000",
        "wtw_kg": "125.000000",
        "radiative_forcing_kg": "0.000000",
        "wtw_incl_radiative_forcing_kg": "125.000000",
        "intensity_kg_per_tkm": "0.125000000",
    }


def test_radiative_forcing_is_its_own_line_never_in_wtw():
    # 2 t x 5,400 km flown = 10,800 t·km; the factors lose their 8% distance uplift (a flown
    # distance has its detours already): TTW 10,800 x 1.0 / 1.08 = 10,000 kg, WTT 2,000 kg; RF
    # uplift 10,000 x (1.7 - 1.0).
    fp = one([LegInput("air.long_haul", D(2), D(5400), radiative_forcing=True)], [AIR_RF])
    assert (fp.ttw, fp.wtt, fp.wtw) == (D(10000), D(2000), D(12000))
    assert fp.radiative_forcing == D(7000)
    assert fp.totals_json()["wtw_incl_radiative_forcing_kg"] == "19000.000000"
    assert fp.legs_json()[0]["radiative_forcing_kg"] == "7000.000000"


def test_fuel_based_primary_data_replaces_the_intensity():
    # 500 l of diesel: TTW 500 x 2.5 = 1,250 kg, WTT 500 x 0.6 = 300 kg, whatever the distance;
    # the t·km (20 t x 300 km) are still reported.
    leg = LegInput("road.hgv.average_laden", D(20), D(300), fuel_type="diesel", fuel_amount=D(500))
    fp = one([leg], [DIESEL])
    assert (fp.tkm, fp.ttw, fp.wtt) == (D(6000), D(1250), D(300))
    assert fp.legs[0].method == "fuel"
    assert fp.legs_json()[0]["factors"] == {
        "ttw": 1,
        "wtt": 2,
        "ttw_rf": None,
        "fuel_ttw": 6,
        "fuel_wtt": 7,
    }


def test_default_share_is_the_wtw_share_of_modelled_default_data_types():
    # given 1,000 t·km measured as fuel (TTW 100, WTT 25 kg: data type primary_fuel) and
    # 3,000 t·km on modelled defaults (375 kg WTW) whose customer declared them "primary"
    legs = [
        LegInput("road.hgv.average_laden", D(10), D(100), data_type="primary_fuel"),
        LegInput("road.hgv.average_laden", D(10), D(300), data_tier="primary", where="legs[1]"),
    ]
    # when computed
    fp = one(legs, [HGV, HGV])
    # then the share is 375 of 500 kg WTW, whatever tier was declared
    assert fp.default_share == D("0.75")
    quality = fp.data_quality_json()
    assert quality["default_wtw_kg"] == "375.000000"
    assert quality["default_tkm"] == "3000.000000"
    assert quality["default_share_basis"] == "wtw_modelled_default"


def test_carrier_specific_data_is_not_a_default_even_if_declared_default():
    # given a carrier-specific leg (125 kg WTW) and a cheap modelled one of 1 t x 100 km (12.5 kg)
    legs = [
        LegInput("road.hgv.average_laden", D(10), D(100), data_type="carrier_intensity"),
        LegInput("road.hgv.average_laden", D(1), D(100), where="legs[1]"),
    ]
    # when computed / then 12.5 of 137.5 kg WTW is on modelled defaults
    fp = one(legs, [HGV, HGV])
    assert round(fp.default_share, 6) == D("0.090909")


def test_scope2_location_and_market_based():
    # 1,000 kWh; grid average 0.5 kg/kWh -> 500 kg; 40% certified green, residual mix
    # 0.6 kg/kWh -> (1 - 0.4) x 1,000 x 0.6 = 360 kg market-based.
    location = factor(8, "electricity.CN.location", "TTW", "0.5")
    residual = factor(9, "electricity.CN.residual", "TTW", "0.6")
    item = FootprintInput(
        legs=[LegInput("road.hgv.average_laden", D(1), D(1))],
        electricity_kwh=D(1000),
        region="CN",
        green_ratio=D("0.4"),
    )
    (fp,) = compute([item], [[HGV]], [GridFactors(location=location, residual=residual)])
    assert (fp.scope2.location, fp.scope2.market) == (D(500), D(360))
    assert fp.scope2.as_json()["market_kg"] == "360.000000"
    assert [f.id for f in fp.factors] == [1, 2, 8, 9]


def test_no_market_figure_without_a_residual_mix_factor():
    location = factor(8, "electricity.CN.location", "TTW", "0.5")
    item = FootprintInput(legs=[], electricity_kwh=D(10), region="CN", green_ratio=D("0.4"))
    (fp,) = compute([item], [[]], [GridFactors(location=location)])
    assert fp.scope2.location == D(5)
    assert fp.scope2.market is None
    assert {m["reason"] for m in fp.missing} == {
        "no transport legs",
        "no residual-mix factor for region 'CN': no market-based figure",
    }


def test_an_order_whose_factors_failed_keeps_its_place():
    error = ValueError("no factor")
    ok = FootprintInput(legs=[LegInput("road.hgv.average_laden", D(1), D(2))])
    results = compute([ok, ok], [error, [HGV]], [GridFactors(), GridFactors()])
    assert results[0] is error
    assert results[1].tkm == D(2)


def test_the_model_imports_no_django():
    code = (
        "import sys, carbon.footprint.model; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
