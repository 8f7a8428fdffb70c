"""On PostgreSQL a recalculation skips an order before loading its lines and legs when the order's
input revision (kept by triggers, migration carbon 0016) and its context hash (factor table,
dataset selection, green-power declaration) match its current snapshot's. An order whose inputs
changed, by whatever write, must never be skipped: each input is changed here in turn and the
order must reach the full calculation path (its inputs loaded) while the untouched order does
not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from carbon.footprint import calculation, snapshot_store
from carbon.models import (
    CalculationSnapshot,
    DeclarationStatus,
    FactorDataset,
    GreenPowerDeclaration,
    Leg,
    Order,
    OrderLine,
    Product,
    Shipment,
)
from portal import tenancy
from portal.models import Site
from tests.carbon.factories import (
    GreenPowerDeclarationFactory,
    LegFactory,
    OrderLineFactory,
    ProductFactory,
    ShipmentFactory,
    grid_dataset,
    order_with_legs,
    published_dataset,
)
from tests.factories import OrganisationFactory, SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LEGS = [
    {"category": "road.van.diesel", "mass_t": Decimal("1"), "distance_km": Decimal("100")},
    {"category": "rail.freight", "mass_t": Decimal("1"), "distance_km": Decimal("100")},
]


@pytest.fixture
def calculated(org_a):
    """Two orders at a Chinese site with a verified declaration, a line with electricity each,
    calculated once: (changed, untouched)."""
    assert connection.vendor == "postgresql"
    freight = published_dataset()
    grid_dataset()
    FactorDataset.objects.filter(pk=freight.pk).update(
        valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31)
    )
    site = SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN")
    GreenPowerDeclarationFactory(organisation=org_a, site=site, green_ratio=Decimal("0.6"))
    orders = []
    for _ in range(2):
        order = order_with_legs(org_a, LEGS, delivery_site=site, order_date=dt.date(2025, 5, 1))
        product = ProductFactory(electricity_kwh_per_unit=Decimal("40"))
        OrderLineFactory(order=order, product=product, quantity=Decimal(3))
        orders.append(order)
    first = calculation.recalculate(org_a)
    assert (first.created, first.failed) == (2, [])
    return orders


def _loaded_after_recalculating(org, monkeypatch) -> tuple[list[int], object]:
    """The ids of the orders whose inputs a recalculation loaded (not skipped by revision)."""
    loaded: list[int] = []
    load = calculation._load_inputs

    def spy(ids, attributed=None):
        loaded.extend(ids)
        return load(ids, attributed)

    monkeypatch.setattr(calculation, "_load_inputs", spy)
    result = calculation.recalculate(org)
    return loaded, result


def test_a_second_run_loads_no_inputs_and_a_third_neither(org_a, calculated, monkeypatch):
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    assert loaded == []
    assert (result.created, result.unchanged) == (0, 2)


def _leg(order):
    return Leg.objects.filter(shipment__order=order, sequence=1)


LEG_CHANGES = {
    "category": "road.hgv.average_laden",
    "origin": "Wuxi",
    "destination": "Shanghai",
    "mass_t": Decimal("1.5"),
    "distance_km": Decimal("101"),
    "data_tier": "primary",
    "radiative_forcing": True,
    "fuel_type": "diesel",
    "data_type": "primary_fuel",
    "sequence": 7,
}


@pytest.mark.parametrize("name", sorted(LEG_CHANGES))
def test_each_leg_field_changed_by_update_is_recalculated(org_a, calculated, monkeypatch, name):
    changed, untouched = calculated
    _leg(changed).update(**{name: LEG_CHANGES[name]})
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    assert loaded == [changed.pk]
    assert result.unchanged + result.created + len(result.failed) == 2
    assert result.unchanged == 1


def test_a_leg_fuel_amount_changed_is_recalculated(org_a, calculated, monkeypatch):
    changed, _ = calculated
    _leg(changed).update(fuel_type="diesel", fuel_amount=Decimal("10"))
    calculation.recalculate(org_a)
    _leg(changed).update(fuel_amount=Decimal("12"))
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    assert loaded == [changed.pk]
    assert (result.created, result.unchanged) == (1, 1)


def test_a_leg_changed_by_save_is_recalculated(org_a, calculated, monkeypatch):
    changed, _ = calculated
    leg = _leg(changed).get()
    leg.distance_km = Decimal("150")
    leg.save()
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    assert loaded == [changed.pk]
    assert result.created == 1


def _add_leg(order):
    LegFactory(shipment=Shipment.objects.get(order=order), sequence=3, category="rail.freight")


def _move_leg(order):
    other = ShipmentFactory(order=order, reference="second")
    _leg(order).update(shipment=other)


def _add_line(order):
    OrderLineFactory(order=order, product=ProductFactory(electricity_kwh_per_unit=Decimal("1")))


def _product(order):
    return Product.objects.filter(pk=OrderLine.objects.get(order=order).product_id)


def _site(order):
    return Site.objects.filter(pk=order.delivery_site_id)


def _declaration(order):
    return GreenPowerDeclaration.objects.filter(site_id=order.delivery_site_id)


def _save_order(order, **fields):
    stored = Order.objects.get(pk=order.pk)
    for name, value in fields.items():
        setattr(stored, name, value)
    stored.save()


# Writes that change only what this order's own calculation reads.
WRITES = {
    "leg added": _add_leg,
    "leg deleted": lambda o: _leg(o).delete(),
    "leg moved to another shipment": _move_leg,
    "shipment reference": lambda o: Shipment.objects.filter(order=o).update(reference="X-1"),
    "shipment added": lambda o: ShipmentFactory(order=o),
    "line product": lambda o: OrderLine.objects.filter(order=o).update(
        product=ProductFactory(electricity_kwh_per_unit=Decimal("40"))
    ),
    "product sku": lambda o: _product(o).update(sku="RENAMED-1"),
    "order external id (update)": lambda o: Order.objects.filter(pk=o.pk).update(
        external_id="PO-RENAMED"
    ),
    "order date (save)": lambda o: _save_order(o, order_date=dt.date(2025, 5, 2)),
}


# Writes that also change what the other order reads: its site (both orders share it), or the
# kWh attributed to the declaration covering both (its effective ratio and attributed kWh are
# inputs of every order it covers).
SHARED_WRITES = {
    "line quantity": lambda o: OrderLine.objects.filter(order=o).update(quantity=Decimal(4)),
    "line added": _add_line,
    "line deleted": lambda o: OrderLine.objects.filter(order=o).delete(),
    "product electricity per unit": lambda o: _product(o).update(
        electricity_kwh_per_unit=Decimal("41")
    ),
    "order site removed (save)": lambda o: _save_order(o, delivery_site=None),
    "site name": lambda o: _site(o).update(name="Wuxi plant"),
    "site region": lambda o: _site(o).update(region="CN-East"),
    "site country": lambda o: _site(o).update(country="DE"),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_each_order_side_write_is_recalculated(org_a, calculated, monkeypatch, write):
    changed, _ = calculated
    WRITES[write](changed)
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    # (Whether the full path then finds new figures is test_recalculate_skip's business.)
    assert loaded == [changed.pk]
    assert result.processed == 2


def _new_vintage():
    FactorDataset.objects.filter(pk=published_dataset(version=2, is_default=False).pk).update(
        valid_from=dt.date(2025, 4, 1), valid_to=dt.date(2025, 12, 31)
    )


CONTEXT_CHANGES = {
    "declaration ratio": lambda o: _declaration(o).update(
        green_ratio=Decimal("0.5"), green_kwh=Decimal("500000")
    ),
    "declaration revoked": lambda o: _declaration(o).update(
        status=DeclarationStatus.REVOKED, revocation_reason="Certificates withdrawn"
    ),
    "declaration period": lambda o: _declaration(o).update(period_end=dt.date(2025, 4, 30)),
    "dataset validity date": lambda o: FactorDataset.objects.filter(slug="test-freight").update(
        valid_to=dt.date(2025, 4, 30)
    ),
    "new vintage": lambda o: _new_vintage(),
}


# Both change what every order reading them is calculated from, so each recalculates them all.
EVERY_READER_CHANGES = {**SHARED_WRITES, **CONTEXT_CHANGES}


@pytest.mark.parametrize("change", sorted(EVERY_READER_CHANGES))
def test_each_shared_input_or_context_change_recalculates_every_order_reading_it(
    org_a, calculated, monkeypatch, change
):
    EVERY_READER_CHANGES[change](calculated[0])
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    assert loaded == sorted(o.pk for o in calculated)
    assert result.processed == 2


def test_another_organisations_scope_cannot_hide_an_order_from_a_product_change(
    org_a, calculated, monkeypatch
):
    # given a staff edit of a shared product made while only another organisation is in scope
    changed, _ = calculated
    other = OrganisationFactory(slug="other-org")
    product = _product(changed)
    with tenancy.scope([other.pk]):
        assert not Order.objects.filter(pk=changed.pk).exists()
        assert product.update(sku="RENAMED-2") == 1
    # then the order it names is still recalculated
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    assert loaded == [changed.pk]
    assert result.created == 1


def test_a_write_that_changes_nothing_read_is_checked_once_then_skipped(
    org_a, calculated, monkeypatch
):
    # given a leg saved with the values it had (the revision moves, the inputs do not)
    changed, _ = calculated
    leg = _leg(changed).get()
    leg.save()
    # when recalculated twice
    loaded, result = _loaded_after_recalculating(org_a, monkeypatch)
    # then the first run loads it, finds it unchanged and records the new revision
    assert loaded == [changed.pk]
    assert (result.created, result.unchanged) == (0, 2)
    stored = CalculationSnapshot.objects.get(order=changed, is_current=True)
    assert stored.input_revision == snapshot_store.revisions([changed.pk])[0].revision
    again, second = _loaded_after_recalculating(org_a, monkeypatch)
    assert again == []
    assert (second.created, second.unchanged) == (0, 2)
