"""`portal.rows.one`: a row read by plain SQL is the row a queryset reads, field by field; and
`portal.rows.execute_prepared`, a hot statement prepared once per database session."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DataError, connection, transaction
from django.forms.models import model_to_dict

from carbon.points.catalogue import service_by_slug, service_for_redemption
from portal import rows
from portal.models import IdempotencyRecord
from tests.carbon.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _record(scope: str, status: int, body: dict) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        scope=scope,
        key="k1",
        request_fingerprint=("f" if status == 201 else "e") * 64,
        response_status=status,
        response_body=body,
    )


def test_one_reads_every_field_as_the_orm_does():
    # given a record with a JSON body and a creation time
    _record("organisation:1", 201, {"id": 5, "balances": {"held": 10}, "note": "Gate 3"})
    _record("organisation:2", 422, {"code": "insufficient_points"})
    # when it is read by plain SQL
    found = rows.one(IdempotencyRecord, "scope = %s AND key = %s", ["organisation:1", "k1"])
    # then every field equals the queryset's (the body decoded, the time a time on SQLite too)
    stored = IdempotencyRecord.objects.get(scope="organisation:1")
    assert _fields(found) == _fields(stored)
    assert isinstance(found.created_at, dt.datetime)
    assert found.response_body == {"id": 5, "balances": {"held": 10}, "note": "Gate 3"}
    # and a saved row's state, as a queryset leaves it
    assert (found._state.adding, found._state.db) == (False, "default")


def test_one_is_none_without_a_match():
    assert rows.one(IdempotencyRecord, "scope = %s AND key = %s", ["organisation:1", "k"]) is None


def test_one_with_selects_a_value_beside_the_row():
    # given a record
    _record("organisation:1", 201, {"id": 5})
    # when it is read with an expression beside it (its parameters come first)
    found = rows.one_with(
        IdempotencyRecord, "scope = %s AND key = %s", ["organisation:1", "k1"], "%s || key", ["x-"]
    )
    # then the row is the queryset's and the expression's value comes with it
    assert found is not None
    assert _fields(found[0]) == _fields(IdempotencyRecord.objects.get())
    assert found[1] == "x-k1"
    # and without a match there is neither
    assert rows.one_with(IdempotencyRecord, "key = %s", ["k2"], "%s", ["x"]) is None


def test_a_service_by_its_slug_is_the_querysets_service():
    # given two services, one with eligibility lists (JSON) and an active window (dates)
    wanted = ServiceFactory(
        slug="energy-audit",
        eligible_tiers=["gold", "platinum"],
        eligible_countries=["DE", "CN"],
        monthly_capacity=3,
        active_from=dt.date(2026, 1, 1),
    )
    ServiceFactory(slug="other")
    # when it is looked up by slug / then it is the same row, field by field
    found = service_by_slug("energy-audit")
    assert found == wanted
    assert model_to_dict(found) == model_to_dict(type(wanted).objects.get(pk=wanted.pk))
    assert _fields(found) == _fields(type(wanted).objects.get(pk=wanted.pk))
    # and a slug that names no service is None
    assert service_by_slug("energy") is None


@pytest.mark.postgres  # the id is drawn in the lookup's statement on PostgreSQL only
def test_a_service_for_a_redemption_comes_with_a_new_redemption_id():
    # given a service
    wanted = ServiceFactory(slug="energy-audit")
    # when it is looked up for two redemptions
    first = service_for_redemption("energy-audit")
    second = service_for_redemption("energy-audit")
    # then each lookup is the service with an id of its own from the redemptions' sequence
    assert first is not None
    assert second is not None
    assert first[0] == second[0] == wanted
    assert isinstance(first[1], int)
    assert second[1] == first[1] + 1
    # and a slug that names no service is None (no id drawn)
    assert service_for_redemption("energy") is None
    third = service_for_redemption("energy-audit")
    assert third is not None
    assert third[1] == second[1] + 1


# --- execute_prepared: a hot statement as a prepared statement of the session (PostgreSQL)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'greenloop_%'")
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.postgres
def test_execute_prepared_prepares_once_then_only_executes():
    # given a statement with two parameters
    _record("organisation:1", 201, {"id": 5})
    sql = "SELECT key, response_status + %s FROM carbon_idempotencyrecord WHERE scope = %s"
    sent: list[str] = []

    def watch(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    # when it runs three times with different values
    results = []
    with connection.execute_wrapper(watch), connection.cursor() as cursor:
        for add in (1, 2, 3):
            rows.execute_prepared(cursor, sql, [add, "organisation:1"])
            results.append(cursor.fetchone())
    # then each run answers with its own values, the first prepares it with numbered
    # parameters and the others only execute it under the same name
    assert results == [("k1", 202), ("k1", 203), ("k1", 204)]
    name = sent[0].split()[1]
    assert name.startswith("greenloop_")
    prepare = f"PREPARE {name} AS SELECT key, response_status + $1 FROM "  # noqa: S608
    assert sent[0].startswith(prepare)
    assert sent[0].endswith(f"WHERE scope = $2; EXECUTE {name}(%s, %s)")
    assert sent[1:] == [f"EXECUTE {name}(%s, %s)"] * 2
    assert name in _prepared_statements()


@pytest.mark.postgres
def test_execute_prepared_sends_what_follows_in_the_same_round_trip():
    # when a statement runs with more SQL after it
    with connection.cursor() as cursor:
        rows.execute_prepared(cursor, "SELECT %s::int * 2", [21], then="; SELECT 0")
        # then the cursor is on the statement's own result, and the rest ran too
        assert cursor.fetchone() == (42,)
        assert cursor.nextset() is True
        assert cursor.fetchone() == (0,)
        rows.execute_prepared(cursor, "SELECT %s::int * 2", [4], then="; SELECT 0")
        assert cursor.fetchone() == (8,)


@pytest.mark.postgres
def test_a_failed_first_run_prepares_under_a_new_name_next_time():
    # given a statement whose first run fails after its PREPARE has stayed on the session
    sql = "SELECT 10 / %s::int"
    before = set(_prepared_statements())
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        rows.execute_prepared(cursor, sql, [0])
    [first] = set(_prepared_statements()) - before
    # when it runs again
    with connection.cursor() as cursor:
        rows.execute_prepared(cursor, sql, [5])
        # then it is prepared again under another name rather than fail on a name taken
        assert cursor.fetchone() == (2,)
    [second] = set(_prepared_statements()) - before - {first}
    assert second.startswith("greenloop_")


def test_execute_prepared_takes_only_percent_s_placeholders():
    with connection.cursor() as cursor, pytest.raises(ValueError, match="placeholders only"):
        rows.execute_prepared(cursor, "SELECT 'a%' || %s", ["b"])


@pytest.mark.postgres
def test_several_statements_only_with_client_side_binding(settings):
    # given PostgreSQL with Django's default client-side binding, then with server-side binding
    assert rows.several_statements(connection) is True
    options = connection.settings_dict["OPTIONS"]
    options["server_side_binding"] = True
    try:
        assert rows.several_statements(connection) is False
    finally:
        del options["server_side_binding"]
