"""The application role cannot rewrite history: audit events, points ledger entries and delivered
outbox events survive UPDATE, DELETE and TRUNCATE, and the role cannot switch the guards off.

Each check signs in to the test database as the application role itself (tests/conftest.py
creates the roles with `manage.py create_db_roles`), as production's `DATABASE_URL` does.
"""

import contextlib

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from carbon.models import LedgerEntry
from portal import audit
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import fund

# The history fixture writes outbox rows of made-up types to test the append-only triggers.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.synthetic_events,
]

APP = "greenloop_app"
OWNER = "greenloop_owner"


def _sign_in(user: str) -> psycopg.Connection:
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user=user,
        autocommit=True,
    )


def _refused(db: psycopg.Connection, sql: str, params=None) -> str:
    """Run `sql` alone in its transaction; return PostgreSQL's refusal (the test fails if none)."""
    with pytest.raises(psycopg.Error) as refusal:
        db.execute(sql, params)
    return str(refusal.value)


@contextlib.contextmanager
def _superuser_transaction_rolled_back():
    """A superuser's transaction that is always rolled back, for grants and tables that must not
    outlive the test."""
    with _sign_in("postgres") as db, db.transaction():
        yield db
        raise psycopg.Rollback


@pytest.fixture
def history(org_a, admin_a):
    """One audit event, ledger entries and a delivered and a pending outbox event, committed."""
    event = audit.record("membership.role_changed", actor=admin_a, organisation=org_a)
    account = fund(org_a, 100)
    delivered = OutboxEvent.objects.create(
        source="urn:test", type="greenloop.test.sent", time=timezone.now(), status="delivered"
    )
    pending = OutboxEvent.objects.create(
        source="urn:test", type="greenloop.test.waiting", time=timezone.now()
    )
    return {"audit": event, "account": account, "delivered": delivered, "pending": pending}


def _snapshot():
    return (
        list(AuditEvent.objects.values_list("id", "action")),
        list(LedgerEntry.objects.values_list("id", "points", "kind")),
        list(OutboxEvent.objects.filter(status="delivered").values_list("id", "type", "attempts")),
    )


def test_the_roles_are_plain_and_the_application_role_has_row_privileges_only():
    # given the roles the suite created
    with _sign_in(APP) as db:
        # when their attributes and the application role's table privileges are read
        roles = db.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
            " WHERE rolname IN (%s, %s) ORDER BY rolname",
            [APP, OWNER],
        ).fetchall()
        member_of_owner = db.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [APP, OWNER])
        member_of_owner = member_of_owner.fetchone()[0]
        privileges = db.execute(
            "SELECT DISTINCT privilege_type FROM information_schema.table_privileges"
            " WHERE grantee = %s ORDER BY 1",
            [APP],
        ).fetchall()
        owned = db.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [APP],
        ).fetchone()[0]
    # then neither is a superuser or bypasses row security, and the application role owns
    # nothing and may only read and write rows
    assert roles == [(APP, False, False, False, False), (OWNER, False, False, False, False)]
    assert member_of_owner is False
    assert privileges == [("DELETE",), ("INSERT",), ("SELECT",), ("UPDATE",)]
    assert owned == 0


def test_the_suite_itself_runs_as_the_application_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == APP


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("UPDATE portal_auditevent SET action = 'nothing.happened'", "append-only"),
        ("DELETE FROM portal_auditevent", "append-only"),
        ("TRUNCATE portal_auditevent", "permission denied"),
        ("UPDATE carbon_ledgerentry SET points = points + 1000", "append-only"),
        ("DELETE FROM carbon_ledgerentry", "append-only"),
        ("TRUNCATE carbon_ledgerentry CASCADE", "permission denied"),
        ("UPDATE portal_outboxevent SET attempts = 7 WHERE status = 'delivered'", "append-only"),
        ("UPDATE portal_outboxevent SET status = 'pending'", "append-only"),
        ("DELETE FROM portal_outboxevent WHERE status = 'delivered'", "append-only"),
        ("TRUNCATE portal_outboxevent", "permission denied"),
        ("ALTER TABLE portal_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE carbon_ledgerentry DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE portal_outboxevent DISABLE TRIGGER ALL", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("DROP TRIGGER carbon_ledgerentry_append_only ON carbon_ledgerentry", "must be owner"),
        ("ALTER TABLE portal_auditevent OWNER TO greenloop_app", "must be owner"),
    ],
)
def test_the_application_role_cannot_rewrite_or_unguard_history(history, sql, refusal):
    # given committed audit, ledger and outbox history
    before = _snapshot()
    assert [len(rows) for rows in before] == [2, 1, 1]
    # when the application role, seeing every organisation's rows (a task's scope), tries to
    # change, remove or unguard it
    with _sign_in(APP) as db:
        db.execute("SELECT set_config('greenloop.org_ids', 'all', false)")
        message = _refused(db, sql)
    # then PostgreSQL refuses and nothing changed
    assert refusal in message
    assert _snapshot() == before


CASCADES_TO = {"portal_outboxevent": ["portal_delivery", "portal_deliveryattempt"]}


@pytest.mark.parametrize("table", ["portal_auditevent", "carbon_ledgerentry", "portal_outboxevent"])
def test_truncate_is_refused_by_the_trigger_even_when_granted(history, table):
    # given the application role wrongly granted TRUNCATE (in a transaction that rolls back)
    before = _snapshot()
    with _superuser_transaction_rolled_back() as db:
        db.execute(f"GRANT TRUNCATE ON {table} TO {APP}")
        # TRUNCATE ... CASCADE also needs the privilege on the tables that reference it (the
        # CRM bridge's deliveries reference the outbox), or it is refused before the trigger.
        for referencing in CASCADES_TO.get(table, []):
            db.execute(f"GRANT TRUNCATE ON {referencing} TO {APP}")
        db.execute(f"SET LOCAL ROLE {APP}")
        # when it truncates
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            db.execute(f"TRUNCATE {table} CASCADE")
    # then the statement-level trigger refused it
    assert _snapshot() == before


def test_pending_outbox_events_stay_writable_until_delivered(history):
    # given a pending event
    pending = history["pending"]
    with _sign_in(APP) as db:
        # when the delivery code marks it delivered
        db.execute(
            "UPDATE portal_outboxevent SET status = 'delivered', attempts = 1 WHERE id = %s",
            [pending.pk],
        )
        # then it is delivered, and from now on frozen
        message = _refused(
            db, "UPDATE portal_outboxevent SET attempts = 2 WHERE id = %s", [pending.pk]
        )
    assert "append-only" in message
    assert OutboxEvent.objects.filter(pk=pending.pk).values_list("status", "attempts").get() == (
        "delivered",
        1,
    )


def test_the_owner_may_still_do_maintenance(history):
    # given the owner role (the one that migrates)
    with _sign_in(OWNER) as db:
        # when it removes an audit event and the pending outbox events
        db.execute("DELETE FROM portal_auditevent WHERE id = %s", [history["audit"].pk])
        # (CASCADE: the CRM bridge's deliveries reference the outbox)
        db.execute("TRUNCATE portal_outboxevent CASCADE")
    # then the triggers let it
    assert AuditEvent.objects.filter(pk=history["audit"].pk).count() == 0
    assert OutboxEvent.objects.count() == 0


def test_tables_the_owner_creates_later_are_granted_to_the_application_role():
    # given the owner creating a table in a later migration (rolled back afterwards)
    with _superuser_transaction_rolled_back() as db:
        db.execute(f"SET LOCAL ROLE {OWNER}")
        db.execute("CREATE TABLE later_table (id bigint GENERATED BY DEFAULT AS IDENTITY)")
        db.execute(f"SET LOCAL ROLE {APP}")
        # when the application role uses it
        db.execute("INSERT INTO later_table DEFAULT VALUES")
        rows = db.execute("SELECT count(*) FROM later_table").fetchone()[0]
        # then rows may be written, but the table may not be truncated
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
            db.execute("TRUNCATE later_table")
    assert rows == 1


def test_create_db_roles_is_idempotent():
    # given roles that already exist; when the command runs again as the superuser
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    try:
        call_command("create_db_roles", owner=OWNER, app=APP, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> %s",
                [OWNER],
            )
            foreign = cursor.fetchone()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {settings.GREENLOOP_TEST_DB_ROLES['app']}")
    # then it succeeds and the owner still owns every table
    assert foreign == 0


def test_migrate_connects_as_the_owner_when_given_its_url(monkeypatch):
    # given DATABASE_MIGRATE_URL naming the owner
    params = connection.settings_dict
    saved = dict(params)
    host = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    monkeypatch.setenv("DATABASE_MIGRATE_URL", f"postgres://{OWNER}@{host}/{params['NAME']}")
    try:
        # when migrate runs (nothing left to apply)
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT session_user")
            user = cursor.fetchone()[0]
    finally:
        connection.close()
        params.update(saved)
    # then it worked as the owner
    assert user == OWNER
