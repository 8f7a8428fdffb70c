"""The PDF report (carbon.reports.pdf) and its charts (carbon.reports.charts): figures and sources
in the text, Chinese throughout with an embedded CJK font, the same bytes twice, a thousand
orders paginated with their header on every page, nothing fetched. No database."""

from __future__ import annotations

import datetime as dt
import io
import re
import socket
from decimal import Decimal

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from carbon.reports import charts, pdf
from carbon.reports.document import ReportDocument
from carbon.reports.inventory import (
    Balance,
    LedgerRow,
    LegRow,
    OrderRow,
    SnapshotFigures,
    build_inventory,
)
from carbon.reports.period import ReportingPeriod
from carbon.reports.specimen import SOURCES, specimen_document

D = Decimal
YEAR = ReportingPeriod.year(2026)
ISSUED = dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC)
# Worked figures (kg CO2e): HGV 200,000 t·km x (0.1 TTW + 0.025 WTT); van 200,000 x (0.5 + 0.125);
# air 200,000 x (0.6 + 0.14), radiative forcing uplift 200,000 x 0.42 = 84,000.
HGV = LegRow("road.hgv.average_laden", D(200000), D(20000), D(5000), data_tier="primary")
VAN = LegRow("road.van.diesel", D(200000), D(100000), D(25000))
AIR = LegRow("air.long_haul", D(200000), D(120000), D(28000), D(84000), data_tier="primary")


def _snapshot(snapshot_id: int, legs: tuple[LegRow, ...], **fields) -> SnapshotFigures:
    return SnapshotFigures(
        snapshot_id=snapshot_id,
        method_version="greenloop-iso14083-2026.1",
        tkm=sum((leg.tkm for leg in legs), D(0)),
        ttw_kg=sum((leg.ttw_kg for leg in legs), D(0)),
        wtt_kg=sum((leg.wtt_kg for leg in legs), D(0)),
        radiative_forcing_kg=sum((leg.radiative_forcing_kg for leg in legs), D(0)),
        legs=legs,
        datasets=("desnz-2025@1", "grid-cn-2024@2"),
        **fields,
    )


def worked_document(
    language: str = "en", organisation: str | None = "Acme Ltd", **fields
) -> ReportDocument:
    orders = [
        OrderRow(
            1,
            "PO-1",
            1,
            "delivered",
            dt.date(2026, 2, 10),
            _snapshot(
                11,
                (HGV, VAN),
                electricity_kwh=D(100),
                scope2_location_kg=D("53.66"),
                scope2_market_kg=D("23.424"),
                site="Shanghai DC",
            ),
        ),
        OrderRow(2, "PO-2", 1, "delivered", dt.date(2026, 3, 31), _snapshot(12, (AIR,))),
        OrderRow(3, "PO-3", 1, "cancelled", None, None),
    ]
    ledger = [LedgerRow("earn_pending", 1500, pending_delta=1500, month="2026-02")]
    inventory = build_inventory(YEAR, orders, ledger, Balance(available=250))
    return ReportDocument(
        report_id="RPT-TEST-0001",
        language=language,
        issued_at=ISSUED,
        organisation_name=organisation,
        inventory=inventory,
        sources=SOURCES,
        **fields,
    )


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def flat(pages: list[str]) -> str:
    return re.sub(r"\s+", " ", " ".join(pages))


@pytest.fixture(scope="module")
def english() -> bytes:
    return pdf.render_pdf(worked_document())


@pytest.fixture(scope="module")
def chinese() -> bytes:
    return pdf.render_pdf(worked_document("zh-hans", "上海绿环物流有限公司"))


def test_english_report_prints_the_inventory_figures_as_the_portal_formats_them(english):
    text = flat(text_of(english))
    for figure in (
        "600,000.0",  # t·km
        "240,000.0",  # TTW
        "58,000.0",  # WTT
        "298,000.0",  # WTW
        "496.7",  # g CO2e/t·km = 298,000 x 1,000 / 600,000
        "84,000.0",  # radiative forcing, its own line
        "53.7",  # Scope 2 location-based
        "23.4",  # Scope 2 market-based
        "1,500",  # points earned
        "1,750",  # balance: 250 available + 1,500 pending
    ):
        assert figure in text, figure
    assert "Acme Ltd" in text
    assert "RPT-TEST-0001" in text
    assert "Year 2026" in text
    assert "Not delivered" in text  # PO-3, excluded with its reason
    assert "greenloop-iso14083-2026.1" in text


def test_english_report_cites_every_dataset_and_the_ogl_statement(english):
    text = flat(text_of(english))
    for label, publisher in (
        ("desnz-2025@1", "Department for Energy Security and Net Zero"),
        ("grid-cn-2024@2", "Ministry of Ecology and Environment"),
    ):
        assert label in text
        assert publisher in text
    assert "https://www.mee.gov.cn/" in text
    assert "2025-06-10" in text
    assert (
        "Contains public sector information licensed under the Open Government Licence v3.0."
        in text
    )
    assert "WTW = TTW + WTT" in text
    # the method statement generated from code: what is not covered, and where to read it
    assert "Hub operations without a published default: Airport cargo terminal" in text
    assert "greenloop-iso14083-aligned-2026.2" in text
    assert "Scope 3 view by Incoterm" in text


def link_targets(data: bytes) -> list[str]:
    return [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(data)).pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object()
    ]


def test_the_pdf_links_the_method_statement_page_of_the_organisation(settings):
    # given the portal's address
    settings.WAGTAILADMIN_BASE_URL = "https://portal.example/"
    # when Acme's report is rendered
    data = pdf.render_pdf(worked_document(organisation_slug="acme"))
    # then it links the method statement page a customer can open, not an API path
    assert "https://portal.example/o/acme/method/" in link_targets(data)
    assert "https://portal.example/o/acme/method/" in flat(text_of(data))
    # and a report on every customer (vendor staff) links the API's statement
    staff = pdf.render_pdf(worked_document(organisation=None))
    assert "https://portal.example/api/v1/carbon/method" in link_targets(staff)


def test_every_page_carries_the_report_id_data_hash_and_page_number(english):
    pages = text_of(english)
    digest = worked_document().inventory.data_hash
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    for number, page in enumerate(pages, start=1):
        assert "RPT-TEST-0001" in page
        assert digest in re.sub(r"\s+", "", page)
        assert f"Page {number} of {len(pages)}" in page


def test_chinese_report_is_in_chinese_with_an_embedded_cjk_font(chinese):
    pages = text_of(chinese)
    text = flat(pages)
    assert "上海绿环物流有限公司" in text
    for label in ("碳排放报告", "执行摘要", "数据质量", "方法说明", "数据来源", "订单"):
        assert label in text, label
    assert "2026年2月" in text  # the monthly table
    assert "600,000.0" in text  # Chinese pages group thousands too (portal/formats/zh_Hans)
    assert "第 1 页，共" in pages[0]
    assert "Executive summary" not in text
    fonts = set()
    for page in PdfReader(io.BytesIO(chinese)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts.add((str(font["/BaseFont"]), embedded))
    assert any("Report-CJK" in name and embedded for name, embedded in fonts), fonts


def test_two_renders_are_byte_identical_with_fixed_metadata(english):
    again = pdf.render_pdf(worked_document())
    assert again == english
    reader = PdfReader(io.BytesIO(english))
    assert reader.metadata["/CreationDate"].startswith("D:20270115093000")
    assert reader.metadata["/ModDate"].startswith("D:20270115093000")
    assert reader.metadata["/Title"] == "Carbon report RPT-TEST-0001"
    # the file identifier: the report id, then a digest of the content
    assert reader.trailer["/ID"][0] == "RPT-TEST-0001"


def test_a_restated_report_shows_old_and_new_side_by_side():
    original = worked_document().inventory
    document = worked_document(as_issued=original)
    text = flat(text_of(pdf.render_pdf(document)))
    assert "Restated with current factors" in text
    assert "As issued" in text
    assert "Restated" in text
    assert original.data_hash in text.replace(" ", "")


def test_all_customers_when_no_organisation():
    html = pdf.render_html(worked_document(organisation=None))
    assert "All customers" in html


@pytest.fixture(scope="module")
def thousand() -> tuple[ReportDocument, list[str]]:
    document = specimen_document(1000)
    return document, text_of(pdf.render_pdf(document))


def test_a_thousand_orders_paginate_with_the_header_on_every_page_and_no_row_split(thousand):
    document, pages = thousand
    inventory = document.inventory
    assert inventory.orders == 1000
    assert 25 <= len(pages) <= 45
    order_pages = [page for page in pages if re.search(r"PO-2026-\d{5}", page)]
    # the orders table (and the excluded orders' list on the data-quality page)
    assert len(order_pages) >= inventory.orders // pdf.ORDER_ROWS_PER_PAGE
    seen: dict[str, int] = {}
    for number, page in enumerate(pages):
        for order_id in re.findall(r"PO-2026-\d{5}", page):
            seen.setdefault(order_id, number)
            assert seen[order_id] == number, f"{order_id} on two pages"
        if re.search(r"PO-2026-\d{5}", page):
            assert "Order" in page
            assert "Delivered" in page
            assert "WTW (kg CO₂e)" in page or "Reason" in page
    counted = {line.external_id for line in inventory.lines}
    excluded = {order.external_id for order in inventory.data_quality.excluded}
    assert set(seen) == counted | excluded


def test_the_fetcher_refuses_the_network_and_files_outside_its_folders(tmp_path):
    fetcher = pdf._fetcher()
    for url in ("http://example.com/a.png", "https://example.com/font.ttf", "ftp://x/y"):
        with pytest.raises(pdf.RefusedURL, match="nothing from the network"):
            fetcher.fetch(url)
    secret = tmp_path / "secret.css"
    secret.write_text("body {}")
    with pytest.raises(pdf.RefusedURL, match="no file outside its folders"):
        fetcher.fetch(secret.as_uri())
    assert fetcher.fetch(pdf.STYLESHEET.as_uri()).read().startswith(b"/*")


def test_rendering_opens_no_socket_even_when_the_html_asks(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the report opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    html = '<img src="https://example.com/a.png"><link rel="stylesheet" href="http://x/y.css">'
    HTML(string=html, url_fetcher=pdf._fetcher()).write_pdf()
    # An organisation name that tries to leave the <style> element and fetch an image.
    name = 'Evil "Co" </style><img src="http://example.com/x.png">'
    text = flat(text_of(pdf.render_pdf(worked_document(organisation=name))))
    assert 'Evil "Co" </style>' in text


def test_charts_are_deterministic_svg_without_script():
    months = worked_document().inventory.by_month
    first = charts.monthly_trend(months, "en")
    assert first == charts.monthly_trend(months, "en")
    assert first.startswith("<svg")
    assert "<script" not in first
    assert "<!--" not in first
    assert "style=" not in first  # no inline style attribute: the portal's CSP refuses them
    assert 'id="chart-monthly-trend"' in first
    assert "Feb 2026" in first


def test_chinese_charts_use_chinese_labels_and_a_cjk_font():
    inventory = worked_document().inventory
    svg = charts.emissions_by_mode(inventory.by_mode, "zh-hans")
    assert "Noto Sans CJK SC" in svg
    assert "公路" in svg
    assert "空运" in svg
    grouped = charts.intensity_by_mode(inventory.by_mode, inventory.by_mode, "zh-hans")
    assert "本期" in grouped
    assert "上期" in grouped
    assert "2026年3月" in charts.points_over_time(inventory.by_month, "zh-hans")


def test_fit_counts_chinese_characters_as_two_columns():
    assert pdf.fit("PO-12345", 8) == "PO-12345"
    assert pdf.fit("PO-123456", 8) == "PO-1234…"
    assert pdf.fit("上海绿环物流", 8) == "上海绿…"


def _previous(*orders: OrderRow):
    return build_inventory(ReportingPeriod.year(2025), list(orders), [], Balance())


def test_the_comparison_is_one_sentence_punctuated_in_each_language():
    before = OrderRow(9, "PO-9", 1, "delivered", dt.date(2025, 5, 1), _snapshot(19, (HGV,)))
    english = pdf.render_html(worked_document(previous=_previous(before)))
    # WTW 298,000 against 25,000 kg; intensity 496.7 against 125.0 g/t·km
    assert "Compared with Year 2025: WTW emissions +1,092.0 %; intensity +297.3 %." in english
    chinese = pdf.render_html(worked_document("zh-hans", previous=_previous(before)))
    assert "与2025 年度相比：WTW 排放量 +1,092.0 %；排放强度 +297.3 %。" in chinese


def test_an_empty_previous_period_says_there_is_nothing_to_compare():
    english = pdf.render_html(worked_document(previous=_previous()))
    assert "Year 2025 has no emissions to compare with." in english
    assert "Year 2025: ." not in english
    chinese = pdf.render_html(worked_document("zh-hans", previous=_previous()))
    assert "2025 年度没有可比较的排放量。" in chinese


def test_the_chinese_data_tiers_name_the_tier_not_a_share():
    chinese = pdf.render_html(worked_document("zh-hans"))
    assert "<td>默认因子</td>" in chinese
    assert "所用方法版本：" in chinese


def test_chart_guides_are_light_solid_lines_behind_the_printed_values():
    svg = charts.monthly_trend(worked_document().inventory.by_month, "en")
    assert ".axis .guide.line{stroke-dasharray:none;stroke:#d4d4d4}" in svg
    assert ".axis .major.guide.line{stroke-dasharray:none;stroke:#d4d4d4}" in svg
    assert "stroke:black" not in svg


def test_the_chinese_report_tables_name_transport_work_in_tonne_kilometres():
    # given the worked document in Chinese
    # when it is rendered
    chinese = pdf.render_html(worked_document("zh-hans"))
    # then every table header says 吨公里, as the portal's pages do, and none says t·km
    assert '<th class="num">吨公里</th>' in chinese
    assert '<th class="num">t·km</th>' not in chinese
    assert "t·km" not in chinese
