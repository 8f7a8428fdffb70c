"""The portal page "Reports and trends": the period inventory's figures (the PDF's numbers), for
the caller's organisation only, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from carbon.footprint.calculation import calculate_order
from carbon.models import OrderStatus
from carbon.reports.loader import load_inventory
from carbon.reports.period import ReportingPeriod
from tests.carbon.factories import order_with_legs, published_dataset

pytestmark = pytest.mark.django_db

LEGS = [
    {"category": "road.hgv.average_laden", "mass_t": Decimal("2"), "distance_km": Decimal("100")}
]


def delivered(organisation, day: dt.date, count: int = 1) -> None:
    for _ in range(count):
        order = order_with_legs(
            organisation,
            LEGS,
            order_date=day,
            status=OrderStatus.DELIVERED,
            delivery_date=day,
        )
        calculate_order(order)


def url(organisation, period: str | None = "2026") -> str:
    base = reverse("carbon:trends", kwargs={"org_slug": organisation.slug})
    return base if period is None else f"{base}?period={period}"


def test_the_page_shows_the_inventory_figures(client, org_a, member_a):
    published_dataset()
    delivered(org_a, dt.date(2026, 2, 10), 2)
    delivered(org_a, dt.date(2025, 5, 1))
    client.force_login(member_a)
    response = client.get(url(org_a))
    assert response.status_code == 200
    inventory = load_inventory(org_a, ReportingPeriod.year(2026))
    assert inventory.orders == 2
    html = response.content.decode()
    assert "Reports and trends" in html
    assert "Year 2026" in html
    assert "Feb 2026" in html
    # two orders of 2 t over 100 km, in the units and precision a reader expects (one decimal
    # below 100 kg)
    assert (inventory.wtw_kg, inventory.tkm) == (50, 400)
    assert "<dd>50.0\u00a0kg\u00a0CO₂e</dd>" in html
    assert "<dd>400\u00a0t·km</dd>" in html
    assert 'id="chart-monthly-trend"' in html
    assert "<script" not in html.split('id="chart-monthly-trend"')[1].split("</svg>")[0]
    # pygal's chart style carries the page's CSP nonce
    nonce = response.wsgi_request.csp_nonce
    assert f'<style nonce="{nonce}"' in html


def test_another_organisation_is_not_found(client, org_a, org_b, member_a):
    client.force_login(member_a)
    assert client.get(url(org_b)).status_code == 404


def test_a_bad_period_is_a_form_error(client, org_a, member_a):
    client.force_login(member_a)
    response = client.get(url(org_a, "2026-13"))
    assert response.status_code == 400
    assert "Write a year (2026)" in response.content.decode()
    response = client.get(url(org_a, "2020-01-01..2024-12-31"))
    assert response.status_code == 400
    assert "at most two years" in response.content.decode()


def test_the_default_period_is_this_year(client, org_a, member_a):
    client.force_login(member_a)
    response = client.get(url(org_a, None))
    assert response.status_code == 200
    assert response.context["period"] == ReportingPeriod.year(timezone.localdate().year)


def test_queries_do_not_grow_with_the_orders(
    client, org_a, member_a, django_assert_max_num_queries
):
    published_dataset()
    delivered(org_a, dt.date(2026, 3, 3), 2)
    client.force_login(member_a)
    client.get(url(org_a))  # warm the session and the caches
    with django_assert_max_num_queries(20) as few:
        client.get(url(org_a))
    delivered(org_a, dt.date(2026, 4, 4), 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(org_a)).status_code == 200


def test_in_chinese(client, org_a, member_a):
    published_dataset()
    delivered(org_a, dt.date(2026, 2, 10))
    client.force_login(member_a)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(url(org_a), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "报告与趋势" in html
    assert "2026年2月" in html
    assert "2026 年度" in html
    # transport work is 吨公里 here as on the orders page, in the tables' headers and phone labels
    assert html.count('<th scope="col" class="num">吨公里</th>') == 2
    assert 'data-label="吨公里"' in html
    assert 'data-label="t·km"' not in html


@pytest.mark.parametrize(
    ("language", "charts"),
    [
        (
            "en",
            [
                ("monthly-trend", "Monthly emissions chart", "Scroll sideways to see every month."),
                (
                    "intensity-by-mode",
                    "Intensity by transport mode chart",
                    "Scroll sideways to see every transport mode.",
                ),
                (
                    "points-over-time",
                    "Points earned and redeemed by month chart",
                    "Scroll sideways to see every month.",
                ),
            ],
        ),
        (
            "zh-hans",
            [
                ("monthly-trend", "月度排放量图表", "左右滑动可查看所有月份。"),
                ("intensity-by-mode", "各运输方式排放强度图表", "左右滑动可查看所有运输方式。"),
                ("points-over-time", "每月获得与兑换积分图表", "左右滑动可查看所有月份。"),
            ],
        ),
    ],
)
def test_each_chart_is_a_labelled_focusable_region_with_its_scroll_hint(
    client, org_a, member_a, language, charts
):
    # given a member reading the portal in their language
    client.force_login(member_a)
    client.cookies["django_language"] = language
    # when they open the trends page
    html = client.get(url(org_a)).content.decode()
    # then each of the three charts sits in a region that takes focus (its arrow keys scroll it
    # on a phone), named and described by the hint that carbon.css shows where the chart scrolls,
    # in the same markup as the dashboard's chart
    for chart_id, label, hint in charts:
        assert (
            f'<figure class="scroll-chart">\n  <div class="chart-frame"><div class="chart-scroll"'
            f' tabindex="0" role="region" aria-label="{label}"'
            f' aria-describedby="{chart_id}-hint"><svg'
        ) in html
        region = html.split(f'aria-describedby="{chart_id}-hint"')[1]
        assert f'id="chart-{chart_id}"' in region[:400]
        assert (
            f'<figcaption class="chart-scroll-hint small muted" id="{chart_id}-hint">'
            f"{hint}</figcaption>"
        ) in html
    assert html.count('class="chart-scroll"') == 3
