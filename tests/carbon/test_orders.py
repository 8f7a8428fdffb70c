"""The order write path: idempotent upserts by external id, and validation that names the field."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from carbon.footprint.actions import upsert_order
from carbon.footprint.events import ORDER_UPSERTED
from carbon.footprint.exceptions import OrderDataError
from carbon.footprint.orders import (
    LegData,
    LineData,
    OrderData,
    ShipmentData,
)
from carbon.models import (
    CalculationSnapshot,
    DeclarationStatus,
    GreenPowerDeclaration,
    Leg,
    Order,
    OrderLine,
    Shipment,
)
from portal.models import OutboxEvent
from tests.carbon.factories import ProductFactory, published_dataset
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(db):
    return published_dataset()


@pytest.fixture
def site(org_a):
    return SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE", region="DE")


@pytest.fixture
def inverter(db):
    return ProductFactory(sku="SUN-110K-G", electricity_kwh_per_unit=Decimal("950"))


def order_data(**changes) -> OrderData:
    data = OrderData(
        external_id="PO-1001",
        order_date=date(2025, 3, 3),
        delivery_date=date(2025, 4, 10),
        status="delivered",
        site_name="Werk Hamburg",
        lines=[LineData(sku="SUN-110K-G", quantity=Decimal("24"))],
        shipments=[
            ShipmentData(
                reference="SHP-1",
                legs=[
                    LegData("road.hgv.average_laden", Decimal("2.4"), Decimal("130")),
                    LegData("sea.container.average", Decimal("2.4"), Decimal("19800")),
                    LegData("road.hgv.average_laden", Decimal("2.4"), Decimal("25")),
                ],
            )
        ],
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def _counts():
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        Shipment.objects.count(),
        Leg.objects.count(),
        CalculationSnapshot.objects.count(),
        OutboxEvent.objects.filter(type=ORDER_UPSERTED).count(),
    )


def test_upsert_creates_the_order_with_its_footprint(org_a, site, inverter, dataset):
    # when
    order, created = upsert_order(org_a, order_data())
    # then
    assert created is True
    assert order.delivery_site == site
    assert list(order.lines.values_list("product__sku", "quantity")) == [
        ("SUN-110K-G", Decimal("24.000"))
    ]
    legs = Leg.objects.filter(shipment__order=order).order_by("sequence")
    assert [(leg.sequence, leg.category) for leg in legs] == [
        (1, "road.hgv.average_laden"),
        (2, "sea.container.average"),
        (3, "road.hgv.average_laden"),
    ]
    snapshot = CalculationSnapshot.objects.get(order=order, is_current=True)
    # 2.4 t x (130 + 25) km x (0.1 + 0.025) + 2.4 t x 19,800 km x (0.016 + 0.004), test factors
    assert snapshot.tkm == Decimal("47892.000000")
    assert snapshot.wtw_kg == Decimal("46.500000") + Decimal("950.400000")
    event = OutboxEvent.objects.get(type=ORDER_UPSERTED)
    assert event.data["external_id"] == "PO-1001"
    assert event.data["created"] is True


def test_the_same_data_twice_changes_nothing(org_a, site, inverter, dataset):
    # given
    order, _ = upsert_order(org_a, order_data())
    before = _counts()
    leg_ids = list(Leg.objects.values_list("id", flat=True))
    # when the same order arrives again, with equal values written differently
    again = order_data(lines=[LineData(sku="SUN-110K-G", quantity=Decimal("24.000"))])
    same, created = upsert_order(org_a, again)
    # then no row, no snapshot, no event
    assert (same.pk, created) == (order.pk, False)
    assert _counts() == before
    assert list(Leg.objects.values_list("id", flat=True)) == leg_ids


def test_changed_data_replaces_the_legs_and_records_a_new_snapshot(org_a, site, inverter, dataset):
    # given
    order, _ = upsert_order(org_a, order_data())
    first = CalculationSnapshot.objects.get(order=order, is_current=True)
    # when the last leg gets longer
    data = order_data()
    data.shipments[0].legs[2] = LegData("road.hgv.average_laden", Decimal("2.4"), Decimal("45"))
    updated, created = upsert_order(org_a, data)
    # then
    assert (updated.pk, created) == (order.pk, False)
    assert Leg.objects.filter(shipment__order=order).count() == 3
    assert Leg.objects.get(shipment__order=order, sequence=3).distance_km == Decimal("45.000")
    current = CalculationSnapshot.objects.get(order=order, is_current=True)
    assert current.supersedes == first
    assert current.wtw_kg - first.wtw_kg == Decimal("6.000000")  # 2.4 t x 20 km x 0.125
    assert "inputs" in current.changes["reasons"]
    upserts = OutboxEvent.objects.filter(type=ORDER_UPSERTED).order_by("time")
    assert [e.data["created"] for e in upserts] == [True, False]


def _legs(**leg):
    base = {"category": "road.hgv.average_laden", "mass_t": Decimal(1), "distance_km": Decimal(1)}
    return [ShipmentData("S", [LegData(**base), LegData(**{**base, **leg})])]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"shipments": _legs(category="road.teleport")}, "shipments[0].legs[1].category"),
        ({"shipments": _legs(mass_t=Decimal("-1"))}, "shipments[0].legs[1].mass_t"),
        ({"shipments": _legs(distance_km=Decimal("-5"))}, "shipments[0].legs[1].distance_km"),
        ({"shipments": _legs(data_tier="guessed")}, "shipments[0].legs[1].data_tier"),
        ({"shipments": _legs(radiative_forcing=True)}, "shipments[0].legs[1].radiative_forcing"),
        ({"shipments": _legs(fuel_type="coal")}, "shipments[0].legs[1].fuel_type"),
        ({"shipments": _legs(fuel_amount=Decimal(3))}, "shipments[0].legs[1].fuel_type"),
        ({"shipments": [ShipmentData("S", [])]}, "shipments[0].legs"),
        ({"lines": [LineData("NOPE-1", Decimal(1))]}, "lines[0].sku"),
        ({"lines": [LineData("SUN-110K-G", Decimal(0))]}, "lines[0].quantity"),
        ({"site_name": "Plant of another customer"}, "site_name"),
        ({"delivery_date": date(2025, 3, 1)}, "delivery_date"),
        ({"status": "teleported"}, "status"),
        ({"external_id": " "}, "external_id"),
    ],
)
def test_every_validation_error_names_its_field(
    org_a, org_b, site, inverter, dataset, changes, field
):
    # given a site of another customer, which org_a must not be able to use
    SiteFactory(organisation=org_b, name="Plant of another customer")
    before = _counts()
    # when / then
    with pytest.raises(OrderDataError) as error:
        upsert_order(org_a, order_data(**changes))
    assert error.value.field == field
    assert error.value.code == "invalid_order"
    assert _counts() == before


def test_a_leg_without_a_factor_in_the_dataset_rolls_everything_back(
    org_a, site, inverter, dataset
):
    # given a category the test dataset has no factor for
    data = order_data()
    data.shipments[0].legs[1] = LegData("sea.bulk.average", Decimal("2.4"), Decimal("100"))
    before = _counts()
    # when / then: the calculation error names the leg and nothing is stored
    from carbon.footprint.exceptions import CalculationError

    with pytest.raises(CalculationError) as error:
        upsert_order(org_a, data)
    assert error.value.field == "shipments[0].legs[1].category"
    assert _counts() == before


def test_with_footprint_annotates_current_totals_in_one_query(
    org_a, site, inverter, dataset, django_assert_num_queries
):
    # given two orders, one recalculated after a change (two snapshots, one current)
    upsert_order(org_a, order_data())
    data = order_data(external_id="PO-1002")
    upsert_order(org_a, data)
    data.shipments[0].legs[0] = LegData("road.hgv.average_laden", Decimal("2.4"), Decimal("230"))
    upsert_order(org_a, data)
    # when
    with django_assert_num_queries(1):
        rows = {o.external_id: o for o in Order.objects.filter(organisation=org_a).with_footprint()}
    # then one row per order, with the current snapshot's figures
    assert len(rows) == 2
    current = CalculationSnapshot.objects.get(order__external_id="PO-1002", is_current=True)
    assert rows["PO-1002"].fp_wtw_kg == current.wtw_kg
    assert rows["PO-1002"].fp_tkm == current.tkm
    assert rows["PO-1002"].fp_intensity_g.quantize(Decimal("0.001")) == (
        current.wtw_kg * 1000 / current.tkm
    ).quantize(Decimal("0.001"))


def test_seed_demo_adds_orders_and_a_verified_declaration_idempotently():
    # given / when: the demo data is seeded twice
    call_command("seed_demo", stdout=io.StringIO())
    counts = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    # then: twelve orders per demo organisation (and the one Nordwind entered by hand), each
    # with a footprint, and nothing new the second time
    assert _counts() == counts
    for slug, count in (("huadong-pv", 12), ("nordwind", 13)):
        orders = Order.objects.filter(organisation__slug=slug)
        assert orders.count() == count
        current = CalculationSnapshot.objects.filter(order__in=orders, is_current=True)
        assert current.count() == count
    declaration = GreenPowerDeclaration.objects.get()
    assert (declaration.site.name, declaration.status) == ("苏州工厂", DeclarationStatus.VERIFIED)
    assert declaration.green_ratio == Decimal("0.700000")
    covered = CalculationSnapshot.objects.filter(
        is_current=True, order__delivery_site=declaration.site
    )
    assert covered.exists()
    # (the market-based figure itself also needs a grid factor for the site's region)
    assert all(s.inputs["green_power"]["declaration_id"] == declaration.pk for s in covered)
