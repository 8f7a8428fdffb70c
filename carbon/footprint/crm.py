"""Carbon's part of the CRM's inbound upserts (`portal.crm.inbound`, which does not import
carbon): products by SKU, and orders with their shipments and legs by the organisation's CRM id
and the order's external id. Registered from CarbonConfig.ready(); the PUT endpoints
(`carbon.footprint.api_crm`) and the portal's webhook both run these handlers.

Orders go through the customer API's own reading and write path (`api_orders.store_order`:
`OrderIn`, the CSV leg parser, `store_orders`), so a bad leg is refused with the same message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Field, Schema

from carbon.models import LegSource, Product
from portal import audit
from portal.api import Caller, Input
from portal.crm.inbound import (
    Upserted,
    audit_values,
    key_text,
    organisation_by_external_id,
    register_upsert,
    save_changes,
    validated,
)


class ProductIn(Input):
    name: str = Field(..., min_length=1, max_length=255, examples=["Inverter 50 kW"])
    electricity_kwh_per_unit: Decimal | None = Field(
        None,
        ge=0,
        max_digits=16,
        decimal_places=4,
        description="Electricity to make one unit (kWh); drives the green-power attribution",
        examples=["4000"],
    )


class ProductUpsertOut(Schema):
    sku: str
    name: str
    electricity_kwh_per_unit: str | None
    created: bool


def _product_out(product: Product, created: bool) -> dict[str, Any]:
    kwh = product.electricity_kwh_per_unit
    return {
        "sku": product.sku,
        "name": product.name,
        "electricity_kwh_per_unit": None if kwh is None else f"{Decimal(kwh):.4f}",
        "created": created,
    }


def upsert_product(
    key: tuple[str, ...], raw: dict[str, Any], request: HttpRequest | None
) -> Upserted:
    (sku,) = key
    key_text(sku, "sku", max_length=64)
    data = validated(ProductIn, raw)
    fields = {"name": data.name.strip(), "electricity_kwh_per_unit": data.electricity_kwh_per_unit}
    try:
        return _write_product(sku, fields, request)
    except IntegrityError:
        # Two pushes of a new product at once: the other created it; this one updates it.
        return _write_product(sku, fields, request)


def _write_product(sku: str, fields: dict[str, Any], request: HttpRequest | None) -> Upserted:
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first()
        if product is None:
            product = Product.objects.create(sku=sku, **fields)
            audit.record(
                "crm.product_created",
                obj=product,
                request=request,
                details={"sku": sku, **audit_values(fields)},
            )
            return Upserted(True, _product_out(product, True))
        changed = save_changes(product, fields)
        if changed:
            audit.record(
                "crm.product_updated",
                obj=product,
                request=request,
                details={"sku": sku, **audit_values(changed)},
            )
    return Upserted(False, _product_out(product, False))


class OrderUpsertOut(Schema):
    organisation_external_id: str
    organisation: str = Field(..., description="The organisation's slug")
    external_id: str
    order_id: int
    status: str
    created: bool
    changed: bool = Field(..., description="False when the body equals what was stored")


def upsert_order(
    key: tuple[str, ...], raw: dict[str, Any], request: HttpRequest | None
) -> Upserted:
    """An order of the organisation whose CRM id is the key's first part, through the
    customer API's reading and `store_orders` (which publishes `greenloop.carbon.order_upserted`
    for a changed order and nothing for the same data)."""
    from carbon.footprint.api_orders import OrderIn, store_order
    from carbon.footprint.provenance import source_for_caller

    organisation_external_id, external_id = key
    key_text(organisation_external_id, "organisation_external_id")
    key_text(external_id, "external_id")
    organisation = organisation_by_external_id(organisation_external_id, "organisation_external_id")
    payload = validated(OrderIn, raw)
    with transaction.atomic():
        # The PUT endpoint's integration token (a carrier system with carbon:attest, else the
        # CRM); the signed webhook has no token and is the CRM.
        caller = getattr(request, "auth", None)
        source = source_for_caller(caller) if isinstance(caller, Caller) else LegSource.CRM
        stored = store_order(organisation, external_id, payload, None, source=source)
        order = stored.orders[external_id]
        created = external_id in stored.created
        changed = created or external_id in stored.updated
        if changed:
            audit.record(
                "crm.order_created" if created else "crm.order_updated",
                organisation=organisation,
                obj=order,
                request=request,
                details={"external_id": external_id},
            )
    return Upserted(
        created,
        {
            "organisation_external_id": organisation_external_id,
            "organisation": organisation.slug,
            "external_id": external_id,
            "order_id": order.pk,
            "status": order.status,
            "created": created,
            "changed": changed,
        },
    )


def register() -> None:
    register_upsert("product", upsert_product, keys=("sku",))
    register_upsert("order", upsert_order, keys=("organisation_external_id", "external_id"))
