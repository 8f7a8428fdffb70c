"""Recalculation skips orders whose stored input hash matches, recalculates changed ones, and
writes the same rows through COPY (PostgreSQL) as through the ORM."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carbon.footprint import calculation, snapshot_store
from carbon.models import CalculationSnapshot, Leg
from tests.carbon.factories import (
    GreenPowerDeclarationFactory,
    OrderLineFactory,
    ProductFactory,
    grid_dataset,
    order_with_legs,
    published_dataset,
)
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

# Queries of a second run that skips every order (see the first test).
SKIP_QUERIES = {"postgresql": 13, "sqlite": 16}


@pytest.fixture
def datasets(db):
    return published_dataset(), grid_dataset()


def _orders(org, n):
    legs = [
        {"category": "road.van.diesel", "mass_t": Decimal("1"), "distance_km": Decimal("100")},
        {"category": "rail.freight", "mass_t": Decimal("1"), "distance_km": Decimal("100")},
    ]
    return [order_with_legs(org, legs) for _ in range(n)]


def _second_run_queries(org, n):
    _orders(org, n)
    calculation.recalculate(org)
    with CaptureQueriesContext(connection) as captured:
        result = calculation.recalculate(org)
    return result, [q["sql"] for q in captured]


def test_an_unchanged_order_is_skipped_without_reading_its_snapshot(org_a, datasets):
    # given three orders calculated once
    result, queries = _second_run_queries(org_a, 3)
    # then the second run stores nothing and keeps every snapshot
    assert (result.processed, result.created, result.unchanged) == (3, 0, 3)
    assert CalculationSnapshot.objects.count() == 3
    # in a fixed number of queries (the factor book: the default datasets, the versions of
    # each series and their factors; count; for the one batch: ids, savepoint, lock, then on
    # PostgreSQL the orders' input revisions beside their snapshots', elsewhere orders, legs,
    # lines and the hash comparison; release; ids again), none of which reads a snapshot
    # document or writes a row
    assert len(queries) == SKIP_QUERIES[connection.vendor]
    assert not [q for q in queries if '"inputs"' in q or '"results"' in q]
    assert not [q for q in queries if q.startswith(("INSERT", "UPDATE", "COPY"))]


def test_skipping_costs_the_same_queries_for_more_orders(org_a, org_b, datasets):
    # given 3 orders of one organisation and 30 of another, all calculated
    _, few = _second_run_queries(org_a, 3)
    _, many = _second_run_queries(org_b, 30)
    # then skipping them all costs the same number of queries
    assert len(few) == len(many) == SKIP_QUERIES[connection.vendor]


def test_a_changed_leg_is_recalculated_and_the_others_skipped(org_a, datasets):
    # given three calculated orders
    orders = _orders(org_a, 3)
    calculation.recalculate(org_a)
    before = CalculationSnapshot.objects.get(order=orders[1])
    # when one leg of the second order gets longer
    Leg.objects.filter(shipment__order=orders[1], sequence=1).update(distance_km=Decimal("200"))
    result = calculation.recalculate(org_a)
    # then only that order gets a new snapshot, superseding the old one
    assert (result.created, result.unchanged) == (1, 2)
    assert CalculationSnapshot.objects.count() == 4
    after = CalculationSnapshot.objects.get(order=orders[1], is_current=True)
    assert after.supersedes_id == before.pk
    assert after.changes["reasons"] == ["inputs"]
    assert after.changes["inputs"] == ["legs"]
    assert after.wtw_kg == Decimal("128.700000")  # van 200 t·km x 0.625 + rail 100 x 0.037
    assert after.input_hash != before.input_hash
    assert len(after.input_hash) == 64
    # and a third run skips all three
    again = calculation.recalculate(org_a)
    assert (again.created, again.unchanged) == (0, 3)


def test_a_new_dataset_version_is_not_skipped(org_a, datasets):
    # given calculated orders, then a new version of the freight dataset with the same factors
    _orders(org_a, 2)
    calculation.recalculate(org_a)
    v2 = published_dataset(version=2, is_default=False)
    # when recalculated with it
    result = calculation.recalculate(org_a, v2)
    # then every order gets a snapshot naming the new version
    assert (result.created, result.unchanged) == (2, 0)
    assert sorted(
        s.datasets[0]["label"] for s in CalculationSnapshot.objects.filter(is_current=True)
    ) == ["test-freight@2", "test-freight@2"]


def test_a_snapshot_stored_before_its_hash_is_kept_and_hashed_once(org_a, datasets):
    # given a calculated order whose snapshot has no input hash (stored before hashes existed)
    (order,) = _orders(org_a, 1)
    calculation.recalculate(org_a)
    snapshot = CalculationSnapshot.objects.get()
    hashed = snapshot.input_hash
    CalculationSnapshot.objects.filter(pk=snapshot.pk).update(
        input_hash="", input_revision=None, context_hash=""
    )
    # when recalculated
    result = calculation.recalculate(org_a)
    # then the same snapshot stays current and gets its hash back
    assert (result.created, result.unchanged) == (0, 1)
    assert CalculationSnapshot.objects.get().pk == snapshot.pk
    assert CalculationSnapshot.objects.get().input_hash == hashed
    if connection.vendor == "postgresql":
        # with its revision and context, so that the next run skips it before loading it
        kept = CalculationSnapshot.objects.get()
        assert kept.input_revision == snapshot.input_revision
        assert kept.context_hash == snapshot.context_hash
        assert len(kept.context_hash) == 64
    assert CalculationSnapshot.objects.get().inputs == snapshot.inputs


def _stored_rows():
    rows = CalculationSnapshot.objects.order_by("order_id").values()
    return [{k: v for k, v in row.items() if k not in ("id", "created_at")} for row in rows]


@pytest.mark.postgres
def test_copy_stores_the_same_rows_as_the_orm(org_a, datasets, monkeypatch):
    assert connection.vendor == "postgresql"
    # given orders with a Chinese site, electricity and a verified declaration, and one with a
    # changed leg after a first calculation (so that a row supersedes another)
    site = SiteFactory(organisation=org_a, name="无锡工厂", country="CN", region="CN")
    orders = _orders(org_a, 2)
    for order in orders:
        order.delivery_site = site
        order.order_date = dt.date(2025, 5, 1)
        order.save()
        inverter = ProductFactory(electricity_kwh_per_unit=Decimal("4000"))
        OrderLineFactory(order=order, product=inverter, quantity=Decimal(3))
    GreenPowerDeclarationFactory(organisation=org_a, site=site, green_ratio=Decimal("0.6"))

    def calculate_twice():
        calculation.recalculate(org_a)
        Leg.objects.filter(shipment__order=orders[0], sequence=1).update(distance_km=Decimal("250"))
        calculation.recalculate(org_a)
        rows = _stored_rows()
        # Test database only: snapshots are immutable evidence everywhere else.
        CalculationSnapshot.objects.filter(is_current=True).delete()
        CalculationSnapshot.objects.all().delete()
        Leg.objects.filter(shipment__order=orders[0], sequence=1).update(distance_km=Decimal("100"))
        return rows

    # when stored through COPY, then again through the ORM
    through_copy = calculate_twice()
    monkeypatch.setattr(snapshot_store, "copies", lambda: False)
    through_orm = calculate_twice()
    # then the rows are the same (supersedes ids aside, which differ by construction)
    assert len(through_copy) == 3
    for row in through_copy + through_orm:
        row["supersedes_id"] = row["supersedes_id"] is not None
        # Revisions differ by construction too (each write takes a new one).
        row["input_revision"] = row["input_revision"] is not None
        row["changes"].pop("supersedes", None)
    assert through_copy == through_orm
    assert through_copy[0]["inputs"]["site"]["name"] == "无锡工厂"
