"""A synthetic report document (no database): for the benchmark, the tests and layout checks.

`specimen_document(orders=1000)` builds, through the real `build_inventory`, a year of `orders`
delivered orders of three legs each (road, sea or air, road) over a few sites, one cancelled
order more per hundred (listed as excluded), points movements every month, two datasets and
the previous year for the intensity comparison. The figures follow a fixed arithmetic pattern,
so the same arguments give the same document.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from carbon.reports.document import DatasetSource, ReportDocument
from carbon.reports.inventory import (
    Balance,
    DeclarationUsed,
    Inventory,
    LedgerRow,
    LegRow,
    OrderRow,
    SnapshotFigures,
    build_inventory,
)
from carbon.reports.period import ReportingPeriod

D = Decimal
ISSUED_AT = dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC)
SITES = ("Shanghai DC", "Rotterdam hub", "Leeds warehouse", "")
# (category, TTW kg per t·km, WTT kg per t·km, TTW with radiative forcing), made-up factors
LEG_KINDS = (
    ("road.hgv.average_laden", D("0.1"), D("0.025"), None),
    ("sea.container.panamax", D("0.012"), D("0.003"), None),
    ("air.long_haul", D("0.6"), D("0.14"), D("1.02")),
    ("road.van.diesel", D("0.5"), D("0.125"), None),
)
DECLARATION = DeclarationUsed(7, "gec", D("0.6"), dt.date(2026, 1, 1), dt.date(2026, 12, 31))
SOURCES = (
    DatasetSource(
        label="desnz-2025@1",
        title="UK Government GHG Conversion Factors for Company Reporting 2025",
        publisher="Department for Energy Security and Net Zero",
        version=1,
        publication_date=dt.date(2025, 6, 10),
        licence="Open Government Licence v3.0",
        url="https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2025",
        gwp_basis="AR5",
    ),
    DatasetSource(
        label="grid-cn-2024@2",
        title="China regional grid emission factors 2024",
        publisher="Ministry of Ecology and Environment",
        version=2,
        publication_date=dt.date(2024, 12, 20),
        licence="Public information",
        url="https://www.mee.gov.cn/",
        gwp_basis="AR5",
    ),
)


def _leg(kind: int, tkm: Decimal, shipment: str, sequence: int, tier: str) -> LegRow:
    category, ttw, wtt, with_rf = LEG_KINDS[kind]
    return LegRow(
        category=category,
        tkm=tkm,
        ttw_kg=tkm * ttw,
        wtt_kg=tkm * wtt,
        radiative_forcing_kg=tkm * (with_rf - ttw) if with_rf is not None else D(0),
        data_tier=tier,
        shipment=shipment,
        sequence=sequence,
        origin=("Shanghai", "Rotterdam", "Felixstowe", "Leeds")[sequence % 4],
        destination=("Rotterdam", "Felixstowe", "Leeds", "York")[sequence % 4],
        mass_t=D("2.5"),
        distance_km=tkm / D("2.5"),
        method="distance",
        factor_ids=(("ttw", 100 + kind), ("wtt", 200 + kind)),
    )


def _order(number: int, year: int, status: str = "delivered") -> OrderRow:
    day = dt.date(year, 1, 1) + dt.timedelta(days=(number * 7) % 365)
    shipment = f"SH-{number:05d}"
    main = 2 if number % 10 == 0 else 1  # one order in ten flies
    tier = "primary" if number % 3 else "default"
    legs = (
        _leg(0, D(40 + number % 60), shipment, 1, tier),
        _leg(main, D(900 + (number * 13) % 500), shipment, 2, "default"),
        _leg(3 if number % 4 == 0 else 0, D(10 + number % 25), shipment, 3, tier),
    )
    kwh = D(50 + number % 40)
    with_declaration = number % 2 == 0
    snapshot = SnapshotFigures(
        snapshot_id=10_000 + number,
        method_version="glec-3.1/1",
        tkm=sum((leg.tkm for leg in legs), D(0)),
        ttw_kg=sum((leg.ttw_kg for leg in legs), D(0)),
        wtt_kg=sum((leg.wtt_kg for leg in legs), D(0)),
        radiative_forcing_kg=sum((leg.radiative_forcing_kg for leg in legs), D(0)),
        electricity_kwh=kwh,
        scope2_location_kg=kwh * D("0.5366"),
        scope2_market_kg=kwh * D("0.4") * D("0.5856") if with_declaration else None,
        declaration=DECLARATION if with_declaration else None,
        legs=legs,
        legs_without_data=1 if number % 50 == 0 else 0,
        datasets=tuple(s.label for s in SOURCES),
        site=SITES[number % len(SITES)],
    )
    return OrderRow(number, f"PO-{year}-{number:05d}", 1, status, day, snapshot, "Acme Ltd")


def specimen_inventory(orders: int = 1000, year: int = 2026) -> Inventory:
    period = ReportingPeriod.year(year)
    rows = [_order(number, year) for number in range(1, orders + 1)]
    # and one cancelled order per hundred, which the report lists as excluded
    rows += [
        _order(number, year, "cancelled") for number in range(orders + 1, orders * 101 // 100 + 1)
    ]
    ledger = [
        row
        for month in range(1, 13)
        for row in (
            LedgerRow(
                "earn_pending",
                400 + 25 * month,
                pending_delta=400 + 25 * month,
                month=f"{year}-{month:02d}",
            ),
            LedgerRow(
                "activate",
                300 + 20 * month,
                pending_delta=-(300 + 20 * month),
                available_delta=300 + 20 * month,
                month=f"{year}-{month:02d}",
            ),
            LedgerRow(
                "capture",
                100 + 10 * month,
                available_delta=-(100 + 10 * month),
                month=f"{year}-{month:02d}",
            ),
        )
    ]
    ledger.append(LedgerRow("expire", 50, available_delta=-50, month=f"{year}-12"))
    return build_inventory(period, rows, ledger, Balance(pending=120, available=800))


def specimen_document(
    orders: int = 1000,
    language: str = "en",
    organisation_name: str | None = "Acme Ltd",
    restated: bool = False,
) -> ReportDocument:
    inventory = specimen_inventory(orders)
    previous = specimen_inventory(max(orders // 2, 1), 2025)
    return ReportDocument(
        report_id="RPT-2026-000042",
        language=language,
        issued_at=ISSUED_AT,
        organisation_name=organisation_name,
        inventory=inventory,
        sources=SOURCES,
        previous=previous,
        as_issued=specimen_inventory(max(orders - 3, 1)) if restated else None,
    )
