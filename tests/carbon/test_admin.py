"""Carbon screens in the Wagtail admin: green-power declarations (verify, reject, evidence),
order imports (list, upload, error report) and read-only orders; who may do what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carbon.footprint.actions import start_import
from carbon.footprint.declaration_actions import submit_declaration
from carbon.footprint.declarations import InstrumentData
from carbon.footprint.units import Q_
from carbon.models import (
    DeclarationStatus,
    GreenPowerDeclaration,
    ImportJob,
    ImportStatus,
    Order,
)
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import ProductFactory, order_with_legs, published_dataset
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DEMO_CSV = Path(settings.BASE_DIR) / "fixtures" / "demo-orders.csv"
HOME = "/admin/"


def url(viewset, name, *args):
    return reverse(f"{viewset}:{name}", args=args)


@pytest.fixture
def site(org_a):
    return SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE", region="DE")


@pytest.fixture
def pending(org_a, site, member_a):
    # 650 MWh of Norwegian GOs for 1,000 MWh metered at a German plant: 65 %
    return submit_declaration(
        org_a,
        site,
        date(2025, 1, 1),
        date(2025, 12, 31),
        consumption=Q_(Decimal("1000"), "MWh"),
        instruments=[
            InstrumentData(
                kind="GO",
                registry="Statnett GO registry",
                certificate_ids="643002406000000001\n643002406000000002",
                mwh=Q_(Decimal("650"), "MWh"),
                generation_start=date(2025, 1, 1),
                generation_end=date(2025, 6, 30),
                country="NO",
                proof=SimpleUploadedFile("cancel.pdf", PDF, content_type="application/pdf"),
            )
        ],
        evidence=SimpleUploadedFile("meter.pdf", PDF, content_type="application/pdf"),
        by=member_a,
    )


def _status(declaration):
    return GreenPowerDeclaration.objects.get(pk=declaration.pk).status


# --- declarations


def test_sustainability_staff_see_the_declaration_screens(client, sustainability, pending):
    client.force_login(sustainability)
    response = client.get(url("carbon_declarations", "index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Werk Hamburg" in html
    assert "65.0 %" in html
    assert "Pending verification" in html
    response = client.get(url("carbon_declarations", "index"), {"status": "pending"})
    assert response.status_code == 200
    response = client.get(url("carbon_declarations", "inspect", pending.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert url("carbon_declarations", "evidence", pending.pk) in html
    item = pending.instruments.get()
    assert url("carbon_declarations", "proof", item.pk) in html
    assert "Statnett GO registry" in html
    assert "Metered 1,000,000 kWh; certified 650,000 kWh; attributed to orders 0 kWh" in html
    # pending: the first check or a rejection; verification comes from a second person later
    assert url("carbon_declarations", "check", pending.pk) in html
    assert url("carbon_declarations", "reject", pending.pk) in html
    assert url("carbon_declarations", "verify", pending.pk) not in html
    # the private files' storage paths are never put in the page
    assert pending.evidence.name not in html
    assert item.proof.name not in html
    for name in ("check", "reject"):
        assert client.get(url("carbon_declarations", name, pending.pk)).status_code == 200


def test_check_then_verify_by_another_with_audit_and_event(
    client, sustainability, superuser, pending, django_capture_on_commit_callbacks
):
    # the first check
    client.force_login(sustainability)
    response = client.post(url("carbon_declarations", "check", pending.pk), {"note": "Found"})
    assert response.status_code == 302
    assert _status(pending) == DeclarationStatus.CHECKED
    # the same person cannot verify it: the four-eyes refusal, nothing changes
    response = client.post(url("carbon_declarations", "verify", pending.pk), {}, follow=True)
    assert "four-eyes rule" in response.content.decode()
    assert _status(pending) == DeclarationStatus.CHECKED
    # another reviewer verifies it
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            url("carbon_declarations", "verify", pending.pk), {"note": "GO cancelled"}
        )
    assert response.status_code == 302
    assert response["Location"] == url("carbon_declarations", "inspect", pending.pk)
    stored = GreenPowerDeclaration.objects.get(pk=pending.pk)
    assert (stored.status, stored.checked_by, stored.verified_by, stored.review_note) == (
        DeclarationStatus.VERIFIED,
        sustainability,
        superuser,
        "GO cancelled",
    )
    assert AuditEvent.objects.filter(action="carbon.green_power_checked").count() == 1
    assert AuditEvent.objects.filter(action="carbon.green_power_verified").count() == 1
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_verified").count() == 1
    # a verified declaration offers only revocation
    html = client.get(response["Location"]).content.decode()
    assert url("carbon_declarations", "revoke", pending.pk) in html
    assert url("carbon_declarations", "reject", pending.pk) not in html


def test_revoke_needs_a_reason_and_records_it(
    client, sustainability, superuser, pending, django_capture_on_commit_callbacks
):
    client.force_login(sustainability)
    client.post(url("carbon_declarations", "check", pending.pk), {"note": ""})
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url("carbon_declarations", "verify", pending.pk), {"note": ""})
    client.force_login(sustainability)
    response = client.post(url("carbon_declarations", "revoke", pending.pk), {"reason": " "})
    assert response.status_code == 200
    assert _status(pending) == DeclarationStatus.VERIFIED
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            url("carbon_declarations", "revoke", pending.pk), {"reason": "GOs cancelled twice"}
        )
    assert response.status_code == 302
    stored = GreenPowerDeclaration.objects.get(pk=pending.pk)
    assert (stored.status, stored.revoked_by, stored.revocation_reason) == (
        DeclarationStatus.REVOKED,
        sustainability,
        "GOs cancelled twice",
    )
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_revoked").count() == 1


def test_reject_needs_a_note_and_records_it(client, sustainability, pending):
    client.force_login(sustainability)
    # without a note the form is shown again and nothing changes
    response = client.post(url("carbon_declarations", "reject", pending.pk), {"note": " "})
    assert response.status_code == 200
    assert _status(pending) == DeclarationStatus.PENDING
    # with one, rejected
    response = client.post(
        url("carbon_declarations", "reject", pending.pk), {"note": "Certificate is for 2024"}
    )
    assert response.status_code == 302
    stored = GreenPowerDeclaration.objects.get(pk=pending.pk)
    assert (stored.status, stored.review_note) == (
        DeclarationStatus.REJECTED,
        "Certificate is for 2024",
    )
    assert AuditEvent.objects.filter(action="carbon.green_power_rejected").count() == 1
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_rejected").count() == 1


def test_a_decided_declaration_cannot_be_decided_again(client, sustainability, pending):
    client.force_login(sustainability)
    client.post(url("carbon_declarations", "reject", pending.pk), {"note": "Wrong site"})
    for name, data in (("check", {}), ("reject", {"note": "again"}), ("revoke", {"reason": "x"})):
        response = client.post(url("carbon_declarations", name, pending.pk), data, follow=True)
        assert response.status_code == 200
        assert "A decision is final" in response.content.decode()
    stored = GreenPowerDeclaration.objects.get(pk=pending.pk)
    assert (stored.status, stored.review_note) == (DeclarationStatus.REJECTED, "Wrong site")
    assert AuditEvent.objects.filter(action__startswith="carbon.green_power_").count() == 2


def test_other_staff_cannot_review_or_download(client, staff_success, pending):
    client.force_login(staff_success)
    item = pending.instruments.get()
    for name, pk, data in (
        ("check", pending.pk, {}),
        ("verify", pending.pk, {}),
        ("reject", pending.pk, {"note": "no"}),
        ("revoke", pending.pk, {"reason": "no"}),
        ("evidence", pending.pk, None),
        ("proof", item.pk, None),
    ):
        target = url("carbon_declarations", name, pk)
        response = client.post(target, data) if data is not None else client.get(target)
        # refused: Wagtail sends them to the dashboard
        assert response.status_code == 302, name
        assert response["Location"] == reverse("wagtailadmin_home")
    assert client.get(url("carbon_declarations", "index")).status_code == 302
    assert _status(pending) == DeclarationStatus.PENDING
    assert not AuditEvent.objects.filter(
        action__in=["carbon.green_power_checked", "carbon.green_power_rejected"]
    ).exists()


def test_customers_cannot_reach_the_admin_screens(client, admin_a, pending):
    client.force_login(admin_a)
    for target in (
        url("carbon_declarations", "index"),
        url("carbon_declarations", "inspect", pending.pk),
        url("carbon_declarations", "verify", pending.pk),
        url("carbon_declarations", "revoke", pending.pk),
        url("carbon_declarations", "evidence", pending.pk),
        url("carbon_imports", "index"),
        url("carbon_imports", "upload"),
        url("carbon_orders", "index"),
    ):
        response = client.post(target, {"note": "x"})
        assert response.status_code == 302, target
        assert response["Location"].startswith("/accounts/login/")
    assert _status(pending) == DeclarationStatus.PENDING


def test_evidence_streams_the_private_file_to_sustainability_staff(client, sustainability, pending):
    client.force_login(sustainability)
    response = client.get(url("carbon_declarations", "evidence", pending.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert AuditEvent.objects.filter(action="carbon.green_power_evidence_downloaded").count() == 1
    response = client.get(url("carbon_declarations", "proof", pending.instruments.get().pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert AuditEvent.objects.filter(action="carbon.green_power_proof_downloaded").count() == 1
    # the file itself has no public URL
    with pytest.raises(ValueError, match="no public URL"):
        pending.evidence.url  # noqa: B018


def test_anonymous_visitors_are_sent_to_sign_in(client, pending):
    response = client.get(url("carbon_declarations", "evidence", pending.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- order imports


@pytest.fixture
def import_setup(org_a, site):
    from django.core.management import call_command

    from carbon.demo import ensure_products

    call_command("load_reference_data")
    ensure_products()
    return org_a


def test_staff_upload_the_demo_file_and_see_the_job(client, sustainability, import_setup):
    client.force_login(sustainability)
    assert client.get(url("carbon_imports", "upload")).status_code == 200
    index = client.get(url("carbon_imports", "index"))
    assert index.status_code == 200
    assert "Upload orders CSV" in index.content.decode()
    upload = SimpleUploadedFile("demo-orders.csv", DEMO_CSV.read_bytes(), content_type="text/csv")
    response = client.post(
        url("carbon_imports", "upload"), {"organisation": import_setup.pk, "file": upload}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("carbon_imports", "inspect", job.pk)
    assert (job.status, job.created_by, job.organisation) == (
        ImportStatus.SUCCEEDED,
        sustainability,
        import_setup,
    )
    assert Order.objects.filter(organisation=import_setup).count() == 7
    html = client.get(response["Location"]).content.decode()
    assert "Imported: 21 rows, 7 orders" in html
    html = client.get(url("carbon_imports", "index")).content.decode()
    assert "demo-orders.csv" in html
    assert "21 / 21" in html


def test_a_bad_file_shows_its_error_report_and_stores_nothing(client, sustainability, import_setup):
    client.force_login(sustainability)
    text = DEMO_CSV.read_text().replace(",25 km,3.2 t,", ",25 km,-3.2 t,", 1)
    upload = SimpleUploadedFile("bad.csv", text.encode(), content_type="text/csv")
    response = client.post(
        url("carbon_imports", "upload"),
        {"organisation": import_setup.pk, "file": upload},
        follow=True,
    )
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    html = response.content.decode()
    assert "nothing was stored" in html
    assert "-3.2 t" in html
    assert "Error report (1)" in html
    assert Order.objects.count() == 0


def test_other_staff_cannot_upload(client, staff_success, org_a):
    client.force_login(staff_success)
    upload = SimpleUploadedFile("o.csv", DEMO_CSV.read_bytes(), content_type="text/csv")
    response = client.post(
        url("carbon_imports", "upload"), {"organisation": org_a.pk, "file": upload}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert ImportJob.objects.count() == 0


def test_import_jobs_are_read_only(client, superuser, org_a, member_a):
    job = start_import(
        org_a, SimpleUploadedFile("x.csv", b"order_id\n", content_type="text/csv"), by=member_a
    )
    client.force_login(superuser)
    assert client.get(url("carbon_imports", "inspect", job.pk)).status_code == 200
    for name in ("edit", "delete"):
        response = client.get(url("carbon_imports", name, job.pk))
        assert response.status_code == 302, name
    assert ImportJob.objects.filter(pk=job.pk).exists()


# --- orders


@pytest.fixture
def calculated_orders(org_a):
    from carbon.footprint.calculation import calculate_order

    published_dataset()
    ProductFactory(sku="SUN-110K-G")
    orders = [
        order_with_legs(
            org_a, [{"category": "road.hgv.average_laden", "distance_km": Decimal(100 + i)}]
        )
        for i in range(5)
    ]
    for order in orders:
        calculate_order(order)
    return orders


def test_orders_list_shows_the_footprint_without_a_query_per_row(
    client, sustainability, calculated_orders
):
    client.force_login(sustainability)
    client.get(url("carbon_orders", "index"))  # warm up caches (session, permissions)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url("carbon_orders", "index"))
    assert response.status_code == 200
    html = response.content.decode()
    # 100 km x 2 t x (0.1 + 0.025) kg/tkm = 25 kg WTW
    assert "25.000" in html
    assert calculated_orders[0].external_id in html
    order_with_legs(calculated_orders[0].organisation, [{}])
    with CaptureQueriesContext(connection) as more:
        client.get(url("carbon_orders", "index"))
    assert len(more) == len(few)


def test_order_inspect_shows_the_legs(client, sustainability, calculated_orders):
    client.force_login(sustainability)
    order = calculated_orders[0]
    response = client.get(url("carbon_orders", "inspect", order.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shenzhen → Yantian" in html
    assert "WTW 25.000 kg CO2e" in html
    assert "Legs (1)" in html


def test_orders_are_read_only_even_for_superusers(client, superuser, calculated_orders):
    client.force_login(superuser)
    order = calculated_orders[0]
    assert client.get(url("carbon_orders", "index")).status_code == 200
    assert client.get(url("carbon_orders", "inspect", order.pk)).status_code == 200
    for name, args in (("add", ()), ("edit", (order.pk,)), ("delete", (order.pk,))):
        response = client.get(url("carbon_orders", name, *args))
        assert response.status_code == 302, name
    assert Order.objects.filter(pk=order.pk).exists()


def test_the_carbon_menu_lists_the_new_screens(client, sustainability):
    client.force_login(sustainability)
    html = client.get(HOME).content.decode()
    for label in ("Green-power declarations", "Order imports", "Orders"):
        assert label in html
