"""POST /api/v1/redemptions on PostgreSQL, outside a test's wrapping transaction: the hold's
statement carries the request's COMMIT (carbon.points.ledger.hold_for_redemption(commit=True)),
so the account row is free the moment that statement returns, before the request's thread has
run another line, and everything the request writes is committed with it. A refusal still
writes nothing but its kept answer, and after-commit callbacks still run once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from carbon import api as carbon_api  # noqa: F401 - registers the points scopes and routes
from carbon.models import EntryKind, LedgerEntry, PointsAccount, Redemption
from portal import actions as portal_actions
from portal import events, rows, tenancy
from portal.models import IdempotencyRecord, OutboxEvent
from tests.carbon.factories import ServiceFactory, fund

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDEMPTIONS = "/api/v1/redemptions"


@pytest.fixture
def token_a(org_a) -> dict[str, str]:
    _, plaintext = portal_actions.issue_api_token(
        org_a, "ERP", ["points:read", "points:write"], by=None
    )
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def service(db):
    return ServiceFactory(slug="maintenance-visit", points_cost=300)


def _redeem(client, headers: dict[str, str], key: str = "key-1"):
    return client.post(
        REDEMPTIONS,
        {"service": "maintenance-visit"},
        content_type="application/json",
        headers={**headers, "Idempotency-Key": key},
    )


def _seen_from_another_connection(organisation_id: int) -> dict[str, Any]:
    """Whether another connection can lock the account row at once (NOWAIT), and what it sees
    committed: redemptions, holds, redemption events and kept answers."""
    seen: dict[str, Any] = {}

    def look() -> None:
        try:
            with tenancy.all_organisations(), transaction.atomic():
                try:
                    PointsAccount.objects.select_for_update(nowait=True).get(
                        organisation_id=organisation_id
                    )
                    seen["row_locked"] = False
                except DatabaseError:
                    seen["row_locked"] = True
            with tenancy.all_organisations():
                seen["committed"] = (
                    Redemption.objects.count(),
                    LedgerEntry.objects.filter(kind=EntryKind.HOLD).count(),
                    OutboxEvent.objects.filter(
                        type="greenloop.carbon.redemption_requested"
                    ).count(),
                    IdempotencyRecord.objects.count(),
                )
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(timeout=20)
    return seen


def _is_hold(sql: str) -> bool:
    # The hold runs as a prepared statement: read it as the statement it runs.
    return rows.statement_run(sql, connection).startswith("WITH held AS (UPDATE")


def test_the_balance_is_free_and_the_redemption_committed_when_the_hold_returns(
    client, org_a, service, token_a
):
    # given 1000 points, and another connection that looks at the account the moment the
    # hold's statement has returned to the request (before its view runs another line)
    fund(org_a, 1000)
    seen: list[dict[str, Any]] = []

    def after_the_hold(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if _is_hold(sql):
            seen.append(_seen_from_another_connection(org_a.pk))
        return result

    # when a token redeems
    with connection.execute_wrapper(after_the_hold):
        response = _redeem(client, token_a)
    # then the row was free at once and the redemption, its hold, its event and the kept answer
    # were all committed by then
    assert response.status_code == 201, response.content
    assert seen == [{"row_locked": False, "committed": (1, 1, 1, 1)}]
    assert response.json()["balances"] == {"pending": 0, "available": 700, "held": 300}


def test_a_refusal_writes_nothing_but_its_kept_answer_and_a_repeat_gets_it(
    client, org_a, service, token_a
):
    # given 100 points, short of the service's 300
    fund(org_a, 100)
    # when a token redeems, then repeats the request with the same key
    first = _redeem(client, token_a)
    again = _redeem(client, token_a)
    # then it is refused for want of points, nothing is held, and the repeat gets the same answer
    assert first.status_code == 422, first.content
    assert first.json()["code"] == "insufficient_points"
    assert (again.status_code, again.content) == (422, first.content)
    assert again["Idempotent-Replayed"] == "true"
    with tenancy.all_organisations():
        assert Redemption.objects.count() == 0
        assert LedgerEntry.objects.filter(kind=EntryKind.HOLD).count() == 0
        stored = PointsAccount.objects.get(organisation=org_a)
        assert (stored.available, stored.held) == (100, 0)
        assert IdempotencyRecord.objects.get().response_status == 422


def test_after_commit_subscribers_see_the_request_once_and_a_repeat_writes_nothing(
    client, org_a, service, token_a
):
    # given 1000 points and a subscriber to the request's event
    fund(org_a, 1000)
    received: list[str] = []

    def handler(event: OutboxEvent) -> None:
        received.append(event.subject)

    events.subscribe("greenloop.carbon.redemption_requested", handler)
    try:
        # when a token redeems, then repeats the request with the same key
        first = _redeem(client, token_a)
        again = _redeem(client, token_a)
    finally:
        events.unsubscribe("greenloop.carbon.redemption_requested", handler)
    # then the subscriber heard of it once, after commit, and the repeat is the first answer
    assert first.status_code == 201, first.content
    assert received == [f"redemptions/{first.json()['id']}"]
    assert (again.status_code, again.content) == (201, first.content)
    with tenancy.all_organisations():
        assert Redemption.objects.count() == 1
        assert LedgerEntry.objects.filter(kind=EntryKind.HOLD).count() == 1
        assert IdempotencyRecord.objects.count() == 1


def test_with_server_side_binding_the_hold_runs_as_one_plain_statement(
    client, org_a, service, token_a, monkeypatch
):
    # given a connection that cannot send several statements in one execute (server-side
    # binding): the hold is neither prepared nor followed by COMMIT in its own round trip
    from carbon.points import ledger

    monkeypatch.setattr(ledger, "several_statements", lambda db: False)
    fund(org_a, 1000)
    sent: list[str] = []

    def watch(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    # when a token redeems
    with connection.execute_wrapper(watch):
        response = _redeem(client, token_a)
    # then the redemption is stored and committed as before, by plain statements
    assert response.status_code == 201, response.content
    assert response.json()["balances"] == {"pending": 0, "available": 700, "held": 300}
    holds = [sql for sql in sent if "WITH held AS" in sql]
    assert len(holds) == 1
    assert not holds[0].lstrip().upper().startswith(("PREPARE", "EXECUTE"))
    assert "COMMIT" not in holds[0].upper()
    with tenancy.all_organisations():
        assert Redemption.objects.count() == 1
        assert LedgerEntry.objects.filter(kind=EntryKind.HOLD).count() == 1
