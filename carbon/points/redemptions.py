"""Redeeming points for services: the catalogue as one organisation sees it (eligibility and
places left this month), the rules a request and a decision must meet, and the rows of a request
(`hold_and_record`). Callers take the writes (request, fulfil, reject, cancel) from
carbon.points.actions.

Every action locks the organisation's points account first and, for a request, the service row
next (always in that order, so two requests cannot deadlock). The capacity count and the balance
check therefore see every committed request, and concurrent requests on PostgreSQL can neither
overdraw the balance nor overbook a month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_countries import countries

from carbon.models import (
    LedgerEntry,
    PointsAccount,
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.points import ledger
from carbon.points.catalogue import service_name
from carbon.points.events import REDEMPTION_REQUESTED
from carbon.points.exceptions import IdempotencyConflict, InsufficientPoints, RedemptionError
from portal import audit, events, tenancy
from portal.models import Organisation, OutboxEvent, Site, Tier, User

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
            # Countries by name in the reader's language ("China, Japan"; "中国、日本").
            names = [str(countries.name(code)) or code for code in service.eligible_countries]
            return "region_not_eligible", _("This service is offered in %(countries)s only.") % {
                "countries": pgettext("between the items of a list", ", ").join(names)
            }
    return None


def offers(organisation: Organisation, today: dt.date | None = None) -> list[Offer]:
    """The catalogue for one organisation, with eligibility and what is left this month.
    Three queries whatever the catalogue's size (two more on PostgreSQL set and restore the
    row-level scope around the capacity count)."""
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


def request_fingerprint(
    service: Service, by: User | None, site: Site | None, preferred: dt.date | None, note: str
) -> dict[str, Any]:
    """What makes two requests under one idempotency key the same request."""
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


def check_request(
    organisation: Organisation,
    service: Service,
    site: Site | None,
    preferred_date: dt.date | None,
    note: str,
    today: dt.date,
) -> None:
    """Refuse a request whose own fields are wrong (before any row is locked)."""
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


def earlier_request(
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


def require_open(redemption: Redemption) -> None:
    if redemption.status != RedemptionStatus.REQUESTED:
        raise RedemptionError(
            _("This redemption is already %(status)s.")
            % {"status": redemption.get_status_display().lower()},
            code="redemption_closed",
            field="status",
        )


def check_capacity(service: Service, today: dt.date) -> None:
    """Refuse a request when this month's places of `service` are all taken (every
    organisation's open requests count). The caller holds the service row's lock."""
    if service.monthly_capacity is None:
        return
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


def lock_for_decision(redemption: Redemption) -> tuple[PointsAccount, Redemption]:
    """The organisation's points account and the redemption, both locked, account first (the
    order every points write takes its locks in). Inside the caller's transaction."""
    account = ledger.account_for(redemption.organisation)
    account = PointsAccount.objects.select_for_update().get(pk=account.pk)
    locked = (
        Redemption.objects.select_for_update()
        .select_related("service", "organisation")
        .get(pk=redemption.pk)
    )
    return account, locked


def publish_event(
    type_: str, redemption: Redemption, account: PointsAccount | ledger.HeldBalances | None = None
) -> None:
    """Publish one of the redemption events (carbon.points.events) about `redemption`, with the
    account's balances after it when given."""
    data = _event_data(redemption)
    if account is not None:
        data["balances"] = {
            "pending": account.pending,
            "available": account.available,
            "held": account.held,
        }
    events.publish(type_, redemption.organisation, f"redemptions/{redemption.pk}", data)


def prepare_event(type_: str, redemption: Redemption) -> OutboxEvent:
    """The event `publish_event` would write, unsaved, for `ledger.hold_for_redemption` to write
    with the hold, which puts the balances after it into its data (zeros until then)."""
    data = {**_event_data(redemption), "balances": {"pending": 0, "available": 0, "held": 0}}
    return events.prepare(type_, redemption.organisation, f"redemptions/{redemption.pk}", data)


def _event_data(redemption: Redemption) -> dict[str, Any]:
    data: dict[str, Any] = {
        "redemption_id": redemption.pk,
        "service": redemption.service.slug,
        "service_kind": redemption.service.kind,
        "points": redemption.points,
        "status": redemption.status,
    }
    if redemption.scheduled_for:
        data["scheduled_for"] = redemption.scheduled_for.isoformat()
    return data


def hold_and_record(
    organisation: Organisation,
    service: Service,
    by: User | None,
    hold_key: str,
    site: Site | None,
    preferred_date: dt.date | None,
    note: str,
    today: dt.date,
    remember: Callable[[Redemption], ledger.BalanceRow] | None,
    *,
    redemption_id: int | None = None,
    commit: bool = False,
) -> Redemption:
    """Write a request's rows inside the caller's transaction (for
    `carbon.points.actions.request_redemption`, the write callers use). Every check and insert
    that does not need the balance comes first; the account row is locked last, by the one
    statement that checks and moves the balance and writes the redemption, its audit row, the
    hold's entry, the event and `remember`'s row (`ledger.hold_for_redemption`; on PostgreSQL),
    so concurrent requests on one balance wait for each other only for that statement and the
    COMMIT, and a refusal for want of points writes nothing. The e-mail to the requester goes out
    from the outbox worker (`carbon.points.subscribers`), not from this request. `commit`: the
    hold's statement ends the caller's transaction too (`ledger.hold_for_redemption`)."""
    if service.monthly_capacity is not None:
        # The service row serialises the month's places across organisations.
        service = Service.objects.select_for_update().get(pk=service.pk)
    why = ineligibility(service, organisation, today, site)
    if why is not None:
        raise RedemptionError(why[1], code=why[0], field="service")
    check_capacity(service, today)
    redemption = Redemption(
        organisation=organisation,
        service=service,
        points=service.points_cost,
        site=site,
        preferred_date=preferred_date,
        customer_note=note,
        capacity_month=month_start(today),
        requested_by=by,
        # Stamped now, as the response and the event that quote it are built before the row.
        requested_at=timezone.now(),
    )
    writes: list[Any] = []
    if connection.vendor == "postgresql":
        # The hold's statement writes the redemption and its audit row too; they name its id.
        redemption.pk = redemption_id or ledger.next_id(Redemption)
        writes.append(redemption)
    else:
        redemption.save(force_insert=True)
    # Under the requester's scope: the redemption's row, written for this organisation, passes
    # the same policy.
    writes.append(
        audit.record(
            "carbon.redemption.requested",
            actor=by,
            organisation=organisation,
            obj=redemption,
            details={"service": service.slug, "points": redemption.points},
            save=False,
        )
    )
    rows: list[ledger.BalanceRow] = [(prepare_event(REDEMPTION_REQUESTED, redemption), "data")]
    if remember is not None:
        rows.append(remember(redemption))
    try:
        account = ledger.hold_for_redemption(
            organisation,
            service.points_cost,
            hold_key,
            redemption.pk,
            rows=rows,
            writes=writes,
            commit=commit,
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
    return redemption
