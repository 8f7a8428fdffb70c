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

from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from carbon.models import (
    CalculationSnapshot,
    FactorDataset,
    LedgerEntry,
    Order,
    PointsPolicy,
    PolicyStatus,
)
from carbon.reports.document import DatasetSource, PointsPolicyUsed
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
    "organisation__name",
    "incoterm",
)
_SNAPSHOT_FIELDS = (
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


def _optional_decimal(text: Any) -> Decimal | None:
    return Decimal(str(text)) if text not in (None, "") else None


def _leg(result: dict[str, Any], given: dict[str, Any]) -> LegRow:
    """One leg from the snapshot's `results` leg and the `inputs` leg in the same position."""
    return LegRow(
        category=result["category"],
        tkm=_decimal(result["tkm"]),
        ttw_kg=_decimal(result["ttw_kg"]),
        wtt_kg=_decimal(result["wtt_kg"]),
        hub_wtw_kg=_decimal(result.get("hub_wtw_kg")),
        radiative_forcing_kg=_decimal(result.get("radiative_forcing_kg")),
        data_tier=given.get("data_tier") or "default",
        data_type=given.get("data_type") or "modelled_default",
        shipment=str(result.get("shipment") or given.get("shipment") or ""),
        sequence=int(result.get("sequence") or given.get("sequence") or 0),
        origin=str(given.get("origin") or ""),
        destination=str(given.get("destination") or ""),
        mass_t=_optional_decimal(given.get("mass_t")),
        distance_km=_optional_decimal(given.get("distance_km")),
        method=str(result.get("method") or ""),
        factor_ids=tuple(
            (role, int(factor))
            for role, factor in sorted((result.get("factors") or {}).items())
            if factor is not None
        ),
    )


def snapshot_figures(row: dict[str, Any]) -> SnapshotFigures:
    """A snapshot's figures from its columns and JSON (legs of `results` in the order of the
    `inputs` legs, which carry the data tier)."""
    results = row["current__results"] or {}
    inputs = row["current__inputs"] or {}
    given = inputs.get("legs", [])
    legs = tuple(
        _leg(leg, given[i] if i < len(given) else {})
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
        hub_wtw_kg=_decimal(totals.get("hub_wtw_kg")),
        radiative_forcing_kg=_decimal(totals.get("radiative_forcing_kg")),
        electricity_kwh=row["current__electricity_kwh"],
        scope2_location_kg=row["current__scope2_location_kg"],
        scope2_market_kg=market,
        declaration=_declaration(inputs),
        legs=legs,
        legs_without_data=int(quality.get("legs_with_missing_data") or 0),
        datasets=tuple(sorted({d["label"] for d in row["current__datasets"] or []})),
        site=str((inputs.get("site") or {}).get("name") or ""),
    )


def _pinned_snapshots(orders: QuerySet[Order], as_of: dt.datetime) -> dict[int, dict[str, Any]]:
    """Each order's snapshot that was current at `as_of` (the latest written by then), keyed by
    order id, with the same keys as the current-snapshot columns. One query.

    Pinning a report to the moment its figures were first read makes a reissue give the same
    figures after new factor datasets are published and the orders recalculated."""
    later = CalculationSnapshot.objects.filter(
        order=OuterRef("order"), created_at__lte=as_of, created_at__gt=OuterRef("created_at")
    )
    fields = [name.removeprefix("current__") for name in _SNAPSHOT_FIELDS]
    pinned = (
        CalculationSnapshot.objects.filter(order__in=orders.values("pk"), created_at__lte=as_of)
        .exclude(Exists(later))
        .values("order_id", *fields)
    )
    return {row["order_id"]: {f"current__{name}": row[name] for name in fields} for row in pinned}


def order_rows(
    organisation: Organisation | None,
    period: ReportingPeriod,
    as_of: dt.datetime | None = None,
) -> list[OrderRow]:
    """The orders offered to the inventory: delivered in the period, or ordered in it (so that
    those that do not count are listed with the reason), each with its current snapshot (one
    query) or the one current at `as_of` (two queries)."""
    days = (period.start, period.end)
    orders = Order.objects.filter(Q(delivery_date__range=days) | Q(order_date__range=days))
    if organisation is not None:
        orders = orders.filter(organisation=organisation)
    if as_of is None:
        rows = list(
            orders.annotate(
                current=FilteredRelation("snapshots", condition=Q(snapshots__is_current=True))
            )
            .order_by("pk")
            .values(*_ORDER_FIELDS, *_SNAPSHOT_FIELDS)
        )
    else:
        pinned = _pinned_snapshots(orders, as_of)
        empty = dict.fromkeys(_SNAPSHOT_FIELDS)
        rows = [
            row | pinned.get(row["pk"], empty)
            for row in orders.order_by("pk").values(*_ORDER_FIELDS)
        ]
    return [
        OrderRow(
            order_id=row["pk"],
            external_id=row["external_id"],
            organisation_id=row["organisation_id"],
            status=row["status"],
            delivery_date=row["delivery_date"],
            snapshot=snapshot_figures(row) if row["current__id"] is not None else None,
            organisation_name=row["organisation__name"],
            incoterm=row["incoterm"],
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
        LedgerRow(
            kind, points, pending, available, held, timezone.localtime(written).strftime("%Y-%m")
        )
        for kind, points, pending, available, held, written in entries.filter(
            created_at__date__range=(period.start, period.end)
        )
        .order_by("pk")
        .values_list(
            "kind", "points", "pending_delta", "available_delta", "held_delta", "created_at"
        )
    ]
    before = entries.filter(created_at__date__lt=period.start).aggregate(
        pending=Sum("pending_delta"), available=Sum("available_delta"), held=Sum("held_delta")
    )
    opening = Balance(before["pending"] or 0, before["available"] or 0, before["held"] or 0)
    return movements, opening


def load_inventory(
    organisation: Organisation | None,
    period: ReportingPeriod,
    as_of: dt.datetime | None = None,
) -> Inventory:
    """The inventory of `organisation` (None: every customer) for `period`, in three queries,
    from the current snapshots or from those current at `as_of` (see _snapshot_condition)."""
    movements, opening = ledger_rows(organisation, period)
    return build_inventory(period, order_rows(organisation, period, as_of), movements, opening)


def dataset_sources(labels: tuple[str, ...]) -> tuple[DatasetSource, ...]:
    """The datasets named by `labels` ("slug@version"), as the sources appendix cites them, in
    the order of `labels`. One query."""
    wanted: list[tuple[str, int]] = []
    for label in labels:
        slug, _, number = label.rpartition("@")
        if slug and number.isdigit():
            wanted.append((slug, int(number)))
    query = Q(pk__in=[])
    for slug, version in wanted:
        query |= Q(slug=slug, version=version)
    found = {
        (d.slug, d.version): DatasetSource(
            label=d.label,
            title=d.title,
            publisher=d.publisher,
            version=d.version,
            publication_date=d.publication_date,
            licence=d.licence,
            url=d.source_url,
            gwp_basis=d.gwp_basis,
        )
        for d in FactorDataset.objects.filter(query)
    }
    return tuple(found[key] for key in wanted if key in found)


def points_policies(period: ReportingPeriod) -> tuple[PointsPolicyUsed, ...]:
    """The points policy versions in force during `period`, oldest first: the one in force on
    its first day and every one that took effect within it (approved versions only: active, or
    retired since). One query."""
    policies = list(
        PointsPolicy.objects.filter(
            status__in=(PolicyStatus.ACTIVE, PolicyStatus.RETIRED), effective_from__lte=period.end
        ).order_by("effective_from", "version")
    )
    before = [p for p in policies if p.effective_from <= period.start]
    used = before[-1:] + [p for p in policies if p.effective_from > period.start]
    return tuple(
        PointsPolicyUsed(
            version=p.version,
            effective_from=p.effective_from,
            baseline_kg_per_tkm=p.baseline_kg_per_tkm,
            points_per_kg=p.points_per_kg,
            include_green_power=p.include_green_power,
            pending_days=p.pending_days,
            expiry_months=p.expiry_months,
            per_period_cap=p.per_period_cap,
            explanation=p.explanation,
            explanation_zh=p.explanation_zh,
        )
        for p in used
    )
