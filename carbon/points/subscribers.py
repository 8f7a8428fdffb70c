"""Points follow orders: the points wing's reaction to the footprint wing's `orders_changed`.

Every write of orders (an API upsert, a CSV import) and every recalculation publishes one
`greenloop.carbon.orders_changed` event per chunk of changed order ids; each named order is then
settled once in the background (`carbon.tasks.settle_orders_points`): a delivered order with a
current footprint and a policy in force earns its award, a cancelled or returned one has its
awards reversed. Handlers run after the change has committed (`portal.events`), so a failure here
never undoes the write. The daily `carbon.tasks.award_delivered_orders` sweep settles whatever
was missed.
"""

from __future__ import annotations

from carbon.footprint.events import ORDERS_CHANGED
from carbon.points.tasks import settle_orders_points
from portal import events
from portal.models import OutboxEvent


def on_orders_changed(event: OutboxEvent) -> None:
    order_ids = [i for i in event.data.get("order_ids") or [] if isinstance(i, int)]
    if order_ids:
        settle_orders_points.delay(sorted(set(order_ids)))


def register() -> None:
    events.subscribe(ORDERS_CHANGED, on_orders_changed)
