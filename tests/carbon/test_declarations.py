"""Green-power declarations backed by tracked instruments: the ratio derived from certified and
metered MWh, the cited table of certificate types per country and vintage, overlap and
double-use refusals, two reviewers (four eyes), reconciliation of attributed kWh against
certified MWh, evidence and proofs served only to the organisation."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from carbon.footprint.actions import upsert_order
from carbon.footprint.declaration_actions import (
    check_declaration,
    reject_declaration,
    submit_declaration,
    verify_declaration,
)
from carbon.footprint.declarations import InstrumentData, reconcile
from carbon.footprint.exceptions import DeclarationError
from carbon.footprint.orders import LegData, LineData, OrderData, ShipmentData
from carbon.footprint.units import Q_
from carbon.models import (
    CalculationSnapshot,
    DeclarationInstrument,
    DeclarationStatus,
    GreenPowerDeclaration,
)
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import ProductFactory, grid_dataset, published_dataset
from tests.factories import SiteFactory, UserFactory, png_bytes

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def site(org_a):
    return SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN")


@pytest.fixture
def second_reviewer(db, enable_totp):
    from django.contrib.auth.models import Group

    from portal.staff_roles import StaffRole, ensure_staff_groups

    ensure_staff_groups()
    user = UserFactory(email="li.review@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name=StaffRole.SUSTAINABILITY))
    enable_totp(user)
    return user


def pdf(name="retirement.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def gec(**kwargs) -> InstrumentData:
    """3,150 MWh of GEC generated in 2025 in China, retired for the site (a serial range)."""
    values = {
        "kind": "GEC",
        "registry": "China Green Certificate Trading Platform",
        "serial_from": "GEC2025-0000001",
        "serial_to": "GEC2025-0003150",
        "mwh": Q_(Decimal("3150"), "MWh"),
        "generation_start": date(2025, 1, 1),
        "generation_end": date(2025, 12, 31),
        "country": "CN",
        "grid_region": "East China",
        "proof": pdf(),
    }
    values.update(kwargs)
    return InstrumentData(**values)


def submit(org, site, by, *, instruments=None, consumption=None, **kwargs):
    return submit_declaration(
        org,
        site,
        kwargs.pop("start", date(2025, 1, 1)),
        kwargs.pop("end", date(2025, 12, 31)),
        consumption=consumption if consumption is not None else Q_(Decimal("4500"), "MWh"),
        instruments=[gec()] if instruments is None else instruments,
        by=by,
        **kwargs,
    )


# --- the ratio is derived from the instruments


def test_the_ratio_is_certified_mwh_over_metered_mwh(org_a, site, member_a):
    # given 4,500 MWh metered and 3,150 MWh of GEC retired for the site / when submitted
    declaration = submit(org_a, site, member_a)
    # then the ratio is 3,150 / 4,500 = 0.7, derived, and the instrument is kept with its proof
    declaration.refresh_from_db()
    assert declaration.green_ratio == Decimal("0.700000")
    assert declaration.green_kwh == Decimal("3150000.000")
    assert declaration.total_kwh == Decimal("4500000.000")
    assert declaration.instrument == "GEC"
    assert declaration.instrument_factor == Decimal("0.000000")
    assert declaration.status == DeclarationStatus.PENDING
    item = DeclarationInstrument.objects.get(declaration=declaration)
    assert (item.kind, item.mwh, item.serial_from, item.serial_to, item.country) == (
        "GEC",
        Decimal("3150.000000"),
        "GEC2025-0000001",
        "GEC2025-0003150",
        "CN",
    )
    # the proof is stored under a random name, outside the public media root
    path = Path(item.proof.path)
    assert path.read_bytes() == PDF
    assert "retirement" not in path.name
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert AuditEvent.objects.filter(action="carbon.green_power_submitted").count() == 1


def test_more_certificates_than_consumption_caps_the_ratio_at_one(org_a, site, member_a):
    declaration = submit(
        org_a, site, member_a, instruments=[gec(mwh=Q_(Decimal("5000000"), "kWh"))]
    )
    assert declaration.green_ratio == Decimal("1.000000")
    assert declaration.green_kwh == Decimal("5000000.000")


def test_a_ppa_carries_its_suppliers_factor_into_the_covered_share(org_a, site, member_a):
    # given 1,000 MWh of GEC (0 kg/kWh) and 1,000 MWh from a PPA at 0.1 kg CO2e/kWh
    ppa = gec(
        kind="PPA",
        registry="Bilateral contract",
        serial_from="",
        serial_to="",
        mwh=Q_(Decimal("1000"), "MWh"),
        supplier="Jiangsu Wind Farm Co.",
        emission_factor=Decimal("0.1"),
    )
    declaration = submit(
        org_a, site, member_a, instruments=[gec(mwh=Q_(Decimal("1000"), "MWh")), ppa]
    )
    # then the ratio is 2,000 / 4,500 (rounded down) and the covered share's factor 0.05
    assert declaration.green_ratio == Decimal("0.444444")
    assert declaration.instrument_factor == Decimal("0.050000")


@pytest.mark.parametrize(
    ("instrument", "field", "message"),
    [
        (
            {"kind": "GO", "registry": "Grexel", "country": "DE"},
            "kind",
            "instruments[0]: a GO cannot back a site in CN; accepted there: GEC, I-REC.",
        ),
        (
            {"kind": "I-REC", "registry": "Evident"},
            "generation_start",
            "instruments[0]: I-REC for CN covers generation from 2014-01-01 to 2024-12-31",
        ),
        (
            {"country": "VN"},
            "country",
            "instruments[0]: the certificates were issued for generation in VN, outside the "
            "market of a site in CN.",
        ),
        (
            {"generation_start": date(2024, 7, 1)},
            "generation_start",
            "outside the declared period 2025-01-01 to 2025-12-31",
        ),
        (
            {"serial_from": "", "serial_to": ""},
            "certificate_ids",
            "give the certificate ids or the first and last serial number",
        ),
        ({"mwh": Q_(Decimal("3150"), "tonne")}, "mwh", "must be an energy such as '500 MWh'"),
        ({"mwh": Q_(Decimal("0"), "MWh")}, "mwh", "the certified energy must be above zero"),
        (
            {"kind": "PPA", "serial_from": "", "serial_to": "", "supplier": "Wind Co."},
            "supplier",
            "names its supplier or generator and that supply's emission factor",
        ),
        ({"proof": pdf("fake.pdf", b"<html></html>")}, "evidence", "none of them"),
    ],
    ids=[
        "GO for a Chinese site",
        "I-REC for China after 2024",
        "generated abroad",
        "generated before the period",
        "no certificate ids",
        "MWh in tonnes",
        "zero MWh",
        "PPA without its factor",
        "proof is not a PDF",
    ],
)
def test_instruments_that_cannot_back_the_site_are_refused(
    org_a, site, member_a, instrument, field, message
):
    with pytest.raises(DeclarationError) as error:
        submit(org_a, site, member_a, instruments=[gec(**instrument)])
    assert message in error.value.message
    assert error.value.field == field
    assert GreenPowerDeclaration.objects.count() == 0
    assert DeclarationInstrument.objects.count() == 0


def test_a_go_backs_a_german_site_and_a_rego_does_not(org_a, member_a):
    plant = SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE", region="DE")
    go = gec(kind="GO", registry="UBA HKNR", country="NO", grid_region="NO1")
    # a Norwegian GO counts for a German site (one EU/EEA market)
    assert submit(org_a, plant, member_a, instruments=[go]).green_ratio == Decimal("0.700000")
    with pytest.raises(
        DeclarationError, match="a REGO cannot back a site in DE; accepted there: GO"
    ):
        submit(
            org_a,
            plant,
            member_a,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            instruments=[gec(kind="REGO", country="GB", generation_start=date(2026, 1, 1),
                             generation_end=date(2026, 12, 31))],
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"instruments": []}, "instruments"),
        ({"consumption": Q_(Decimal(0), "MWh")}, "total_kwh"),
        ({"consumption": Q_(Decimal(10), "km")}, "total_kwh"),
        ({"start": date(2025, 12, 31), "end": date(2025, 1, 1)}, "period_end"),
    ],
    ids=["no instruments", "zero consumption", "consumption in km", "period reversed"],
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


# --- overlap and double use


def test_an_overlapping_declaration_for_the_site_is_refused(org_a, site, member_a, sustainability):
    first = submit(org_a, site, member_a)
    with pytest.raises(DeclarationError) as error:
        submit(
            org_a,
            site,
            member_a,
            start=date(2025, 7, 1),
            end=date(2026, 6, 30),
            instruments=[gec(serial_from="GEC2025-9000001", serial_to="GEC2025-9000100",
                             generation_start=date(2025, 7, 1))],
        )  # fmt: skip
    assert error.value.message == (
        f"Declaration #{first.pk} (pending verification) already covers Suzhou plant from "
        "2025-01-01 to 2025-12-31; periods of one site may not overlap."
    )
    assert GreenPowerDeclaration.objects.count() == 1
    # once the first is rejected, the period is free again
    reject_declaration(first, "Wrong serial range.", sustainability)
    assert submit(org_a, site, member_a).status == DeclarationStatus.PENDING


def test_certificates_already_backing_a_declaration_are_refused(org_a, member_a):
    one = SiteFactory(organisation=org_a, name="Suzhou plant", country="CN", region="CN")
    two = SiteFactory(organisation=org_a, name="Hefei plant", country="CN", region="CN")
    submit(org_a, one, member_a)
    with pytest.raises(DeclarationError, match="already back another declaration"):
        submit(org_a, two, member_a)
    assert GreenPowerDeclaration.objects.count() == 1


# --- two reviewers


def test_verification_needs_two_different_sustainability_staff(
    org_a, site, member_a, sustainability, second_reviewer
):
    declaration = submit(org_a, site, member_a)
    # verifying straight from pending is refused: a first check comes first
    with pytest.raises(DeclarationError, match="record the first check"):
        verify_declaration(declaration, sustainability)
    check_declaration(declaration, sustainability, note="Serials found in the registry.")
    # the checker cannot verify too
    with pytest.raises(DeclarationError, match="four-eyes rule"):
        verify_declaration(declaration, sustainability)
    assert GreenPowerDeclaration.objects.get().status == DeclarationStatus.CHECKED
    verify_declaration(declaration, second_reviewer)
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.VERIFIED
    assert (declaration.checked_by, declaration.verified_by) == (sustainability, second_reviewer)
    assert OutboxEvent.objects.filter(type="greenloop.carbon.green_power_verified").count() == 1


def test_the_database_refuses_a_declaration_verified_by_its_checker(
    org_a, site, member_a, sustainability
):
    declaration = submit(org_a, site, member_a)
    check_declaration(declaration, sustainability)
    with pytest.raises(IntegrityError), transaction.atomic():
        GreenPowerDeclaration.objects.filter(pk=declaration.pk).update(
            status=DeclarationStatus.VERIFIED, verified_by=sustainability
        )


def test_a_customer_admin_cannot_review(org_a, site, member_a, admin_a):
    declaration = submit(org_a, site, member_a)
    with pytest.raises(PermissionDeniedError):
        check_declaration(declaration, admin_a)
    assert GreenPowerDeclaration.objects.get().status == DeclarationStatus.PENDING


def _order(org, kwh_units: int, ref: str = "PO-7"):
    order, _ = upsert_order(
        org,
        OrderData(
            ref, date(2025, 5, 5), None, "delivered", "Suzhou plant",
            [LineData("SUN-110K-G", Decimal(kwh_units))],
            [ShipmentData("S", [LegData("road.hgv.average_laden", Decimal(1), Decimal(100))])],
        ),
    )  # fmt: skip
    return order


def test_verifying_recalculates_the_sites_orders_in_the_period(
    org_a, site, member_a, sustainability, second_reviewer, django_capture_on_commit_callbacks
):
    # given an order delivered to the site in the period, calculated without a ratio
    published_dataset()
    grid_dataset()
    ProductFactory(sku="SUN-110K-G", electricity_kwh_per_unit=Decimal("950"))
    order = _order(org_a, 10)
    before = CalculationSnapshot.objects.get(order=order, is_current=True)
    assert before.scope2_market_kg is None
    declaration = submit(org_a, site, member_a)
    check_declaration(declaration, sustainability)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        verify_declaration(declaration, second_reviewer)
    # then the Scope 2 market-based figure uses the ratio: 9,500 kWh x (1 - 0.7) x 0.5856
    after = CalculationSnapshot.objects.get(order=order, is_current=True)
    assert after.supersedes == before
    assert after.scope2_market_kg == Decimal("1668.960000")
    assert after.inputs["green_power"]["certified_kwh"] == "3150000"
    assert after.inputs["green_power"]["attributed_kwh"] == "9500"


@pytest.fixture
def seven_mwh(
    org_a, site, member_a, sustainability, second_reviewer, django_capture_on_commit_callbacks
):
    """10 MWh metered, 7 MWh of GEC retired (ratio 0.7), verified by two reviewers after the
    orders the test's `orders` callable stores (1,000 kWh per SUN-110K-G)."""
    published_dataset()
    grid_dataset()
    ProductFactory(sku="SUN-110K-G", electricity_kwh_per_unit=Decimal("1000"))

    def verified(orders):
        stored = orders()
        declaration = submit(
            org_a,
            site,
            member_a,
            consumption=Q_(Decimal("10"), "MWh"),
            instruments=[gec(mwh=Q_(Decimal("7"), "MWh"))],
        )
        check_declaration(declaration, sustainability)
        with django_capture_on_commit_callbacks(execute=True):
            verify_declaration(declaration, second_reviewer)
        return declaration, stored

    return verified


def test_orders_are_never_credited_more_green_kwh_than_certified(org_a, seven_mwh):
    # given 10 MWh metered, 7 MWh certified (ratio 0.7), but orders attributed 20,000 kWh
    declaration, orders = seven_mwh(lambda: [_order(org_a, 10, "PO-1"), _order(org_a, 10, "PO-2")])
    # then the orders get 7,000 / 20,000 = 0.35, so together they claim exactly 7,000 kWh
    figures = reconcile(declaration)
    assert (figures.attributed_kwh, figures.certified_kwh, figures.effective_ratio) == (
        Decimal("20000"),
        Decimal("7000.000"),
        Decimal("0.350000"),
    )
    assert figures.green_attributed_kwh == Decimal("7000.000000")
    for order in orders:
        snapshot = CalculationSnapshot.objects.get(order=order, is_current=True)
        assert snapshot.inputs["green_power"]["green_ratio"] == "0.35"
        assert snapshot.inputs["green_power"]["declared_ratio"] == "0.7"
        # 10,000 kWh x (1 - 0.35) x 0.5856
        assert snapshot.scope2_market_kg == Decimal("3806.400000")


def _reconciliation_shown(client, url) -> list[tuple[str, str]]:
    """Each declaration's reconciliation sentence on the green-power page, with its badge."""
    page = client.get(url).content.decode()
    return re.findall(
        r'<span class="small">(Orders of the period: [^<]*)</span> '
        r'<span class="badge[^"]*">([^<]*)<',
        page,
    )


def test_the_green_power_page_shows_what_the_certificates_cover(
    client, org_a, member_a, seven_mwh, django_capture_on_commit_callbacks
):
    # given 10 MWh metered and 7 MWh of GEC retired (ratio 0.7), and one order of the period
    # attributed 5 x 1,000 kWh
    seven_mwh(lambda: _order(org_a, 5, "PO-1"))
    client.force_login(member_a)
    url = reverse("carbon:green_power", kwargs={"org_slug": org_a.slug})
    # when the customer opens the page / then it reconciles: 5,000 x 0.7 = 3,500 kWh green,
    # 7,000 - 3,500 = 3,500 certified kWh left
    assert _reconciliation_shown(client, url) == [
        (
            "Orders of the period: 5,000 kWh attributed, 3,500 kWh of it credited as green; "
            "3,500 certified kWh not used.",
            "covered by the certificates",
        )
    ]
    # when a second order brings the period to 15,000 kWh (0.7 x 15,000 = 10,500 > 7,000)
    with django_capture_on_commit_callbacks(execute=True):
        _order(org_a, 10, "PO-2")
    # then the orders are credited the 7,000 certified kWh only: 7,000 / 15,000 = 46.7 %
    assert _reconciliation_shown(client, url) == [
        (
            "Orders of the period: 15,000 kWh attributed, 7,000 kWh of it credited as green; "
            "0 certified kWh not used.",
            "scaled to 46.7%: the orders need more kWh than the certificates cover",
        )
    ]


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
    with pytest.raises(DeclarationError, match="The declaration is rejected"):
        check_declaration(declaration, sustainability)


# --- the portal


def _form(site, **extra):
    data = {
        "site": site.pk,
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "consumption": "4,500 MWh",
        "instruments-TOTAL_FORMS": "2",
        "instruments-INITIAL_FORMS": "0",
        "instruments-MIN_NUM_FORMS": "1",
        "instruments-MAX_NUM_FORMS": "20",
        "instruments-0-kind": "GEC",
        "instruments-0-registry": "China Green Certificate Trading Platform",
        "instruments-0-serial_from": "GEC2025-0000001",
        "instruments-0-serial_to": "GEC2025-0003150",
        "instruments-0-mwh": "3,150 MWh",
        "instruments-0-generation_start": "2025-01-01",
        "instruments-0-generation_end": "2025-12-31",
        "instruments-0-country": "CN",
        "instruments-0-proof": pdf(),
    }
    data.update(extra)
    return data


def test_a_member_submits_through_the_portal_form(client, org_a, site, member_a):
    client.force_login(member_a)
    url = reverse("carbon:green_power", kwargs={"org_slug": org_a.slug})
    response = client.post(url, _form(site))
    assert response.status_code == 302
    declaration = GreenPowerDeclaration.objects.get()
    assert declaration.green_ratio == Decimal("0.700000")
    assert declaration.instruments.get().mwh == Decimal("3150.000000")
    page = client.get(url).content.decode()
    assert "3,150,000 of 4,500,000 kWh certified" in page
    assert "GEC2025-0000001 – GEC2025-0003150" in page


def test_the_portal_form_refuses_a_go_for_a_chinese_site(client, org_a, site, member_a):
    client.force_login(member_a)
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}),
        _form(site, **{"instruments-0-kind": "GO", "instruments-0-country": "DE"}),
    )
    assert response.status_code == 400
    assert "a GO cannot back a site in CN; accepted there: GEC, I-REC." in response.content.decode()
    assert GreenPowerDeclaration.objects.count() == 0


def test_the_portal_form_names_a_unit_mistake(client, org_a, site, member_a):
    client.force_login(member_a)
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}),
        _form(site, **{"instruments-0-mwh": "3150"}),
    )
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["mwh"] == [
        "'3150' has no unit; write it like 1.2 MWh"
    ]
    assert GreenPowerDeclaration.objects.count() == 0


def test_viewer_gets_403_on_submit_in_the_portal(client, org_a, site, viewer_a):
    client.force_login(viewer_a)
    page = client.get(reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}))
    assert page.status_code == 200
    assert "Submit a declaration" not in page.content.decode()
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}), _form(site)
    )
    assert response.status_code == 403
    assert GreenPowerDeclaration.objects.count() == 0


def test_the_page_lists_declarations_in_bounded_queries(
    client, org_a, member_a, django_assert_max_num_queries
):
    for n in range(6):
        plant = SiteFactory(organisation=org_a, name=f"Plant {n}", country="CN", region="CN")
        submit(org_a, plant, member_a, instruments=[
            gec(serial_from=f"S{n}-1", serial_to=f"S{n}-9"),
            gec(serial_from=f"T{n}-1", serial_to=f"T{n}-9", mwh=Q_(Decimal(1), "MWh")),
        ])  # fmt: skip
    client.force_login(member_a)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}))
    assert response.content.decode().count("Retirement proof") == 12


def test_evidence_and_proofs_are_served_only_to_the_organisation(
    client, org_a, org_b, site, member_a, viewer_a, member_b
):
    declaration = submit(org_a, site, member_a, evidence=pdf("meter.pdf"))
    item = declaration.instruments.get()
    proof = reverse(
        "carbon:green_power_proof",
        kwargs={"org_slug": org_a.slug, "declaration_id": declaration.pk, "instrument_id": item.pk},
    )
    evidence = reverse(
        "carbon:evidence", kwargs={"org_slug": org_a.slug, "declaration_id": declaration.pk}
    )
    # anonymous: to sign-in
    assert client.get(proof).status_code == 302
    # another organisation through its OWN slug and our ids: does not exist
    client.force_login(member_b)
    for name, kwargs in (
        ("carbon:green_power_proof",
         {"declaration_id": declaration.pk, "instrument_id": item.pk}),
        ("carbon:evidence", {"declaration_id": declaration.pk}),
    ):  # fmt: skip
        assert (
            client.get(reverse(name, kwargs={"org_slug": org_b.slug, **kwargs})).status_code == 404
        )
    # through a foreign slug: no membership, so no page either
    assert client.get(proof).status_code == 404
    # a viewer of the organisation: the files, as downloads that browsers will not sniff
    client.force_login(viewer_a)
    for link in (proof, evidence):
        response = client.get(link)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("width", "height"), [(30000, 30000), (8000, 6000)], ids=["900-megapixels", "48-megapixels"]
)
def test_portal_form_refuses_an_image_over_40_megapixels(
    client, org_a, site, member_a, width, height
):
    # given a small PNG that declares a huge image
    client.force_login(member_a)
    bomb = SimpleUploadedFile("meter.png", png_bytes(width, height), content_type="image/png")
    # when it is submitted as the meter statement
    response = client.post(
        reverse("carbon:green_power", kwargs={"org_slug": org_a.slug}),
        _form(site, evidence=bomb),
    )
    # then the form says which field and what the limit is, and nothing is stored
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "evidence": ["meter.png is too large: images may have at most 40 megapixels."]
    }
    assert GreenPowerDeclaration.objects.count() == 0
    assert AuditEvent.objects.filter(action="carbon.green_power_submitted").count() == 0


def test_a_png_within_the_limit_is_accepted_as_proof(org_a, site, member_a):
    scan = SimpleUploadedFile("scan.png", png_bytes(4000, 3000), content_type="image/png")
    declaration = submit(org_a, site, member_a, instruments=[gec(proof=scan)])
    item = declaration.instruments.get()
    assert item.proof.name.endswith(".png")
    assert Path(item.proof.path).read_bytes() == png_bytes(4000, 3000)


def test_market_based_scope2_counts_a_ppas_factor_for_the_covered_share():
    from carbon.footprint import engine

    # 1,000 kWh, half covered by a PPA at 0.1 kg/kWh, the rest at the 0.5856 residual factor:
    # 500 x 0.1 + 500 x 0.5856 = 342.8 kg; certificates alone (factor 0) give 292.8 kg
    location, market = engine.scope2(
        Q_(engine.decimal_array([Decimal(1000)]), "kWh"),
        Q_(engine.decimal_array([Decimal("0.5366")]), "kgCO2e / kWh"),
        Q_(engine.decimal_array([Decimal("0.5856")]), "kgCO2e / kWh"),
        engine.decimal_array([Decimal("0.5")]),
        instrument_factor=Q_(engine.decimal_array([Decimal("0.1")]), "kgCO2e / kWh"),
    )
    assert (location[0], market[0]) == (Decimal("536.6000"), Decimal("342.80000"))
