"""Provenance decides what earns points: each leg records who wrote its data (from the channel,
never from the body), customer entries earn only once sustainability staff verify them, and an
order edited after its award is re-settled (reversal and new award, each exactly once)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon import api as carbon_api  # noqa: F401 - registers the carbon scopes and routes
from carbon.footprint.actions import start_import, store_orders, verify_order_data
from carbon.footprint.exceptions import OrderDataError
from carbon.footprint.orders import LegData, OrderData, ShipmentData
from carbon.models import (
    EntryKind,
    ImportStatus,
    LedgerEntry,
    Leg,
    LegSource,
    Order,
    PointsAccount,
    PointsAward,
)
from carbon.points import actions as points_actions
from carbon.points import awards
from portal import actions as portal_actions
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent
from tests.api_client import token_headers
from tests.carbon.factories import published_dataset
from tests.carbon.test_import import csv_text
from tests.carbon.test_points_ledger import make_policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UPSERT = "/api/v1/organisations/acme/orders/PO-7"
UNVERIFIED_EN = "Customer-entered data awaits verification by GreenLoop staff."
UNVERIFIED_ZH = "客户录入的数据正在等待 GreenLoop 工作人员核实。"


@pytest.fixture
def policy(db):
    """Baseline from the dataset: road HGV WTW = 0.1 + 0.025 = 0.125 kg/t·km; 0.1 point/kg."""
    published_dataset()
    return make_policy(baseline_kg_per_tkm=None, points_per_kg=Decimal("0.1"))


def body(distance="500 km", status="delivered", **leg):
    """20 t by rail: 500 km is 10,000 t·km, WTW 370 kg against a 1,250 kg baseline: 88 points."""
    return {
        "order_date": "2025-03-03",
        "delivery_date": "2025-04-10",
        "status": status,
        "shipments": [
            {
                "reference": "SHP-1",
                "legs": [{"category": "rail.freight", "mass": "20 t", "distance": distance, **leg}],
            }
        ],
    }


def put(client, headers, payload, url=UPSERT):
    return client.put(url, payload, content_type="application/json", headers=headers)


def crm_headers(*scopes):
    _, plaintext = portal_actions.issue_api_token(None, "Carrier", list(scopes), by=None)
    return {"Authorization": f"Bearer {plaintext}"}


def crm_url(org, external_id="PO-7"):
    return f"/api/v1/crm/organisations/{org.crm_external_id}/orders/{external_id}"


@pytest.fixture
def crm_org(org_a):
    type(org_a).objects.filter(pk=org_a.pk).update(crm_external_id="ACC-7")
    org_a.refresh_from_db()
    return org_a


def legs_of(external_id="PO-7"):
    return list(
        Leg.objects.filter(shipment__order__external_id=external_id).values_list(
            "source", "data_type", "verified_at"
        )
    )


def ledger_of(order):
    return list(
        LedgerEntry.objects.filter(order=order)
        .order_by("id")
        .values_list("kind", "points", "idempotency_key")
    )


# --- the channel sets the source


def test_a_customer_token_writes_customer_data_that_earns_nothing_until_verified(
    client, org_a, policy, django_capture_on_commit_callbacks
):
    # given a customer's token with write access, and a leg that claims to be the CRM's
    headers = token_headers(org_a, ["carbon:read", "carbon:write"])
    # when it stores a delivered order
    with django_capture_on_commit_callbacks(execute=True):
        response = put(client, headers, body(source="crm", data_type="primary_fuel"))
    # then the leg is the customer's, modelled, unverified: the body's claim counts for nothing
    assert response.status_code == 201, response.content
    assert legs_of() == [("customer", "modelled_default", None)]
    detail = response.json()
    [leg] = detail["shipments"][0]["legs"]
    assert (leg["source"], leg["data_type"], leg["attested"]) == (
        "customer",
        "modelled_default",
        False,
    )
    # and it has a footprint but no award, and the API says why
    assert detail["footprint"]["wtw_kg"] == "370.000000"
    assert PointsAward.objects.count() == 0
    assert detail["points_holds"] == [
        {"code": "customer_data_unverified", "message": UNVERIFIED_EN}
    ]
    order = Order.objects.get(external_id="PO-7")
    assert points_actions.settle_order(order) == "unattested_data"


def test_the_reason_comes_in_chinese_too(client, org_a, policy):
    headers = token_headers(org_a, ["carbon:read", "carbon:write"])
    put(client, headers, body())
    response = client.get(UPSERT, headers={**headers, "Accept-Language": "zh-hans"})
    assert response.json()["points_holds"] == [
        {"code": "customer_data_unverified", "message": UNVERIFIED_ZH}
    ]


def test_fuel_data_is_primary_whoever_sends_it(client, org_a, policy):
    headers = token_headers(org_a, ["carbon:read", "carbon:write"])
    leg = {"category": "road.hgv.average_laden", "fuel_type": "diesel", "fuel_used": "500 l"}
    response = put(client, headers, body(**leg))
    assert response.status_code == 201, response.content
    assert legs_of() == [("customer", "primary_fuel", None)]


def test_the_crm_and_a_carrier_system_write_attested_data(
    client, crm_org, policy, django_capture_on_commit_callbacks
):
    # when the CRM's integration token pushes one order and a carrier's (with carbon:attest)
    # another, whose carrier states modelled figures of its own
    with django_capture_on_commit_callbacks(execute=True):
        crm = put(client, crm_headers("crm:write"), body(), crm_url(crm_org))
        carrier = put(
            client,
            crm_headers("crm:write", "carbon:attest"),
            body(data_tier="modelled"),
            crm_url(crm_org, "PO-8"),
        )
    # then each leg says so, and both orders earn their points at once
    assert (crm.status_code, carrier.status_code) == (201, 201)
    assert legs_of("PO-7") == [("crm", "modelled_default", None)]
    assert legs_of("PO-8") == [("carrier", "carrier_intensity", None)]
    assert sorted(PointsAward.objects.values_list("order__external_id", "points")) == [
        ("PO-7", 88),
        ("PO-8", 88),
    ]


def test_only_integration_tokens_may_carry_the_attest_scope(org_a):
    with pytest.raises(Exception, match="carbon:attest"):
        portal_actions.issue_api_token(org_a, "sneaky", ["carbon:attest"], by=None)


def test_imports_take_the_source_of_who_uploads(org_a, member_a, policy):
    rows = [
        ["PO-1", "2025-03-03", "2025-04-10", "delivered", "", "", "", "S1", "1", "rail.freight",
         "Hefei", "Shanghai", "500 km", "20 t", "", "", "", ""],
    ]  # fmt: skip
    staff = UserFactory(is_staff=True)
    by_member = start_import(
        org_a, SimpleUploadedFile("a.csv", csv_text(rows).encode()), by=member_a
    )
    assert by_member.status == ImportStatus.SUCCEEDED, by_member.error_report
    assert (by_member.source, legs_of("PO-1")) == (
        "customer",
        [("customer", "modelled_default", None)],
    )
    rows[0][0] = "PO-2"
    by_staff = start_import(org_a, SimpleUploadedFile("b.csv", csv_text(rows).encode()), by=staff)
    assert (by_staff.source, legs_of("PO-2")) == ("staff", [("staff", "modelled_default", None)])


# --- staff verification


def test_sustainability_staff_verify_customer_data_in_the_admin(
    client, org_a, member_a, sustainability, policy, django_capture_on_commit_callbacks
):
    # given a delivered customer-entered order without points
    headers = token_headers(org_a, ["carbon:read", "carbon:write"])
    put(client, headers, body())
    order = Order.objects.get(external_id="PO-7")
    verify = reverse("carbon_orders:verify_data", args=(order.pk,))
    inspect = reverse("carbon_orders:inspect", args=(order.pk,))
    # when a customer member tries the staff screen, nothing happens
    client.force_login(member_a)
    assert client.post(verify).status_code == 302
    assert legs_of() == [("customer", "modelled_default", None)]
    # when sustainability staff open the order, the button is there, and they verify
    client.force_login(sustainability)
    assert verify in client.get(inspect).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(verify, {})
    # then the legs are verified, audited, and the order earns its points
    assert response.status_code == 302
    [(source, data_type, verified_at)] = legs_of()
    assert (source, data_type, verified_at is not None) == ("customer", "modelled_default", True)
    event = AuditEvent.objects.get(action="carbon.order_data_verified")
    assert (event.actor, event.object_id, event.details) == (
        sustainability,
        str(order.pk),
        {"external_id": "PO-7", "legs": 1},
    )
    assert ledger_of(order) == [("earn_pending", 88, f"earn:{order.pk}:{policy.pk}")]
    assert client.get(UPSERT, headers=headers).json()["points_holds"] == []
    # and there is nothing left to verify
    with pytest.raises(OrderDataError, match="no customer-entered data waiting"):
        verify_order_data(order, sustainability)
    assert verify not in client.get(inspect).content.decode()


def test_only_sustainability_staff_verify(org_a, policy, staff_success):
    order = Order.objects.create(
        organisation=org_a, external_id="PO-9", order_date=dt.date(2025, 3, 3)
    )
    order.shipments.create().legs.create(
        category="rail.freight", mass_t=Decimal(20), distance_km=Decimal(500)
    )
    with pytest.raises(PermissionDeniedError):
        verify_order_data(order, staff_success)
    assert legs_of("PO-9") == [("customer", "modelled_default", None)]


# --- edits re-settle


def crm_order(distance=Decimal(500), status="delivered") -> OrderData:
    return OrderData(
        external_id="PO-7",
        order_date=dt.date(2025, 3, 3),
        delivery_date=dt.date(2025, 4, 10),
        status=status,
        site_name=None,
        shipments=[
            ShipmentData(reference="S1", legs=[LegData("rail.freight", Decimal(20), distance)])
        ],
    )


def test_an_edit_after_the_award_reverses_it_and_awards_again_exactly_once(
    org_a, policy, django_capture_on_commit_callbacks
):
    # given an attested order awarded 88 points
    with django_capture_on_commit_callbacks(execute=True):
        store_orders(org_a, [crm_order()], source=LegSource.CRM)
    order = Order.objects.get(external_id="PO-7")
    [first] = PointsAward.objects.filter(order=order)
    # when the CRM corrects the distance to 1,000 km (20,000 t·km: 2,500 - 740 kg = 176 points)
    with django_capture_on_commit_callbacks(execute=True):
        store_orders(org_a, [crm_order(Decimal(1000))], source=LegSource.CRM)
    # then the first award is reversed and superseded, and a new one earns 176 points
    second = PointsAward.objects.get(order=order, superseded_at__isnull=True)
    assert second.points == 176
    assert ledger_of(order) == [
        ("earn_pending", 88, f"earn:{order.pk}:{policy.pk}"),
        ("reverse", 88, f"resettle:{first.pk}"),
        ("earn_pending", 176, f"earn:{order.pk}:{policy.pk}:r1"),
    ]
    # and retries (the event delivered again, the daily sweep) write nothing more
    assert points_actions.settle_order(order) == "already_awarded"
    assert points_actions.settle_order(order) == "already_awarded"
    assert list(awards.unsettled_orders()) == []
    assert LedgerEntry.objects.filter(order=order).count() == 3
    assert order.organisation.points_account.pending == 176


def test_a_customer_edit_of_attested_data_takes_the_points_back(
    client, crm_org, policy, django_capture_on_commit_callbacks
):
    # given a CRM order awarded 88 points
    with django_capture_on_commit_callbacks(execute=True):
        put(client, crm_headers("crm:write"), body(), crm_url(crm_org))
    order = Order.objects.get(external_id="PO-7")
    headers = token_headers(crm_org, ["carbon:read", "carbon:write"])
    # when the customer sends the same legs again with another reference, the CRM's data stays
    with django_capture_on_commit_callbacks(execute=True):
        same = {**body(), "shipments": [{**body()["shipments"][0]}]}
        same["delivery_date"] = "2025-04-11"
        assert put(client, headers, same).status_code == 200
    assert legs_of() == [("crm", "modelled_default", None)]
    assert points_actions.settle_order(order) in {"already_awarded", "resettled"}
    assert PointsAward.objects.filter(order=order, superseded_at__isnull=True).count() == 1
    # when the customer changes the leg itself
    with django_capture_on_commit_callbacks(execute=True):
        response = put(client, headers, body(distance="2000 km"))
    # then the leg is the customer's, and the points are reversed until staff verify it
    assert legs_of() == [("customer", "modelled_default", None)]
    assert response.json()["points_holds"][0]["code"] == "customer_data_unverified"
    assert not PointsAward.objects.filter(order=order, superseded_at__isnull=True).exists()
    kinds = [kind for kind, _, _ in ledger_of(order)]
    assert kinds.count(EntryKind.REVERSE) == kinds.count(EntryKind.EARN_PENDING)
    assert PointsAccount.objects.get(organisation=crm_org).pending == 0
    assert points_actions.settle_order(order) == "unattested_data"


# --- the backfill of migration 0009


def test_the_backfill_trusts_crm_and_awarded_orders_only(org_a):
    # given three orders stored before provenance: one the CRM wrote, one awarded, one other
    make_policy()
    orders = {}
    for external_id in ("CRM", "AWARDED", "CUSTOMER"):
        order = Order.objects.create(
            organisation=org_a,
            external_id=external_id,
            order_date=dt.date(2025, 3, 3),
            status="delivered",
            delivery_date=dt.date(2025, 3, 9),
        )
        order.shipments.create().legs.create(
            category="rail.freight",
            mass_t=Decimal(20),
            distance_km=Decimal(500),
            fuel_type="diesel" if external_id == "CUSTOMER" else "",
            fuel_amount=Decimal(60) if external_id == "CUSTOMER" else None,
        )
        orders[external_id] = order
    AuditEvent.objects.create(
        action="crm.order_created", object_type="carbon.order", object_id=str(orders["CRM"].pk)
    )
    from carbon.models import CalculationSnapshot

    snapshot = CalculationSnapshot.objects.create(
        order=orders["AWARDED"], method_version="t", tkm=1, ttw_kg=0, wtt_kg=0, wtw_kg=0,
        default_share=1,
    )  # fmt: skip
    PointsAward.objects.create(
        order=orders["AWARDED"],
        policy=make_policy(version=2),
        snapshot=snapshot,
        avoided_logistics_kg=0,
        avoided_scope2_kg=0,
        points=0,
    )
    # when the migration's backfill runs
    migration = importlib.import_module("carbon.migrations.0011_provenance_and_resettlement")
    migration.backfill_provenance(apps, None)
    # then the CRM's and the awarded order's legs are attested, the rest customer data
    assert legs_of("CRM") == [("crm", "modelled_default", None)]
    assert legs_of("AWARDED") == [("crm", "modelled_default", None)]
    assert legs_of("CUSTOMER") == [("customer", "primary_fuel", None)]


def test_a_re_settlement_no_policy_covers_keeps_the_award_and_says_why(
    org_a, policy, django_capture_on_commit_callbacks
):
    # given an attested order awarded 88 points
    with django_capture_on_commit_callbacks(execute=True):
        store_orders(org_a, [crm_order()], source=LegSource.CRM)
    order = Order.objects.get(external_id="PO-7")
    before = ledger_of(order)
    # when its delivery date moves to a day no points policy covers
    Order.objects.filter(pk=order.pk).update(delivery_date=dt.date(2001, 1, 1))
    order.refresh_from_db()
    # then re-settling it says why and writes nothing: the award stands until a policy decides
    assert points_actions.settle_order(order) == "no_policy"
    assert ledger_of(order) == before
    assert PointsAward.objects.filter(order=order, superseded_at__isnull=True).count() == 1
