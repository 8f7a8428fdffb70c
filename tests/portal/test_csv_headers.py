"""Every CSV the product hands out starts with a header row that spreadsheets, ERP imports and
auditors' scripts are built on: each is written out here (issue #11 item 3), so renaming, adding or
reordering a column fails a test and has to be done on purpose."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon.models import ImportJob
from portal.wagtail_hooks import OrganisationViewSet, OutboxEventViewSet
from tests.carbon.factories import fund, published_dataset

pytestmark = pytest.mark.django_db


def _first_line(response) -> str:
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8").splitlines()[0].lstrip("\ufeff")


def test_the_customer_audit_trail_csv(client, admin_a, org_a):
    client.force_login(admin_a)
    url = reverse("portal:audit_log", kwargs={"org_slug": org_a.slug})
    assert _first_line(client.get(url, {"format": "csv"})) == (
        "occurred_at,actor_label,action,object_type,object_id,object_repr,ip_address,user_agent,"
        "details"
    )


def test_the_points_statement_csv(client, member_a, org_a):
    fund(org_a, 10)
    client.force_login(member_a)
    url = reverse("carbon:points_csv", kwargs={"org_slug": org_a.slug})
    assert _first_line(client.get(url)) == (
        "date,kind,points,pending_delta,available_delta,held_delta,order,redemption,expires_on,"
        "reason"
    )


def test_the_import_error_report_and_the_example_import_file(client, member_a, org_a):
    published_dataset()
    client.force_login(member_a)

    upload = SimpleUploadedFile("orders.csv", b"order_id\nPO-1\n", content_type="text/csv")
    client.post(reverse("carbon:import_orders", kwargs={"org_slug": org_a.slug}), {"file": upload})
    job = ImportJob.objects.get()
    report = client.get(
        reverse("carbon:import_job", kwargs={"org_slug": org_a.slug, "job_id": job.pk}),
        {"format": "csv"},
    )
    assert _first_line(report) == "row,column,value,reason"
    # the example customers start from names every column the importer reads, in this order
    example = client.get(reverse("carbon:import_example", kwargs={"org_slug": org_a.slug}))
    assert _first_line(example) == (
        "order_id,order_date,delivery_date,status,site,sku,quantity,shipment,leg,category,origin,"
        "destination,distance,mass,data_tier,fuel_type,fuel_used,radiative_forcing"
    )


@pytest.mark.parametrize(
    ("index", "header"),
    [
        (
            lambda: reverse(OrganisationViewSet().get_url_name("index")),
            "Name,Slug,Tier,Country/region,CRM external id,Created",
        ),
        (
            lambda: reverse(OutboxEventViewSet().get_url_name("index")),
            "Id,Time,Type,Subject,Organisation,Status,Attempts,Data",
        ),
        (
            lambda: reverse("carbon_factors:index"),
            "Dataset,Category code,Kind,Energy scope,Includes radiative forcing,Value,Unit,Region,"
            "Valid from,Valid to,Source row label,Source row id,Description",
        ),
        (
            lambda: reverse("carbon_products:index"),
            "SKU,Name,Electricity per unit (kWh)",
        ),
    ],
    ids=["organisations", "outbox", "factors", "products"],
)
def test_the_staff_exports(client, superuser, index, header):
    client.force_login(superuser)
    assert _first_line(client.get(index(), {"export": "csv"})) == header
