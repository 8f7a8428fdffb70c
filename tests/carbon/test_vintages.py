"""Factor vintages: each order takes the dataset version valid for its activity date (the order
date), falls back visibly when none covers it, and a recalculation leaves closed periods as
issued unless a restatement is asked for (and then says so)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint import calculation
from carbon.footprint.calculation import calculate_order
from carbon.models import CalculationSnapshot, EmissionFactor, FactorDataset, Report, ReportStatus
from portal import actions as portal_actions
from tests.carbon.factories import (
    OrderLineFactory,
    ProductFactory,
    current_snapshot,
    order_with_legs,
    published_dataset,
)
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

HGV = [{"category": "road.hgv.average_laden"}]  # 2 t x 100 km = 200 t·km
HGV_2025 = {"road.hgv.average_laden": ("0.2", "0.05", None)}


def _vintage(version: int, start: str | None, end: str | None, **kwargs) -> FactorDataset:
    dataset = published_dataset(version=version, **kwargs)
    FactorDataset.objects.filter(pk=dataset.pk).update(
        valid_from=dt.date.fromisoformat(start) if start else None,
        valid_to=dt.date.fromisoformat(end) if end else None,
    )
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def vintages(db):
    # 2024: 0.1 + 0.025 kg per t·km (the default); 2025: 0.2 + 0.05
    return (
        _vintage(1, "2024-01-01", "2024-12-31"),
        _vintage(2, "2025-01-01", "2025-12-31", freight=HGV_2025, is_default=False),
    )


def _selection(snapshot: CalculationSnapshot) -> dict:
    return snapshot.datasets[0]["selection"]


def test_each_order_takes_the_version_valid_for_its_order_date(org_a, vintages):
    # given orders of the same leg dated in 2024 and in 2025
    old = order_with_legs(org_a, HGV, order_date=dt.date(2024, 6, 1))
    new = order_with_legs(org_a, HGV, order_date=dt.date(2025, 3, 14))
    # when both are calculated together
    calculation.recalculate()
    # then each used its year's version: 200 t·km x 0.125 and x 0.25
    assert current_snapshot(old).wtw_kg == Decimal("25.000000")
    assert current_snapshot(new).wtw_kg == Decimal("50.000000")
    assert _selection(current_snapshot(new)) == {
        "role": "freight",
        "activity_date": "2025-03-14",
        "basis": "covers",
        "fallback": False,
        "valid_from": "2025-01-01",
        "valid_to": "2025-12-31",
        "note": "valid 2025-01-01 to 2025-12-31: covers 2025-03-14",
    }


def test_no_covering_version_falls_back_to_the_nearest_earlier_then_the_default(org_a, vintages):
    # given an order after every vintage ended and one before the first began
    later = order_with_legs(org_a, HGV, order_date=dt.date(2026, 5, 1))
    early = order_with_legs(org_a, HGV, order_date=dt.date(2019, 3, 2))
    # when calculated
    later_snapshot, early_snapshot = calculate_order(later), calculate_order(early)
    # then the later order took the 2025 vintage, the early one the default, both saying so
    assert later_snapshot.wtw_kg == Decimal("50.000000")
    assert _selection(later_snapshot)["note"] == (
        "fallback: no dataset covers 2026-05-01; used nearest earlier vintage test-freight@2"
    )
    assert early_snapshot.wtw_kg == Decimal("25.000000")
    assert _selection(early_snapshot)["fallback"] is True
    assert _selection(early_snapshot)["note"] == (
        "fallback: no dataset covers 2019-03-02; used default test-freight@1"
    )


def test_the_order_page_shows_the_fallback(client, org_a, member_a, vintages):
    # given an order calculated on the default dataset for want of a covering one
    order = order_with_legs(org_a, HGV, order_date=dt.date(2019, 3, 2))
    calculate_order(order)
    client.force_login(member_a)
    # when its page is shown
    url = reverse("carbon:order_detail", kwargs={"org_slug": org_a.slug, "order_id": order.pk})
    page = client.get(url).content.decode()
    # then it names the fallback and the factors' gases and GWP basis
    assert "fallback: no dataset covers 2019-03-02; used the default test-freight@1" in page
    assert "CO₂e, GWP AR5" in page


def _issue_report(org, start: str, end: str) -> Report:
    return Report.objects.create(
        organisation=org,
        period_kind="year",
        period_start=start,
        period_end=end,
        language="en",
        format="csv",
        figures_as_of=timezone.now(),
        status=ReportStatus.DONE,
        progress=100,
    )


def test_closed_periods_are_left_as_issued_unless_restated(org_a, org_b):
    # given an order of 2025 calculated with v1 (25 kg), a report issued for 2025, and a
    # correction published as v2 (50 kg) for every date
    published_dataset(version=1)
    order = order_with_legs(org_a, HGV, order_date=dt.date(2025, 3, 14))
    other = order_with_legs(org_b, HGV, order_date=dt.date(2025, 3, 14))
    issued = calculate_order(order)
    calculate_order(other)
    _issue_report(org_a, "2025-01-01", "2025-12-31")
    published_dataset(version=2, freight=HGV_2025)
    # when recalculated without asking for a restatement
    result = calculation.recalculate()
    # then the closed order keeps its figures; the other organisation's order moves
    assert (result.closed, result.created) == (1, 1)
    assert current_snapshot(order).pk == issued.pk
    assert current_snapshot(other).wtw_kg == Decimal("50.000000")
    # when a restatement is asked for with its reason
    result = calculation.recalculate(org_a, restate="DESNZ correction")
    # then a new snapshot restates the period and the figures as issued are kept
    restated = current_snapshot(order)
    assert (result.closed, result.created, restated.wtw_kg) == (0, 1, Decimal("50.000000"))
    assert restated.changes["restatement"] == {
        "reason": "DESNZ correction",
        "period": {
            "start": "2025-01-01",
            "end": "2025-12-31",
            "report": str(Report.objects.get().public_id),
        },
    }
    assert CalculationSnapshot.objects.get(pk=issued.pk).wtw_kg == Decimal("25.000000")


def test_china_2023_regional_grid_factors(org_a):
    # given the reference data and a site on the East China grid
    call_command("load_reference_data")
    china = FactorDataset.objects.get(slug="mee-china-grid-2023")
    # then the published 2023 figures (kg CO2 per kWh) are stored exactly, CO2 only
    assert {
        f.region: f.value
        for f in EmissionFactor.objects.filter(dataset=china, category__endswith=".location")
    } == {
        "CN": Decimal("0.5306000000"),
        "CN-North": Decimal("0.6361000000"),
        "CN-Northeast": Decimal("0.5122000000"),
        "CN-East": Decimal("0.5500000000"),
        "CN-Central": Decimal("0.5271000000"),
        "CN-Northwest": Decimal("0.5543000000"),
        "CN-South": Decimal("0.4042000000"),
        "CN-Southwest": Decimal("0.2472000000"),
    }
    assert china.factors.get(category="electricity.CN.residual").value == Decimal("0.6096")
    assert {f.gases for f in china.factors.all()} == {"CO2"}
    site = SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN-East")
    product = ProductFactory(sku="INV-1", electricity_kwh_per_unit=Decimal("1000"))
    orders = []
    for day in (dt.date(2026, 2, 1), dt.date(2025, 2, 1)):
        order = order_with_legs(org_a, HGV, order_date=day, delivery_site=site)
        OrderLineFactory(order=order, product=product, quantity=Decimal(1))
        orders.append(calculate_order(order))
    # when calculated: 2026 takes the East China grid's 2023 factor, 1,000 kWh x 0.5500;
    # 2025 the 2022 national factor of the vintage then available, 1,000 kWh x 0.5366
    assert orders[0].scope2_location_kg == Decimal("550.000000")
    assert [d["label"] for d in orders[0].datasets] == ["desnz-2026@1", "mee-china-grid-2023@1"]
    assert orders[1].scope2_location_kg == Decimal("536.600000")
    assert [d["label"] for d in orders[1].datasets] == ["desnz-2025@1", "grid-electricity@1"]


# --- the estimate API


def _estimate(client, org, status: int = 200, **fields) -> dict:
    _, plaintext = portal_actions.issue_api_token(org, "ERP", ["carbon:read"], by=None)
    body = {
        "legs": [{"category": "road.hgv.average_laden", "mass": "2 t", "distance": "100 km"}],
        **fields,
    }
    response = client.post(
        "/api/v1/carbon/estimate",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status_code == status, response.content
    return response.json()


def test_an_estimate_takes_the_version_valid_for_the_date_it_is_given(client, org_a, vintages):
    # when the same leg is estimated for a 2024 and a 2025 shipment date
    old = _estimate(client, org_a, activity_date="2024-06-01")
    new = _estimate(client, org_a, activity_date="2025-03-14")
    # then each took its year's version: 200 t·km x 0.125 and x 0.25, and says why
    assert (old["dataset"], old["totals"]["wtw_kg"]) == ("test-freight@1", "25.000000")
    assert (new["dataset"], new["totals"]["wtw_kg"]) == ("test-freight@2", "50.000000")
    assert new["activity_date"] == "2025-03-14"
    assert new["datasets"][0]["selection"]["note"] == (
        "valid 2025-01-01 to 2025-12-31: covers 2025-03-14"
    )


@pytest.mark.parametrize("value", [0, 1735689600, "2025-3-14", "14.03.2025", True])
def test_an_estimate_refuses_a_date_that_is_not_yyyy_mm_dd(client, org_a, vintages, value):
    # pydantic alone would read a number as a Unix timestamp (0 as 1970-01-01)
    refused = _estimate(client, org_a, status=422, activity_date=value)
    assert refused == {
        "code": "validation_error",
        "message": "payload.activity_date: Input should be a date in the format YYYY-MM-DD",
        "field": "payload.activity_date",
    }


def test_an_estimate_without_a_date_takes_today_and_says_so(client, org_a, vintages):
    # given today is after every vintage ended (2025-12-31)
    today = timezone.localdate()
    # when a leg is estimated without a date
    result = _estimate(client, org_a)
    # then it took the nearest earlier vintage for today, visibly as a fallback
    assert (result["activity_date"], result["dataset"]) == (today.isoformat(), "test-freight@2")
    assert result["datasets"][0]["selection"]["fallback"] is True
    # and a dataset named by the caller serves any date, as named
    named = _estimate(client, org_a, dataset="test-freight@1", activity_date="2025-03-14")
    assert (named["dataset"], named["totals"]["wtw_kg"]) == ("test-freight@1", "25.000000")
    assert named["datasets"][0]["selection"]["basis"] == "named"
