"""The CSV and XLSX reports (carbon.reports.tabular) over a document built from literal rows:
literal cells, formula cells neutralised, BOM, Chinese headers, figures in the workbook, and the
same bytes on every render. No database."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from carbon.reports.inventory import LegRow, OrderRow, build_inventory
from carbon.reports.tabular import render_csv, render_xlsx
from tests.carbon.report_samples import (
    AIR,
    FORMULA,
    HGV,
    ISSUED,
    Q1_2026,
    VAN,
    document,
    orders,
    snapshot,
)

D = Decimal
HASH = document().inventory.data_hash
RULE_EN = document().inventory.counting_rule

HEADER_EN = [
    "Report ID",
    "Period",
    "Data hash (SHA-256)",
    "Counting rule",
    "Organisation",
    "Order number",
    "GreenLoop order ID",
    "Delivery date",
    "Delivery site",
    "Calculation ID",
    "Method version",
    "Incoterm",
    "Customer's Scope 3 category",
    "Shipment",
    "Leg number",
    "Origin",
    "Destination",
    "Transport mode",
    "Vehicle category (code)",
    "Calculation method",
    "Data tier",
    "Cargo mass (t)",
    "Distance (km)",
    "Transport activity (t·km)",
    "TTW emissions (kg CO2e)",
    "WTT emissions (kg CO2e)",
    "WTW emissions (kg CO2e)",
    "Radiative forcing uplift, not in WTW (kg CO2e)",
    "TTW factor ID",
    "WTT factor ID",
    "TTW factor with radiative forcing ID",
    "Fuel TTW factor ID",
    "Fuel WTT factor ID",
    "Order electricity (kWh)",
    "Order Scope 2, location-based (kg CO2e)",
    "Order Scope 2, market-based (kg CO2e)",
]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def column(rows: list[list[str]], name: str) -> list[str]:
    index = HEADER_EN.index(name)
    return [row[index] for row in rows[1:]]


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def labelled(sheet) -> dict:
    """A sheet of (label, value, ...) rows as {label: (value, ...)}."""
    return {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row[0] is not None}


def values(sheet) -> list[tuple]:
    """The sheet's rows, dates as dates (a workbook keeps a date as a naive datetime)."""
    return [
        tuple(v.date() if isinstance(v, dt.datetime) else v for v in row)
        for row in sheet.iter_rows(values_only=True)
    ]


# --- CSV


def test_the_csv_is_utf8_with_a_bom_and_one_row_per_leg():
    data = render_csv(document())

    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data  # RFC 4180 line ends
    rows = csv_rows(data)
    assert rows[0] == HEADER_EN
    # order 1 has two legs, order 2 one; the cancelled and the uncalculated orders do not count
    assert [(row[5], row[14]) for row in rows[1:]] == [("PO-1", "1"), ("PO-1", "2"), ("'-2+3", "1")]


def test_the_csv_cells_of_a_leg():
    rows = csv_rows(render_csv(document()))

    assert rows[1] == [
        "RPT-2026-0001",
        "2026-Q1",
        HASH,
        RULE_EN,
        "绿环贸易有限公司",
        "PO-1",
        "1",
        "2026-02-10",
        "Leeds site",
        "11",
        "1",
        "",
        "",
        "S-1",
        "1",
        "Leeds",
        "'" + FORMULA,
        "Road",
        "road.hgv.average_laden",
        "Distance-based",
        "Primary data",
        "10",
        "20",
        "200",
        "20",
        "5",
        "25",
        "0",
        "101",
        "102",
        "",
        "",
        "",
        "100",
        "53.66",
        "23.424",
    ]
    # the air leg: radiative forcing on its own column, not in WTW (120 + 28 = 148), and its
    # three factors; no market-based Scope 2 figure for this order
    air = rows[3]
    assert air[HEADER_EN.index("Transport mode")] == "Air"
    assert air[HEADER_EN.index("WTW emissions (kg CO2e)") :] == [
        "148",
        "84",
        "105",
        "106",
        "107",
        "",
        "",
        "10",
        "5.366",
        "",
    ]


def test_csv_column_sums_equal_the_report_totals():
    rows = csv_rows(render_csv(document()))

    def total(name: str) -> Decimal:
        return sum((D(v) for v in column(rows, name) if v), D(0))

    # legs: WTW 25 + 125 + 148 = 298, t·km 600, radiative forcing 84
    assert total("WTW emissions (kg CO2e)") == D("298")
    assert total("Transport activity (t·km)") == D("600")
    assert total("Radiative forcing uplift, not in WTW (kg CO2e)") == D("84")
    # order figures only on each order's first row: 100 + 10 kWh, 53.66 + 5.366 kg
    assert column(rows, "Order electricity (kWh)") == ["100", "", "10"]
    assert total("Order Scope 2, location-based (kg CO2e)") == D("59.026")


def test_csv_cells_a_spreadsheet_would_run_are_neutralised():
    rows = csv_rows(render_csv(document()))

    assert column(rows, "Destination")[0] == "'" + FORMULA
    assert column(rows, "Order number")[2] == "'-2+3"
    assert column(rows, "Delivery site")[2] == "'@SUM(A1)"
    # text that only contains a formula character later is left alone
    assert column(rows, "Destination")[1] == "York"


def test_csv_decimals_are_plain_strings_with_a_dot_in_every_language():
    odd = LegRow(
        "road.hgv.average_laden",
        D("1.2E+3"),  # exponent forms as Decimal can hold them
        D("0.000125"),
        D("1E-6"),
        mass_t=D("12.500"),
        distance_km=D("96.000"),
        sequence=1,
    )
    rows = [
        OrderRow(7, "PO-7", 1, "delivered", dt.date(2026, 1, 5), snapshot(17, (odd,))),
    ]
    doc = document("zh-hans", inventory=build_inventory(Q1_2026, rows, []))

    line = csv_rows(render_csv(doc))[1]
    start = HEADER_EN.index("Cargo mass (t)")
    assert line[start : start + 6] == ["12.5", "96", "1200", "0.000125", "0.000001", "0.000126"]


def test_an_order_without_legs_has_one_row_with_its_scope2_figures():
    rows = [
        OrderRow(
            8,
            "PO-8",
            1,
            "delivered",
            dt.date(2026, 1, 5),
            snapshot(18, (), electricity_kwh=D("40"), scope2_location_kg=D("21.464")),
        ),
    ]
    doc = document(inventory=build_inventory(Q1_2026, rows, []))

    lines = csv_rows(render_csv(doc))
    assert len(lines) == 2
    line = dict(zip(HEADER_EN, lines[1], strict=True))
    assert (line["Order number"], line["Shipment"], line["WTW emissions (kg CO2e)"]) == (
        "PO-8",
        "",
        "",
    )
    assert line["Order Scope 2, location-based (kg CO2e)"] == "21.464"


def test_the_incoterm_and_the_scope3_category_of_each_order_in_the_csv_and_the_workbook():
    # given an order collected by the customer's forwarder (FCA) and one the seller shipped
    # (CIF), with one road leg each
    leg = LegRow("road.hgv.average_laden", D("100"), D("10"), D("2"), sequence=1)
    rows = [
        OrderRow(7, "PO-7", 1, "delivered", dt.date(2026, 1, 5), snapshot(17, (leg,)), "", "FCA"),
        OrderRow(8, "PO-8", 1, "delivered", dt.date(2026, 1, 6), snapshot(18, (leg,)), "", "CIF"),
    ]
    doc = document(inventory=build_inventory(Q1_2026, rows, []))
    # then the CSV names the rule and the customer's Scope 3 category: 4 when the customer paid
    # the main carriage (upstream), 9 when the seller did (downstream)
    lines = csv_rows(render_csv(doc))
    assert column(lines, "Incoterm") == ["FCA", "CIF"]
    assert column(lines, "Customer's Scope 3 category") == ["4", "9"]
    # and so does the workbook's Orders sheet, the category as a number
    orders_sheet = values(workbook(render_xlsx(doc))["Orders"])
    assert orders_sheet[0][7:9] == ("Incoterm", "Customer's Scope 3 category")
    assert [row[7:9] for row in orders_sheet[1:]] == [("FCA", 4), ("CIF", 9)]


def test_an_empty_period_gives_the_header_row_only():
    rows = csv_rows(render_csv(document(inventory=build_inventory(Q1_2026, [], []))))

    assert rows == [HEADER_EN]


def test_the_chinese_csv_has_chinese_headers_and_labels():
    rows = csv_rows(render_csv(document("zh-hans")))

    assert rows[0][:8] == [
        "报告 ID",
        "报告期",
        "数据哈希（SHA-256）",
        "计入规则",
        "组织",
        "订单号",
        "GreenLoop 订单 ID",
        "送达日期",
    ]
    assert rows[0][11:13] == ["国际贸易术语", "客户的范围三类别"]
    assert rows[0][26] == "WTW 排放（kg CO2e）"
    assert rows[1][3].startswith("只计入已送达的订单。")
    # modes, methods and tiers translated; codes and figures unchanged
    assert rows[1][17:24] == [
        "公路",
        "road.hgv.average_laden",
        "基于距离",
        "一级数据",
        "10",
        "20",
        "200",
    ]
    assert rows[3][17] == "空运"


# --- XLSX


def test_the_workbook_opens_and_holds_the_figures():
    book = workbook(render_xlsx(document()))

    assert book.sheetnames == ["Summary", "Orders", "Legs", "By mode", "Data quality"]
    summary = labelled(book["Summary"])
    assert summary["Report ID"] == ("RPT-2026-0001",)
    assert summary["Period"] == ("2026-Q1",)
    assert summary["Data hash (SHA-256)"] == (HASH,)
    assert summary["Issued at (UTC)"] == ("2026-04-02T09:30:00+00:00",)
    assert summary["Counting rule"] == (RULE_EN,)
    # numbers are numbers: 298 kg WTW, 298 kg x 1000 / 600 t·km = 496.667 g
    assert summary["Orders counted"] == (2,)
    assert summary["WTW emissions (kg CO2e)"] == (298,)
    assert summary["WTW intensity (g CO2e/t·km)"] == (pytest.approx(496.667),)
    assert summary["Radiative forcing uplift, not in WTW (kg CO2e)"] == (84,)
    assert summary["Scope 2, market-based (kg CO2e)"] == (pytest.approx(23.424),)

    orders_sheet = values(book["Orders"])
    assert orders_sheet[0][:4] == (
        "Organisation",
        "Order number",
        "GreenLoop order ID",
        "Delivery date",
    )
    assert orders_sheet[1] == (
        "绿环贸易有限公司",
        "PO-1",
        1,
        dt.date(2026, 2, 10),
        "Leeds site",
        11,
        "1",
        None,
        None,
        2,
        400,
        120,
        30,
        150,
        0,
        100,
        pytest.approx(53.66),
        pytest.approx(23.424),
    )
    assert book["Orders"]["D2"].number_format == "yyyy-mm-dd"
    assert book["Orders"]["N2"].number_format == "#,##0.000"
    assert book["Orders"].freeze_panes == "A2"


def test_the_legs_and_by_mode_sheets():
    book = workbook(render_xlsx(document()))

    legs = list(book["Legs"].iter_rows(values_only=True))
    assert legs[0][:3] == ("Order number", "GreenLoop order ID", "Shipment")
    assert legs[3] == (
        "'-2+3",
        2,
        None,
        1,
        "LHR",
        "PVG",
        "Air",
        "air.long_haul",
        "Distance-based",
        "Primary data",
        0.5,
        400,
        200,
        120,
        28,
        148,
        84,
        105,
        106,
        107,
        None,
        None,
    )
    by_mode = list(book["By mode"].iter_rows(values_only=True))
    # air 148 kg / 200 t·km = 740 g; road 150 kg / 400 t·km = 375 g
    assert by_mode[:3] == [
        (
            "Transport mode",
            "Legs",
            "Transport activity (t·km)",
            "WTW emissions (kg CO2e)",
            "WTW intensity (g CO2e/t·km)",
        ),
        ("Air", 1, 200, 148, 740),
        ("Road", 2, 400, 150, 375),
    ]
    assert by_mode[5:] == [
        ("air.long_haul", 1, 200, 148, 740),
        ("road.hgv.average_laden", 1, 200, 25, 125),
        ("road.van.diesel", 1, 200, 125, 625),
    ]


def test_the_data_quality_sheet():
    sheet = values(workbook(render_xlsx(document()))["Data quality"])

    # primary t·km 400 of 600; primary WTW 25 + 148 = 173 of 298
    assert sheet[:6] == [
        ("Legs", 3, None, None),
        ("Legs with missing data", 0, None, None),
        ("Share of t·km from primary data", pytest.approx(0.666667), None, None),
        ("Share of t·km from default factors", pytest.approx(0.333333), None, None),
        ("Share of WTW from primary data", pytest.approx(0.580537), None, None),
        ("Share of WTW from default factors", pytest.approx(0.419463), None, None),
    ]
    assert ("Primary data", 400, 173, None) in sheet
    assert ("No calculation", 1, None, None) in sheet
    assert sheet[-2:] == [
        ("PO-3", 3, "Not delivered", None),
        ("PO-4", 4, "No calculation", dt.date(2026, 1, 15)),
    ]


def test_workbook_cells_a_spreadsheet_would_run_are_neutralised():
    legs = workbook(render_xlsx(document()))["Legs"]

    assert legs["F2"].value == "'" + FORMULA
    assert legs["F2"].data_type == "s"  # text, not a formula
    assert legs["A4"].value == "'-2+3"
    assert all(cell.data_type != "f" for row in legs.iter_rows() for cell in row)


def test_text_with_control_characters_still_makes_a_workbook():
    leg = dataclasses.replace(HGV, origin="Leeds\x07\x00 yard")
    rows = [OrderRow(9, "PO-9", 1, "delivered", dt.date(2026, 1, 5), snapshot(19, (leg,)))]

    book = workbook(render_xlsx(document(inventory=build_inventory(Q1_2026, rows, []))))

    assert book["Legs"]["E2"].value == "Leeds yard"


def test_the_chinese_workbook():
    book = workbook(render_xlsx(document("zh-hans")))

    assert book.sheetnames == ["摘要", "订单", "运输段", "按运输方式", "数据质量"]
    summary = labelled(book["摘要"])
    assert summary["WTW 排放（kg CO2e）"] == (298,)
    assert summary["按当前因子重述"] == ("否",)
    assert book["按运输方式"]["A2"].value == "空运"


def test_a_restated_report_shows_the_figures_as_first_issued_beside_the_current_ones():
    # first issued with only order 1 counted (150 kg WTW); restated with both (298 kg)
    first = build_inventory(Q1_2026, orders()[:1], [])
    previous = build_inventory(Q1_2026.previous(), [], [])
    book = workbook(render_xlsx(document(as_issued=first, previous=previous)))

    summary = labelled(book["Summary"])
    assert summary["Figure"] == ("Value", "As first issued")
    assert summary["WTW emissions (kg CO2e)"] == (298, 150)
    assert summary["Restated with current factors"] == ("Yes", None)
    # with a previous period, By mode gives its intensity (none here: nothing moved by air)
    assert book["By mode"]["F1"].value == "Intensity, previous period (g CO2e/t·km)"
    assert book["By mode"]["F2"].value is None


def test_two_renders_of_one_report_are_byte_identical():
    first = render_xlsx(document())

    assert render_xlsx(document()) == first
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert {info.date_time for info in archive.infolist()} == {(2026, 4, 2, 9, 30, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2026-04-02T09:30:00Z' in core
    assert '<dcterms:modified xsi:type="dcterms:W3CDTF">2026-04-02T09:30:00Z' in core
    assert "<dc:identifier>RPT-2026-0001</dc:identifier>" in core
    # the fixed moment is the document's issue time, not a constant
    later = render_xlsx(document(issued_at=ISSUED + dt.timedelta(days=1)))
    assert later != first
    assert (
        "2026-04-03T09:30:00Z"
        in zipfile.ZipFile(io.BytesIO(later)).read("docProps/core.xml").decode()
    )


def test_two_renders_of_one_csv_are_byte_identical():
    assert render_csv(document("zh-hans")) == render_csv(document("zh-hans"))


def test_the_sample_legs_are_the_ones_documented():
    # guards the literals above: the legs of the sample document
    assert (HGV.wtw_kg, VAN.wtw_kg, AIR.wtw_kg, AIR.radiative_forcing_kg) == (25, 125, 148, 84)


def test_a_report_of_every_customer_says_so():
    book = workbook(render_xlsx(document(organisation_name=None)))

    assert labelled(book["Summary"])["Organisation"] == ("All customers",)
    chinese = workbook(render_xlsx(document("zh-hans", organisation_name=None)))
    assert labelled(chinese["摘要"])["组织"] == ("全部客户",)
