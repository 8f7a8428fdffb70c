"""Idempotency keys of the REST API: the first response to a request sent with an
`Idempotency-Key` header is kept, so that a client may retry without doing the work twice.

Contract (used by POST /api/v1/redemptions):

* Keys are scoped to one organisation. The record's fingerprint covers the method, the path, the
  canonical body and the caller (user or token), so the same key sent with anything else is
  refused with 422 ``idempotency_key_reused``.
* The record is written in the same transaction as the work (for a redemption, the ledger
  hold), so either both exist or neither does; a crash or a 5xx leaves nothing behind and the
  retry does the work.
* Only final answers are kept: 201 (done) and the 422 refusals of the domain (ineligible,
  capacity reached, too few points, an unknown service or site). A repeat of a refused request
  gets the same refusal, even if the balance has grown since; send a new key to try again.
  Answers given before the key is looked at are not kept: 400 (no key), 401, 403, 404, schema
  422s (``validation_error``) and 409 (in progress).
* While the first request runs, a repeat gets 409 ``idempotency_in_progress`` at once: on
  PostgreSQL a transaction-scoped advisory lock on hashtext(scope:key), taken with
  ``pg_try_advisory_xact_lock`` so it never waits. (A hash collision between two live keys can
  only cause a spurious 409.) SQLite serialises writers, so there is nothing to detect.
* Records are kept at least `KEEP_FOR` (72 h); `portal.tasks.purge_idempotency_records` runs
  daily and calls `purge`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from portal import rows
from portal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
# Set with the other retention periods (settings.GREENLOOP_RETENTION).
KEEP_FOR = dt.timedelta(hours=settings.GREENLOOP_RETENTION["idempotency_record_hours"])
# Leaves room for a caller's own prefix (the points ledger's "redeem:") within a
# 200-character key column.
MAX_KEY_LENGTH = 150


def scope_for(organisation_id: int) -> str:
    return f"organisation:{organisation_id}"


def valid_key(key: str) -> bool:
    """1 to MAX_KEY_LENGTH printable ASCII characters (a UUID is the usual choice)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= ch <= "~" for ch in key)


def fingerprint(method: str, path: str, body: Any, caller: str) -> str:
    """SHA-256 over the request as the client sent it: method, path, body (canonical JSON, so
    key order and whitespace do not matter) and who sent it."""
    payload = json.dumps(
        {"method": method.upper(), "path": path, "body": body, "caller": caller},
        sort_keys=True,
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def try_lock(scope: str, key: str) -> bool:
    """Claim the key for the current transaction; False when another transaction holds it.
    Must run inside `transaction.atomic()` (the lock ends with the transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("try_lock() must run inside transaction.atomic().")
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"{scope}:{key}"])
        return bool(cursor.fetchone()[0])


def claim(scope: str, key: str) -> tuple[bool, IdempotencyRecord | None]:
    """`try_lock()` and `find()` in one round trip: (locked, the key's record or None). The
    record is read under the statement's snapshot, which is taken before the lock is tried,
    so a first request that commits and lets the key go in between is not seen: its key then
    looks free and unanswered. A caller treats an absent record as provisional: with the
    lock, writing its own record fails on the unique key (and it asks again with `try_lock()`
    and `find()`); without it, it reads with `find()` before answering 409. Must run inside
    `transaction.atomic()`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim() must run inside transaction.atomic().")
    if connection.vendor != "postgresql":
        return True, find(scope, key)
    locked, found = rows.one_beside(
        IdempotencyRecord,
        "scope = %s AND key = %s",
        [scope, key],
        "pg_try_advisory_xact_lock(hashtext(%s))",
        [f"{scope}:{key}"],
    )
    return bool(locked), found


def find(scope: str, key: str) -> IdempotencyRecord | None:
    # Plain SQL (`portal.rows`): it runs on every request with a key.
    return rows.one(IdempotencyRecord, "scope = %s AND key = %s", [scope, key])


def json_body(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as the API renders it (dates and times as DjangoJSONEncoder writes them), so the
    stored body and the first response are the same JSON."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def record(
    scope: str, key: str, request_fingerprint: str, status: int, body: dict[str, Any]
) -> IdempotencyRecord:
    """The record `remember` stores, unsaved: for work that writes it in a statement of its own
    in the same transaction (a redemption's hold writes it with the balances it returns)."""
    return IdempotencyRecord(
        scope=scope,
        key=key,
        request_fingerprint=request_fingerprint,
        response_status=status,
        response_body=body,
    )


def remember(
    scope: str, key: str, request_fingerprint: str, status: int, body: dict[str, Any]
) -> IdempotencyRecord:
    """Store the final response under the key, in the caller's transaction."""
    stored = record(scope, key, request_fingerprint, status, body)
    stored.save(force_insert=True)
    return stored


def purge(hours: int | None = None) -> int:
    """Delete records older than KEEP_FOR (or `hours`). Idempotent; returns how many were
    deleted. Work that must never be done twice keeps its own key as well (the points ledger
    keeps its keys forever), so a retry after the purge still does it once."""
    keep = dt.timedelta(hours=hours) if hours is not None else KEEP_FOR
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - keep).delete()
    return deleted
