"""Sustainability staff vouch for customer-entered order data, so that it may earn points
(`carbon.footprint.provenance`). Callers reach the action through `carbon.footprint.actions`,
which re-exports it with the wing's other writes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from carbon.footprint import calculation, provenance
from carbon.footprint.exceptions import OrderDataError
from carbon.footprint.permissions import can_verify
from carbon.models import Leg, Order
from portal import audit
from portal.exceptions import PermissionDeniedError


def verify_order_data(order: Order, by, *, request=None) -> int:
    """Sustainability staff vouch for the customer-entered legs of `order` (they checked them
    against the customer's documents), so the order may earn points; its points are settled
    after commit. Audited; returns how many legs were verified. An order with nothing left to
    verify is refused (OrderDataError on `legs`)."""
    if not can_verify(by):
        raise PermissionDeniedError("Only sustainability staff verify order data.")
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("organisation").get(pk=order.pk)
        waiting = provenance.unverified_legs().filter(shipment__order=order)
        legs = list(waiting.values_list("pk", flat=True))
        if not legs:
            raise OrderDataError(
                "The order has no customer-entered data waiting for verification.", field="legs"
            )
        Leg.objects.filter(pk__in=legs).update(verified_by=by, verified_at=timezone.now())
        audit.record(
            "carbon.order_data_verified",
            actor=by,
            organisation=order.organisation,
            obj=order,
            request=request,
            details={"external_id": order.external_id, "legs": len(legs)},
        )
        calculation.publish_orders_changed(order.organisation, [order.pk], "verified")
    return len(legs)
