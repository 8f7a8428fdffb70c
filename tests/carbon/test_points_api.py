"""Points API (carbon/points/api.py): balance, ledger, catalogue and redemptions — scopes and
roles (403), tenancy (404), field-named refusals (422), the Idempotency-Key contract (400, 409,
422, replays) and bounded query counts."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from carbon import api as carbon_api  # noqa: F401 - registers the points scopes and routes
from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
    Redemption,
    RedemptionStatus,
)
from carbon.points import actions, ledger
from portal import actions as portal_actions
from portal import idempotency, rows
from portal.models import AuditEvent, IdempotencyRecord, OutboxEvent, Role, Tier
from tests.carbon.factories import ServiceFactory, fund
from tests.carbon.test_points_ledger import delivered_order, make_policy
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

BALANCE = "/api/v1/points/balance"
LEDGER = "/api/v1/points/ledger"
CATALOGUE = "/api/v1/catalogue"
REDEMPTIONS = "/api/v1/redemptions"


def _token(org, scopes=("points:read", "points:write")) -> dict[str, str]:
    _, plaintext = portal_actions.issue_api_token(org, "ERP", list(scopes), by=None)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def token_a(org_a):
    return _token(org_a)


@pytest.fixture
def service(db):
    return ServiceFactory(
        name="Maintenance visit",
        name_zh="维护上门服务",
        slug="maintenance-visit",
        description="An engineer visits one of your sites.",
        description_zh="工程师到您的工厂进行维护。",
        points_cost=300,
    )


@pytest.fixture
def funded(org_a):
    return fund(org_a, 1000)


def _error(response, status, code, field):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert (body["code"], body["field"]) == (code, field)
    return body["message"]


def _written() -> dict[str, int]:
    return {
        "accounts": PointsAccount.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "redemptions": Redemption.objects.count(),
        "events": OutboxEvent.objects.count(),
        "records": IdempotencyRecord.objects.count(),
    }


def _redeem(client, body, headers=None, key: str | None = "key-1"):
    headers = dict(headers or {})
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(REDEMPTIONS, body, content_type="application/json", headers=headers)


# --- GET /points/balance


def test_balance_with_the_policy_and_its_expiring_lots(
    client, org_a, service, funded, token_a, monkeypatch
):
    # given 1000 points of which 300 are held, and policy v3 in force
    actions.request_redemption(org_a, service, None, key="r1")
    make_policy(
        version=3,
        explanation="You earn one point per kg of CO2e your deliveries avoid.",
        explanation_zh="每减少一公斤二氧化碳当量，您获得一分。",
    )
    soon = timezone.localdate() + dt.timedelta(days=40)
    later = timezone.localdate() + dt.timedelta(days=20)

    def lots(account, within_days):
        assert (account.organisation_id, within_days) == (org_a.pk, 90)
        return [(soon, 50), (later, 70)]

    monkeypatch.setattr(ledger, "expiring_lots", lots)
    monkeypatch.setattr(
        ledger, "balances", lambda account, today: ledger.Balances(0, 700, 300, 120)
    )
    # when the balance is read with a token
    response = client.get(BALANCE, headers=token_a)
    # then it has the balances, the lots behind expiring_soon (earliest first) and the policy
    assert response.status_code == 200, response.content
    assert response.json() == {
        "organisation": "acme",
        "pending": 0,
        "available": 700,
        "held": 300,
        "expiring_soon": 120,
        "expiring": [
            {"expires_on": later.isoformat(), "points": 70},
            {"expires_on": soon.isoformat(), "points": 50},
        ],
        "policy": {
            "version": 3,
            "explanation": "You earn one point per kg of CO2e your deliveries avoid.",
            "formula": ledger.FORMULA,
        },
    }
    # and in Chinese the explanation is the Chinese one
    response = client.get(BALANCE, headers={**token_a, "Accept-Language": "zh-hans"})
    assert response.json()["policy"]["explanation"] == "每减少一公斤二氧化碳当量，您获得一分。"


def test_balance_lists_the_lots_the_ledger_tracks(client, org_a, token_a):
    # given 120 points activated 6 days ago that expire a month after activation
    today = timezone.localdate()
    policy = make_policy(pending_days=14, expiry_months=1)
    award = actions.award_order(
        delivered_order(org_a, 120, delivered=today - dt.timedelta(days=20)), policy=policy
    )
    [activation] = actions.activate_due(today)
    assert activation.award == award
    # when the balance is read / then the lot is listed with its date
    body = client.get(BALANCE, headers=token_a).json()
    assert (body["available"], body["expiring_soon"]) == (120, 120)
    assert body["expiring"] == [{"expires_on": activation.expires_on.isoformat(), "points": 120}]


def test_balance_without_expiring_points_lists_no_lots(client, org_a, funded, token_a):
    # given an adjusted balance (no lot expires soon) and no policy in force
    response = client.get(BALANCE, headers=token_a)
    # then the lots are an empty list, never left out
    assert response.status_code == 200, response.content
    assert response.json() == {
        "organisation": "acme",
        "pending": 0,
        "available": 1000,
        "held": 0,
        "expiring_soon": 0,
        "expiring": [],
        "policy": None,
    }


def test_balance_of_an_organisation_without_points_creates_nothing(client, viewer_a):
    # given a viewer of an organisation that has never earned points
    client.force_login(viewer_a)
    before = _written()
    # when they read the balance / then it is zero, and no account is created
    response = client.get(BALANCE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["organisation"], body["pending"], body["available"], body["held"]) == (
        "acme",
        0,
        0,
        0,
    )
    assert _written() == before


def test_people_in_two_organisations_name_one(client, org_a, org_b, funded):
    # given a member of Acme and Globex
    user = UserFactory()
    MembershipFactory(user=user, organisation=org_a, role=Role.VIEWER)
    MembershipFactory(user=user, organisation=org_b, role=Role.VIEWER)
    client.force_login(user)
    # when they name none / then they are asked to
    _error(client.get(BALANCE), 422, "organisation_required", "organisation")
    # when they name one / then they get it
    assert client.get(BALANCE, {"organisation": "acme"}).json()["available"] == 1000
    assert client.get(BALANCE, {"organisation": "globex"}).json()["available"] == 0


def test_another_organisations_balance_is_404(client, org_b, member_a, token_a):
    fund(org_b, 500)
    client.force_login(member_a)
    _error(client.get(BALANCE, {"organisation": "globex"}), 404, "not_found", None)
    client.logout()
    _error(client.get(BALANCE, {"organisation": "globex"}, headers=token_a), 404, "not_found", None)
    _error(client.get(LEDGER, {"organisation": "globex"}, headers=token_a), 404, "not_found", None)
    _error(
        client.get(CATALOGUE, {"organisation": "globex"}, headers=token_a), 404, "not_found", None
    )
    _error(
        client.get(REDEMPTIONS, {"organisation": "globex"}, headers=token_a), 404, "not_found", None
    )


def test_reads_need_the_read_scope(client, org_a):
    headers = _token(org_a, scopes=("points:write",))
    for url in (BALANCE, LEDGER, CATALOGUE, REDEMPTIONS):
        _error(client.get(url, headers=headers), 403, "insufficient_scope", None)


def test_vendor_staff_without_a_membership_do_not_read_points(client, org_a, staff_success):
    # Account-facing staff reach every organisation, but points are the customer's to read.
    client.force_login(staff_success)
    _error(client.get(BALANCE, {"organisation": "acme"}), 403, "permission_denied", None)


# --- GET /points/ledger


@pytest.fixture
def statement(org_a, service):
    """An earned order (pending), a funding adjustment and a held redemption."""
    policy = make_policy()
    order = delivered_order(org_a, 120)
    actions.award_order(order, policy=policy)
    fund(org_a, 1000)
    redemption, _ = actions.request_redemption(org_a, service, None, key="r1")
    return order, redemption


def test_ledger_lists_entries_newest_first_with_signed_deltas(client, statement, token_a):
    order, redemption = statement
    response = client.get(LEDGER, headers=token_a)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["organisation"], body["count"], body["page"], body["page_size"]) == (
        "acme",
        3,
        1,
        50,
    )
    rows = [
        (
            e["kind"],
            e["points"],
            e["pending_delta"],
            e["available_delta"],
            e["held_delta"],
            e["order"],
            e["redemption_id"],
            e["reason"],
        )
        for e in body["items"]
    ]
    assert rows == [
        ("hold", 300, 0, -300, 300, None, redemption.pk, ""),
        ("adjust", 1000, 0, 1000, 0, None, None, "Test funding"),
        ("earn_pending", 120, 120, 0, 0, order.external_id, None, ""),
    ]
    assert body["items"][0]["kind_label"] == "Held for a redemption"
    assert body["items"][0]["expires_on"] is None


def test_ledger_filters_by_kind_and_date_and_pages(client, statement, token_a):
    today = timezone.localdate()

    def kinds(**params):
        response = client.get(LEDGER, params, headers=token_a)
        assert response.status_code == 200, response.content
        return [e["kind"] for e in response.json()["items"]]

    assert kinds(kind="adjust") == ["adjust"]
    assert kinds(**{"from": today.isoformat()}) == ["hold", "adjust", "earn_pending"]
    assert kinds(to=(today - dt.timedelta(days=1)).isoformat()) == []
    assert kinds(page=2, page_size=2) == ["earn_pending"]
    _error(client.get(LEDGER, {"kind": "bogus"}, headers=token_a), 422, "validation_error", "kind")
    _error(
        client.get(LEDGER, {"page_size": 201}, headers=token_a),
        422,
        "validation_error",
        "page_size",
    )


def test_ledger_query_count_is_bounded(
    client, org_a, service, token_a, django_assert_max_num_queries
):
    # given a long statement with orders and redemptions
    policy = make_policy()
    for points in range(1, 21):
        actions.award_order(delivered_order(org_a, points), policy=policy)
    fund(org_a, 100_000)
    for n in range(20):
        actions.request_redemption(org_a, service, None, key=f"r{n}")
    # when a page of 50 is read / then the number of queries does not grow with it
    # (7 includes the request's row-level scope, portal/tenancy.py)
    with django_assert_max_num_queries(7):
        response = client.get(LEDGER, headers=token_a)
    assert response.json()["count"] == 41
    assert len(response.json()["items"]) == 41


# --- GET /catalogue


def _image(title="Visit"):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    return Image.objects.create(title=title, file=get_test_image_file())


def test_catalogue_with_eligibility_in_the_request_language(client, org_a, service, funded):
    # given a Chinese-language caller, an eligible service with an image, a gold-only one and
    # a full one
    service.image = _image()
    service.monthly_capacity = 5
    service.sort_order = 1
    service.save()
    gold = ServiceFactory(
        name="Extended warranty", slug="warranty", sort_order=2, eligible_tiers=[Tier.GOLD]
    )
    full = ServiceFactory(name="Training", slug="training", sort_order=3, monthly_capacity=1)
    other = OrganisationFactory()
    fund(other, 500)
    actions.request_redemption(other, full, None, key="x")
    client.force_login(MembershipFactory(organisation=org_a, role=Role.VIEWER).user)
    # when the catalogue is read
    response = client.get(CATALOGUE, headers={"Accept-Language": "zh-hans"})
    # then each service has its name in Chinese when there is one, and its eligibility
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["organisation"], body["available"]) == ("acme", 1000)
    first, second, third = body["items"]
    assert first | {"image_url": None} == {
        "slug": "maintenance-visit",
        "kind": "maintenance_visit",
        "name": "维护上门服务",
        "description": "工程师到您的工厂进行维护。",
        "image_url": None,
        "points_cost": 300,
        "requires_site": False,
        "monthly_capacity": 5,
        "remaining_this_month": 5,
        "eligible": True,
        "reason": "",
        "affordable": True,
    }
    assert first["image_url"].startswith("http://testserver/")
    assert ".fill-480x270" in first["image_url"]
    assert (second["slug"], second["name"], second["eligible"]) == (
        "warranty",
        gold.name,
        False,
    )
    assert second["reason"] != ""
    assert (third["slug"], third["eligible"], third["remaining_this_month"]) == (
        "training",
        False,
        0,
    )


def test_catalogue_query_count_is_bounded(
    client, org_a, funded, token_a, django_assert_max_num_queries
):
    # given twelve services with images whose renditions exist
    for n in range(12):
        ServiceFactory(image=_image(f"Service {n}"), monthly_capacity=10, eligible_countries=["DE"])
    SiteFactory(organisation=org_a)
    client.get(CATALOGUE, headers=token_a)  # the first read makes the renditions
    # when it is read again / then the queries do not grow with the services
    # (10 includes the request's row-level scope and counting every organisation's places)
    with django_assert_max_num_queries(10):
        response = client.get(CATALOGUE, headers=token_a)
    assert len(response.json()["items"]) == 12
    assert all(item["image_url"] for item in response.json()["items"])


# --- POST /redemptions


def test_a_token_redeems_and_gets_the_redemption_with_the_balances_after(
    client, org_a, service, funded, token_a
):
    # given 1000 points and a site
    SiteFactory(organisation=org_a, name="Werk Hamburg")
    preferred = timezone.localdate() + dt.timedelta(days=14)
    # when a token redeems the service with an Idempotency-Key
    response = _redeem(
        client,
        {
            "service": "maintenance-visit",
            "site": "Werk Hamburg",
            "preferred_date": preferred.isoformat(),
            "note": "Gate 3",
        },
        token_a,
    )
    # then it is created, 300 points are held, and the key is remembered with the response
    assert response.status_code == 201, response.content
    redemption = Redemption.objects.get()
    body = response.json()
    assert body["requested_at"]
    assert body | {"requested_at": None} == {
        "id": redemption.pk,
        "organisation": "acme",
        "status": "requested",
        "service": "maintenance-visit",
        "service_name": "Maintenance visit",
        "points": 300,
        "site": "Werk Hamburg",
        "preferred_date": preferred.isoformat(),
        "note": "Gate 3",
        "requested_at": None,
        "scheduled_for": None,
        "assignee": "",
        "staff_note": "",
        "decided_at": None,
        "cancelled_at": None,
        "balances": {"pending": 0, "available": 700, "held": 300},
    }
    assert redemption.requested_by is None
    assert LedgerEntry.objects.get(kind=EntryKind.HOLD).redemption_id == redemption.pk
    record = IdempotencyRecord.objects.get()
    assert (record.scope, record.key, record.response_status) == (
        f"organisation:{org_a.pk}",
        "key-1",
        201,
    )
    assert record.response_body == body
    assert OutboxEvent.objects.filter(type="greenloop.carbon.redemption_requested").count() == 1


@pytest.mark.postgres  # the row-level scope and the one-statement hold are PostgreSQL's
def test_a_token_redemption_is_audited_within_the_tokens_scope_in_a_bounded_count(
    client, org_a, service, funded, token_a
):
    # given a token of org_a and its points
    captured = []

    def watch(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    # when it redeems
    with connection.execute_wrapper(watch):
        response = _redeem(client, {"service": "maintenance-visit"}, token_a)
    # then the audit event is written under the token's own row-level scope, not lifted to
    # every organisation (the lift the audit writer takes for others' rows)
    assert response.status_code == 201, response.content
    audit = AuditEvent.objects.get(action="carbon.redemption.requested")
    assert (audit.organisation_id, audit.object_id) == (org_a.pk, str(response.json()["id"]))
    scopes_set = []
    for sql, params in captured:
        if "set_config" in sql:
            scopes_set.append(params[2])
        if 'INSERT INTO "portal_auditevent"' in sql:
            break
    assert scopes_set == ["", str(org_a.pk)]  # the request's start, then the token's
    # and the request costs at most 12 statements: 8 of a redemption in production (COMMIT
    # aside), the token's first lookup and its last-used stamp, and the view's SAVEPOINT and
    # RELEASE inside the test's transaction (4 more when the audit row lifted the scope and
    # restored it and the redemption took a savepoint of its own)
    assert len(captured) <= 12, [sql[:80] for sql, _ in captured]
    # and the account row, locked by the hold's statement, waits for nothing but the end of
    # the view's transaction (here the RELEASE of its savepoint, in production the COMMIT)
    # (the hold runs as a prepared statement: read it as the statement it runs)
    sqls = [rows.statement_run(sql, connection) for sql, _ in captured]
    hold = next(n for n, sql in enumerate(sqls) if sql.startswith("WITH held AS (UPDATE"))
    assert sqls[hold + 1].startswith("RELEASE SAVEPOINT")
    # and that statement writes the redemption and its audit row too: none is written apart
    for table in ("carbon_redemption", "portal_auditevent"):
        writes = [n for n, sql in enumerate(sqls) if f'INSERT INTO "{table}"' in sql]
        assert writes == [hold], table
    assert [sql.split()[0] for sql in sqls].count("SAVEPOINT") == 1
    # and the redemption's id comes with the service's lookup, not in a statement of its own
    assert not [sql for sql in sqls if sql.startswith("SELECT nextval")]
    assert [sql for sql in sqls if "nextval" in sql and '"carbon_service"' in sql]


def test_a_new_redemptions_response_quotes_its_stored_request_time(
    client, org_a, service, funded, token_a
):
    # given a token of org_a and its points
    # when it redeems (the response is built before the statement that writes the row)
    response = _redeem(client, {"service": "maintenance-visit"}, token_a)
    # then the request time it answers is the one stored, as every later read shows it
    assert response.status_code == 201, response.content
    later = client.get(f"{REDEMPTIONS}/{response.json()['id']}", headers=token_a)
    assert response.json()["requested_at"] == later.json()["requested_at"]
    stored = Redemption.objects.get()
    assert response.json()["requested_at"] == json.loads(
        json.dumps(stored.requested_at, cls=DjangoJSONEncoder)
    )


def test_a_member_redeems_by_session(client, member_a, service, funded):
    client.force_login(member_a)
    response = _redeem(client, {"service": "maintenance-visit"}, key=str(uuid.uuid4()))
    assert response.status_code == 201, response.content
    assert Redemption.objects.get().requested_by == member_a


def test_a_repeat_returns_the_first_response_and_writes_nothing(client, service, funded, token_a):
    # given a first redemption with key-1
    body = {"service": "maintenance-visit", "note": "Gate 3"}
    first = _redeem(client, body, token_a)
    assert first.status_code == 201, first.content
    before = _written()
    # when it is sent again (the same JSON in another order)
    again = client.post(
        REDEMPTIONS,
        json.dumps({"note": "Gate 3", "service": "maintenance-visit"}),
        content_type="application/json",
        headers={**token_a, "Idempotency-Key": "key-1"},
    )
    # then the first response comes back unchanged, marked as a replay, and nothing is written
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert _written() == before
    assert PointsAccount.objects.get().held == 300


def test_a_repeat_after_the_keys_record_was_purged_gets_the_redemption_as_it_is_now(
    client, service, funded, token_a
):
    # given a redemption whose API record is gone (purged after 72 hours)
    first = _redeem(client, {"service": "maintenance-visit"}, token_a)
    assert first.status_code == 201, first.content
    IdempotencyRecord.objects.all().delete()
    before = _written()
    # when the client repeats it with the same key
    again = _redeem(client, {"service": "maintenance-visit"}, token_a)
    # then the ledger still knows the key: 200 with the same redemption and the balances now,
    # and the only row written is the key's new record (no second hold, no second redemption)
    assert again.status_code == 200, again.content
    body = again.json()
    assert (body["id"], body["status"], body["points"]) == (first.json()["id"], "requested", 300)
    assert body["balances"] == {"pending": 0, "available": 700, "held": 300}
    assert _written() == {**before, "records": before["records"] + 1}
    assert LedgerEntry.objects.filter(kind=EntryKind.HOLD).count() == 1


def test_the_same_key_with_a_different_request_is_refused(client, service, funded, token_a):
    assert _redeem(client, {"service": "maintenance-visit"}, token_a).status_code == 201
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit", "note": "Other"}, token_a)
    message = _error(response, 422, "idempotency_key_reused", "Idempotency-Key")
    assert message == "This Idempotency-Key was already used for a different request."
    assert _written() == before


def test_the_same_key_from_another_caller_is_a_different_request(
    client, org_a, service, funded, token_a
):
    assert _redeem(client, {"service": "maintenance-visit"}, token_a).status_code == 201
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit"}, _token(org_a))
    _error(response, 422, "idempotency_key_reused", "Idempotency-Key")
    assert _written() == before


def test_keys_belong_to_the_organisation(client, org_b, service, funded, token_a):
    # given Globex used key-1 already
    fund(org_b, 1000)
    assert _redeem(client, {"service": "maintenance-visit"}, _token(org_b)).status_code == 201
    # when Acme uses key-1 / then it is a new key for Acme
    assert _redeem(client, {"service": "maintenance-visit"}, token_a).status_code == 201
    assert Redemption.objects.count() == 2


def test_the_idempotency_key_is_required(client, service, funded, token_a):
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit"}, token_a, key=None)
    message = _error(response, 400, "idempotency_key_required", "Idempotency-Key")
    assert "Idempotency-Key" in message
    response = _redeem(client, {"service": "maintenance-visit"}, token_a, key="x" * 151)
    _error(response, 400, "idempotency_key_invalid", "Idempotency-Key")
    assert _written() == before


def test_a_refusal_is_the_keys_final_answer(client, org_a, service, token_a):
    # given an organisation with 100 points
    fund(org_a, 100)
    before = _written()
    # when it redeems a 300-point service
    response = _redeem(client, {"service": "maintenance-visit"}, token_a)
    # then it is refused with the field, and only the answer is remembered
    message = _error(response, 422, "insufficient_points", "points")
    assert message == "Maintenance visit costs 300 points; 100 are available."
    assert _written() == {**before, "records": before["records"] + 1}
    # when more points arrive and the same request is repeated with the same key
    fund(org_a, 1000)
    again = _redeem(client, {"service": "maintenance-visit"}, token_a)
    # then the first answer comes back (a new key is needed to try again)
    assert (again.status_code, again.content) == (422, response.content)
    assert Redemption.objects.count() == 0
    assert (
        _redeem(client, {"service": "maintenance-visit"}, token_a, key="key-2").status_code == 201
    )


def test_capacity_reached_is_refused(client, org_b, service, funded, token_a):
    service.monthly_capacity = 1
    service.save()
    fund(org_b, 1000)
    assert _redeem(client, {"service": "maintenance-visit"}, _token(org_b)).status_code == 201
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit"}, token_a)
    message = _error(response, 422, "capacity_reached", "service")
    assert message.startswith("All 1 places for Maintenance visit this month are taken")
    assert _written() == {**before, "records": before["records"] + 1}


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        (
            {"eligible_tiers": ["gold"]},
            "tier_not_eligible",
            "This service is offered to Gold customers; your organisation's tier is Standard.",
        ),
        (
            {"eligible_countries": ["CN"]},
            "region_not_eligible",
            "This service is offered in China only.",
        ),
        ({"is_active": False}, "service_not_offered", "This service is not offered at the moment."),
    ],
)
def test_ineligible_requests_are_refused_with_a_message(
    client, service, funded, token_a, fields, code, message
):
    for name, value in fields.items():
        setattr(service, name, value)
    service.save()
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit"}, token_a)
    assert _error(response, 422, code, "service") == message
    assert _written() == {**before, "records": before["records"] + 1}


def test_unknown_service_or_site_and_bad_fields_are_refused(
    client, org_b, service, funded, token_a
):
    SiteFactory(organisation=org_b, name="Globex Plant")
    before = _written()
    _error(_redeem(client, {"service": "nope"}, token_a), 422, "unknown_service", "service")
    _error(
        _redeem(client, {"service": "maintenance-visit", "site": "Globex Plant"}, token_a, "k2"),
        422,
        "unknown_site",
        "site",
    )
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    _error(
        _redeem(
            client, {"service": "maintenance-visit", "preferred_date": yesterday}, token_a, "k3"
        ),
        422,
        "redemption_error",
        "preferred_date",
    )
    _error(_redeem(client, {}, token_a, "k4"), 422, "validation_error", "payload.service")
    _error(
        _redeem(client, {"service": "maintenance-visit", "note": "x" * 2001}, token_a, "k5"),
        422,
        "validation_error",
        "payload.note",
    )
    # the domain refusals are remembered under their keys; schema errors are not
    assert _written() == {**before, "records": before["records"] + 3}


def test_a_preferred_date_is_an_iso_date_not_a_number(client, service, funded, token_a):
    # given a funded organisation's token
    before = _written()
    # when the preferred date is a Unix timestamp (2099-12-31 at midnight UTC)
    body = {"service": "maintenance-visit", "preferred_date": 4102358400}
    response = _redeem(client, body, token_a)
    # then it is refused as the schema says (YYYY-MM-DD), and nothing is written
    _error(response, 422, "validation_error", "payload.preferred_date")
    assert _written() == before


def test_statement_filters_refuse_dates_that_are_not_iso_dates(client, token_a):
    # a number would otherwise be read as a Unix timestamp and filter from 1970
    _error(client.get(LEDGER, {"from": "0"}, headers=token_a), 422, "validation_error", "from")
    _error(client.get(LEDGER, {"to": "2025-3-1"}, headers=token_a), 422, "validation_error", "to")


def test_a_page_beyond_any_list_is_refused(client, token_a):
    # a page number whose row offset would overflow the database's integer is a 422, not a 500
    response = client.get(LEDGER, {"page": "2466408758503394794723220652032"}, headers=token_a)
    _error(response, 422, "validation_error", "page")
    _error(client.get(LEDGER, {"page": "100001"}, headers=token_a), 422, "validation_error", "page")
    assert client.get(LEDGER, {"page": "100000"}, headers=token_a).status_code == 200


def test_a_viewer_cannot_redeem(client, viewer_a, service, funded):
    client.force_login(viewer_a)
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit"})
    _error(response, 403, "permission_denied", None)
    assert _written() == before


def test_a_token_without_the_write_scope_cannot_redeem(client, org_a, service, funded):
    before = _written()
    response = _redeem(client, {"service": "maintenance-visit"}, _token(org_a, ("points:read",)))
    _error(response, 403, "insufficient_scope", None)
    assert _written() == before


def test_redeeming_for_another_organisation_is_404(client, org_b, member_a, service, token_a):
    fund(org_b, 1000)
    before = _written()
    body = {"service": "maintenance-visit", "organisation": "globex"}
    _error(_redeem(client, body, token_a), 404, "not_found", None)
    client.force_login(member_a)
    _error(_redeem(client, body), 404, "not_found", None)
    assert _written() == before


@contextlib.contextmanager
def _key_held_by_another_connection(scope: str, key: str):
    """Another connection holds the key's lock (a request with it, still running) in the block."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                assert idempotency.try_lock(scope, key)
                holding.set()
                done.wait(timeout=20)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        yield
    finally:
        done.set()
        thread.join(timeout=20)


@pytest.mark.postgres
def test_a_repeat_while_the_first_is_running_gets_409(client, org_a, service, funded, token_a):
    # given another connection that holds the key (the first request, still running)
    with _key_held_by_another_connection(idempotency.scope_for(org_a.pk), "key-1"):
        before = _written()
        # when the repeat arrives
        response = _redeem(client, {"service": "maintenance-visit"}, token_a)
        # then it is told at once to retry later, and nothing is written
        _error(response, 409, "idempotency_in_progress", "Idempotency-Key")
        assert _written() == before
    # and once the first has finished the key is free again
    assert _redeem(client, {"service": "maintenance-visit"}, token_a).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_another_repeat_is_running_gets_the_first_answer(
    client, org_a, service, funded, token_a
):
    # given a redemption answered 201, and another connection replaying it right now (it holds
    # the key's lock)
    first = _redeem(client, {"service": "maintenance-visit"}, token_a)
    assert first.status_code == 201
    with _key_held_by_another_connection(idempotency.scope_for(org_a.pk), "key-1"):
        before = _written()
        # when this repeat arrives
        response = _redeem(client, {"service": "maintenance-visit"}, token_a)
        # then it gets the first answer, not 409, and nothing is written
        assert (response.status_code, response.content) == (201, first.content)
        assert response["Idempotent-Replayed"] == "true"
        assert _written() == before


def _claim_misses_records(monkeypatch) -> None:
    """The first try's claim reads the key as unanswered, as when its snapshot predates the
    commit of the request that answered it (idempotency.claim)."""
    real = idempotency.claim

    def stale(scope: str, key: str):
        locked, _ = real(scope, key)
        return locked, None

    monkeypatch.setattr(idempotency, "claim", stale)


@pytest.mark.postgres
def test_a_repeat_whose_claim_missed_the_record_still_gets_the_first_answer(
    client, org_a, service, funded, token_a, monkeypatch
):
    # given a redemption answered 201, and a repeat whose first try does not see its record
    first = _redeem(client, {"service": "maintenance-visit"}, token_a)
    assert first.status_code == 201, first.content
    before = _written()
    _claim_misses_records(monkeypatch)
    # when the repeat arrives
    again = _redeem(client, {"service": "maintenance-visit"}, token_a)
    # then its hold meets the key and the second try answers it from the record: the first
    # answer, and nothing written
    assert (again.status_code, again.content) == (201, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert _written() == before


@pytest.mark.postgres
def test_a_repeat_of_a_refusal_whose_claim_missed_the_record_gets_the_refusal(
    client, org_a, service, funded, token_a, monkeypatch
):
    # given an unknown service refused (and the refusal kept), and a repeat whose first try
    # does not see the record
    first = _redeem(client, {"service": "no-such-service"}, token_a)
    _error(first, 422, "unknown_service", "service")
    before = _written()
    _claim_misses_records(monkeypatch)
    # when the repeat arrives
    again = _redeem(client, {"service": "no-such-service"}, token_a)
    # then keeping its own refusal meets the key, and the second try answers from the record
    assert (again.status_code, again.content) == (422, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert _written() == before


# --- GET /redemptions, GET /redemptions/{id}, POST /redemptions/{id}/cancel


@pytest.fixture
def requested(org_a, service, funded):
    redemption, _ = actions.request_redemption(org_a, service, None, key="r1")
    return redemption


def test_list_and_filter_redemptions(client, org_a, service, requested, token_a, staff_success):
    fulfilled, _ = actions.request_redemption(org_a, service, None, key="r2")
    actions.fulfil(fulfilled, staff_success, scheduled_for=timezone.localdate(), assignee="Li")

    def ids(**params):
        response = client.get(REDEMPTIONS, params, headers=token_a)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["items"]]

    assert ids() == [fulfilled.pk, requested.pk]
    assert ids(status="requested") == [requested.pk]
    assert ids(status="fulfilled") == [fulfilled.pk]
    assert ids(page=2, page_size=1) == [requested.pk]
    item = client.get(REDEMPTIONS, {"status": "fulfilled"}, headers=token_a).json()["items"][0]
    assert (item["status"], item["assignee"], item["scheduled_for"]) == (
        "fulfilled",
        "Li",
        timezone.localdate().isoformat(),
    )


def test_redemption_list_query_count_is_bounded(
    client, org_a, service, funded, token_a, django_assert_max_num_queries
):
    site = SiteFactory(organisation=org_a)
    for n in range(3):
        actions.request_redemption(org_a, service, None, key=f"r{n}", site=site)
    # (7 includes the request's row-level scope, portal/tenancy.py)
    with django_assert_max_num_queries(7):
        response = client.get(REDEMPTIONS, headers=token_a)
    assert response.json()["count"] == 3
    assert {r["site"] for r in response.json()["items"]} == {site.name}


def test_get_one_redemption(client, viewer_a, requested):
    client.force_login(viewer_a)
    response = client.get(f"{REDEMPTIONS}/{requested.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["service"], body["points"]) == (
        requested.pk,
        "requested",
        "maintenance-visit",
        300,
    )
    assert "balances" not in body


def test_cancel_releases_the_points_and_a_repeat_is_unchanged(client, member_a, requested):
    client.force_login(member_a)
    url = f"{REDEMPTIONS}/{requested.pk}/cancel"
    response = client.post(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["balances"] == {"pending": 0, "available": 1000, "held": 0}
    assert Redemption.objects.get().cancelled_by == member_a
    before = _written()
    again = client.post(url)
    assert (again.status_code, again.json()) == (200, body)
    assert _written() == before


def test_a_token_cancels(client, requested, token_a):
    response = client.post(f"{REDEMPTIONS}/{requested.pk}/cancel", headers=token_a)
    assert response.status_code == 200, response.content
    assert Redemption.objects.get().status == RedemptionStatus.CANCELLED


def test_a_fulfilled_redemption_cannot_be_cancelled(client, requested, token_a, staff_success):
    actions.fulfil(requested, staff_success, scheduled_for=timezone.localdate(), assignee="Li")
    before = _written()
    response = client.post(f"{REDEMPTIONS}/{requested.pk}/cancel", headers=token_a)
    assert _error(response, 422, "redemption_closed", "status") == (
        "This redemption is already fulfilled."
    )
    assert _written() == before


def test_viewers_and_read_tokens_cannot_cancel(client, org_a, viewer_a, requested):
    url = f"{REDEMPTIONS}/{requested.pk}/cancel"
    before = _written()
    _error(
        client.post(url, headers=_token(org_a, ("points:read",))), 403, "insufficient_scope", None
    )
    client.force_login(viewer_a)
    _error(client.post(url), 403, "permission_denied", None)
    assert _written() == before
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


def test_another_organisations_redemption_is_404(client, org_b, member_a, service, token_a):
    fund(org_b, 1000)
    theirs, _ = actions.request_redemption(org_b, service, None, key="theirs")
    before = _written()
    for headers in (token_a, None):
        if headers is None:
            client.force_login(member_a)
        _error(client.get(f"{REDEMPTIONS}/{theirs.pk}", headers=headers), 404, "not_found", None)
        _error(
            client.post(f"{REDEMPTIONS}/{theirs.pk}/cancel", headers=headers),
            404,
            "not_found",
            None,
        )
        listed = client.get(REDEMPTIONS, headers=headers).json()["items"]
        assert theirs.pk not in [r["id"] for r in listed]
    assert _written() == before
    assert Redemption.objects.get(pk=theirs.pk).status == RedemptionStatus.REQUESTED


# --- OpenAPI and the key store


def test_openapi_documents_the_points_endpoints(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/redemptions"]) == {"get", "post"}
    for path in (
        "/api/v1/points/balance",
        "/api/v1/points/ledger",
        "/api/v1/catalogue",
        "/api/v1/redemptions/{redemption_id}",
        "/api/v1/redemptions/{redemption_id}/cancel",
    ):
        assert path in paths
    post = paths["/api/v1/redemptions"]["post"]
    [header] = [p for p in post["parameters"] if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("Idempotency-Key", True)
    assert {"201", "400", "403", "404", "409", "422"} <= set(post["responses"])
    assert post["summary"]
    assert "idempotency_key_reused" in post["description"]
