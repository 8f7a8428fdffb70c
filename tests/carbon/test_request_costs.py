"""The customer list pages (dashboard, orders, an order, the points statement) compile the same
number of SQL statements and reverse the same number of URLs whatever the number of orders,
legs and ledger entries (issue #18, item 6)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from carbon.footprint.calculation import calculate_order
from carbon.points import actions
from tests.carbon.factories import (
    ServiceFactory,
    fund,
    grid_dataset,
    order_with_legs,
    published_dataset,
)
from tests.request_costs import page_costs

pytestmark = pytest.mark.django_db


def _orders(org, count: int, legs: int) -> list:
    made = []
    for _ in range(count):
        leg = {"category": "road.van.diesel", "mass_t": Decimal("1"), "distance_km": Decimal(100)}
        order = order_with_legs(org, [leg] * legs)
        calculate_order(order)
        made.append(order)
    return made


def _pages(org, order) -> dict[str, str]:
    slug = {"org_slug": org.slug}
    return {
        "dashboard": reverse("portal:org_dashboard", kwargs=slug),
        "orders": reverse("carbon:orders", kwargs=slug),
        "order detail": reverse("carbon:order_detail", kwargs={**slug, "order_id": order.pk}),
        "points statement": reverse("carbon:points", kwargs=slug),
    }


def test_customer_pages_cost_the_same_whatever_the_data(client, org_a, member_a):
    # given two calculated orders of two legs, and a few ledger entries
    published_dataset()
    grid_dataset()
    first = _orders(org_a, 2, 2)[0]
    cheap = ServiceFactory(points_cost=1, requires_site=False)
    fund(org_a, 10_000)
    for n in range(2):
        actions.request_redemption(org_a, cheap, member_a, key=f"few-{n}")
    client.force_login(member_a)
    few = {name: page_costs(client, url).as_tuple() for name, url in _pages(org_a, first).items()}
    # when many more orders, legs and ledger entries are added (the first order grows too)
    _orders(org_a, 8, 3)
    more = order_with_legs(
        org_a,
        [{"category": "road.van.diesel", "mass_t": Decimal("2"), "distance_km": Decimal(50)}] * 6,
    )
    calculate_order(more)
    for n in range(12):
        actions.request_redemption(org_a, cheap, member_a, key=f"many-{n}")
    many = {name: page_costs(client, url).as_tuple() for name, url in _pages(org_a, first).items()}
    many_detail = page_costs(client, _pages(org_a, more)["order detail"]).as_tuple()
    # then every page compiles as many statements and reverses as many URLs as before
    assert many == few
    assert many_detail == few["order detail"]
