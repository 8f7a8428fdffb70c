"""Points follow orders: reactions to the carbon plugin's own domain events.

When an order or its footprint changes, the order is settled in the background
(`carbon.tasks.settle_order_points`): a delivered order with a current footprint and a policy in
force earns its award, a cancelled or returned one has its awards reversed. Handlers run after
the change has committed (`portal.events`), so a failure here never undoes an order upsert.

Events without order ids cannot all be followed: an import names at most 1,000 external ids.
The daily `carbon.tasks.award_delivered_orders` sweep settles whatever was missed.
"""

from __future__ import annotations

import logging

from carbon.footprint.events import (
    FOOTPRINT_CALCULATED,
    FOOTPRINTS_RECALCULATED,
    ORDER_UPSERTED,
    ORDERS_IMPORTED,
)
from portal import events
from portal.models import OutboxEvent

logger = logging.getLogger(__name__)


def _enqueue(order_ids: list[int]) -> None:
    from carbon.points.tasks import SETTLE_BATCH, settle_orders_points

    ids = sorted(set(order_ids))
    for start in range(0, len(ids), SETTLE_BATCH):
        settle_orders_points.delay(ids[start : start + SETTLE_BATCH])


def on_order_changed(event: OutboxEvent) -> None:
    """greenloop.carbon.order_upserted / footprint_calculated: one order, by id."""
    from carbon.points.tasks import settle_order_points

    order_id = event.data.get("order_id")
    if isinstance(order_id, int):
        settle_order_points.delay(order_id)


def on_footprints_recalculated(event: OutboxEvent) -> None:
    """greenloop.carbon.footprints_recalculated: the changed orders of one organisation."""
    _enqueue([o["order_id"] for o in event.data.get("orders", []) if "order_id" in o])


def on_orders_imported(event: OutboxEvent) -> None:
    """greenloop.carbon.orders_imported names external ids (at most 1,000) of one organisation;
    status-only changes (a cancellation) arrive only here, with no footprint event."""
    from carbon.models import Order

    external_ids = event.data.get("external_ids") or []
    if event.organisation_id is None or not external_ids:
        return
    if event.data.get("external_ids_truncated"):
        logger.info(
            "Import event %s names only part of its orders; the daily sweep settles the rest.",
            event.id,
        )
    _enqueue(
        list(
            Order.objects.filter(
                organisation_id=event.organisation_id, external_id__in=external_ids
            ).values_list("pk", flat=True)
        )
    )


def register() -> None:
    events.subscribe(ORDER_UPSERTED, on_order_changed)
    events.subscribe(FOOTPRINT_CALCULATED, on_order_changed)
    events.subscribe(FOOTPRINTS_RECALCULATED, on_footprints_recalculated)
    events.subscribe(ORDERS_IMPORTED, on_orders_imported)
