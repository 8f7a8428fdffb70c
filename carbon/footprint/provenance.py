"""Where a leg's data came from, and whether it may earn points.

The source is set from the channel that stored the leg, never from a field of the data: the API
token's kind and scopes, who ran the import, the admin, the CRM inbound (`source_for_caller`,
`source_for_user`). The data type follows from what the leg carries (`data_type_of`). Points are
earned only by orders whose legs are all attested (`carbon.models.ATTESTED_SOURCES`, or verified
by staff); `points_holds` says, in the reader's language, why an order earns nothing yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from carbon.models import ATTESTED_SOURCES, DataTier, Leg, LegDataType, LegSource, OrderStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carbon.footprint.legs import LegData
    from carbon.models import Order
    from portal.api import Caller

# The integration-token scope of a carrier's or the vendor's logistics system: legs it writes
# are attested as the carrier's data (`portal.api_scopes.INTEGRATION_SCOPES`).
ATTEST_SCOPE = "carbon:attest"


def source_for_user(user: Any) -> str:
    """A person's entry: vendor staff, or the customer (also for no one known)."""
    if user is not None and getattr(user, "is_staff", False):
        return LegSource.STAFF
    return LegSource.CUSTOMER


def source_for_caller(c: Caller) -> str:
    """An API caller's entry: a customer's token is the customer's; the vendor's integration
    token is a carrier system with the attest scope and the CRM without; a session is the
    person's (`source_for_user`)."""
    if c.token is not None:
        if c.token.organisation_id is None:
            return LegSource.CARRIER if ATTEST_SCOPE in c.scopes else LegSource.CRM
        return LegSource.CUSTOMER
    return source_for_user(c.user)


def data_type_of(leg: LegData, source: str) -> str:
    """Measured fuel or energy is primary data; a carrier system's own primary or modelled
    figures without fuel are carrier-specific; everything else is modelled with defaults. The
    leg's declared tier counts only from an attested carrier system."""
    if leg.fuel_amount is not None:
        return LegDataType.PRIMARY_FUEL
    if source == LegSource.CARRIER and leg.data_tier in (DataTier.PRIMARY, DataTier.MODELLED):
        return LegDataType.CARRIER_INTENSITY
    return LegDataType.MODELLED_DEFAULT


@dataclass(frozen=True)
class PointsHold:
    """Why an order earns no points yet: a machine code and a sentence for the customer."""

    code: str
    message: StrOrPromise

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self.message)}


UNVERIFIED = PointsHold(
    "customer_data_unverified",
    _("Customer-entered data awaits verification by GreenLoop staff."),
)
NOT_DELIVERED = PointsHold("not_delivered", _("Only delivered orders earn points."))


def unverified_legs() -> QuerySet[Leg]:
    """Legs whose data may not earn points (yet): customer entries no staff member verified."""
    return Leg.objects.exclude(source__in=ATTESTED_SOURCES).filter(verified_at__isnull=True)


def points_holds(order: Order, legs: list[Leg]) -> list[PointsHold]:
    """`order_points_holds` over legs already loaded (all of the order's)."""
    holds = []
    if order.status != OrderStatus.DELIVERED:
        holds.append(NOT_DELIVERED)
    if not all(leg.attested for leg in legs):
        holds.append(UNVERIFIED)
    return holds


def order_points_holds(order: Order) -> list[PointsHold]:
    """Why `order` earns nothing yet, as far as its status and the provenance of its data say
    (the policy and the footprint decide the amount); empty when nothing holds it back. One
    query."""
    holds = []
    if order.status != OrderStatus.DELIVERED:
        holds.append(NOT_DELIVERED)
    if unverified_legs().filter(shipment__order=order).exists():
        holds.append(UNVERIFIED)
    return holds
