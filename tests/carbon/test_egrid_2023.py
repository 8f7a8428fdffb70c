"""EPA eGRID2023 (revision 2) subregion rates: the published lb/MWh figures load unrounded as a
vintage of the grid-electricity series, and U.S. sites take their subregion's rate (location-
based, CO2e with AR5 GWPs) for activity from the rev. 2 release on. Worked examples from the
published values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carbon.footprint.calculation import calculate_order
from carbon.models import CalculationSnapshot
from tests.carbon.factories import (
    OrderLineFactory,
    ProductFactory,
    order_with_legs,
    reference_dataset,
)
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

HGV = [{"category": "road.hgv.average_laden"}]
LB = Decimal("0.45359237")  # kg per lb, exact by definition
# eGRID2023 annual total output CO2e rates, lb/MWh, as EPA's Power Profiler data file gives them
CAMX = Decimal("429.983")  # WECC California
NATIONAL = Decimal("770.884")  # U.S. total
# The grid-electricity dataset's U.S. figure for earlier activity: EIA, 0.81 lb CO2 per kWh
EIA_2023 = Decimal("0.81")


@pytest.fixture
def egrid(db):
    return reference_dataset("egrid-2023")


def _scope2(org, site, day: dt.date) -> CalculationSnapshot:
    # 1,000 kWh attributed to the order through one product line
    product = ProductFactory(sku=f"INV-{site.pk}-{day}", electricity_kwh_per_unit=Decimal(1000))
    order = order_with_legs(org, HGV, order_date=day, delivery_site=site)
    OrderLineFactory(order=order, product=product, quantity=Decimal(1))
    return calculate_order(order)


def test_the_published_rates_load_unrounded_as_a_grid_vintage(egrid):
    # then eGRID2023 continues the grid-electricity series from the rev. 2 release
    assert (egrid.series, egrid.valid_from, egrid.valid_to) == (
        "grid-electricity",
        dt.date(2025, 6, 12),
        None,
    )
    assert egrid.gwp_basis == "AR5"
    # with the 27 subregions and the national rate, each CO2e in the published lb/MWh
    assert egrid.factors.count() == 28
    camx = egrid.factors.get(category="electricity.US-CAMX.location")
    assert (camx.value, camx.unit, camx.region) == (CAMX, "lbCO2e/MWh", "US-CAMX")
    assert camx.gases == "CO2e"
    assert egrid.factors.get(region="US").value == NATIONAL
    assert egrid.factors.filter(category__endswith=".residual").count() == 0


def test_a_us_site_takes_its_subregion_rate(org_a, egrid):
    # given a plant on the WECC California grid and 1,000 kWh attributed to a 2026 order
    site = SiteFactory(organisation=org_a, name="Fremont plant", country="US", region="US-CAMX")
    snapshot = _scope2(org_a, site, dt.date(2026, 3, 2))
    # then Scope 2 location-based = 1,000 kWh x 429.983 lb/MWh = 429.983 lb
    #   = 429.983 x 0.45359237 kg = 195.03700802971 kg, stored to 6 places
    exact = CAMX * LB  # 1 MWh x 429.983 lb/MWh x 0.45359237 kg/lb
    assert str(exact) == "195.03700802971"
    assert snapshot.scope2_location_kg == Decimal("195.037008")
    assert [d["label"] for d in snapshot.datasets] == ["desnz-2026@1", "egrid-2023@1"]
    # and no market-based figure: no U.S. residual mix is loaded
    assert snapshot.scope2_market_kg is None


def test_a_us_site_without_subregion_takes_the_national_rate(org_a, egrid):
    # given a U.S. site whose grid region is not given
    site = SiteFactory(organisation=org_a, name="Houston depot", country="US", region="")
    snapshot = _scope2(org_a, site, dt.date(2025, 9, 1))
    # then 1,000 kWh x 770.884 lb/MWh = 770.884 x 0.45359237 kg = 349.66710055508 kg
    assert snapshot.scope2_location_kg == Decimal("349.667101")
    assert [d["label"] for d in snapshot.datasets] == ["desnz-2025@1", "egrid-2023@1"]


def test_activity_before_the_release_keeps_the_earlier_us_figure(org_a, egrid):
    # given the same California plant and an order dated before eGRID2023 rev. 2 was released
    site = SiteFactory(organisation=org_a, name="Fremont plant", country="US", region="US-CAMX")
    snapshot = _scope2(org_a, site, dt.date(2025, 2, 1))
    # then it takes the vintage then available: EIA 2023, 1,000 kWh x 0.81 lb CO2/kWh
    #   = 810 x 0.45359237 = 367.4098197 kg (CO2 only, the grid-electricity dataset's US row)
    exact = 1000 * EIA_2023 * LB
    assert str(exact) == "367.4098197000"
    assert snapshot.scope2_location_kg == Decimal("367.409820")
    assert [d["label"] for d in snapshot.datasets] == ["desnz-2025@1", "grid-electricity@1"]
