"""Bulk recalculation: batched with bounded queries, resumable, idempotent; the Celery task and
the `recalculate_carbon` command with its progress bar and checkpoint."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carbon.footprint import calculation, tasks
from carbon.management.commands.recalculate_carbon import checkpoint_path
from carbon.models import CalculationSnapshot, FactorDataset
from portal.models import OutboxEvent
from tests.carbon.factories import grid_dataset, order_with_legs, published_dataset
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _leg(category="road.van.diesel", mass="1", distance="100"):
    return {"category": category, "mass_t": Decimal(mass), "distance_km": Decimal(distance)}


@pytest.fixture
def datasets(db):
    return published_dataset(), grid_dataset()


def _orders(org, n, **leg):
    return [order_with_legs(org, [_leg(**leg), _leg("rail.freight")]) for _ in range(n)]


def test_recalculate_stores_one_current_snapshot_per_order(org_a, org_b, datasets):
    # given orders of two organisations, never calculated
    orders = _orders(org_a, 5) + _orders(org_b, 2)
    # when recalculated in batches of 3
    seen = []
    result = calculation.recalculate(batch_size=3, progress=lambda r: seen.append(r.processed))
    # then every order has one current snapshot (van 100 t·km x 0.625 + rail 100 x 0.037)
    assert (result.processed, result.created, result.unchanged) == (7, 7, 0)
    assert result.last_id == orders[-1].pk
    assert seen == [3, 6, 7]
    assert CalculationSnapshot.objects.filter(is_current=True).count() == 7
    assert set(CalculationSnapshot.objects.values_list("wtw_kg", flat=True)) == {
        Decimal("66.200000")
    }
    # one event per organisation and batch, listing the orders' new figures
    batches = OutboxEvent.objects.filter(type="greenloop.carbon.footprints_recalculated")
    assert sorted((e.organisation.slug, e.data["count"]) for e in batches) == [
        ("acme", 2),
        ("acme", 3),
        ("globex", 1),
        ("globex", 1),
    ]
    first_batch = batches.get(organisation=org_a, data__count=3)
    assert first_batch.data["orders"][0] == {
        "order": orders[0].external_id,
        "order_id": orders[0].pk,
        "snapshot_id": CalculationSnapshot.objects.get(order=orders[0]).pk,
        "wtw_kg": "66.200000",
    }
    assert not OutboxEvent.objects.filter(type="greenloop.carbon.footprint_calculated").exists()


def test_recalculate_runs_a_bounded_number_of_queries_per_batch(org_a, datasets):
    # given 4 orders, and then 40
    def queries(n_orders):
        CalculationSnapshot.objects.all().update(is_current=False)
        _orders(org_a, n_orders - len(org_a.orders.all()))
        with CaptureQueriesContext(connection) as captured:
            calculation.recalculate(batch_size=1000)
        return len(captured)

    # then the number of queries does not grow with the number of orders or legs
    assert queries(4) == queries(40)


def test_recalculating_again_changes_nothing(org_a, datasets):
    _orders(org_a, 3)
    calculation.recalculate()
    events = OutboxEvent.objects.count()
    result = calculation.recalculate()
    assert (result.created, result.unchanged) == (0, 3)
    assert CalculationSnapshot.objects.count() == 3
    assert OutboxEvent.objects.count() == events


def test_recalculate_resumes_after_an_order_id(org_a, datasets):
    orders = _orders(org_a, 4)
    result = calculation.recalculate(start_after_id=orders[1].pk)
    assert result.processed == 2
    assert set(CalculationSnapshot.objects.values_list("order_id", flat=True)) == {
        orders[2].pk,
        orders[3].pk,
    }


def test_a_new_dataset_version_supersedes_every_snapshot(org_a, datasets):
    orders = _orders(org_a, 3)
    calculation.recalculate()
    v2 = published_dataset(version=2, is_default=False)
    result = calculation.recalculate(dataset=v2, batch_size=2)
    assert result.created == 3
    assert CalculationSnapshot.objects.filter(is_current=True).count() == 3
    for order in orders:
        current = CalculationSnapshot.objects.get(order=order, is_current=True)
        assert current.supersedes.is_current is False
        assert current.changes["datasets"] == {
            "old": ["test-freight@1"],
            "new": ["test-freight@2"],
        }


def test_orders_that_cannot_be_calculated_are_listed_and_the_rest_stored(org_a, datasets):
    good = _orders(org_a, 2)
    bad = order_with_legs(org_a, [_leg("sea.bulk.average")])  # no factor in the test dataset
    result = calculation.recalculate()
    assert result.created == 2
    assert result.failed == [
        (
            bad.pk,
            "Dataset test-freight@1 has no TTW factor for 'sea.bulk.average'.",
            "shipments[0].legs[0].category",
        )
    ]
    assert set(CalculationSnapshot.objects.values_list("order_id", flat=True)) == {
        o.pk for o in good
    }


def test_recalculate_one_organisation(org_a, org_b, datasets):
    _orders(org_a, 2)
    _orders(org_b, 1)
    result = calculation.recalculate(org_b)
    assert result.processed == 1
    assert CalculationSnapshot.objects.get().order.organisation == org_b


# --- Celery task


def test_task_recalculates_and_is_idempotent(org_a, datasets):
    _orders(org_a, 2)
    first = tasks.recalculate_orders.delay(organisation_id=org_a.pk).get()
    again = tasks.recalculate_orders.delay(organisation_id=org_a.pk).get()
    assert first["created"] == 2
    assert again == {**first, "created": 0, "unchanged": 2}


# --- management command


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("recalculate_carbon", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_recalculates_with_a_progress_bar(org_a, datasets, var_dir):
    _orders(org_a, 3)
    out, err = _run("--batch-size", "2")
    assert "3 orders: 3 new snapshots, 0 unchanged, 0 failed" in out
    assert "[#####################...........] 2/3 orders  66.7%" in err
    assert "[################################] 3/3 orders" in err
    assert not checkpoint_path(None, None).exists()  # removed after a complete run


def test_command_with_organisation_and_dataset_version(org_a, org_b, datasets, var_dir):
    _orders(org_a, 1)
    _orders(org_b, 2)
    FactorDataset.objects.filter(pk=datasets[0].pk).update(is_default=False)
    published_dataset(version=2, is_default=False)
    out, _ = _run("--org", "globex", "--dataset", "test-freight@1", "--no-progress")
    assert "2 orders: 2 new snapshots" in out
    assert {d["label"] for s in CalculationSnapshot.objects.all() for d in s.datasets} == {
        "test-freight@1"
    }


def test_command_resumes_from_an_id_or_its_checkpoint(org_a, datasets, var_dir):
    orders = _orders(org_a, 3)
    out, _ = _run("--resume-from", str(orders[0].pk), "--no-progress")
    assert "2 orders" in out
    # given a checkpoint left by an interrupted run
    path = checkpoint_path(None, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"last_id": orders[1].pk}))
    out, err = _run("--resume", "--no-progress")
    assert f"Resuming after order {orders[1].pk}" in err
    assert "1 orders: 0 new snapshots, 1 unchanged" in out


def test_command_refuses_unknown_organisation_and_dataset(datasets, var_dir):
    OrganisationFactory(slug="acme")
    with pytest.raises(CommandError, match="No organisation 'nobody'"):
        _run("--org", "nobody")
    with pytest.raises(CommandError, match="No published dataset 'test-freight@9'"):
        _run("--dataset", "test-freight@9")
    with pytest.raises(CommandError, match="nothing to resume"):
        _run("--resume")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_recalculation_matches_a_serial_run(org_a, org_b, datasets):
    # given 9 orders in one organisation and 2 in another, never calculated
    _orders(org_a, 9)
    _orders(org_b, 2, distance="50")
    # when org_a is recalculated by two processes in slices of 2 orders
    result = calculation.recalculate_parallel(org_a, workers=2, batch_size=2)
    # then every org_a order has exactly one current snapshot and org_b is untouched
    assert (result.processed, result.created, result.unchanged, result.total) == (9, 9, 0, 9)
    current = CalculationSnapshot.objects.filter(is_current=True)
    assert current.filter(order__organisation=org_a).count() == 9
    assert not current.filter(order__organisation=org_b).exists()
    # and the same figures as a serial recalculation, which finds nothing to change
    serial = calculation.recalculate(org_a)
    assert (serial.created, serial.unchanged) == (0, 9)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_command_runs_with_workers_but_refuses_resume_with_them(org_a, datasets):
    _orders(org_a, 3)
    out = io.StringIO()
    call_command("recalculate_carbon", "--workers", "2", "--batch-size", "1", stdout=out)
    assert "3 orders: 3 new snapshots" in out.getvalue()
    with pytest.raises(CommandError, match="--workers 1"):
        call_command("recalculate_carbon", "--workers", "2", "--resume")
