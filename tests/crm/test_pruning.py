"""Pruning the outbox (portal/crm/pruning.py): delivered events go after the retention, with
their deliveries and attempts, never before every active endpoint has them; on PostgreSQL the
database itself refuses the application role any other DELETE (migration 0009)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.crm import delivery
from portal.crm.pruning import prune_outbox
from portal.crm.tasks import prune_outbox as prune_task
from portal.models import AuditEvent, CrmEndpoint, Delivery, DeliveryAttempt, OutboxEvent
from tests.crm.conftest import SECRET, emit

pytestmark = [pytest.mark.synthetic_events, pytest.mark.django_db]

DOWN_URL = "http://127.0.0.1:9/hook"  # the discard port: nobody listens, the connection fails


@pytest.fixture(autouse=True)
def thirty_days(settings):
    settings.GREENLOOP_RETENTION = {**settings.GREENLOOP_RETENTION, "outbox_days": 30}


def drain() -> None:
    while delivery.run_pass().worked:
        pass


def routed_days_ago(ids: list[str], days: int) -> None:
    """Route the events now, as if it had happened `days` ago (they are still pending, so the
    application role may change them)."""
    delivery.route_events()
    OutboxEvent.objects.filter(id__in=ids).update(routed_at=timezone.now() - timedelta(days=days))


def delivered_days_ago(ids: list[str], days: int) -> None:
    Delivery.objects.filter(event_id__in=ids, state="delivered").update(
        delivered_at=timezone.now() - timedelta(days=days)
    )


def remaining(ids: list[str]) -> set[str]:
    return {str(i) for i in OutboxEvent.objects.filter(id__in=ids).values_list("id", flat=True)}


def test_an_event_every_endpoint_has_goes_after_the_retention_with_its_deliveries(
    endpoint, receiver, org_a
):
    # given a second endpoint whose filter leaves the events out, and one created after them
    CrmEndpoint.objects.create(
        name="Other", url=receiver.url, secret=SECRET, event_types="greenloop.other.*"
    )
    ids = emit(org_a, 2)
    routed_days_ago(ids, 40)
    CrmEndpoint.objects.create(name="Later", url=receiver.url, secret=SECRET)
    drain()
    delivered_days_ago(ids, 31)
    assert Delivery.objects.filter(event_id__in=ids).count() == 2
    # when the outbox is pruned
    result = prune_outbox()
    # then both events went, with their deliveries and attempts, and the count is audited
    assert (result.events, result.deliveries, result.attempts) == (2, 2, 2)
    assert remaining(ids) == set()
    assert Delivery.objects.count() == 0
    assert DeliveryAttempt.objects.count() == 0
    audit = AuditEvent.objects.get(action="crm.outbox.pruned")
    assert audit.details == {"events": 2, "deliveries": 2, "attempts": 2, "retention_days": 30.0}
    # and a second run finds nothing (nor audits it)
    assert prune_outbox().events == 0
    assert AuditEvent.objects.filter(action="crm.outbox.pruned").count() == 1


def test_events_an_active_endpoint_lacks_or_got_lately_are_kept(endpoint, receiver, org_a, org_b):
    # given old events: one delivered long ago, one delivered yesterday (young), and per
    # organisation B one that fails to reach a second endpoint, and one dead-lettered there
    failing = CrmEndpoint.objects.create(
        name="Down", url=DOWN_URL, secret=SECRET, organisation=org_b
    )
    old, young = emit(org_a, 2)
    pending, dead = emit(org_b, 2)
    every = [old, young, pending, dead]
    routed_days_ago(every, 40)
    drain()
    delivered_days_ago([old, pending, dead], 31)
    delivered_days_ago([young], 1)
    Delivery.objects.filter(endpoint=failing, event_id=dead).update(state="dead")
    assert Delivery.objects.filter(endpoint=failing, event_id=pending, state="pending").exists()
    # when the outbox is pruned
    result = prune_outbox()
    # then only the old one every active endpoint has went
    assert result.events == 1
    assert remaining(every) == {young, pending, dead}


def test_a_paused_endpoint_still_holds_its_backlog_and_an_inactive_one_does_not(
    endpoint, receiver, org_a
):
    # given old events the receiver has, and that a paused and an inactive endpoint lack
    paused = CrmEndpoint.objects.create(name="Paused", url=DOWN_URL, secret=SECRET, paused=True)
    inactive = CrmEndpoint.objects.create(name="Off", url=DOWN_URL, secret=SECRET)
    ids = emit(org_a, 1)
    routed_days_ago(ids, 40)
    drain()
    delivered_days_ago(ids, 31)
    inactive.is_active = False
    inactive.save()
    # when the outbox is pruned while the endpoint is paused, then once it is deactivated
    kept = prune_outbox().events
    paused.is_active = False
    paused.save()
    pruned = prune_outbox().events
    # then the paused endpoint kept the event; nothing active lacks it any more afterwards
    assert (kept, pruned) == (0, 1)
    assert remaining(ids) == set()


def test_an_event_not_yet_routed_is_kept_however_old(endpoint, org_a):
    ids = emit(org_a, 1)
    OutboxEvent.objects.filter(id__in=ids).update(time=timezone.now() - timedelta(days=400))
    assert prune_outbox().events == 0
    assert remaining(ids) == set(ids)


def test_the_dry_run_counts_and_deletes_nothing_and_the_command_and_task_prune(
    endpoint, receiver, org_a, capsys
):
    ids = emit(org_a, 3)
    routed_days_ago(ids, 40)
    drain()
    delivered_days_ago(ids, 31)
    call_command("prune_outbox", "--dry-run")
    assert capsys.readouterr().out == (
        "Would delete 3 outbox events, 3 deliveries and 3 attempts (retention 30 days).\n"
    )
    assert remaining(ids) == set(ids)
    assert not AuditEvent.objects.filter(action="crm.outbox.pruned").exists()
    # and the beat task prunes them
    assert prune_task() == 3
    assert remaining(ids) == set()


def test_the_command_reports_what_it_deleted(endpoint, receiver, org_a, capsys):
    ids = emit(org_a, 1)
    routed_days_ago(ids, 40)
    drain()
    delivered_days_ago(ids, 31)
    call_command("prune_outbox")
    assert capsys.readouterr().out == (
        "Deleted 1 outbox events, 1 deliveries and 1 attempts (retention 30 days).\n"
    )


def test_the_beat_schedule_prunes_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["portal-crm-prune-outbox"]
    assert entry["task"] == "portal.crm.prune_outbox"
    assert "args" not in entry


# --- the database's own guard (the suite runs as the application role)


def _delete(sql: str, params: list, retention: str | None = None) -> int:
    """Run `sql` in a savepoint, with the retention announced when given; rows deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        if retention is not None:
            cursor.execute(
                "SELECT set_config('greenloop.outbox_retention_days', %s, true)", [retention]
            )
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.mark.postgres
def test_the_database_refuses_to_delete_an_event_an_active_endpoint_lacks(endpoint, org_a):
    # given an old routed event whose delivery to an active endpoint is pending
    ids = emit(org_a, 1)
    routed_days_ago(ids, 40)
    # when the application role deletes it directly, with the retention announced or not
    for retention in (None, "30", "0"):
        with pytest.raises(DatabaseError, match="append-only until every active endpoint"):
            _delete("DELETE FROM portal_outboxevent WHERE id = %s", ids, retention)
    # nor does an ORM delete (which cascades in the database only, after the trigger's check)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        OutboxEvent.objects.filter(id__in=ids).delete()
    # then the event and its delivery are still there
    assert remaining(ids) == set(ids)
    assert Delivery.objects.filter(event_id__in=ids).count() == 1


@pytest.mark.postgres
def test_the_database_lets_the_pruning_transaction_delete_only_past_the_retention(
    endpoint, receiver, org_a
):
    # given an event delivered everywhere 31 days ago
    ids = emit(org_a, 1)
    routed_days_ago(ids, 40)
    drain()
    delivered_days_ago(ids, 31)
    sql = "DELETE FROM portal_outboxevent WHERE id = %s"
    # when it is deleted without announcing a retention, or with a longer one, it is refused
    for retention in (None, "", "32", "-1"):
        with pytest.raises(DatabaseError, match="append-only"):
            _delete(sql, ids, retention)
    # then with a retention it is past, the delete goes through and the deliveries and their
    # attempts cascade in the database
    assert _delete(sql, ids, "30") == 1
    assert remaining(ids) == set()
    assert Delivery.objects.count() == 0
    assert DeliveryAttempt.objects.count() == 0
