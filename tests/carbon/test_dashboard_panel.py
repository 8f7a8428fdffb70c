"""The dashboard's carbon card counts as the reports count (delivered orders by delivery date,
from their stored snapshots, over the last twelve months) and draws the monthly trend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from carbon import portal_hooks
from carbon.footprint.calculation import calculate_order
from carbon.models import CalculationSnapshot, OrderStatus
from carbon.portal_hooks import last_twelve_months
from tests.carbon.factories import grid_dataset, order_with_legs, published_dataset

pytestmark = pytest.mark.django_db

LEG = [{"category": "road.hgv.average_laden", "data_tier": "primary"}]


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (dt.date(2026, 12, 4), dt.date(2026, 1, 1)),
        (dt.date(2026, 11, 30), dt.date(2025, 12, 1)),
        (dt.date(2026, 3, 15), dt.date(2025, 4, 1)),
        (dt.date(2026, 1, 1), dt.date(2025, 2, 1)),
    ],
)
def test_the_last_twelve_months_are_eleven_whole_months_and_this_one_to_today(
    monkeypatch, today, start
):
    monkeypatch.setattr(portal_hooks.timezone, "localdate", lambda: today)
    period = last_twelve_months()
    assert (period.start, period.end) == (start, today)


def test_the_card_counts_delivered_orders_only_and_shows_the_trend(
    client, org_a, member_a, django_assert_max_num_queries
):
    published_dataset()
    grid_dataset()
    today = timezone.localdate()
    delivered = order_with_legs(
        org_a, LEG, order_date=today, status=OrderStatus.DELIVERED, delivery_date=today
    )
    cancelled = order_with_legs(org_a, LEG, order_date=today, status=OrderStatus.CANCELLED)
    for order in (delivered, cancelled):
        calculate_order(order)
    wtw = CalculationSnapshot.objects.get(order=delivered, is_current=True).wtw_kg

    client.force_login(member_a)
    page = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}))
    html = page.content.decode()

    assert page.status_code == 200
    # 2 t x 100 km x 0.125 kg/t·km WTW = 25 kg; the cancelled order's 25 kg is not counted
    assert wtw == 25
    assert (
        '<p class="stat">25.0\u00a0kg\u00a0CO₂e <abbr class="small muted" title="Well-to-wheel:'
        in html
    )
    assert '<abbr title="Tank-to-wheel: the fuel burnt by the vehicles.">TTW</abbr>' in html
    assert "WTW (well-to-wheel) = TTW (tank-to-wheel: the fuel burnt by the vehicles)" in html
    assert "<dt>Delivered orders</dt><dd>1</dd>" in html
    assert "1 order not counted (not delivered, or no calculation)." in html
    assert '<figure class="scroll-chart panel-chart">' in html
    assert 'id="chart-monthly-trend"' in html
    assert '<style nonce="' in html
    assert f'href="/o/{org_a.slug}/trends/"' in html


def test_the_chinese_card_names_transport_work_in_tonne_kilometres(client, org_a, member_a):
    # given a delivered order of 2 t over 100 km (200 t·km, 25 kg WTW)
    published_dataset()
    today = timezone.localdate()
    order = order_with_legs(
        org_a, LEG, order_date=today, status=OrderStatus.DELIVERED, delivery_date=today
    )
    calculate_order(order)
    # when a member reads the dashboard in Chinese
    client.force_login(member_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug})).content
    card = html.decode()
    # then the card writes 吨公里 as the tables do, never t·km; kg CO₂e stays a symbol
    assert "<dd>200\u00a0吨公里</dd>" in card
    assert "<dd>125.0\u00a0g\u00a0CO₂e/吨公里</dd>" in card
    assert "25.0\u00a0kg\u00a0CO₂e" in card
    assert "t·km" not in card


@pytest.mark.parametrize(
    ("language", "label", "hint"),
    [
        ("en", "Monthly emissions chart", "Scroll sideways to see every month."),
        ("zh-hans", "月度排放量图表", "左右滑动可查看所有月份。"),
    ],
)
def test_the_chart_is_a_labelled_focusable_region_with_its_scroll_hint(
    client, org_a, member_a, language, label, hint
):
    # given a member reading the portal in their language
    client.force_login(member_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    # when they open the dashboard
    page = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}))
    html = page.content.decode()
    # then the chart sits in a region that takes focus (its arrow keys scroll it on a phone),
    # named and described by the hint that carbon.css shows where the chart scrolls
    assert (
        f'<div class="chart-scroll" tabindex="0" role="region" aria-label="{label}"'
        ' aria-describedby="footprint-chart-hint"><svg'
    ) in html
    assert (
        '<figcaption class="chart-scroll-hint small muted" id="footprint-chart-hint">'
        f"{hint}</figcaption>"
    ) in html


def test_recent_orders_are_the_organisations_five_latest_with_their_footprint(
    client, org_a, org_b, member_a, django_assert_max_num_queries
):
    # given seven orders of Acme's, the latest calculated, and a newer order of Globex's
    published_dataset()
    grid_dataset()
    for day in range(1, 8):
        order_with_legs(org_a, LEG, external_id=f"A-{day}", order_date=dt.date(2026, 3, day))
    calculate_order(order_with_legs(org_a, LEG, external_id="A-9", order_date=dt.date(2026, 3, 9)))
    order_with_legs(org_b, LEG, external_id="GLOBEX-1", order_date=dt.date(2026, 4, 1))

    # when an Acme member opens the dashboard
    client.force_login(member_a)
    url = reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug})
    # the whole dashboard: session, person, memberships, each panel (13 measured)
    with django_assert_max_num_queries(14):
        html = client.get(url).content.decode()

    # then the five latest of Acme's are listed, newest first, the calculated one with its kg
    panel = html.split('id="panel-carbon-recent-orders"')[1].split("</section>")[0]
    listed = [part.split("</a>")[0] for part in panel.split('class="ident" href="')[1:]]
    assert [entry.split(">")[1] for entry in listed] == ["A-9", "A-7", "A-6", "A-5", "A-4"]
    assert "25.0\u00a0kg\u00a0CO₂e" in panel
    assert panel.count("not calculated yet") == 4
    assert "GLOBEX-1" not in html
