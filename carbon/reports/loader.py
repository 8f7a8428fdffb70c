"""Reading a period inventory's rows from the database: stored snapshots and ledger entries.

Nothing is recalculated: every figure comes from the orders' current `CalculationSnapshot`
(its total columns, and its `results`/`inputs` JSON for the legs, radiative forcing and the
green-power declaration used). Three queries whatever the number of orders: the orders with their
current snapshot (one LEFT JOIN), the ledger entries of the period, and the opening balance.

The caller checks permissions: `organisation` None reads every customer (vendor staff), and the
database's row-level scope (portal.tenancy) still applies.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import FilteredRelation, Q, Sum

from carbon.models import LedgerEntry, Order
from carbon.reports.inventory import (
    ZERO,
    Balance,
    DeclarationUsed,
    Inventory,
    LedgerRow,
    LegRow,
    OrderRow,
    SnapshotFigures,
    build_inventory,
)
from carbon.reports.period import ReportingPeriod
from portal.models import Organisation

_ORDER_FIELDS = (
    "pk",
    "external_id",
    "organisation_id",
    "status",
    "delivery_date",
    "current__id",
    "current__method_version",
    "current__tkm",
    "current__ttw_kg",
    "current__wtt_kg",
    "current__electricity_kwh",
    "current__scope2_location_kg",
    "current__scope2_market_kg",
    "current__results",
    "current__inputs",
    "current__datasets",
)


def _decimal(text: Any) -> Decimal:
    return Decimal(str(text)) if text not in (None, "") else ZERO


def _declaration(inputs: dict[str, Any]) -> DeclarationUsed | None:
    used = inputs.get("green_power")
    if not used:
        return None
    return DeclarationUsed(
        declaration_id=int(used["declaration_id"]),
        instrument=str(used["instrument"]),
        green_ratio=_decimal(used["green_ratio"]),
        period_start=dt.date.fromisoformat(used["period_start"]),
        period_end=dt.date.fromisoformat(used["period_end"]),
    )


def snapshot_figures(row: dict[str, Any]) -> SnapshotFigures:
    """A snapshot's figures from its columns and JSON (legs of `results` in the order of the
    `inputs` legs, which carry the data tier)."""
    results = row["current__results"] or {}
    inputs = row["current__inputs"] or {}
    tiers = [leg.get("data_tier") for leg in inputs.get("legs", [])]
    legs = tuple(
        LegRow(
            category=leg["category"],
            tkm=_decimal(leg["tkm"]),
            ttw_kg=_decimal(leg["ttw_kg"]),
            wtt_kg=_decimal(leg["wtt_kg"]),
            radiative_forcing_kg=_decimal(leg.get("radiative_forcing_kg")),
            data_tier=(tiers[i] if i < len(tiers) and tiers[i] else "default"),
        )
        for i, leg in enumerate(results.get("legs", []))
    )
    totals = results.get("totals", {})
    quality = results.get("data_quality", {})
    market = row["current__scope2_market_kg"]
    return SnapshotFigures(
        snapshot_id=row["current__id"],
        method_version=row["current__method_version"],
        tkm=row["current__tkm"],
        ttw_kg=row["current__ttw_kg"],
        wtt_kg=row["current__wtt_kg"],
        radiative_forcing_kg=_decimal(totals.get("radiative_forcing_kg")),
        electricity_kwh=row["current__electricity_kwh"],
        scope2_location_kg=row["current__scope2_location_kg"],
        scope2_market_kg=market,
        declaration=_declaration(inputs),
        legs=legs,
        legs_without_data=int(quality.get("legs_with_missing_data") or 0),
        datasets=tuple(sorted({d["label"] for d in row["current__datasets"] or []})),
    )


def order_rows(organisation: Organisation | None, period: ReportingPeriod) -> list[OrderRow]:
    """The orders offered to the inventory: delivered in the period, or ordered in it (so that
    those that do not count are listed with the reason). One query."""
    days = (period.start, period.end)
    orders = Order.objects.filter(Q(delivery_date__range=days) | Q(order_date__range=days))
    if organisation is not None:
        orders = orders.filter(organisation=organisation)
    rows = (
        orders.annotate(
            current=FilteredRelation("snapshots", condition=Q(snapshots__is_current=True))
        )
        .order_by("pk")
        .values(*_ORDER_FIELDS)
    )
    return [
        OrderRow(
            order_id=row["pk"],
            external_id=row["external_id"],
            organisation_id=row["organisation_id"],
            status=row["status"],
            delivery_date=row["delivery_date"],
            snapshot=snapshot_figures(row) if row["current__id"] is not None else None,
        )
        for row in rows
    ]


def ledger_rows(
    organisation: Organisation | None, period: ReportingPeriod
) -> tuple[list[LedgerRow], Balance]:
    """The points movements of the period (by the day they were written, in the project's time
    zone) and the balance before it. Two queries."""
    entries = LedgerEntry.objects.all()
    if organisation is not None:
        entries = entries.filter(account__organisation=organisation)
    movements = [
        LedgerRow(kind, points, pending, available, held)
        for kind, points, pending, available, held in entries.filter(
            created_at__date__range=(period.start, period.end)
        )
        .order_by("pk")
        .values_list("kind", "points", "pending_delta", "available_delta", "held_delta")
    ]
    before = entries.filter(created_at__date__lt=period.start).aggregate(
        pending=Sum("pending_delta"), available=Sum("available_delta"), held=Sum("held_delta")
    )
    opening = Balance(before["pending"] or 0, before["available"] or 0, before["held"] or 0)
    return movements, opening


def load_inventory(organisation: Organisation | None, period: ReportingPeriod) -> Inventory:
    """The inventory of `organisation` (None: every customer) for `period`, in three queries."""
    movements, opening = ledger_rows(organisation, period)
    return build_inventory(period, order_rows(organisation, period), movements, opening)
