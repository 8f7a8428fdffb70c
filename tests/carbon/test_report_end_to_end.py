"""Carbon reports end to end with the real renderers (no stand-ins): a customer asks through the
API and the portal, the background generation writes the file, and the file holds the same
figures as the API's status, the "Reports and trends" page and the inventory, regenerates to the
same bytes, and is not another organisation's to fetch."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint.calculation import calculate_order
from carbon.models import OrderStatus, PointsPolicy, PolicyStatus, Report
from carbon.reports.builder import build_document
from carbon.reports.pdf import render_pdf
from tests.api_client import token_headers
from tests.carbon.factories import grid_dataset, order_with_legs, published_dataset
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def approved() -> dict:
    """What an approved policy records: submitted by one staff member, approved by another."""
    return {
        "submitted_by": UserFactory(is_staff=True),
        "approved_by": UserFactory(is_staff=True),
        "approved_at": timezone.now(),
    }


LEGS = [
    {"category": "road.hgv.average_laden", "data_tier": "primary"},
    {"category": "air.long_haul", "radiative_forcing": True, "data_tier": "primary"},
]


@pytest.fixture
def orders(org_a):
    PointsPolicy.objects.create(
        version=1, effective_from=dt.date(2024, 1, 1), points_per_kg=1, pending_days=14,
        expiry_months=12, explanation="One point per kg avoided, pending 14 days.",
        status=PolicyStatus.ACTIVE, **approved(),
    )  # fmt: skip
    PointsPolicy.objects.create(
        version=2, effective_from=dt.date(2026, 1, 1), points_per_kg=2, pending_days=14,
        expiry_months=12, explanation="Not yet in force in 2025.", status=PolicyStatus.ACTIVE,
        **approved(),
    )  # fmt: skip
    published_dataset()
    grid_dataset()
    made = []
    for day in (3, 17):
        order = order_with_legs(
            org_a,
            LEGS,
            order_date=dt.date(2025, 4, day),
            status=OrderStatus.DELIVERED,
            delivery_date=dt.date(2025, 5, day),
        )
        calculate_order(order)
        made.append(order)
    return made


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def call(body, headers):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/v1/reports", body, content_type="application/json", headers=headers
            )

    return call


def pdf_text(data: bytes) -> str:
    return re.sub(
        r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    )


def one_decimal(text: str) -> str:
    return f"{Decimal(text):,.1f}"


def test_the_pdf_holds_the_apis_figures_and_regenerates_to_the_same_bytes(
    client, org_a, org_b, admin_a, orders, post
):
    headers = token_headers(org_a, ("carbon:read", "carbon:write"))
    created = post({"period": "2025", "language": "en", "format": "pdf"}, headers)
    assert created.status_code == 202, created.content

    status = client.get(created["Location"], headers=headers).json()
    assert status["status"] == "done", status
    summary = status["summary"]
    assert summary["orders"] == 2
    # no green-power declaration: no market-based figure at all, not a zero
    assert summary["scope2_market_kg"] is None
    file = client.get(status["download_url"], headers=headers)
    assert file["Content-Type"] == "application/pdf"
    data = b"".join(file.streaming_content) if file.streaming else file.content
    assert data.startswith(b"%PDF-")

    text = pdf_text(data)
    for key in ("wtw_kg", "ttw_kg", "wtt_kg", "tkm", "radiative_forcing_kg"):
        assert one_decimal(summary[key]) in text, (key, summary[key])
    for order in orders:
        assert order.external_id in text
    for label in summary["datasets"]:
        assert label.split("@")[0] in text
    # the points policy in force, with its explanation
    assert "Points policy versions in force during the period" in text
    assert "One point per kg avoided, pending 14 days." in text
    assert "Not yet in force in 2025." not in text
    assert "Market-based – over 0 orders with a market-based figure" in text
    assert status["data_hash"] in text
    assert status["id"] in text

    # the same record renders the same bytes: what was stored is what a regeneration gives
    report = Report.objects.get(public_id=status["id"])
    assert render_pdf(build_document(report)) == data

    # the "Reports and trends" page shows the same WTW for the same period
    client.force_login(admin_a)
    page = client.get(f"/o/{org_a.slug}/trends/", {"period": "2025"})
    assert page.status_code == 200
    # (the page rounds to whole kg for people: 324.074074 kg)
    assert summary["wtw_kg"].startswith("324.07")
    assert "<dt>WTW emissions</dt><dd>324\u00a0kg\u00a0CO₂e</dd>" in page.content.decode()

    # another organisation's token gets 404 for the status and the file, whatever it knows
    other = token_headers(org_b, ("carbon:read",))
    assert client.get(created["Location"], headers=other).status_code == 404
    assert client.get(status["download_url"], headers=other).status_code == 404


def test_a_chinese_pdf_from_the_portal_is_chinese_with_an_embedded_cjk_font(
    client, org_a, admin_a, orders, django_capture_on_commit_callbacks
):
    org_a.name = "上海绿环物流有限公司"
    org_a.save()
    client.force_login(admin_a)
    form = {"period_kind": "year", "year": "2025", "language": "zh-hans", "format": "pdf"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/{org_a.slug}/reports/", form)
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert "done" in Report.objects.get().status
    download = client.get(f"{response['Location']}download/")
    data = b"".join(download.streaming_content) if download.streaming else download.content
    text = pdf_text(data)
    assert "上海绿环物流有限公司" in text
    assert "2025 年度" in text
    reader = PdfReader(io.BytesIO(data))
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
        if "/BaseFont" in font.get_object()
    }
    assert any(name.endswith("+Report-CJK") for name in fonts), fonts  # a subset, embedded
    assert detail.status_code == 200


def test_the_csv_carries_every_leg_and_neutralises_formulas(client, org_a, orders, post):
    orders[0].external_id = '=HYPERLINK("http://x")'
    orders[0].save()
    calculate_order(orders[0])
    headers = token_headers(org_a, ("carbon:read", "carbon:write"))
    created = post({"period": "2025", "language": "en", "format": "csv"}, headers)
    status = client.get(created["Location"], headers=headers).json()
    file = client.get(status["download_url"], headers=headers)
    data = b"".join(file.streaming_content) if file.streaming else file.content
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    body = rows[1:]
    assert len(body) == 4  # two orders of two legs
    cells = [cell for row in body for cell in row]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not any(cell.startswith("=") for cell in cells)
