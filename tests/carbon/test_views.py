"""Portal pages of carbon: order list and detail, import page, permissions, bounded queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon.footprint.actions import upsert_order
from carbon.footprint.orders import LegData, LineData, OrderData, ShipmentData
from carbon.models import ImportJob, Order
from tests.carbon.factories import OrderFactory, ProductFactory, published_dataset
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_a):
    published_dataset()
    ProductFactory(sku="SUN-110K-G", electricity_kwh_per_unit=Decimal("950"))
    SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE", region="DE")
    return org_a


def make_orders(org, n: int, *, prefix="PO", mode="road"):
    category = {"road": "road.hgv.average_laden", "rail": "rail.freight"}[mode]
    orders = []
    for i in range(n):
        order, _ = upsert_order(
            org,
            OrderData(
                external_id=f"{prefix}-{i:04d}",
                order_date=date(2025, 1 + i % 12, 1 + i % 27),
                delivery_date=None,
                status="delivered",
                site_name="Werk Hamburg" if i % 2 else None,
                lines=[LineData("SUN-110K-G", Decimal(1 + i % 5))],
                shipments=[
                    ShipmentData(
                        f"S-{i}",
                        [
                            LegData(category, Decimal("2"), Decimal(100 + i)),
                            LegData("sea.container.average", Decimal("2"), Decimal("19800")),
                        ],
                    )
                ],
            ),
        )
        orders.append(order)
    return orders


def url(name, org, **kwargs):
    return reverse(f"carbon:{name}", kwargs={"org_slug": org.slug, **kwargs})


def test_order_list_shows_footprints(client, world, member_a):
    # given
    (order,) = make_orders(world, 1)
    client.force_login(member_a)
    # when
    response = client.get(url("orders", world))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "PO-0000" in page
    snapshot = order.snapshots.get(is_current=True)
    assert snapshot.wtw_kg == 817
    # kg CO₂e in the table: whole kilograms from 100 kg (carbon_units.amount)
    assert 'class="num">817</td>' in page
    assert url("order_detail", world, order_id=order.pk) in page


def test_order_list_filters_by_period_mode_and_site(client, world, member_a):
    make_orders(world, 4)
    make_orders(world, 2, prefix="RAIL", mode="rail")
    client.force_login(member_a)
    site = world.sites.get()
    response = client.get(url("orders", world), {"mode": "rail"})
    assert [o.external_id for o in response.context["page"]] == ["RAIL-0001", "RAIL-0000"]
    response = client.get(url("orders", world), {"site": site.pk})
    assert {o.external_id for o in response.context["page"]} == {"PO-0001", "PO-0003", "RAIL-0001"}
    response = client.get(
        url("orders", world), {"date_from": "2025-02-01", "date_to": "2025-03-31"}
    )
    assert {o.external_id for o in response.context["page"]} == {
        "PO-0001", "PO-0002", "RAIL-0001"
    }  # fmt: skip


def test_order_list_finds_an_order_by_its_number(client, world, member_a):
    """A report lists orders by number; the list finds one by (part of) it."""
    make_orders(world, 3)
    make_orders(world, 1, prefix="RAIL", mode="rail")
    client.force_login(member_a)
    response = client.get(url("orders", world), {"order": " po-0002 "})
    assert [o.external_id for o in response.context["page"]] == ["PO-0002"]
    response = client.get(url("orders", world), {"order": "rail"})
    assert [o.external_id for o in response.context["page"]] == ["RAIL-0000"]
    page = client.get(url("orders", world), {"order": "nothing-like-it"}).content.decode()
    assert "PO-0000" not in page
    assert 'name="order"' in page


def test_order_list_sorts_by_footprint(client, world, member_a):
    make_orders(world, 3)
    client.force_login(member_a)
    response = client.get(url("orders", world), {"sort": "wtw"})
    values = [o.fp_wtw_kg for o in response.context["page"]]
    assert values == sorted(values)
    response = client.get(url("orders", world), {"sort": "-wtw"})
    assert [o.fp_wtw_kg for o in response.context["page"]] == sorted(values, reverse=True)


def _queries_for_list(client, django_assert_max_num_queries, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("orders", org))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_order_list_query_count_does_not_grow_with_orders(
    client, world, member_a, django_assert_max_num_queries
):
    # given 5 orders, then 50
    client.force_login(member_a)
    make_orders(world, 5)
    # (the first request fills the per-person caches: switcher list, 2FA rule, row links)
    _queries_for_list(client, django_assert_max_num_queries, world)
    few = _queries_for_list(client, django_assert_max_num_queries, world)
    make_orders(world, 45, prefix="MORE")
    with django_assert_max_num_queries(few):
        response = client.get(url("orders", world))
    assert len(response.context["page"]) == 25
    assert _queries_for_list(client, django_assert_max_num_queries, world) == few


def test_order_detail_traces_figures_to_factors_and_sources(client, world, member_a):
    (order,) = make_orders(world, 1)
    client.force_login(member_a)
    response = client.get(url("order_detail", world, order_id=order.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Test row road.hgv.average_laden TTW" in page  # the factor's source row label
    assert "https://example.org/factors" in page  # the dataset's source URL
    assert "sea.container.average" in page
    assert "first calculation" in page


def test_another_organisations_order_is_404_under_my_slug(client, world, member_a, org_b):
    foreign = OrderFactory(organisation=org_b)
    client.force_login(member_a)
    response = client.get(url("order_detail", world, order_id=foreign.pk))
    assert response.status_code == 404


def test_viewer_sees_orders_but_cannot_import(client, world, viewer_a):
    make_orders(world, 1)
    client.force_login(viewer_a)
    assert client.get(url("orders", world)).status_code == 200
    assert client.get(url("import_orders", world)).status_code == 403
    upload = SimpleUploadedFile("o.csv", b"order_id,order_date\n", content_type="text/csv")
    response = client.post(url("import_orders", world), {"file": upload})
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_member_imports_and_sees_the_error_report(client, world, member_a):
    client.force_login(member_a)
    assert client.get(url("import_orders", world)).status_code == 200
    text = (
        "order_id,order_date,category,distance,mass\n"
        "PO-9,2025-01-01,road.hgv.average_laden,12 kg,1 t\n"
        "PO-9,2025-01-01,road.hgv.average_laden,12 km,1 t\n"
    )
    upload = SimpleUploadedFile("orders.csv", text.encode(), content_type="text/csv")
    response = client.post(url("import_orders", world), {"file": upload}, follow=True)
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert response.redirect_chain[-1][0] == url("import_job", world, job_id=job.pk)
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "12 kg" in page
    assert Order.objects.count() == 0
    report = client.get(url("import_job", world, job_id=job.pk), {"format": "csv"})
    assert report.content.decode().splitlines()[1].startswith("2,distance,12 kg,")


def test_dashboard_shows_the_carbon_panel_and_nav_link(client, world, member_a):
    make_orders(world, 2)
    client.force_login(member_a)
    response = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": world.slug}))
    page = response.content.decode()
    assert "Carbon footprint" in page
    assert f'href="{url("orders", world)}"' in page
