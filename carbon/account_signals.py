"""Carbon's components of the account health score (portal.account_signals, hook
`greenloop_account_signals`): the footprint's intensity trend and the use of points. A fixed
number of queries for any number of organisations. Imported from CarbonConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from wagtail import hooks

from carbon.models import (
    EntryKind,
    LedgerEntry,
    Order,
    PointsAccount,
    Redemption,
    RedemptionStatus,
)
from carbon.points import lots
from portal.account_signals import HOOK_NAME
from portal.health import Component, share_score, trend_score

# Intensity 20% below the same period of last year scores 100, 20% above scores 0.
TREND_FULL_AT = 0.2
EXPIRING_DAYS = 90


def _same_day_last_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _intensity(wtw_kg: Decimal | None, tkm: Decimal | None) -> float | None:
    """g CO2e per t·km, or None without freight."""
    if not tkm:
        return None
    return float((wtw_kg or 0) * 1000 / tkm)


def _footprints(organisation_ids: list[int], today: dt.date) -> dict[int, dict]:
    this_year = dt.date(today.year, 1, 1)
    last_year = dt.date(today.year - 1, 1, 1)
    then = _same_day_last_year(today)
    current = Q(snapshots__is_current=True)
    now_period = current & Q(order_date__gte=this_year, order_date__lte=today)
    then_period = current & Q(order_date__gte=last_year, order_date__lte=then)
    rows = (
        Order.objects.filter(organisation_id__in=organisation_ids, order_date__gte=last_year)
        .values("organisation_id")
        .annotate(
            orders=Count(
                "id", distinct=True, filter=Q(order_date__gte=this_year, order_date__lte=today)
            ),
            wtw=Sum("snapshots__wtw_kg", filter=now_period),
            tkm=Sum("snapshots__tkm", filter=now_period),
            wtw_before=Sum("snapshots__wtw_kg", filter=then_period),
            tkm_before=Sum("snapshots__tkm", filter=then_period),
        )
    )
    return {row["organisation_id"]: row for row in rows}


def _expiring(accounts: dict[int, PointsAccount], by: dt.date) -> dict[int, int]:
    """Available points expiring by `by`, per organisation: every account's ledger replayed from
    one query (carbon.points.lots), as carbon.points.ledger.expiring_lots does for one account."""
    movements: dict[int, list[lots.Movement]] = defaultdict(list)
    organisation_of = {account.pk: pk for pk, account in accounts.items()}
    entries = (
        LedgerEntry.objects.filter(account_id__in=organisation_of)
        .order_by("account_id", "id")
        .values_list(
            "account_id",
            "id",
            "kind",
            "points",
            "available_delta",
            "award_id",
            "redemption_id",
            "expires_on",
        )
    )
    for account_id, entry_id, kind, points, available, award_id, redemption_id, expires in entries:
        movements[account_id].append(
            lots.Movement(
                kind=kind,
                points=points,
                available_delta=available,
                award_id=award_id,
                redemption_id=redemption_id,
                expires_on=expires,
                entry_id=entry_id,
            )
        )
    return {
        organisation_of[account_id]: sum(points for _day, points in lots.replay(moves).expiring(by))
        for account_id, moves in movements.items()
    }


def _points(organisation_ids: list[int], now: dt.datetime, today: dt.date) -> dict[int, dict]:
    accounts = {
        a.organisation_id: a
        for a in PointsAccount.objects.filter(organisation_id__in=organisation_ids)
    }
    since = now - dt.timedelta(days=365)
    flows = {
        row["account__organisation_id"]: row
        for row in LedgerEntry.objects.filter(
            account__organisation_id__in=organisation_ids, created_at__gte=since
        )
        .values("account__organisation_id")
        .annotate(
            earned=Sum("points", filter=Q(kind=EntryKind.EARN_PENDING)),
            redeemed=Sum("points", filter=Q(kind=EntryKind.CAPTURE)),
        )
    }
    open_redemptions = dict(
        Redemption.objects.filter(
            organisation_id__in=organisation_ids, status=RedemptionStatus.REQUESTED
        )
        .values("organisation_id")
        .annotate(n=Count("id"))
        .values_list("organisation_id", "n")
    )
    expiring = _expiring(accounts, today + dt.timedelta(days=EXPIRING_DAYS))
    found = {}
    for pk in organisation_ids:
        account = accounts.get(pk)
        flow = flows.get(pk, {})
        found[pk] = {
            "earned_12m": flow.get("earned") or 0,
            "redeemed_12m": flow.get("redeemed") or 0,
            "available": account.available if account else 0,
            "pending": account.pending if account else 0,
            "held": account.held if account else 0,
            f"expiring_{EXPIRING_DAYS}d": expiring.get(pk, 0),
            "open_redemptions": open_redemptions.get(pk, 0),
        }
    return found


@hooks.register(HOOK_NAME)
def carbon_signals(organisation_ids: list[int], now: dt.datetime) -> dict[int, list[Component]]:
    today = timezone.localdate(now)
    footprints = _footprints(organisation_ids, today)
    points = _points(organisation_ids, now, today)
    found = {}
    for pk in organisation_ids:
        row = footprints.get(pk, {})
        intensity = _intensity(row.get("wtw"), row.get("tkm"))
        before = _intensity(row.get("wtw_before"), row.get("tkm_before"))
        trend = round(100 * (intensity - before) / before, 1) if intensity and before else None
        figures = points[pk]
        found[pk] = [
            Component(
                "carbon_intensity",
                trend_score(intensity, before, full_at=TREND_FULL_AT),
                "carbon",
                {
                    "ytd_orders": row.get("orders") or 0,
                    "ytd_wtw_kg": round(float(row.get("wtw") or 0), 1),
                    "ytd_intensity_g_per_tkm": round(intensity, 2) if intensity else None,
                    "last_year_intensity_g_per_tkm": round(before, 2) if before else None,
                    "intensity_change_pct": trend,
                },
            ),
            Component(
                "points_use",
                # Redeeming half of what was earned in the last 12 months scores 100.
                share_score(figures["redeemed_12m"], figures["earned_12m"] / 2),
                "carbon",
                figures,
            ),
        ]
    return found
