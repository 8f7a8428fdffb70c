"""Carbon's event types in the portal's catalogue (portal.event_catalogue): footprints, orders,
green power, points and redemptions. Imported from CarbonConfig.ready()."""

from __future__ import annotations

from carbon.models import (
    DeclarationStatus,
    EntryKind,
    Instrument,
    OrderStatus,
    RedemptionStatus,
    ServiceKind,
)
from portal.event_catalogue import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    choice,
    identifier,
    integer,
    nullable,
    register,
    string,
)

OWNER = "carbon"
DATASET_LABEL = string("a dataset version, slug@version", pattern=r"^[a-z0-9-]+@\d+$")
EXTERNAL_ID = string("the order number in the customer's ERP", maxLength=100)
POINTS = integer("points", minimum=0)
BALANCES = {
    "type": "object",
    "description": "the points account's balances after the entry",
    "properties": {"pending": integer(), "available": integer(), "held": integer()},
    "required": ["available", "held", "pending"],
    "additionalProperties": False,
}
ORDER_FOOTPRINT = {
    "order": EXTERNAL_ID,
    "order_id": identifier("order"),
    "snapshot_id": identifier("calculation snapshot"),
    "wtw_kg": {**DECIMAL, "description": "well-to-wheel kg CO2e of the order"},
}

register(
    "greenloop.carbon.dataset_published",
    version=1,
    subject=r"datasets/[a-z0-9-]+@\d+",
    description="Staff published a version of an emission-factor dataset (reference data).",
    owner=OWNER,
    properties={
        "dataset_id": identifier("dataset version"),
        "slug": string(pattern=r"^[a-z0-9-]+$"),
        "version": integer(minimum=1),
        "title": string("the publisher's title"),
        "publisher": string(),
        "source_url": string(),
        "is_default": BOOLEAN,
        "supersedes": nullable(DATASET_LABEL),
        "factors": integer("number of factors", minimum=0),
        "published_at": DATETIME,
    },
    free_text=["title", "publisher"],
)
register(
    "greenloop.carbon.order_upserted",
    version=1,
    subject=r"orders/\d+",
    description="An order was created or changed through the API (footprint recalculated).",
    owner=OWNER,
    properties={
        "order_id": identifier("order"),
        "external_id": EXTERNAL_ID,
        "created": BOOLEAN,
        "status": choice(OrderStatus.values),
        "order_date": DATE,
        "by": nullable(identifier("person who sent it (null for an API token)")),
    },
)
register(
    "greenloop.carbon.orders_imported",
    version=1,
    subject=r"organisations/[a-z0-9-]+/orders",
    description="A CSV import created or changed orders (the first 1,000 order numbers).",
    owner=OWNER,
    properties={
        "created": integer(minimum=0),
        "updated": integer(minimum=0),
        "unchanged": integer(minimum=0),
        "external_ids": {"type": "array", "items": EXTERNAL_ID, "maxItems": 1000},
        "external_ids_truncated": BOOLEAN,
    },
)
register(
    "greenloop.carbon.footprint_calculated",
    version=1,
    subject=r"orders/\d+",
    description="An order's footprint was calculated (a new snapshot).",
    owner=OWNER,
    properties={
        **ORDER_FOOTPRINT,
        "datasets": {"type": "array", "items": DATASET_LABEL},
    },
)
register(
    "greenloop.carbon.footprints_recalculated",
    version=1,
    subject=r"organisations/[a-z0-9-]+/orders",
    description="A bulk recalculation changed these orders' footprints (one event per batch).",
    owner=OWNER,
    properties={
        "datasets": {"type": "array", "items": DATASET_LABEL},
        "count": integer(minimum=1),
        "orders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": ORDER_FOOTPRINT,
                "required": sorted(ORDER_FOOTPRINT),
                "additionalProperties": False,
            },
        },
    },
)

_DECLARATION = {
    "declaration_id": identifier("green-power declaration"),
    "site": string("the site's name in the portal"),
    "site_id": identifier("site"),
    "period_start": DATE,
    "period_end": DATE,
    "green_ratio": {**DECIMAL, "description": "verified green share, 0-1"},
    "instrument": choice(Instrument.values),
    "status": choice(DeclarationStatus.values),
}
register(
    "greenloop.carbon.green_power_submitted",
    version=1,
    subject=r"green-power-declarations/\d+",
    description="A customer submitted a green-power declaration with evidence.",
    owner=OWNER,
    properties=_DECLARATION,
    free_text=["site"],
)
for _what in ("verified", "rejected"):
    register(
        f"greenloop.carbon.green_power_{_what}",
        version=1,
        subject=r"green-power-declarations/\d+",
        description=f"Sustainability staff {_what} a green-power declaration.",
        owner=OWNER,
        properties={**_DECLARATION, "note": string("the staff member's note to the customer")},
        free_text=["site", "note"],
    )

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
    description="An award was reversed (the order was cancelled or returned).",
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
