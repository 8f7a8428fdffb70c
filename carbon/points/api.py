"""Points endpoints of the REST API: balance, ledger statement, service catalogue, redemptions.

Tenancy as in `carbon.footprint.api`: every query is scoped with `caller.organisations()`, so
another
organisation's redemption is 404, never 403. Tokens act for their own organisation and need
`points:read` to read and `points:write` to redeem or cancel; people need the viewer role to
read and the member role to redeem or cancel (`PERM_VIEW_POINTS`, `PERM_REDEEM`). Session callers
who belong to several organisations name one by its slug.

POST /redemptions takes an `Idempotency-Key` header; see `portal.idempotency` for the
contract.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema
from wagtail.images.models import SourceImageIOError

from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
    PointsPolicy,
    Service,
)
from carbon.points import ledger, permissions
from carbon.points import redemptions as actions
from carbon.points.catalogue import policy_explanation, service_description, service_name
from portal.access import reachable_or_404
from portal.api import ApiError, Caller, Input, PathParams, caller
from portal.api_common import (
    ERRORS,
    MAX_PAGE_SIZE,
    IsoDate,
    PageOut,
    organisation_named,
    page_out,
    require_perm,
)
from portal.api_contract import MAX_PAGE
from portal.api_scopes import register_scope
from portal.models import Organisation
from portal.permissions import has_perm
from portal.text import Text

READ = "points:read"
WRITE = "points:write"
register_scope(
    READ, gettext_lazy("Read the points balance, ledger, service catalogue and redemptions")
)
register_scope(WRITE, gettext_lazy("Redeem points for services and cancel redemptions"))

IMAGE_SPEC = "fill-480x270"

router = Router(tags=["points"])


# --- who acts for which organisation


def _organisation(c: Caller, slug: str | None) -> Organisation:
    """The organisation the caller acts for: a token's own (another slug is 404); for people
    the one named, or their only organisation when they name none."""
    if c.token is not None:
        organisation = c.token.organisation
        if organisation is None:
            # The vendor's integration token acts for no organisation (it has no points scope).
            raise ApiError(403, "integration_token", "An integration token has no points.")
        if slug and slug != organisation.slug:
            # 404, audited when the slug names another organisation.
            return reachable_or_404(c.request, c.organisations(), slug=slug)
        return organisation
    if slug:
        return organisation_named(c, slug)
    mine = list(Organisation.objects.for_member(c.user)[:2])
    if len(mine) == 1:
        return mine[0]
    raise ApiError(
        422,
        "organisation_required",
        "organisation: name the organisation by its slug (see GET /api/v1/me).",
        "organisation",
    )


def acting_organisation(
    request: HttpRequest, slug: str | None, scope: str, perm: str, refusal: str
) -> tuple[Caller, Organisation]:
    """The caller, with `scope`, and the organisation they act for, where people need `perm`
    (else 403 with `refusal`)."""
    c = caller(request)
    c.require_scope(scope)
    organisation = _organisation(c, slug)
    require_perm(c, perm, organisation, refusal)
    return c, organisation


def may_redeem_somewhere(c: Caller, params: PathParams) -> None:
    """`Access.load` of POST /redemptions, before its body names the organisation: a person must
    be allowed to redeem in at least one organisation they belong to."""
    if c.token is None and not any(
        has_perm(c.user, permissions.PERM_REDEEM, o)
        for o in Organisation.objects.for_member(c.user)
    ):
        raise ApiError(403, "permission_denied", "Only members and admins may redeem points.")


def reading_organisation(request: HttpRequest, slug: str | None) -> tuple[Caller, Organisation]:
    """The caller, with scope carbon:read, and the organisation whose points they read."""
    return acting_organisation(
        request,
        slug,
        READ,
        permissions.PERM_VIEW_POINTS,
        "Only members of the organisation see points.",
    )


# --- GET /points/balance


class ExpiringLotOut(Schema):
    expires_on: dt.date
    points: int


class PolicyOut(Schema):
    version: int = Field(..., examples=[3])
    explanation: str = Field(..., description="One plain sentence, in the request language")
    formula: str = Field(..., examples=[ledger.FORMULA])


class BalanceOut(Schema):
    organisation: str = Field(..., description="Organisation slug")
    pending: int = Field(..., description="Earned on delivered orders, not yet available")
    available: int = Field(
        ...,
        description="Spendable now; negative after a reversal of spent "
        "points, and then no redemption is accepted until it recovers",
    )
    held: int = Field(..., description="Set aside for redemptions awaiting fulfilment")
    expiring_soon: int = Field(
        ..., description=f"Available points that expire within {ledger.EXPIRING_SOON_DAYS} days"
    )
    expiring: list[ExpiringLotOut] = Field(
        ...,
        description="The lots behind expiring_soon, first to expire first (points are spent "
        "first in, first out); empty when nothing expires soon.",
    )
    policy: PolicyOut | None = Field(
        ..., description="The points policy in force today; null when there is none"
    )


def _lot(lot: Any) -> dict[str, Any]:
    if isinstance(lot, dict):
        return {"expires_on": lot["expires_on"], "points": lot["points"]}
    if isinstance(lot, tuple | list):
        return {"expires_on": lot[0], "points": lot[1]}
    return {"expires_on": lot.expires_on, "points": lot.points}


@router.get(
    "/points/balance",
    response={200: BalanceOut, **ERRORS},
    exclude_unset=True,
    summary="The organisation's points balances and the policy that earns them",
    description=(
        "Pending, available, held and expiring-soon points, summed from the ledger, and the "
        "points policy in force today (its version, a one-sentence explanation in the request "
        "language and the formula). Points are rewards for measured emission reductions. "
        "Query `organisation` (slug) for people in several organisations. Needs scope "
        "points:read; people need the viewer role."
    ),
)
def points_balance(request: HttpRequest, organisation: Text | None = None):
    _, org = reading_organisation(request, organisation)
    today = timezone.localdate()
    account = PointsAccount.objects.filter(organisation=org).first()
    if account is None:  # nothing earned yet; a read creates nothing
        balances = ledger.Balances(pending=0, available=0, held=0, expiring_soon=0)
    else:
        balances = ledger.balances(account, today)
    policy = PointsPolicy.objects.in_force(today)
    explanation = policy_explanation(policy) if policy is not None else ""
    data: dict[str, Any] = {
        "organisation": org.slug,
        "pending": balances.pending,
        "available": balances.available,
        "held": balances.held,
        "expiring_soon": balances.expiring_soon,
        "policy": None
        if policy is None
        else {
            "version": policy.version,
            "explanation": explanation,
            "formula": ledger.FORMULA,
        },
    }
    lots = []
    if account is not None and balances.expiring_soon > 0:
        lots = [_lot(lot) for lot in ledger.expiring_lots(account, ledger.EXPIRING_SOON_DAYS)]
    data["expiring"] = sorted(lots, key=lambda lot: lot["expires_on"])
    return data


# --- GET /points/ledger


class EntryOut(Schema):
    id: int
    kind: EntryKind
    kind_label: str = Field(..., examples=["Held for a redemption"])
    points: int = Field(..., description="Size of the movement, always positive")
    pending_delta: int = Field(..., description="Signed change of the pending balance")
    available_delta: int = Field(..., description="Signed change of the available balance")
    held_delta: int = Field(..., description="Signed change of the held balance")
    order: str | None = Field(..., description="External id of the order that earned it")
    redemption_id: int | None
    expires_on: dt.date | None = Field(..., description="When an activated lot expires")
    reason: str = Field(..., description="Why a manual adjustment was made; else empty")
    created_at: dt.datetime


class LedgerFilters(Input):
    organisation: str | None = Field(None, description="Organisation slug (session callers)")
    kind: EntryKind | None = None
    date_from: IsoDate | None = Field(None, alias="from", description="Entries on or after")
    date_to: IsoDate | None = Field(None, alias="to", description="Entries on or before")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class OrganisationOut(Schema):
    organisation: str


# Pydantic lists the fields of the last base first: organisation, count, page, page_size, items.
class LedgerPage(PageOut, OrganisationOut):
    items: list[EntryOut]


@router.get(
    "/points/ledger",
    response={200: LedgerPage, **ERRORS},
    summary="The points statement: every ledger entry, newest first",
    description=(
        "Append-only entries (earned, activated, held, redeemed, released, expired, reversed, "
        "adjusted) with the signed change of each balance, so that each balance is the sum of "
        "its column. Filter by `kind` and by date (`from`, `to`); paginated. Needs scope "
        "points:read; people need the viewer role."
    ),
)
def points_ledger(request: HttpRequest, filters: Query[LedgerFilters]):
    _, org = reading_organisation(request, filters.organisation)
    qs = LedgerEntry.objects.filter(account__organisation=org)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.date_from:
        qs = qs.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(created_at__date__lte=filters.date_to)
    qs = qs.select_related("order").order_by("-created_at", "-id")
    return {"organisation": org.slug, **page_out(qs, filters.page, filters.page_size, _entry_out)}


def _entry_out(e: LedgerEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "kind_label": e.get_kind_display(),
        "points": e.points,
        "pending_delta": e.pending_delta,
        "available_delta": e.available_delta,
        "held_delta": e.held_delta,
        "order": e.order.external_id if e.order else None,
        "redemption_id": e.redemption_id,
        "expires_on": e.expires_on,
        "reason": e.reason,
        "created_at": e.created_at,
    }


# --- GET /catalogue


class ServiceOut(Schema):
    slug: str = Field(..., examples=["maintenance-visit"])
    kind: str = Field(..., examples=["maintenance_visit"])
    name: str = Field(..., description="In the request language")
    description: str = Field(..., description="In the request language")
    image_url: str | None = Field(..., description=f"A {IMAGE_SPEC} rendition, or null")
    points_cost: int
    requires_site: bool = Field(..., description="The request must name one of your sites")
    monthly_capacity: int | None = Field(..., description="Places per month; null: no limit")
    remaining_this_month: int | None = Field(..., description="null: no monthly limit")
    eligible: bool = Field(..., description="Your organisation may request it today")
    reason: str = Field(..., description="Why not, when not eligible")
    affordable: bool = Field(..., description="The available balance covers the cost")


class CatalogueOut(Schema):
    organisation: str
    available: int
    items: list[ServiceOut]


def _image_url(request: HttpRequest, service: Service) -> str | None:
    if service.image is None:
        return None
    try:
        rendition = service.image.get_rendition(IMAGE_SPEC)
    except (SourceImageIOError, OSError):
        return None  # a missing original file must not break the catalogue
    return request.build_absolute_uri(rendition.url)


@router.get(
    "/catalogue",
    response={200: CatalogueOut, **ERRORS},
    summary="Services offered today, with whether your organisation may redeem them",
    description=(
        "Every service offered today, in sort order: name and description in the request "
        "language, an image, the points cost, places left this month, and whether the "
        "organisation is eligible (tier, country or site region, active window, capacity) "
        "with the reason when it is not. Needs scope points:read; people need the viewer role."
    ),
)
def catalogue(request: HttpRequest, organisation: Text | None = None):
    _, org = reading_organisation(request, organisation)
    offers = actions.offers(org, timezone.localdate())
    images = [o.service.image for o in offers if o.service.image is not None]
    prefetch_related_objects(images, "renditions")
    available = (
        PointsAccount.objects.filter(organisation=org).values_list("available", flat=True).first()
        or 0
    )
    return {
        "organisation": org.slug,
        "available": available,
        "items": [
            {
                "slug": o.service.slug,
                "kind": o.service.kind,
                "name": service_name(o.service),
                "description": service_description(o.service),
                "image_url": _image_url(request, o.service),
                "points_cost": o.service.points_cost,
                "requires_site": o.service.requires_site,
                "monthly_capacity": o.service.monthly_capacity,
                "remaining_this_month": o.remaining_this_month,
                "eligible": o.eligible,
                "reason": o.reason,
                "affordable": available >= o.service.points_cost,
            }
            for o in offers
        ],
    }


# --- redemptions
