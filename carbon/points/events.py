"""Every event type the points wing publishes and its payload shape (JSON Schema, registered in the
portal's catalogue, portal.event_catalogue): the wing's contract with the CRM. Imported from
CarbonConfig.ready()."""

from __future__ import annotations

from carbon.footprint.events import EXTERNAL_ID, OWNER
from carbon.models import (
    EntryKind,
    RedemptionStatus,
    ServiceKind,
)
from portal.event_catalogue import (
    DATE,
    choice,
    identifier,
    integer,
    register,
    string,
)

POINTS_AWARDED = "greenloop.carbon.points_awarded"
POINTS_ACTIVATED = "greenloop.carbon.points_activated"
POINTS_EXPIRED = "greenloop.carbon.points_expired"
POINTS_REVERSED = "greenloop.carbon.points_reversed"
REDEMPTION_REQUESTED = "greenloop.carbon.redemption_requested"
REDEMPTION_FULFILLED = "greenloop.carbon.redemption_fulfilled"
REDEMPTION_REJECTED = "greenloop.carbon.redemption_rejected"
REDEMPTION_CANCELLED = "greenloop.carbon.redemption_cancelled"

POINTS = integer("points", minimum=0)
BALANCES = {
    "type": "object",
    "description": "the points account's balances after the entry",
    "properties": {"pending": integer(), "available": integer(), "held": integer()},
    "required": ["available", "held", "pending"],
    "additionalProperties": False,
}
_ENTRY = {
    "entry_id": identifier("ledger entry"),
    "kind": choice(EntryKind.values),
    "points": POINTS,
    "balances": BALANCES,
}
_POINTS_SUBJECT = r"points-accounts/\d+"
register(
    "greenloop.carbon.points_awarded",
    version=1,
    subject=_POINTS_SUBJECT,
    description="A delivered order earned points (pending until they activate).",
    owner=OWNER,
    properties={**_ENTRY, "order": EXTERNAL_ID, "award_id": identifier("award")},
)
register(
    "greenloop.carbon.points_activated",
    version=1,
    subject=_POINTS_SUBJECT,
    description="Pending points became available to redeem.",
    owner=OWNER,
    properties={**_ENTRY, "expires_on": DATE},
)
register(
    "greenloop.carbon.points_expired",
    version=1,
    subject=_POINTS_SUBJECT,
    description="Unspent points expired.",
    owner=OWNER,
    properties=_ENTRY,
)
register(
    "greenloop.carbon.points_reversed",
    version=1,
    subject=_POINTS_SUBJECT,
    description=(
        "An award was reversed (the order was cancelled or returned; kind `reverse`), or its "
        "green-power reward was (its green-power declaration was revoked; kind `reverse_green`)."
    ),
    owner=OWNER,
    properties={
        **_ENTRY,
        "order": EXTERNAL_ID,
        "award_id": identifier("award"),
        "already_expired": integer("points of the award that had expired already", minimum=0),
    },
)

_REDEMPTION = {
    "redemption_id": identifier("redemption"),
    "service": string("the service's slug"),
    "service_kind": choice(ServiceKind.values),
    "points": POINTS,
    "status": choice(RedemptionStatus.values),
    "balances": BALANCES,
}
for _what, _description in (
    ("requested", "A customer asked to spend points on a service (the points are held)."),
    ("rejected", "Customer success rejected a redemption (the points are released)."),
    ("cancelled", "The customer cancelled a redemption (the points are released)."),
):
    register(
        f"greenloop.carbon.redemption_{_what}",
        version=1,
        subject=r"redemptions/\d+",
        description=_description,
        owner=OWNER,
        properties=_REDEMPTION,
    )
register(
    "greenloop.carbon.redemption_fulfilled",
    version=1,
    subject=r"redemptions/\d+",
    description="Customer success scheduled the service; the held points are spent.",
    owner=OWNER,
    properties={**_REDEMPTION, "scheduled_for": DATE},
)
