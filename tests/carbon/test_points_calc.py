"""Points arithmetic as worked examples in domain language, and its properties."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from carbon.points.formulas import avoided_logistics_kg, avoided_scope2_kg, points_for, points_many

# DESNZ 2025, Freighting goods > HGV (all diesel) > All HGVs > Average laden > tonne.km:
# TTW 0.10163 (27_304_3140_14_1) + WTT 0.02359 (28_907_3140_14_1) = 0.12522 kgCO2e per t·km.
HGV_BASELINE = Decimal("0.10163") + Decimal("0.02359")
# DESNZ 2025, Freighting goods > Rail > Freight train > tonne.km: TTW 0.02779 + WTT 0.00691.
RAIL_WTW = Decimal("0.02779") + Decimal("0.00691")


def test_the_hgv_baseline_is_ttw_plus_wtt():
    assert Decimal("0.10163") + Decimal("0.02359") == HGV_BASELINE == Decimal("0.12522")


def test_twenty_tonnes_by_rail_over_350_km_instead_of_by_truck():
    # given 20 t x 350 km = 7,000 t·km by rail, which emitted 7,000 x 0.03470 = 242.9 kg WTW
    tkm = Decimal(20) * Decimal(350)
    wtw = tkm * RAIL_WTW
    assert wtw == Decimal("242.9")
    # then against the truck baseline 7,000 x 0.12522 = 876.54 kg, 633.64 kg were avoided
    assert avoided_logistics_kg(tkm, wtw, HGV_BASELINE) == Decimal("633.64")
    # and at 0.5 points per kg that is floor(316.82) = 316 points
    assert points_for(Decimal("633.64"), Decimal("0.5"), None) == 316


def test_an_order_dirtier_than_the_baseline_avoids_nothing():
    # 1 t x 85 km by diesel van: 85 x (0.63130 + 0.15095) = 66.49125 kg against 10.6437 kg
    assert avoided_logistics_kg(Decimal(85), Decimal("66.49125"), HGV_BASELINE) == 0


def test_green_power_avoids_the_difference_between_location_and_market_based():
    # 12,000 kWh in China: location 12,000 x 0.5366 = 6,439.2 kg; with a verified 60 % green
    # ratio, market 12,000 x 0.4 x 0.5856 = 2,810.88 kg (MEE/NBS announcement 2024 No. 33)
    assert avoided_scope2_kg(Decimal("6439.2"), Decimal("2810.88")) == Decimal("3628.32")


def test_without_a_market_figure_no_scope2_is_avoided():
    assert avoided_scope2_kg(Decimal("6439.2"), None) == 0


def test_a_residual_mix_dirtier_than_the_grid_avoids_nothing():
    # a 0 % green ratio leaves the residual-like factor above the grid average
    assert avoided_scope2_kg(Decimal("6439.2"), Decimal("7027.2")) == 0


def test_points_are_floored_and_capped():
    assert points_for(Decimal("3637.372"), Decimal("0.1"), None) == 363
    assert points_for(Decimal("3637.372"), Decimal("0.1"), 300) == 300
    assert points_for(Decimal("9.999"), Decimal("0.1"), None) == 0
    assert points_for(Decimal(0), Decimal("0.1"), 0) == 0


decimals = st.decimals(min_value=0, max_value=10**7, places=6, allow_nan=False)


@given(tkm=decimals, wtw=decimals, baseline=st.decimals(min_value=0, max_value=5, places=9))
def test_avoided_logistics_is_never_negative_nor_more_than_the_baseline(tkm, wtw, baseline):
    avoided = avoided_logistics_kg(tkm, wtw, baseline)
    assert 0 <= avoided <= tkm * baseline


@given(
    total=decimals,
    rate=st.decimals(min_value=0, max_value=100, places=6),
    cap=st.none() | st.integers(min_value=0, max_value=10**6),
)
def test_points_are_the_floor_of_the_product_within_the_cap(total, rate, cap):
    points = points_for(total, rate, cap)
    assert isinstance(points, int)
    assert 0 <= points <= total * rate
    assert points > total * rate - 1 or (cap is not None and points == cap)
    if cap is not None:
        assert points <= cap


def test_points_many_gives_each_order_what_points_for_gives_it():
    # given three orders: rail instead of truck (633.64 kg avoided), a van dirtier than the
    # baseline with 3,628.32 kg of Scope 2 avoided by green power, and no market figure
    tkm = np.array([7000.0, 85.0, 85.0])
    wtw = np.array([242.9, 66.49125, 66.49125])
    location = np.array([0.0, 6439.2, 6439.2])
    market = np.array([0.0, 2810.88, np.nan])
    # when their points are computed at once, at 0.5 points per kg
    points = points_many(tkm, wtw, location, market, 0.12522, 0.5, None)
    # then they match the Decimal functions: floor(316.82), floor(1,814.16), 0
    assert points.tolist() == [316, 1814, 0]
    # and a cap of 1,000 per order applies to each
    assert points_many(tkm, wtw, location, market, 0.12522, 0.5, 1000).tolist() == [316, 1000, 0]
