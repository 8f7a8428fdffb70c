"""Points follow orders: the points wing's reaction to the footprint wing's `orders_changed`.

Every write of orders (an API upsert, a CSV import) and every recalculation publishes one
`greenloop.carbon.orders_changed` event per chunk of changed order ids; each named order is then
settled once in the background (`carbon.tasks.settle_orders_points`): a delivered order with a
current footprint and a policy in force earns its award, a cancelled or returned one has its
awards reversed. Handlers run after the change has committed (`portal.events`), so a failure here
never undoes the write. The daily `carbon.tasks.award_delivered_orders` sweep settles whatever
was missed.

A revoked green-power declaration (`greenloop.carbon.green_power_revoked`) takes back the
green-power reward of every award whose footprint used it
(`carbon.tasks.reverse_green_power_rewards`, one ledger entry per award, exactly once).

The e-mail confirming a redemption request is queued by the outbox worker when it routes the
`greenloop.carbon.redemption_requested` event (`portal.events.subscribe_in_worker`), so the
request itself ends at its COMMIT.

Beta programmes may grant points when a programme graduates: `greenloop.beta.programme_graduated`
names each organisation and its points (carbon reads the event's data and never imports the beta
plugin); `carbon.tasks.grant_graduation_points` credits them as an approved adjustment.
"""

from __future__ import annotations

from carbon.footprint.events import GREEN_POWER_REVOKED, ORDERS_CHANGED
from carbon.points.events import REDEMPTION_REQUESTED
from carbon.points.tasks import (
    grant_graduation_points,
    reverse_revoked_green_power,
    send_redemption_email,
    settle_orders_points,
)
from portal import events
from portal.models import OutboxEvent


def on_orders_changed(event: OutboxEvent) -> None:
    order_ids = [i for i in event.data.get("order_ids") or [] if isinstance(i, int)]
    if order_ids:
        settle_orders_points.delay(sorted(set(order_ids)))


def on_green_power_revoked(event: OutboxEvent) -> None:
    data = event.data
    if isinstance(data.get("declaration_id"), int) and isinstance(data.get("revoked_by"), int):
        reverse_revoked_green_power.delay(data["declaration_id"], data["revoked_by"])


# The beta plugin's event type, by name: the contract is the event catalogue, not its code.
PROGRAMME_GRADUATED = "greenloop.beta.programme_graduated"


def on_programme_graduated(event: OutboxEvent) -> None:
    data = event.data
    grants = [
        {"organisation_id": g["organisation_id"], "points": g["points"]}
        for g in data.get("grants") or []
        if isinstance(g.get("organisation_id"), int) and isinstance(g.get("points"), int)
    ]
    if grants and isinstance(data.get("graduated_by"), int):
        grant_graduation_points.delay(data["programme_id"], data["graduated_by"], grants)


def on_redemption_requested(event: OutboxEvent) -> None:
    redemption_id = event.data.get("redemption_id")
    if isinstance(redemption_id, int):
        send_redemption_email.delay(redemption_id, "requested")


def register() -> None:
    events.subscribe(ORDERS_CHANGED, on_orders_changed)
    events.subscribe(GREEN_POWER_REVOKED, on_green_power_revoked)
    events.subscribe(PROGRAMME_GRADUATED, on_programme_graduated)
    # Queued by the outbox worker, not by the request: a redemption request's transaction
    # ends at its COMMIT, with no message to the broker after it.
    events.subscribe_in_worker(REDEMPTION_REQUESTED, on_redemption_requested)
