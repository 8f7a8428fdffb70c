"""Carbon's components of the health score (carbon/account_signals.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carbon.account_signals import carbon_signals
from carbon.footprint.calculation import calculate_order
from tests.carbon.factories import fund, order_with_legs, published_dataset
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def _leg(category, mass, distance):
    return {"category": category, "mass_t": Decimal(mass), "distance_km": Decimal(distance)}


def _calculated(org, day, legs):
    order = order_with_legs(org, legs, order_date=day)
    calculate_order(order)
    return order


def _by_key(components):
    return {c.key: c for c in components}


def test_intensity_trend_against_the_same_period_last_year(org_a):
    published_dataset()  # made-up factors: HGV 0.1 + 0.025, rail 0.03 + 0.007 kg/t·km
    # last year by 30 June: 200 t·km by HGV, 25 kg -> 125 g/t·km
    _calculated(org_a, dt.date(2025, 3, 14), [_leg("road.hgv.average_laden", "2", "100")])
    # ...and after 30 June last year, which the comparison leaves out
    _calculated(org_a, dt.date(2025, 9, 1), [_leg("road.van.diesel", "5", "100")])
    # this year: 200 t·km by HGV and 20 by rail, 25.74 kg -> 117 g/t·km (6.4% lower)
    _calculated(
        org_a,
        dt.date(2026, 4, 1),
        [_leg("road.hgv.average_laden", "2", "100"), _leg("rail.freight", "1", "20")],
    )
    intensity = _by_key(carbon_signals([org_a.pk], NOW)[org_a.pk])["carbon_intensity"]
    assert intensity.score == 66  # 50 + 50 x 0.064 / 0.2
    assert intensity.source == "carbon"
    assert intensity.signals == {
        "ytd_orders": 1,
        "ytd_wtw_kg": 25.7,
        "ytd_intensity_g_per_tkm": 117.0,
        "last_year_intensity_g_per_tkm": 125.0,
        "intensity_change_pct": -6.4,
    }


def test_without_last_years_freight_there_is_no_trend_to_score(org_a):
    published_dataset()
    _calculated(org_a, dt.date(2026, 4, 1), [_leg("road.hgv.average_laden", "2", "100")])
    intensity = _by_key(carbon_signals([org_a.pk], NOW)[org_a.pk])["carbon_intensity"]
    assert intensity.score is None
    assert intensity.signals["ytd_intensity_g_per_tkm"] == 125.0
    assert intensity.signals["last_year_intensity_g_per_tkm"] is None


def test_points_signals_and_an_organisation_without_an_account(org_a):
    fund(org_a, 700)
    nobody = OrganisationFactory()
    found = carbon_signals([org_a.pk, nobody.pk], NOW)
    points = _by_key(found[org_a.pk])["points_use"]
    # a manual adjustment is neither earned nor redeemed: nothing to score yet
    assert points.score is None
    assert points.signals == {
        "earned_12m": 0,
        "redeemed_12m": 0,
        "available": 700,
        "pending": 0,
        "held": 0,
        "expiring_90d": 0,
        "open_redemptions": 0,
    }
    empty = _by_key(found[nobody.pk])["points_use"]
    assert empty.score is None
    assert empty.signals["available"] == 0
