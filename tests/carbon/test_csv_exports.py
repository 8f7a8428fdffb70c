"""Carbon's CSV exports (points statement, import error report, staff factor and product
exports) go through portal's shared writer: formulas quoted, plain numbers kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon.models import DatasetStatus, ImportJob, Order
from carbon.points import actions
from tests.carbon.factories import EmissionFactorFactory, ProductFactory, fund, published_dataset
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_points_statement_quotes_formulas_and_keeps_negative_numbers(client, org_a, member_a):
    # given a funded account, then a manual deduction whose reason is a formula
    account = fund(org_a, 10)
    staff = UserFactory(is_staff=True)
    actions.adjust(account, -4, '=HYPERLINK("https://evil.example")', staff, key="formula")
    actions.adjust(account, 1, "-1 point, see @note", staff, key="dash")
    client.force_login(member_a)
    # when the member downloads the statement
    response = client.get(reverse("carbon:points_csv", kwargs={"org_slug": org_a.slug}))
    lines = _body(response).decode().split("\r\n")
    # then the reasons are quoted text and the negative delta stays the number -4
    assert [line.split(",", 1)[1] for line in lines[1:-1]] == [
        'adjust,1,0,1,0,,,,"\'-1 point, see @note"',
        'adjust,4,0,-4,0,,,,"\'=HYPERLINK(""https://evil.example"")"',
        "adjust,10,0,10,0,,,,Test funding",
    ]


def test_the_import_error_report_quotes_formulas_from_the_uploaded_file(client, org_a, member_a):
    # given an upload whose bad cells look like formulas, and one that is a plain negative number
    published_dataset()
    client.force_login(member_a)
    text = (
        "order_id,order_date,category,distance,mass\n"
        "PO-1,2025-01-01,road.hgv.average_laden,=HYPERLINK(1) km,1 t\n"
        "PO-2,2025-01-01,road.hgv.average_laden,-5,1 t\n"
    )
    upload = SimpleUploadedFile("orders.csv", text.encode(), content_type="text/csv")
    client.post(reverse("carbon:import_orders", kwargs={"org_slug": org_a.slug}), {"file": upload})
    job = ImportJob.objects.get()
    # when the member downloads the error report
    report = client.get(
        reverse("carbon:import_job", kwargs={"org_slug": org_a.slug, "job_id": job.pk}),
        {"format": "csv"},
    )
    # then
    assert Order.objects.count() == 0
    assert report.content.decode().split("\r\n") == [
        "row,column,value,reason",
        "2,distance,'=HYPERLINK(1) km,"
        "\"'=HYPERLINK(1) km' is not a number with a unit, e.g. 830 km\"",
        "3,distance,-5,'-5' has no unit; write it like 830 km",
        "",
    ]


def test_staff_factor_and_product_exports_quote_formulas(client, sustainability):
    # given a factor and a product whose texts look like formulas
    dataset = published_dataset(freight={}, fuel={}, status=DatasetStatus.DRAFT)
    factor = EmissionFactorFactory(
        dataset=dataset,
        category="road.van.diesel",
        value=Decimal("0.63130"),
        unit="kgCO2e / tonne.km",
        source_label="@SUM(1+1)",
        source_id="-12",
        description="+calc",
    )
    ProductFactory(sku="=SKU()", name="Inverter", electricity_kwh_per_unit=Decimal("950"))
    client.force_login(sustainability)
    # when staff export factors and products from the admin
    factors = client.get(reverse("carbon_factors:index"), {"export": "csv"})
    products = client.get(reverse("carbon_products:index"), {"export": "csv"})
    # then text is quoted, numbers (and the plain number "-12") are kept
    factor_lines = _body(factors).decode().split("\r\n")
    assert factor_lines[1] == (
        f"{dataset},road.van.diesel,{factor.kind},{factor.energy_scope},False,0.6313000000,"
        f"kgCO2e / tonne.km,{factor.region},{factor.valid_from},{factor.valid_to or ''},"
        "'@SUM(1+1),-12,'+calc"
    )
    assert _body(products).decode().split("\r\n")[1] == "'=SKU(),Inverter,950.0000"
