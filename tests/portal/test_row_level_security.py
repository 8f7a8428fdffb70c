"""Row-level security: the application role sees an organisation's rows only inside a scope that
names it (portal/tenancy.py), whatever SQL it runs; requests, tokens, tasks and commands set it."""

import psycopg
import pytest
from celery import shared_task
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from carbon.models import LedgerEntry, Leg, Order, PointsAccount, Shipment
from portal import actions, audit, tenancy
from portal.middleware import TenantScopeMiddleware
from portal.models import AuditEvent, Site
from tests.carbon.factories import fund, order_with_legs
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres]

# table -> how its rows name their organisation, for counting what a scope should show
TABLES = {
    "carbon_order": (Order, "organisation"),
    "carbon_shipment": (Shipment, "order__organisation"),
    "carbon_leg": (Leg, "shipment__order__organisation"),
    "carbon_pointsaccount": (PointsAccount, "organisation"),
    "carbon_ledgerentry": (LedgerEntry, "account__organisation"),
    "portal_auditevent": (AuditEvent, "organisation"),
    "portal_site": (Site, "organisation"),
}


def _customer_data(organisation, admin):
    order_with_legs(organisation, [{}, {}])
    fund(organisation, 50)
    Site.objects.create(organisation=organisation, name=f"{organisation.slug} plant")
    audit.record("test.happened", actor=admin, organisation=organisation)


def _raw_counts(cursor) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
        counts[table] = cursor.fetchone()[0]
    return counts


def _expected_counts(organisation) -> dict[str, int]:
    return {
        table: model.objects.filter(**{lookup: organisation}).count()
        for table, (model, lookup) in TABLES.items()
    }


@pytest.mark.django_db(transaction=True)
def test_an_unscoped_session_of_the_application_role_sees_no_customer_rows(
    org_a, org_b, admin_a, admin_b
):
    # given two customers' orders, legs, points, sites and audit events (committed)
    _customer_data(org_a, admin_a)
    _customer_data(org_b, admin_b)
    expected_a = _expected_counts(org_a)
    params = connection.settings_dict
    # when the application role signs in and queries the tables with raw SQL, setting nothing
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user="greenloop_app",
        autocommit=True,
    ) as db:
        cursor = db.cursor()
        unscoped = _raw_counts(cursor)
        # and again after scoping the session to the first customer
        cursor.execute("SELECT set_config('greenloop.org_ids', %s, false)", [str(org_a.pk)])
        scoped = _raw_counts(cursor)
        cursor.execute("SELECT DISTINCT organisation_id FROM carbon_order")
        order_organisations = cursor.fetchall()
    # then nothing is visible without a scope, and only that customer's rows within it
    assert unscoped == dict.fromkeys(TABLES, 0)
    assert scoped == expected_a
    assert expected_a == {
        "carbon_order": 1,
        "carbon_shipment": 1,
        "carbon_leg": 2,
        "carbon_pointsaccount": 1,
        "carbon_ledgerentry": 1,
        "portal_auditevent": expected_a["portal_auditevent"],
        "portal_site": 1,
    }
    assert expected_a["portal_auditevent"] >= 2
    assert order_organisations == [(org_a.pk,)]


@pytest.mark.django_db
def test_the_application_role_cannot_write_rows_outside_its_scope(org_a, org_b):
    # given a session scoped to one customer
    with (
        tenancy.scope([org_a.pk]),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # when it inserts a row for another customer
        cursor.execute(
            "INSERT INTO portal_site"
            " (organisation_id, name, country, region, address, crm_external_id)"
            " VALUES (%s, 'foreign plant', 'CN', '', '', '')",
            [org_b.pk],
        )
    # then the policy refused it
    assert Site.objects.filter(name="foreign plant").count() == 0


def _scope_seen_by(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    seen = []
    TenantScopeMiddleware(lambda r: seen.append(tenancy.current()) or _Response())(request)
    return seen[0]


class _Response:
    streaming = False


@pytest.mark.django_db
def test_requests_see_their_own_organisations_and_restore_the_scope(
    org_a, org_b, member_a, admin_b, staff_success, enable_totp
):
    # given a member of both customers, vendor staff with and without 2FA, and an anonymous caller
    from django.contrib.auth.models import AnonymousUser

    from portal.models import Membership, Role

    Membership.objects.create(user=member_a, organisation=org_b, role=Role.VIEWER)
    staff_without_2fa = UserFactory(is_staff=True, is_superuser=True)
    with tenancy.scope(""):
        # when each makes a request
        seen = {
            "member": _scope_seen_by(member_a),
            "admin_b": _scope_seen_by(admin_b),
            "staff": _scope_seen_by(staff_success),
            "staff_without_2fa": _scope_seen_by(staff_without_2fa),
            "anonymous": _scope_seen_by(AnonymousUser()),
        }
        after = tenancy.current()
    # then each sees exactly their organisations, staff all only with 2FA, and the scope
    # in force before comes back afterwards
    assert seen == {
        "member": ",".join(sorted([str(org_a.pk), str(org_b.pk)])),
        "admin_b": str(org_b.pk),
        "staff": "all",
        "staff_without_2fa": "",
        "anonymous": "",
    }
    assert after == ""


@pytest.mark.django_db
def test_pages_and_the_api_work_under_row_level_security(client, org_a, org_b, member_a, admin_b):
    # given an order of each customer, and no scope outside the request
    mine = order_with_legs(org_a, [{}], external_id="PO-MINE")
    order_with_legs(org_b, [{}], external_id="PO-THEIRS")
    client.force_login(member_a)
    with tenancy.scope(""):
        # when the member lists orders through the API
        response = client.get("/api/v1/orders")
    # then they get their organisation's order (the request scoped the database)
    assert response.status_code == 200
    assert [item["external_id"] for item in response.json()["items"]] == [mine.external_id]


@pytest.mark.django_db
def test_an_api_token_scopes_the_request_to_its_organisation(client, org_a, org_b, admin_a):
    # given a token of the first customer and orders of both
    order_with_legs(org_a, [{}], external_id="PO-A")
    order_with_legs(org_b, [{}], external_id="PO-B")
    _token, plaintext = actions.issue_api_token(org_a, "erp", ["carbon:read"], by=admin_a)
    with tenancy.scope(""):
        # when the token lists orders
        response = client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    # then it sees its organisation's order
    assert response.status_code == 200
    assert [item["external_id"] for item in response.json()["items"]] == ["PO-A"]


@pytest.mark.django_db
def test_a_streamed_audit_export_keeps_the_request_scope(client, org_a, admin_a):
    # given an audit event of the admin's organisation
    audit.record("membership.role_changed", actor=admin_a, organisation=org_a)
    client.force_login(admin_a)
    with tenancy.scope(""):
        # when the admin exports the trail (the CSV is produced after the view returns)
        response = client.get(
            reverse("portal:audit_log", kwargs={"org_slug": "acme"}), {"format": "csv"}
        )
        body = b"".join(response.streaming_content).decode()
    # then the export holds the event
    assert response.status_code == 200
    assert "membership.role_changed" in body


@shared_task
def _scope_inside_task() -> str:
    return tenancy.current()


@pytest.mark.django_db
def test_tasks_run_for_every_organisation_and_restore_the_scope(org_a):
    # given a request-like scope of one organisation
    with tenancy.scope([org_a.pk]):
        # when a task runs (eagerly, inside it)
        inside = _scope_inside_task.delay().get()
        after = tenancy.current()
    # then the task saw every organisation, and the caller's scope came back
    assert inside == "all"
    assert after == str(org_a.pk)


@pytest.mark.django_db
def test_management_commands_set_their_scope(org_a, org_b, capsys):
    # given two funded customers, and no scope in the session
    fund(org_a, 10)
    fund(org_b, 20)
    with tenancy.scope(""):
        # when the ledger check runs
        call_command("check_ledger")
    # then it checked both accounts
    assert capsys.readouterr().out.strip() == "2 points account(s) reconcile."


def _statements_during(block) -> list[tuple[str, list]]:
    captured: list[tuple[str, list]] = []

    def watch(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        block()
    return captured


@pytest.mark.django_db
def test_a_deferred_scope_is_in_force_before_its_first_statement_and_restored():
    # given a scope in force before the block
    with tenancy.scope("all"):
        # when a deferred empty scope's block runs a statement
        with tenancy.deferred_scope(tenancy.NONE):
            inside = tenancy.current()
        after = tenancy.current()
    # then the statement ran under the block's scope, and the earlier one is back afterwards
    assert (inside, after) == ("", "all")


@pytest.mark.django_db
def test_a_deferred_scope_replaced_before_any_statement_is_swapped_once(org_a):
    seen = []

    def block():
        with tenancy.deferred_scope(tenancy.NONE):
            tenancy.set_scope([org_a.pk])
            seen.append(tenancy.current())

    with tenancy.scope(""):
        # when a block replaces its deferred scope before running anything
        statements = _statements_during(block)
        after = tenancy.current()
    # then one statement set the new scope, the block's reads saw it, and the scope in force
    # before came back at the end
    swaps = [params[2] for sql, params in statements if "set_config" in sql]
    assert swaps == [str(org_a.pk), ""]
    assert seen == [str(org_a.pk)]
    assert after == ""


@pytest.mark.django_db
def test_a_deferred_scope_that_nothing_needs_runs_no_statement():
    def block():
        with tenancy.deferred_scope(tenancy.NONE):
            pass

    with tenancy.scope(""):
        statements = _statements_during(block)
    assert statements == []


@pytest.mark.django_db
def test_a_known_tokens_request_sets_its_scope_first_and_restores_it(client, org_a, admin_a):
    # given a token of the first customer that has been used once (its process knows it)
    order_with_legs(org_a, [{}], external_id="PO-A")
    _token, plaintext = actions.issue_api_token(org_a, "erp", ["carbon:read"], by=admin_a)
    with tenancy.scope(""):
        client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        # when it lists orders again
        responses = []
        statements = _statements_during(
            lambda: responses.append(
                client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
            )
        )
        after = tenancy.current()
    # then the request's first statement set the token's organisation, no statement ran under
    # another scope, the last one restored the scope in force before, and the token saw its order
    swaps = [(n, params[2]) for n, (sql, params) in enumerate(statements) if "set_config" in sql]
    assert swaps == [(0, str(org_a.pk)), (len(statements) - 1, "")]
    assert after == ""
    assert [item["external_id"] for item in responses[0].json()["items"]] == ["PO-A"]
