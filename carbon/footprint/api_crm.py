"""Carbon's inbound CRM endpoints, on the portal's /api/v1/crm/ prefix (`portal.crm.api`):
products by SKU and orders by the organisation's CRM id and the order's external id. The
handlers are `carbon.footprint.crm`'s, which the portal's signed webhook runs too."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Body, Router

from carbon.footprint.api_orders import OrderIn
from carbon.footprint.crm import OrderUpsertOut, ProductIn, ProductUpsertOut
from portal.api_common import ERRORS
from portal.crm.api import IDEMPOTENT, INTEGRATION_ACCESS, put_answer
from portal.text import Text

router = Router(tags=["crm"])


@router.put(
    "/products/{sku}",
    response={200: ProductUpsertOut, 201: ProductUpsertOut, **ERRORS},
    summary="Create or update a product from the CRM (by SKU)",
    description=IDEMPOTENT,
    openapi_extra={"requestBody": {"required": True}},
    auth=INTEGRATION_ACCESS,
)
def put_product(request: HttpRequest, sku: Text, payload: Body[ProductIn | None] = None):
    return put_answer("product", (sku,), payload, request)


@router.put(
    "/organisations/{organisation_external_id}/orders/{external_id}",
    response={200: OrderUpsertOut, 201: OrderUpsertOut, **ERRORS},
    summary="Create or replace an order of a CRM account, with its shipments and legs",
    description=IDEMPOTENT
    + " The body is the one of PUT /organisations/{slug}/orders/{external_id}, read and "
    "stored the same way (a bad leg is refused with the same message); the organisation is "
    "named by its CRM id.",
    openapi_extra={"requestBody": {"required": True}},
    auth=INTEGRATION_ACCESS,
)
def put_order(
    request: HttpRequest,
    organisation_external_id: Text,
    external_id: Text,
    payload: Body[OrderIn | None] = None,
):
    return put_answer("order", (organisation_external_id, external_id), payload, request)
