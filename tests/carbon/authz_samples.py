"""Carbon's entries for the authorisation walk (tests/authz.py imports this module).

Each function takes the foreign organisation and returns a URL or API parameter that points at
one of ITS objects, creating the object when needed; the walk then expects 404.
"""

from __future__ import annotations

URL_PARAM_SAMPLES: dict = {}


def _foreign_order(org):
    from tests.carbon.factories import OrderFactory

    return OrderFactory(organisation=org).pk


def _foreign_declaration(org):
    """The foreign organisation's declaration, with an evidence file and one instrument with its
    retirement proof, so that a download missing its organisation filter would succeed. The same
    one for every route of a walk (the proof route takes both ids)."""
    from django.core.files.base import ContentFile

    from carbon.models import DeclarationInstrument
    from tests.carbon.factories import GreenPowerDeclarationFactory

    item = DeclarationInstrument.objects.filter(declaration__organisation=org).first()
    if item is not None:
        return item.declaration_id
    declaration = GreenPowerDeclarationFactory(organisation=org)
    declaration.evidence.save("walk-evidence.pdf", ContentFile(b"%PDF-1.4 walk"), save=True)
    item = DeclarationInstrument(
        declaration=declaration,
        kind="GEC",
        registry="walk registry",
        certificate_ids="WALK-1",
        mwh=1,
        generation_start=declaration.period_start,
        generation_end=declaration.period_end,
        country="CN",
    )
    item.proof.save("walk-proof.pdf", ContentFile(b"%PDF-1.4 walk proof"), save=True)
    return declaration.pk


def _foreign_instrument(org):
    from carbon.models import DeclarationInstrument

    return DeclarationInstrument.objects.get(declaration_id=_foreign_declaration(org)).pk


def _foreign_import_job(org):
    from carbon.models import ImportJob

    return ImportJob.objects.create(organisation=org, file="private/imports/x.csv").pk


def _walk_service():
    """Services are the vendor's, not an organisation's: the walk reaches one through the foreign
    organisation's URL, which must 404 before the service is looked at."""
    from carbon.models import Service
    from tests.carbon.factories import ServiceFactory

    return Service.objects.filter(slug="walk-service").first() or ServiceFactory(
        slug="walk-service"
    )


def _foreign_report(org):
    """A finished report of the foreign organisation with its file, so that a download missing
    its organisation filter would succeed. The same one for every route of a walk."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from carbon.models import Report, ReportStatus

    report = Report.objects.filter(organisation=org).first()
    if report is None:
        report = Report.objects.create(
            organisation=org,
            period_kind="year",
            period_start="2025-01-01",
            period_end="2025-12-31",
            language="en",
            format="csv",
            figures_as_of=timezone.now(),
            status=ReportStatus.DONE,
            progress=100,
        )
        report.file.save("walk-report.csv", ContentFile(b"walk"), save=True)
    return report.public_id


# Portal pages under /o/<org_slug>/ (carbon/urls.py): objects of the foreign organisation.
NESTED_PARAM_SAMPLES: dict = {
    "report_id": _foreign_report,
    "order_id": _foreign_order,
    "declaration_id": _foreign_declaration,
    "instrument_id": _foreign_instrument,
    "job_id": _foreign_import_job,
    "service_slug": lambda org: _walk_service().slug,
}


def _foreign_api_order(org):
    """One order of the foreign organisation, the same one for every API path of a walk."""
    from carbon.models import Order
    from tests.carbon.factories import OrderFactory

    return Order.objects.filter(organisation=org, external_id="WALK-1").first() or OrderFactory(
        organisation=org, external_id="WALK-1"
    )


# API paths (carbon/api.py).
API_PARAM_SAMPLES: dict = {
    # GET /orders/{order_id}, /orders/{order_id}/footprint
    "order_id": lambda org: _foreign_api_order(org).pk,
    # GET and PUT /organisations/{slug}/orders/{external_id} (slug: the portal's sample)
    "external_id": lambda org: _foreign_api_order(org).external_id,
    # GET /organisations/{slug}/order-imports/{job_id}
    "job_id": _foreign_import_job,
    # GET /reports/{report_id}, /reports/{report_id}/file (carbon/reports/api.py)
    "report_id": _foreign_report,
    # GET /redemptions/{redemption_id}, POST /redemptions/{redemption_id}/cancel (api_points.py)
    "redemption_id": lambda org: _foreign_redemption(org).pk,
}


def _foreign_redemption(org):
    """A requested redemption of the foreign organisation (no points behind it: the walk must
    be refused before anything reads or releases them)."""
    from django.utils import timezone

    from carbon.models import Redemption
    from tests.carbon.factories import ServiceFactory

    return Redemption.objects.filter(organisation=org).first() or Redemption.objects.create(
        organisation=org,
        service=ServiceFactory(),
        points=500,
        capacity_month=timezone.localdate().replace(day=1),
    )


PUBLIC_ROUTE_NAMES: set[str] = set()
# Catalogue services are the vendor's, the same for every organisation.
SHARED_PARAMS: set[str] = {"service_slug"}


# The walk's second mode: a redemption's page and cancel action under the caller's own
# organisation, pointing at another organisation's redemption.
ROUTE_PARAM_SAMPLES: dict = {
    "carbon:redemption_detail": {"pk": lambda org: _foreign_redemption(org).pk},
    "carbon:redemption_cancel": {"pk": lambda org: _foreign_redemption(org).pk},
}


# Write routes and their valid bodies (cancelling takes no fields); read-only object pages.
WRITE_BODIES: dict = {"carbon:redemption_cancel": lambda own, foreign: {}}
# These views answer POST as GET (no method restriction) and write nothing.
READ_ONLY_ROUTES: set[str] = {
    "carbon:order_detail",
    "carbon:import_job",
    "carbon:evidence",
    "carbon:green_power_proof",
    "carbon:redemption_detail",
    "carbon:report_detail",
    "carbon:report_download",
}


def _valid_order(own, foreign):
    """A valid order for the upsert under the caller's own slug: no lines or legs, so only the
    published reference data it is calculated against must exist."""
    from carbon.models import FactorDataset
    from tests.carbon.factories import grid_dataset, published_dataset

    if not FactorDataset.objects.exists():
        published_dataset()
        grid_dataset()
    return {"order_date": "2025-03-14"}


API_BODIES: dict = {
    ("put", "/api/v1/organisations/{slug}/orders/{external_id}"): _valid_order,
    # The CRM's inbound upserts (vendor-only: customers are refused before the body is read).
    ("put", "/api/v1/crm/products/{sku}"): lambda own, foreign: {"name": "Walk product"},
    (
        "put",
        "/api/v1/crm/organisations/{organisation_external_id}/orders/{external_id}",
    ): _valid_order,
}


def _walk_product(org):
    """Products are the vendor's: the CRM's PUT of one must refuse every customer caller."""
    from carbon.models import Product
    from tests.carbon.factories import ProductFactory

    return Product.objects.filter(sku="WALK-SKU").first() or ProductFactory(sku="WALK-SKU")


# PUT /crm/products/{sku}
API_PARAM_SAMPLES["sku"] = lambda org: _walk_product(org).sku
