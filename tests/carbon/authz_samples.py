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
    from tests.carbon.factories import GreenPowerDeclarationFactory

    return GreenPowerDeclarationFactory(organisation=org).pk


def _foreign_import_job(org):
    from carbon.models import ImportJob

    return ImportJob.objects.create(organisation=org, file="private/imports/x.csv").pk


# Portal pages under /o/<org_slug>/ (carbon/urls.py): objects of the foreign organisation.
NESTED_PARAM_SAMPLES: dict = {
    "order_id": _foreign_order,
    "declaration_id": _foreign_declaration,
    "job_id": _foreign_import_job,
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
}
PUBLIC_ROUTE_NAMES: set[str] = set()
