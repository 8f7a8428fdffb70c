"""Redeeming points for services: request (points held), then fulfil (captured), reject or
cancel (released).

Every action locks the organisation's points account first and, for a request, the service row
next (always in that order, so two requests cannot deadlock). The capacity count and the balance
check therefore see every committed request, and concurrent requests on PostgreSQL can neither
overdraw the balance nor overbook a month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbon.models import (
    LedgerEntry,
    PointsAccount,
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.points import ledger
from carbon.points.catalogue import service_name
from carbon.points.events import (
    REDEMPTION_CANCELLED,
    REDEMPTION_FULFILLED,
    REDEMPTION_REJECTED,
    REDEMPTION_REQUESTED,
)
from carbon.points.exceptions import IdempotencyConflict, InsufficientPoints, RedemptionError
from carbon.points.permissions import PERM_REDEEM, can_fulfil
from portal import audit, events, tenancy
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, Site, Tier, User
from portal.permissions import has_perm

OPEN_STATUSES = (RedemptionStatus.REQUESTED, RedemptionStatus.FULFILLED)
MAX_NOTE = 2000


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Offer:
    """A service as one organisation sees it today: whether it may redeem it, and why not."""

    service: Service
    eligible: bool
    reason: str
    remaining_this_month: int | None  # None: no monthly limit


def ineligibility(
    service: Service,
    organisation: Organisation,
    today: dt.date,
    site: Site | None = None,
    *,
    site_countries: set[str] | None = None,
) -> tuple[str, str] | None:
    """(code, message) saying why `organisation` cannot redeem `service` today, or None.
    `site_countries`: the organisation's sites' countries when the caller has them already."""
    if not service.is_active or (
        (service.active_from and service.active_from > today)
        or (service.active_until and service.active_until < today)
    ):
        return "service_not_offered", _("This service is not offered at the moment.")
    if service.eligible_tiers and organisation.tier not in service.eligible_tiers:
        return "tier_not_eligible", _(
            "This service is offered to %(tiers)s customers; your organisation's tier is %(tier)s."
        ) % {
            "tiers": ", ".join(
                str(Tier(t).label) if t in Tier.values else t for t in service.eligible_tiers
            ),
            "tier": organisation.get_tier_display(),
        }
    if service.eligible_countries:
        places = {organisation.country}
        if site is not None:
            places = {site.country}
        elif service.requires_site:
            if site_countries is None:
                site_countries = {s.country for s in organisation.sites.all()}
            places |= site_countries
        if not places & set(service.eligible_countries):
            return "region_not_eligible", _("This service is offered in %(countries)s only.") % {
                "countries": ", ".join(service.eligible_countries)
            }
    return None


def offers(organisation: Organisation, today: dt.date | None = None) -> list[Offer]:
    """The catalogue for one organisation, with eligibility and what is left this month.
    Three queries whatever the catalogue's size (two more on PostgreSQL set and restore the
    row-level scope around the capacity count)."""
    from django.db.models import Count, Q

    today = today or timezone.localdate()
    # A month's places are shared by every organisation: count all their requests (a number,
    # never their rows), outside the caller's row-level scope.
    with tenancy.all_organisations():
        services = list(
            Service.objects.offered_on(today)
            .select_related("image")
            .annotate(
                used=Count(
                    "redemptions",
                    filter=Q(
                        redemptions__capacity_month=month_start(today),
                        redemptions__status__in=OPEN_STATUSES,
                    ),
                )
            )
        )
    site_countries = set(organisation.sites.values_list("country", flat=True))
    result = []
    for service in services:
        remaining = (
            None
            if service.monthly_capacity is None
            else max(0, service.monthly_capacity - service.used)
        )
        why = ineligibility(service, organisation, today, site_countries=site_countries)
        if why is None and remaining == 0:
            why = ("capacity_reached", _("This month's places are taken."))
        result.append(Offer(service, why is None, why[1] if why else "", remaining))
    return result


def _fingerprint(
    service: Service, by: User | None, site: Site | None, preferred: dt.date | None, note: str
) -> dict[str, Any]:
    return {
        "service": service.pk,
        "by": by.pk if by else None,
        "site": site.pk if site else None,
        "preferred_date": preferred.isoformat() if preferred else None,
        "note": note,
    }


def _same_request(redemption: Redemption, wanted: dict[str, Any]) -> bool:
    return wanted == {
        "service": redemption.service_id,
        "by": redemption.requested_by_id,
        "site": redemption.site_id,
        "preferred_date": (
            redemption.preferred_date.isoformat() if redemption.preferred_date else None
        ),
        "note": redemption.customer_note,
    }


def _event(
    type_: str, redemption: Redemption, account: PointsAccount | ledger.HeldBalances | None = None
) -> None:
    data: dict[str, Any] = {
        "redemption_id": redemption.pk,
        "service": redemption.service.slug,
        "service_kind": redemption.service.kind,
        "points": redemption.points,
        "status": redemption.status,
    }
    if redemption.scheduled_for:
        data["scheduled_for"] = redemption.scheduled_for.isoformat()
    if account is not None:
        data["balances"] = {
            "pending": account.pending,
            "available": account.available,
            "held": account.held,
        }
    events.publish(type_, redemption.organisation, f"redemptions/{redemption.pk}", data)


def _notify(redemption: Redemption, what: str) -> None:
    from carbon.points.tasks import send_redemption_email

    transaction.on_commit(lambda: send_redemption_email.delay(redemption.pk, what))


def _check_request(
    organisation: Organisation,
    service: Service,
    site: Site | None,
    preferred_date: dt.date | None,
    note: str,
    today: dt.date,
) -> None:
    if len(note) > MAX_NOTE:
        raise RedemptionError(
            _("The note is %(n)d characters long; at most %(max)d are allowed.")
            % {"n": len(note), "max": MAX_NOTE},
            field="note",
        )
    if site is not None and site.organisation_id != organisation.pk:
        raise RedemptionError(_("Choose one of your organisation's sites."), field="site")
    if service.requires_site and site is None:
        raise RedemptionError(
            _("Choose the site where the service should take place."), field="site"
        )
    if preferred_date is not None and preferred_date < today:
        raise RedemptionError(
            _("The preferred date cannot be in the past."), field="preferred_date"
        )


def request_redemption(
    organisation: Organisation,
    service: Service,
    by: User | None,
    *,
    key: str,
    site: Site | None = None,
    preferred_date: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> tuple[Redemption, bool]:
    """Hold the service's points and record the request. Returns (redemption, created): a repeat
    with the same key and the same request returns the first redemption; the same key with a
    different request raises IdempotencyConflict. Refusals (ineligible, capacity reached, too few
    points) raise before anything is written."""
    today = today or timezone.localdate()
    note = (note or "").strip()
    if not key:
        raise RedemptionError(_("An idempotency key is required."), field="key")
    wanted = _fingerprint(service, by, site, preferred_date, note)
    hold_key = f"redeem:{key}"
    # Checked before the request's own rules: a repeat gets the first answer even when those
    # rules would now refuse it (e.g. its preferred date has passed).
    if (earlier := _earlier_request(organisation, hold_key, wanted)) is not None:
        return earlier, False
    _check_request(organisation, service, site, preferred_date, note, today)
    try:
        with transaction.atomic():
            redemption = _hold_and_record(
                organisation, service, by, hold_key, site, preferred_date, note, today
            )
    except (IntegrityError, InsufficientPoints):
        # The same key raced in from another caller and committed first (its hold may also
        # have taken the points this one waited for): answer as a repeat.
        if (earlier := _earlier_request(organisation, hold_key, wanted)) is not None:
            return earlier, False
        raise
    return redemption, True


def _earlier_request(
    organisation: Organisation, hold_key: str, wanted: dict[str, Any]
) -> Redemption | None:
    """The redemption first requested under `hold_key`, or None; a different request under the
    same key raises IdempotencyConflict."""
    redemption_id = (
        LedgerEntry.objects.filter(account__organisation=organisation, idempotency_key=hold_key)
        .values_list("redemption_id", flat=True)
        .first()
    )
    if redemption_id is None:
        return None
    redemption = Redemption.objects.select_related("service").get(pk=redemption_id)
    if not _same_request(redemption, wanted):
        raise IdempotencyConflict(
            _("This idempotency key was already used for a different request."), field="key"
        )
    return redemption


def _hold_and_record(
    organisation: Organisation,
    service: Service,
    by: User | None,
    hold_key: str,
    site: Site | None,
    preferred_date: dt.date | None,
    note: str,
    today: dt.date,
) -> Redemption:
    """Inside the caller's transaction. Every check and insert that does not need the balance
    comes first; the account row is locked last, by the one UPDATE that checks and moves the
    balance (`ledger.hold_for_redemption`), so concurrent requests on one balance wait for each
    other only for the few statements that follow it."""
    if service.monthly_capacity is not None:
        # The service row serialises the month's places across organisations.
        service = Service.objects.select_for_update().get(pk=service.pk)
    why = ineligibility(service, organisation, today, site)
    if why is not None:
        raise RedemptionError(why[1], code=why[0], field="service")
    if service.monthly_capacity is not None:
        with tenancy.all_organisations():  # every organisation's requests use the places
            used = Redemption.objects.filter(
                service=service, capacity_month=month_start(today), status__in=OPEN_STATUSES
            ).count()
        if used >= service.monthly_capacity:
            raise RedemptionError(
                _(
                    "All %(capacity)d places for %(service)s this month are taken; "
                    "places open again on %(next)s."
                )
                % {
                    "capacity": service.monthly_capacity,
                    "service": service_name(service),
                    "next": ledger.add_months(month_start(today), 1).isoformat(),
                },
                code="capacity_reached",
                field="service",
            )
    redemption = Redemption.objects.create(
        organisation=organisation,
        service=service,
        points=service.points_cost,
        site=site,
        preferred_date=preferred_date,
        customer_note=note,
        capacity_month=month_start(today),
        requested_by=by,
    )
    audit.record(
        "carbon.redemption.requested",
        actor=by,
        organisation=organisation,
        obj=redemption,
        details={"service": service.slug, "points": redemption.points},
    )
    try:
        account = ledger.hold_for_redemption(
            organisation, service.points_cost, hold_key, redemption.pk
        )
    except InsufficientPoints as exc:
        raise InsufficientPoints(
            _("%(service)s costs %(cost)d points; %(available)d are available.")
            % {
                "service": service_name(service),
                "cost": service.points_cost,
                "available": max(exc.available, 0),
            },
            field="points",
        ) from exc
    redemption.balances_after = account
    _event(REDEMPTION_REQUESTED, redemption, account)
    _notify(redemption, "requested")
    return redemption


def _locked(redemption: Redemption) -> tuple[PointsAccount, Redemption]:
    account = ledger.account_for(redemption.organisation)
    account = PointsAccount.objects.select_for_update().get(pk=account.pk)
    locked = (
        Redemption.objects.select_for_update()
        .select_related("service", "organisation")
        .get(pk=redemption.pk)
    )
    return account, locked


def _require_open(redemption: Redemption) -> None:
    if redemption.status != RedemptionStatus.REQUESTED:
        raise RedemptionError(
            _("This redemption is already %(status)s.")
            % {"status": redemption.get_status_display().lower()},
            code="redemption_closed",
            field="status",
        )


def fulfil(
    redemption: Redemption,
    by: User,
    *,
    scheduled_for: dt.date,
    assignee: str,
    note: str = "",
) -> Redemption:
    """Staff confirm the service: the held points are spent and the customer is told when and
    by whom it will be delivered."""
    if not can_fulfil(by):
        raise PermissionDeniedError(_("Only customer success staff fulfil redemptions."))
    if scheduled_for is None:
        raise RedemptionError(_("Give the date of the service."), field="scheduled_for")
    if not (assignee or "").strip():
        raise RedemptionError(_("Name who delivers the service."), field="assignee")
    assignee = assignee.strip()
    return _close(
        redemption,
        by,
        RedemptionStatus.FULFILLED,
        fields={
            "scheduled_for": scheduled_for,
            "assignee": assignee,
            "staff_note": (note or "").strip(),
            "decided_by": by,
        },
        stamp="decided_at",
        details={"scheduled_for": scheduled_for.isoformat(), "assignee": assignee},
    )


def reject(redemption: Redemption, by: User, *, reason: str) -> Redemption:
    """Staff decline the request; its points go back to the available balance."""
    if not can_fulfil(by):
        raise PermissionDeniedError(_("Only customer success staff reject redemptions."))
    if not (reason or "").strip():
        raise RedemptionError(_("Tell the customer why the request is declined."), field="reason")
    return _close(
        redemption,
        by,
        RedemptionStatus.REJECTED,
        fields={"staff_note": reason.strip(), "decided_by": by},
        stamp="decided_at",
        details={"reason": reason.strip()},
    )


def cancel(redemption: Redemption, by: User | None) -> Redemption:
    """The customer withdraws a request before it is fulfilled; its points are released. A
    repeat on an already cancelled redemption returns it unchanged."""
    if by is not None and not has_perm(by, PERM_REDEEM, redemption.organisation):
        raise PermissionDeniedError(_("Only members and admins may cancel redemptions."))
    return _close(
        redemption,
        by,
        RedemptionStatus.CANCELLED,
        fields={"cancelled_by": by},
        stamp="cancelled_at",
        repeat_returns=True,
    )


_CLOSED_EVENTS: dict[str, str] = {
    RedemptionStatus.FULFILLED: REDEMPTION_FULFILLED,
    RedemptionStatus.REJECTED: REDEMPTION_REJECTED,
    RedemptionStatus.CANCELLED: REDEMPTION_CANCELLED,
}


def _close(
    redemption: Redemption,
    by: User | None,
    status: str,
    *,
    fields: dict[str, Any],
    stamp: str,
    details: dict[str, Any] | None = None,
    repeat_returns: bool = False,
) -> Redemption:
    """Settle an open request under the account and redemption row locks: a fulfilment captures
    its held points, a rejection or cancellation releases them; then the new status and `fields`
    (with `stamp` set to now), the event, the audit record and the e-mail to the requester.
    `repeat_returns`: a redemption already in `status` is returned unchanged."""
    with transaction.atomic():
        account, redemption = _locked(redemption)
        if repeat_returns and redemption.status == status:
            return redemption
        _require_open(redemption)
        if status == RedemptionStatus.FULFILLED:
            ledger.capture_hold(account, redemption.pk, f"capture:{redemption.pk}")
        else:
            ledger.release_hold(account, redemption.pk, f"release:{redemption.pk}")
        account.refresh_from_db()
        redemption.status = status
        for name, value in fields.items():
            setattr(redemption, name, value)
        setattr(redemption, stamp, timezone.now())
        redemption.save()
        _event(_CLOSED_EVENTS[status], redemption, account)
        audit.record(
            f"carbon.redemption.{status}",
            actor=by,
            organisation=redemption.organisation,
            obj=redemption,
            details=details,
        )
        _notify(redemption, str(status))
    return redemption
