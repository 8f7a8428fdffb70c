"""portal.idempotency asked directly, with literal expectations (the API contract that applies it
is in tests/carbon/test_points_api.py); part of the mutation module "idempotency"
(scripts/mutation.sh)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from portal import idempotency, tasks
from portal.models import IdempotencyRecord


def test_the_header_and_limits_are_the_documented_ones():
    assert idempotency.HEADER == "Idempotency-Key"
    assert idempotency.MAX_KEY_LENGTH == 150
    assert dt.timedelta(hours=72) == idempotency.KEEP_FOR
    assert idempotency.scope_for(42) == "organisation:42"


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("", False),
        ("a", True),
        ("k" * 150, True),
        ("k" * 151, False),
        ("3f1c2a9e-5b7d-4e0a-9c1f-2b6d8e4a7c10", True),
        (" ~", True),  # the first and last printable ASCII characters
        ("tab\tkey", False),
        ("del\x7f", False),
        ("schlüssel", False),
        ("line\nbreak", False),
    ],
)
def test_valid_key(key, valid):
    assert idempotency.valid_key(key) is valid


def test_the_fingerprint_is_sha256_of_the_canonical_request():
    expected = hashlib.sha256(
        b'{"body": {"a": 1, "b": "2.5"}, "caller": "user:7", "method": "POST", "path": "/x"}'
    ).hexdigest()
    assert idempotency.fingerprint("post", "/x", {"b": Decimal("2.5"), "a": 1}, "user:7") == (
        expected
    )
    base = idempotency.fingerprint("POST", "/x", {"a": 1}, "user:7")
    assert idempotency.fingerprint("POST", "/x", {"a": 1}, "user:7") == base
    others = {
        idempotency.fingerprint("PUT", "/x", {"a": 1}, "user:7"),
        idempotency.fingerprint("POST", "/y", {"a": 1}, "user:7"),
        idempotency.fingerprint("POST", "/x", {"a": 2}, "user:7"),
        idempotency.fingerprint("POST", "/x", {"a": 1}, "token:7"),
    }
    assert base not in others
    assert len(others) == 4


def test_json_body_is_the_json_the_api_renders():
    body = {
        "when": dt.date(2026, 3, 2),
        "points": Decimal("10"),
        "at": dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
    }
    assert idempotency.json_body(body) == {
        "when": "2026-03-02",
        "points": "10",
        "at": "2026-03-02T10:00:00Z",
    }


@pytest.mark.django_db
def test_remember_and_find():
    record = idempotency.remember("organisation:1", "k1", "f" * 64, 201, {"id": 5})
    assert (record.scope, record.key, record.request_fingerprint) == (
        "organisation:1",
        "k1",
        "f" * 64,
    )
    assert (record.response_status, record.response_body) == (201, {"id": 5})
    found = idempotency.find("organisation:1", "k1")
    assert found == record
    # read as the ORM reads the row: the body as JSON, the time as a time (text on SQLite)
    stored = IdempotencyRecord.objects.get()
    assert (found.scope, found.key, found.request_fingerprint, found.response_status) == (
        "organisation:1",
        "k1",
        "f" * 64,
        201,
    )
    assert (found.response_body, found.created_at) == ({"id": 5}, stored.created_at)
    assert idempotency.find("organisation:2", "k1") is None
    assert idempotency.find("organisation:1", "k2") is None
    assert json.loads(json.dumps(IdempotencyRecord.objects.get().response_body)) == {"id": 5}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["try_lock", "claim"])
def test_claiming_a_key_needs_a_transaction(monkeypatch, name):
    # (the test itself runs in a transaction: pretend the connection is in autocommit)
    from django.db import connections

    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(RuntimeError) as refused:
        getattr(idempotency, name)("organisation:1", "k1")
    assert str(refused.value) == f"{name}() must run inside transaction.atomic()."


@pytest.mark.django_db
def test_try_lock_on_sqlite_always_claims_without_a_query(monkeypatch, django_assert_num_queries):
    # SQLite serialises writers: there is no concurrent first request to detect.
    from django.db import connections

    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    with transaction.atomic(), django_assert_num_queries(0):
        assert idempotency.try_lock("organisation:1", "k1") is True


@pytest.mark.django_db
@pytest.mark.postgres
def test_try_lock_claims_the_key_for_the_transaction():
    # A second session asks for the same advisory lock while this transaction holds it. (Not a
    # transactional test: those empty the tables that the reused mutation-test database keeps.)
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )

    def other_session_gets(key: str) -> bool:
        with other.transaction(), other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
            return cursor.fetchone()[0]

    try:
        with transaction.atomic():
            assert idempotency.try_lock("organisation:1", "k1") is True
            assert other_session_gets("organisation:1:k1") is False
            assert other_session_gets("organisation:1:k2") is True
    finally:
        other.close()


def _other_session():
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )


@pytest.mark.django_db
@pytest.mark.postgres
def test_claim_takes_the_lock_and_reads_the_record_in_one_statement(django_assert_num_queries):
    # given answered keys k1 and k3, a key k2 without a record, and another session that holds
    # k3 (a request with it, still running)
    idempotency.remember("organisation:1", "k1", "f" * 64, 201, {"id": 5})
    idempotency.remember("organisation:1", "k3", "e" * 64, 422, {"code": "x"})
    other = _other_session()

    def other_session_gets(key: str) -> bool:
        with other.transaction(), other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
            return cursor.fetchone()[0]

    try:
        with other.transaction(), other.cursor() as holding, transaction.atomic():
            holding.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["organisation:1:k3"])
            # when each is claimed (one statement each)
            with django_assert_num_queries(3):
                locked_1, record_1 = idempotency.claim("organisation:1", "k1")
                locked_2, record_2 = idempotency.claim("organisation:1", "k2")
                locked_3, record_3 = idempotency.claim("organisation:1", "k3")
            # then k1 and k2 are locked for this transaction, k1 with its record; k3, held by
            # the other session, is not locked but its record is read all the same
            assert (locked_1, locked_2, record_2, locked_3) == (True, True, None, False)
            assert record_1 is not None
            assert record_3 is not None
            assert (record_1.key, record_1.response_status, record_1.response_body) == (
                "k1",
                201,
                {"id": 5},
            )
            assert (record_3.key, record_3.response_status) == ("k3", 422)
        assert other_session_gets("organisation:1:k1") is False
        assert other_session_gets("organisation:1:k2") is False
        assert other_session_gets("organisation:1:k4") is True
    finally:
        other.close()


@pytest.mark.django_db
def test_claim_on_sqlite_claims_and_finds(monkeypatch):
    from django.db import connections

    idempotency.remember("organisation:1", "k1", "f" * 64, 201, {"id": 5})
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    with transaction.atomic():
        assert idempotency.claim("organisation:1", "k2") == (True, None)
        locked, record = idempotency.claim("organisation:1", "k1")
    assert locked is True
    assert record is not None
    assert record.response_body == {"id": 5}


@pytest.mark.django_db
def test_purge_keeps_72_hours_by_default():
    now = timezone.now()
    for key, age in [("old", 73), ("edge", 71), ("new", 1)]:
        record = idempotency.remember("organisation:1", key, "f" * 64, 201, {})
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            created_at=now - dt.timedelta(hours=age)
        )
    assert idempotency.purge() == 1
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["edge", "new"]
    assert idempotency.purge(hours=2) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency.purge(hours=2) == 0


def test_records_are_kept_72_hours_then_purged(db):
    # given records of 71 h and 73 h ago
    now = timezone.now()
    for key, age in (("young", 71), ("old", 73)):
        record = idempotency.remember("organisation:1", key, "f", 201, {})
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            created_at=now - dt.timedelta(hours=age)
        )
    # when the daily task runs (twice)
    assert tasks.purge_idempotency_records.delay().get() == 1
    assert tasks.purge_idempotency_records() == 0
    # then only the young one is left
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
