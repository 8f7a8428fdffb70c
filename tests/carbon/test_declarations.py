"""Green-power declarations: evidence checked by content, stored privately, served only to the
organisation; verification by sustainability staff recalculates the covered orders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon.footprint.actions import (
    reject_declaration,
    submit_declaration,
    upsert_order,
    verify_declaration,
)
from carbon.footprint.exceptions import DeclarationError
from carbon.footprint.orders import LegData, LineData, OrderData, ShipmentData
from carbon.models import CalculationSnapshot, DeclarationStatus, GreenPowerDeclaration
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import ProductFactory, grid_dataset, published_dataset
from tests.factories import SiteFactory, png_bytes

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def site(org_a):
    return SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN")


def pdf(name="certificate.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def submit(org, site, by, **kwargs):
    args = {
        "instrument": "GEC",
        "evidence": pdf(),
        "by": by,
        "green_kwh": Decimal("3150000"),
        "total_kwh": Decimal("4500000"),
    }
    args.update(kwargs)
    return submit_declaration(org, site, date(2025, 1, 1), date(2025, 12, 31), **args)


def test_member_submits_and_the_ratio_is_computed_from_kwh(org_a, site, member_a):
    declaration = submit(org_a, site, member_a)
    declaration.refresh_from_db()
    assert declaration.green_ratio == Decimal("0.700000")
    assert declaration.status == DeclarationStatus.PENDING
    assert declaration.submitted_by == member_a
    # the evidence is stored under a random name, outside the public media root
    path = Path(declaration.evidence.path)
    assert path.read_bytes() == PDF
    assert "certificate" not in path.name
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert AuditEvent.objects.filter(action="carbon.green_power_submitted").count() == 1


@pytest.mark.parametrize(
    ("evidence", "reason"),
    [
        (pdf("fake.pdf", b"<html><script>alert(1)</script></html>"), "none of them"),
        (pdf("scan.png", PDF), "content is PDF"),
        (pdf("photo.pdf", PNG), "content is PNG"),
        (pdf("big.pdf", PDF + b"0" * (10 * 1024 * 1024)), "larger than 10 MB"),
        (pdf("empty.pdf", b""), "empty"),
    ],
)
def test_evidence_is_checked_by_content(org_a, site, member_a, evidence, reason):
    with pytest.raises(DeclarationError, match=reason) as error:
        submit(org_a, site, member_a, evidence=evidence)
    assert error.value.field == "evidence"
    assert GreenPowerDeclaration.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"green_kwh": None, "total_kwh": None, "green_ratio_value": Decimal("1.2")},
            "green_ratio",
        ),
        ({"green_kwh": Decimal(5), "total_kwh": Decimal(4)}, "green_kwh"),
        ({"green_kwh": Decimal(5), "total_kwh": None}, "green_kwh"),
        ({"instrument": "carbon-offset"}, "instrument"),
    ],
)
def test_invalid_declarations_name_the_field(org_a, site, member_a, kwargs, field):
    with pytest.raises(DeclarationError) as error:
        submit(org_a, site, member_a, **kwargs)
    assert error.value.field == field
    assert GreenPowerDeclaration.objects.count() == 0


def test_viewer_and_other_organisations_cannot_submit(org_a, org_b, site, viewer_a, member_b):
    with pytest.raises(PermissionDeniedError):
        submit(org_a, site, viewer_a)
    with pytest.raises(PermissionDeniedError):
        submit(org_a, site, member_b)
    assert GreenPowerDeclaration.objects.count() == 0


def test_viewer_gets_403_on_submit_in_the_portal(client, org_a, site, viewer_a):
    client.force_login(viewer_a)
    page = client.get(reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}))
    assert page.status_code == 200
    assert "Submit a declaration" not in page.content.decode()
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}),
        {"site": site.pk, "period_start": "2025-01-01", "period_end": "2025-12-31",
         "instrument": "GEC", "green_ratio": "0.5", "evidence": pdf()},
    )  # fmt: skip
    assert response.status_code == 403
    assert GreenPowerDeclaration.objects.count() == 0


def test_portal_form_refuses_a_disguised_file(client, org_a, site, member_a):
    client.force_login(member_a)
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}),
        {"site": site.pk, "period_start": "2025-01-01", "period_end": "2025-12-31",
         "instrument": "GEC", "green_ratio": "0.5",
         "evidence": pdf("invoice.pdf", b"<!DOCTYPE html><html></html>")},
    )  # fmt: skip
    assert response.status_code == 400
    assert "PDF, PNG or JPEG" in response.content.decode()
    assert GreenPowerDeclaration.objects.count() == 0


def test_evidence_is_served_only_to_the_organisation(
    client, org_a, site, member_a, viewer_a, member_b
):
    declaration = submit(org_a, site, member_a)
    link = reverse(
        "carbon:evidence", kwargs={"org_slug": org_a.slug, "declaration_id": declaration.pk}
    )
    # anonymous: to sign-in
    assert client.get(link).status_code == 302
    # another organisation: does not exist
    client.force_login(member_b)
    assert client.get(link).status_code == 404
    # a viewer of the organisation: the file, as a download that browsers will not sniff
    client.force_login(viewer_a)
    response = client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


@pytest.fixture
def sustainability(db, enable_totp):
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups
    from tests.factories import UserFactory

    ensure_staff_groups()
    user = UserFactory(email="sara@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name="Sustainability"))
    enable_totp(user)
    return user


def test_verifying_recalculates_the_sites_orders_in_the_period(
    org_a, site, member_a, sustainability, django_capture_on_commit_callbacks
):
    # given an order delivered to the site in the period, calculated without a ratio
    published_dataset()
    grid_dataset()
    ProductFactory(sku="SUN-110K-G", electricity_kwh_per_unit=Decimal("950"))
    order, _ = upsert_order(
        org_a,
        OrderData(
            "PO-7", date(2025, 5, 5), None, "delivered", "Suzhou plant",
            [LineData("SUN-110K-G", Decimal(10))],
            [ShipmentData("S", [LegData("road.hgv.average_laden", Decimal(1), Decimal(100))])],
        ),
    )  # fmt: skip
    before = CalculationSnapshot.objects.get(order=order, is_current=True)
    assert before.scope2_market_kg is None
    declaration = submit(org_a, site, member_a)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        verify_declaration(declaration, sustainability)
    # then the market-based figure uses the ratio: 9,500 kWh x (1 - 0.7) x 0.5856
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.VERIFIED
    assert declaration.verified_by == sustainability
    after = CalculationSnapshot.objects.get(order=order, is_current=True)
    assert after.supersedes == before
    assert after.scope2_market_kg == Decimal("1668.960000")
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_verified").count() == 1
    assert AuditEvent.objects.filter(action="carbon.green_power_verified").count() == 1


def test_rejecting_needs_a_note_and_staff(org_a, site, member_a, admin_a, sustainability):
    declaration = submit(org_a, site, member_a)
    with pytest.raises(PermissionDeniedError):
        reject_declaration(declaration, "no", admin_a)
    with pytest.raises(DeclarationError):
        reject_declaration(declaration, " ", sustainability)
    reject_declaration(declaration, "The certificate is for another site.", sustainability)
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.REJECTED
    assert declaration.review_note == "The certificate is for another site."
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_rejected").count() == 1
    with pytest.raises(DeclarationError, match="already rejected"):
        verify_declaration(declaration, sustainability)


@pytest.mark.parametrize(
    ("width", "height"), [(30000, 30000), (8000, 6000)], ids=["900-megapixels", "48-megapixels"]
)
def test_portal_form_refuses_an_image_over_40_megapixels(
    client, org_a, site, member_a, width, height
):
    # given a small PNG that declares a huge image
    client.force_login(member_a)
    bomb = SimpleUploadedFile("meter.png", png_bytes(width, height), content_type="image/png")
    # when it is submitted as evidence
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}),
        {"site": site.pk, "period_start": "2025-01-01", "period_end": "2025-12-31",
         "instrument": "GEC", "green_ratio": "0.5", "evidence": bomb},
    )  # fmt: skip
    # then the form says which field and what the limit is, and nothing is stored
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "evidence": ["meter.png is too large: images may have at most 40 megapixels."]
    }
    assert GreenPowerDeclaration.objects.count() == 0
    assert AuditEvent.objects.filter(action="carbon.green_power_submitted").count() == 0


def test_a_png_within_the_limit_is_accepted_as_evidence(org_a, site, member_a):
    # given a scanned certificate of 4000 x 3000 pixels / when submitted / then it is kept
    scan = SimpleUploadedFile("scan.png", png_bytes(4000, 3000), content_type="image/png")
    declaration = submit(org_a, site, member_a, evidence=scan)
    assert declaration.evidence.name.endswith(".png")
    assert Path(declaration.evidence.path).read_bytes() == png_bytes(4000, 3000)
