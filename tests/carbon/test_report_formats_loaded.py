"""The CSV, XLSX and iLEAP renderers over an inventory read from the database (real calculations,
real factor ids): the files hold the same figures as the inventory, and the iLEAP JSON validates."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from carbon.footprint.calculation import calculate_order
from carbon.models import EmissionFactor, OrderStatus
from carbon.reports.document import ReportDocument
from carbon.reports.ileap import render_ileap, validation_errors
from carbon.reports.loader import load_inventory
from carbon.reports.period import ReportingPeriod
from carbon.reports.tabular import render_csv, render_xlsx
from tests.carbon.factories import current_snapshot, order_with_legs, published_dataset
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

LEGS = [
    {"category": "road.hgv.average_laden", "data_tier": "primary"},
    {"category": "air.long_haul", "radiative_forcing": True, "data_tier": "primary"},
]


@pytest.fixture
def loaded() -> ReportDocument:
    published_dataset()
    organisation = OrganisationFactory(name="Acme Ltd")
    for _ in range(2):
        order = order_with_legs(
            organisation,
            LEGS,
            order_date=dt.date(2026, 1, 20),
            status=OrderStatus.DELIVERED,
            delivery_date=dt.date(2026, 2, 10),
        )
        calculate_order(order)
    inventory = load_inventory(organisation, ReportingPeriod.quarter(2026, 1))
    return ReportDocument(
        report_id="RPT-LOADED",
        language="en",
        issued_at=dt.datetime(2026, 4, 2, 9, 30, tzinfo=dt.UTC),
        organisation_name=organisation.name,
        inventory=inventory,
        sources=(),
    )


def test_the_csv_holds_the_inventory_and_the_factors_the_calculation_used(loaded):
    rows = list(csv.DictReader(io.StringIO(render_csv(loaded).decode("utf-8-sig"))))

    inventory = loaded.inventory
    assert len(rows) == 4  # two orders of two legs
    wtw = sum(Decimal(r["WTW emissions (kg CO2e)"]) for r in rows)
    assert wtw == inventory.wtw_kg
    # each leg names the factors stored in its snapshot's results, and they exist
    for row in rows[:2]:
        order = inventory.lines[0]
        assert int(row["Calculation ID"]) == order.snapshot_id
        assert row["GreenLoop order ID"] == str(order.order_id)
    snapshot = current_snapshot(inventory.lines[0].order_id)
    stored = [leg["factors"] for leg in snapshot.results["legs"]]
    assert [int(rows[0]["TTW factor ID"]), int(rows[0]["WTT factor ID"])] == [
        stored[0]["ttw"],
        stored[0]["wtt"],
    ]
    assert int(rows[1]["TTW factor with radiative forcing ID"]) == stored[1]["ttw_rf"]
    used = {int(rows[0]["TTW factor ID"]), int(rows[1]["TTW factor with radiative forcing ID"])}
    assert EmissionFactor.objects.filter(pk__in=used).count() == 2
    assert Decimal(rows[1]["Radiative forcing uplift, not in WTW (kg CO2e)"]) > 0


def test_the_workbook_and_the_ileap_json_hold_the_same_figures(loaded):
    inventory = loaded.inventory

    summary = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(io.BytesIO(render_xlsx(loaded)))["Summary"].iter_rows(
            values_only=True
        )
        if row[0]
    }
    assert Decimal(str(summary["WTW emissions (kg CO2e)"])) == inventory.wtw_kg
    assert summary["Orders counted"] == 2

    data = json.loads(render_ileap(loaded))
    footprints = [s["extension"]["data"] for s in data["shipments"]]
    assert len(footprints) == 2
    assert all(validation_errors(f) == [] for f in footprints)
    wtw = sum(Decimal(t["co2eWTW"]) for f in footprints for t in f["tces"])
    assert wtw == inventory.wtw_kg
    assert data["report"]["dataHash"] == inventory.data_hash
