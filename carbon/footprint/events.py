"""Every event type the footprint wing publishes and its payload shape (JSON Schema, registered in
the portal's catalogue, portal.event_catalogue): the wing's contract with the CRM. Imported from
CarbonConfig.ready()."""

from __future__ import annotations

from carbon.models import (
    DeclarationStatus,
    Instrument,
    OrderStatus,
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

DATASET_PUBLISHED = "greenloop.carbon.dataset_published"
GREEN_POWER_VERIFIED = "greenloop.carbon.green_power_verified"
GREEN_POWER_REJECTED = "greenloop.carbon.green_power_rejected"
GREEN_POWER_SUBMITTED = "greenloop.carbon.green_power_submitted"
GREEN_POWER_REVOKED = "greenloop.carbon.green_power_revoked"
FOOTPRINT_CALCULATED = "greenloop.carbon.footprint_calculated"
FOOTPRINTS_RECALCULATED = "greenloop.carbon.footprints_recalculated"
ORDER_UPSERTED = "greenloop.carbon.order_upserted"
ORDERS_IMPORTED = "greenloop.carbon.orders_imported"
ORDERS_CHANGED = "greenloop.carbon.orders_changed"
# Order ids per `orders_changed` event: a large import or recalculation is announced in chunks.
ORDERS_CHANGED_CHUNK = 500

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
register(
    GREEN_POWER_REVOKED,
    version=1,
    subject=r"green-power-declarations/\d+",
    description=(
        "Sustainability staff revoked a verified green-power declaration: the site's orders in "
        "the period are restated without it and the green-power reward they earned is reversed."
    ),
    owner=OWNER,
    properties={**_DECLARATION, "revoked_by": identifier("staff user who revoked it")},
    free_text=["site"],
)
register(
    ORDERS_CHANGED,
    version=1,
    subject=r"organisations/[a-z0-9-]+/orders",
    description=(
        "Orders whose data or footprint changed, by id, in chunks of at most 500: one event per "
        "write (an API upsert, a CSV import), recalculation or staff verification of "
        "customer-entered data. The points wing settles these orders once per change."
    ),
    owner=OWNER,
    properties={
        "order_ids": {
            "type": "array",
            "items": identifier("order"),
            "minItems": 1,
            "maxItems": 500,
        },
        "reason": choice(["stored", "recalculated", "verified"]),
    },
)
