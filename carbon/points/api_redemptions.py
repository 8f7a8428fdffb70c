"""Redemption endpoints of the REST API: request one (with an Idempotency-Key), list, read and
cancel. Tenancy as in the rest of the API: another organisation's redemption is 404."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import AuthenticationError

from carbon.models import (
    PointsAccount,
    Redemption,
    RedemptionStatus,
)
from carbon.points import actions, permissions, redemptions
from carbon.points.api import (
    READ,
    WRITE,
    OrganisationOut,
    acting_organisation,
    may_redeem_somewhere,
    reading_organisation,
)
from carbon.points.catalogue import service_for_redemption, service_name
from carbon.points.exceptions import IdempotencyConflict, PointsError, RetryWithSavepoint
from portal import idempotency
from portal.access import reachable_or_404
from portal.api import ApiError, Caller, ErrorOut, Input, PathParams, caller, requires
from portal.api_common import (
    ERRORS,
    MAX_PAGE_SIZE,
    IsoDate,
    PageOut,
    page_out,
    require_perm,
)
from portal.api_contract import MAX_PAGE
from portal.models import IdempotencyRecord, Organisation

IDEMPOTENCY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": True,
    "description": (
        "A unique key per redemption you mean to make (a UUID), 1 to "
        f"{idempotency.MAX_KEY_LENGTH} printable ASCII characters, scoped to the organisation "
        "and kept at least 72 hours. Retry with the same key and the same body to get the "
        "first response back unchanged."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
    "example": "0f8fad5b-d9cb-469f-a165-70867728950e",
}

router = Router(tags=["points"])


class BalancesAfterOut(Schema):
    pending: int
    available: int
    held: int


class RedemptionOut(Schema):
    id: int
    organisation: str = Field(..., description="Organisation slug")
    status: RedemptionStatus
    service: str = Field(..., description="Service slug", examples=["maintenance-visit"])
    service_name: str = Field(..., description="In the request language")
    points: int
    site: str | None = Field(..., description="Site name")
    preferred_date: dt.date | None
    note: str = Field(..., description="Your note with the request")
    requested_at: dt.datetime
    scheduled_for: dt.date | None = Field(..., description="Service date, once fulfilled")
    assignee: str = Field(..., description="Who delivers the service, once fulfilled")
    staff_note: str = Field(..., description="Our note (or the reason for a rejection)")
    decided_at: dt.datetime | None
    cancelled_at: dt.datetime | None


class RedemptionResultOut(RedemptionOut):
    balances: BalancesAfterOut = Field(..., description="The organisation's balances after it")


class RedemptionIn(Input):
    service: str = Field(..., description="Service slug (GET /catalogue)", examples=["mv-basic"])
    site: str | None = Field(
        None,
        description="Name of one of the organisation's sites; required by services "
        "delivered at a site",
    )
    preferred_date: IsoDate | None = Field(None, description="Today or later")
    note: str = Field("", max_length=redemptions.MAX_NOTE)
    organisation: str | None = Field(
        None,
        description="Organisation slug, for people in several organisations; tokens act for "
        "their own",
    )


class RedemptionPage(PageOut, OrganisationOut):
    items: list[RedemptionOut]


def _redemption_out(redemption: Redemption, organisation: Organisation) -> dict[str, Any]:
    return {
        "id": redemption.pk,
        "organisation": organisation.slug,
        "status": redemption.status,
        "service": redemption.service.slug,
        "service_name": service_name(redemption.service),
        "points": redemption.points,
        "site": redemption.site.name if redemption.site else None,
        "preferred_date": redemption.preferred_date,
        "note": redemption.customer_note,
        "requested_at": redemption.requested_at,
        "scheduled_for": redemption.scheduled_for,
        "assignee": redemption.assignee,
        "staff_note": redemption.staff_note,
        "decided_at": redemption.decided_at,
        "cancelled_at": redemption.cancelled_at,
    }


def _result(redemption: Redemption, organisation: Organisation) -> dict[str, Any]:
    # A new request carries the balances its hold returned; a repeat reads them.
    account = getattr(redemption, "balances_after", None) or PointsAccount.objects.get(
        organisation=organisation
    )
    return {
        **_redemption_out(redemption, organisation),
        "balances": {
            "pending": account.pending,
            "available": account.available,
            "held": account.held,
        },
    }


def _error(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def _redeem(
    c: Caller,
    organisation: Organisation,
    payload: RedemptionIn,
    key: str,
    remember: Callable[[int, dict[str, Any]], IdempotencyRecord],
    first_try: bool,
) -> tuple[int, dict[str, Any], bool]:
    """Run the request and return (status, body, remembered): 201 or 200 with the redemption,
    or 422 with the domain's refusal (which nothing was written for). A 201's response is
    kept (`remember`) by the statement that holds the points, with the balances it returns;
    `remembered` says so. `first_try`: written straight into the view's transaction
    (`request_redemption(in_callers_transaction=True)`), which raises RetryWithSavepoint for a
    refusal or a key the ledger knows."""
    found = service_for_redemption(payload.service)
    if found is None:
        return (
            422,
            _error("unknown_service", _("There is no service '%s'.") % payload.service, "service"),
            False,
        )
    service, redemption_id = found
    site = None
    if payload.site:
        site = organisation.sites.filter(name=payload.site).first()
        if site is None:
            return (
                422,
                _error(
                    "unknown_site", _("Your organisation has no site '%s'.") % payload.site, "site"
                ),
                False,
            )
    record: IdempotencyRecord | None = None

    def remember_created(redemption: Redemption) -> tuple[IdempotencyRecord, str]:
        nonlocal record
        # The balances are the hold's, written into the body by the same statement.
        record = remember(201, idempotency.json_body(_redemption_out(redemption, organisation)))
        return record, "response_body"

    try:
        redemption, created = actions.request_redemption(
            organisation,
            service,
            c.user,
            key=key,
            site=site,
            preferred_date=payload.preferred_date,
            note=payload.note,
            remember=remember_created,
            in_callers_transaction=first_try,
            redemption_id=redemption_id,
        )
    except IdempotencyConflict as exc:
        # The ledger still knows the key (its records outlive the 72 h of the API's).
        return 422, _error("idempotency_key_reused", exc.message, idempotency.HEADER), False
    except PointsError as exc:
        return exc.status, _error(exc.code, exc.message, exc.field), False
    if created and record is not None:
        return 201, record.response_body, True
    return 200, _result(redemption, organisation), False


@router.post(
    "/redemptions",
    response={
        200: RedemptionResultOut,
        201: RedemptionResultOut,
        400: ErrorOut,
        409: ErrorOut,
        **ERRORS,
    },
    summary="Redeem points for a service (Idempotency-Key required)",
    description=(
        "Holds the service's points and records the request; staff then fulfil it (the points "
        "are spent) or reject it (released). 201 with the redemption and the balances after "
        "it. Eligibility (tier, country or site region, active window), this month's capacity "
        "and the available balance are checked when the request arrives: a refusal is 422 "
        "with `code` (tier_not_eligible, region_not_eligible, service_not_offered, "
        "capacity_reached, insufficient_points, unknown_service, unknown_site) and `field`, "
        "and holds nothing.\n\n"
        "The `Idempotency-Key` header is required (400 `idempotency_key_required`). A repeat "
        "with the same key and the same request returns the first response unchanged, status "
        "and body, with the header `Idempotent-Replayed: true`; this holds for a first 201 and "
        "for a first 422 refusal alike (send a new key to try again). The same key with a "
        "different request is 422 `idempotency_key_reused`; a repeat while the first is still "
        "running is 409 `idempotency_in_progress`. Keys belong to the organisation and are "
        "kept at least 72 hours, stored in the same transaction as the ledger hold. 200 only "
        "when the key's record has been purged but the ledger still knows it: the redemption "
        "as it is now.\n\n"
        "Needs scope points:write; people need the member role."
    ),
    openapi_extra={"parameters": [IDEMPOTENCY_PARAMETER]},
    auth=requires(WRITE, load=may_redeem_somewhere),
)
def create_redemption(request: HttpRequest, response: HttpResponse, payload: RedemptionIn):
    c, organisation = acting_organisation(
        request,
        payload.organisation,
        WRITE,
        permissions.PERM_REDEEM,
        "Only members and admins may redeem points.",
    )
    key = request.headers.get(idempotency.HEADER, "")
    if not key:
        raise ApiError(
            400,
            "idempotency_key_required",
            "Send an Idempotency-Key header with a unique key (a UUID) for this redemption.",
            idempotency.HEADER,
        )
    if not idempotency.valid_key(key):
        raise ApiError(
            400,
            "idempotency_key_invalid",
            f"The Idempotency-Key must be 1 to {idempotency.MAX_KEY_LENGTH} printable ASCII "
            "characters.",
            idempotency.HEADER,
        )
    if c.token is not None:
        who = f"token:{c.token.pk}"
    elif c.user is not None:
        who = f"user:{c.user.pk}"
    else:
        # Authentication gives every caller a token or a person; none is a 401 like any other.
        raise AuthenticationError
    wanted = idempotency.fingerprint(
        request.method or "POST", request.path, payload.model_dump(mode="json"), who
    )
    answer = functools.partial(_answer, response, c, organisation, payload, key, wanted)
    try:
        return answer(first_try=True)
    except RetryWithSavepoint:
        # Refused, or the key is the ledger's already: the first try's transaction is rolled
        # back and the request asked again the usual way, with the redemption's own savepoint.
        return answer(first_try=False)


def _answer(
    response: HttpResponse,
    c: Caller,
    organisation: Organisation,
    payload: RedemptionIn,
    key: str,
    wanted: str,
    *,
    first_try: bool,
) -> Status:
    """One transaction: the key's lock and record, then the redemption and its record. On the
    first try the lock and the record come in one statement (`idempotency.claim`), whose
    snapshot predates the lock: a record it may have missed is read again before a 409, and
    makes the request's own record fail on the unique key, which asks again the usual way."""
    scope = idempotency.scope_for(organisation.pk)
    with transaction.atomic():
        if first_try:
            locked, record = idempotency.claim(scope, key)
        else:
            locked, record = idempotency.try_lock(scope, key), None
        if record is None and (not locked or not first_try):
            # Read after the lock attempt, so a first request that has just committed is seen.
            # A key whose record exists is answered from it even while another repeat holds the
            # lock (a replay writes nothing); only a key still without an answer is in progress.
            record = idempotency.find(scope, key)
        if record is None and not locked:
            raise ApiError(
                409,
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                idempotency.HEADER,
            )
        if record is not None:
            if record.request_fingerprint != wanted:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used for a different request.",
                    idempotency.HEADER,
                )
            response["Idempotent-Replayed"] = "true"
            return Status(record.response_status, record.response_body)
        status, body, remembered = _redeem(
            c,
            organisation,
            payload,
            key,
            lambda status, body: idempotency.record(scope, key, wanted, status, body),
            first_try,
        )
        if not remembered:
            body = idempotency.json_body(body)
            try:
                idempotency.remember(scope, key, wanted, status, body)
            except IntegrityError:
                if first_try:
                    # The key was answered by a request the claim's snapshot did not see.
                    raise RetryWithSavepoint from None
                raise
    return Status(status, body)


class RedemptionFilters(Input):
    organisation: str | None = Field(None, description="Organisation slug (session callers)")
    status: RedemptionStatus | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@router.get(
    "/redemptions",
    response={200: RedemptionPage, **ERRORS},
    summary="The organisation's redemptions, newest first",
    description="Filter by `status` (requested, fulfilled, rejected, cancelled); paginated. "
    "Needs scope points:read; people need the viewer role.",
)
def list_redemptions(request: HttpRequest, filters: Query[RedemptionFilters]):
    _, org = reading_organisation(request, filters.organisation)
    qs = Redemption.objects.filter(organisation=org)
    if filters.status:
        qs = qs.filter(status=filters.status)
    qs = qs.select_related("service", "site").order_by("-requested_at", "-id")
    return {
        "organisation": org.slug,
        **page_out(qs, filters.page, filters.page_size, lambda r: _redemption_out(r, org)),
    }


def _redemption(
    request: HttpRequest, redemption_id: int, scope: str, perm: str, refusal: str
) -> tuple[Caller, Redemption]:
    """The caller, with `scope`, and one redemption of the organisations they reach (another
    organisation's is 404), where people need `perm` (else 403 with `refusal`)."""
    c = caller(request)
    c.require_scope(scope)
    return c, _load_redemption(c, redemption_id, perm, refusal)


def _load_redemption(c: Caller, redemption_id: int, perm: str, refusal: str) -> Redemption:
    redemption = reachable_or_404(
        c.request,
        Redemption.objects.filter(organisation__in=c.organisations()).select_related(
            "service", "site", "organisation"
        ),
        pk=redemption_id,
    )
    require_perm(c, perm, redemption.organisation, refusal)
    return redemption


def _cancellable(c: Caller, params: PathParams) -> Redemption:
    return _load_redemption(
        c,
        params["redemption_id"],
        permissions.PERM_REDEEM,
        "Only members and admins may cancel redemptions.",
    )


@router.get(
    "/redemptions/{int:redemption_id}",
    response={200: RedemptionOut, **ERRORS},
    summary="One redemption: its status, and when and by whom it is delivered",
    description="Needs scope points:read; people need the viewer role. Another organisation's "
    "redemption is 404.",
)
def get_redemption(request: HttpRequest, redemption_id: int):
    _, redemption = _redemption(
        request,
        redemption_id,
        READ,
        permissions.PERM_VIEW_POINTS,
        "Only members of the organisation see its redemptions.",
    )
    return _redemption_out(redemption, redemption.organisation)


@router.post(
    "/redemptions/{int:redemption_id}/cancel",
    response={200: RedemptionResultOut, **ERRORS},
    summary="Cancel a redemption before it is fulfilled; its points are released",
    description=(
        "200 with the cancelled redemption and the balances after it. Cancelling again "
        "returns it unchanged (200); a fulfilled or rejected redemption is 422 "
        "`redemption_closed`. Needs scope points:write; people need the member role. Another "
        "organisation's redemption is 404."
    ),
    auth=requires(WRITE, load=_cancellable),
)
def cancel_redemption(request: HttpRequest, redemption_id: int):
    c = caller(request)
    redemption = c.target
    organisation = redemption.organisation
    redemption = actions.cancel(redemption, c.user)
    return _result(redemption, organisation)
