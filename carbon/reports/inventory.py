"""The period inventory: the figures behind every report format, aggregated by a pure function.

`build_inventory` takes plain rows (one per order, with its current calculation snapshot's stored
figures, and the points ledger's movements; `carbon.reports.loader` reads them from the database)
and returns a frozen `Inventory`. No Django, no database, no recalculation: every figure is a sum
of figures already stored in the snapshots, in Decimal.

The counting rule (printed by every report, COUNTING_RULE): delivered orders only, each counted
in the period that holds its delivery date, with its current calculation snapshot. Other orders
offered are listed as excluded with the reason.

`data_hash` is the SHA-256 of a canonical JSON of the inventory (sorted keys, decimals as strings,
no spaces), so that a reissued report can be compared figure for figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from carbon.reports.period import ReportingPeriod
from carbon.reports.scope3 import Scope3Line, scope3_lines

ZERO = Decimal(0)
KG_PLACES = Decimal("0.000001")  # as stored in the snapshots
SHARE_PLACES = Decimal("0.000001")
INTENSITY_PLACES = Decimal("0.001")  # g CO2e per t·km

DELIVERED = "delivered"  # carbon.models.OrderStatus.DELIVERED, without importing Django
PRIMARY_TIER = "primary"
DEFAULT_TIER = "default"

COUNTING_RULE = (
    "Only delivered orders count. Each order is counted in the reporting period that contains "
    "its delivery date, with the figures of its current calculation snapshot (stored when it "
    "was calculated, not recalculated for the report). Orders not delivered, delivered outside "
    "the period, or without a calculation are excluded and listed with the reason."
)


class Exclusion(StrEnum):
    NOT_DELIVERED = "not_delivered"
    DELIVERED_OUTSIDE_PERIOD = "delivered_outside_period"
    NO_CURRENT_SNAPSHOT = "no_current_snapshot"


class PointsKind(StrEnum):
    """The ledger kinds the inventory names (carbon.models.EntryKind's values)."""

    EARNED = "earn_pending"
    ACTIVATED = "activate"
    REDEEMED = "capture"
    EXPIRED = "expire"


# --- input rows


@dataclass(frozen=True)
class LegRow:
    category: str  # vehicle category, e.g. "road.hgv.average_laden"; mode = first part
    tkm: Decimal
    ttw_kg: Decimal
    wtt_kg: Decimal
    radiative_forcing_kg: Decimal = ZERO
    data_tier: str = DEFAULT_TIER  # primary, modelled or default
    # Hub operations' WTW without a published TTW/WTT split (category "hub.*", mode "hub").
    hub_wtw_kg: Decimal = ZERO
    data_type: str = "modelled_default"  # from provenance: primary_fuel, carrier_intensity...
    # What the orders table, the CSV and the iLEAP JSON print of each leg (from the snapshot's
    # inputs and results; none of it enters the sums above).
    shipment: str = ""
    sequence: int = 0
    origin: str = ""
    destination: str = ""
    mass_t: Decimal | None = None
    distance_km: Decimal | None = None
    method: str = ""  # "distance" or "fuel"
    factor_ids: tuple[tuple[str, int], ...] = ()  # (role, EmissionFactor id): ttw, wtt, ttw_rf...

    @property
    def mode(self) -> str:
        return self.category.split(".", 1)[0]

    @property
    def wtw_kg(self) -> Decimal:
        return self.ttw_kg + self.wtt_kg + self.hub_wtw_kg


@dataclass(frozen=True)
class DeclarationUsed:
    """The green-power declaration a snapshot's market-based Scope 2 used."""

    declaration_id: int
    instrument: str
    green_ratio: Decimal
    period_start: dt.date
    period_end: dt.date


@dataclass(frozen=True)
class SnapshotFigures:
    """One order's current calculation snapshot, as stored."""

    snapshot_id: int
    method_version: str
    tkm: Decimal
    ttw_kg: Decimal
    wtt_kg: Decimal
    hub_wtw_kg: Decimal = ZERO  # hub operations' WTW without a published split
    radiative_forcing_kg: Decimal = ZERO
    electricity_kwh: Decimal = ZERO
    scope2_location_kg: Decimal = ZERO
    scope2_market_kg: Decimal | None = None  # None: no market-based figure (no declaration)
    declaration: DeclarationUsed | None = None
    legs: tuple[LegRow, ...] = ()
    legs_without_data: int = 0
    datasets: tuple[str, ...] = ()  # dataset labels
    site: str = ""  # the delivery site's name when the order has one

    @property
    def wtw_kg(self) -> Decimal:
        return self.ttw_kg + self.wtt_kg + self.hub_wtw_kg


@dataclass(frozen=True)
class OrderRow:
    order_id: int
    external_id: str
    organisation_id: int
    status: str
    delivery_date: dt.date | None
    snapshot: SnapshotFigures | None
    organisation_name: str = ""
    incoterm: str = ""  # Incoterms 2020 rule; empty: not stated


@dataclass(frozen=True)
class LedgerRow:
    """One points movement in the period (see carbon.models.points.ENTRY_RULES)."""

    kind: str
    points: int
    pending_delta: int = 0
    available_delta: int = 0
    held_delta: int = 0
    month: str = ""  # "YYYY-MM" of the day it was written, for the monthly trend


@dataclass(frozen=True)
class Balance:
    pending: int = 0
    available: int = 0
    held: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.available + self.held

    def plus(self, row: LedgerRow) -> Balance:
        return Balance(
            self.pending + row.pending_delta,
            self.available + row.available_delta,
            self.held + row.held_delta,
        )


# --- output


@dataclass(frozen=True)
class IntensityLine:
    """The GLEC reporting view of one transport mode or vehicle category."""

    key: str
    legs: int
    tkm: Decimal
    wtw_kg: Decimal
    intensity_g_per_tkm: Decimal | None  # WTW g CO2e per t·km; None without t·km


@dataclass(frozen=True)
class OrderLine:
    """One counted order: the orders table of the report, one row per order with its legs."""

    order_id: int
    external_id: str
    organisation_id: int
    organisation_name: str
    delivery_date: dt.date
    site: str
    snapshot_id: int
    method_version: str
    tkm: Decimal
    ttw_kg: Decimal
    wtt_kg: Decimal
    wtw_kg: Decimal
    radiative_forcing_kg: Decimal
    electricity_kwh: Decimal
    scope2_location_kg: Decimal
    scope2_market_kg: Decimal | None
    legs: tuple[LegRow, ...]
    incoterm: str = ""  # Incoterms 2020 rule; empty: not stated


@dataclass(frozen=True)
class MonthLine:
    """One calendar month of the period (every month, empty ones too, so a trend has no gaps)."""

    month: str  # "YYYY-MM"
    orders: int
    tkm: Decimal
    wtw_kg: Decimal
    intensity_g_per_tkm: Decimal | None
    points_earned: int
    points_redeemed: int


@dataclass(frozen=True)
class SiteLine:
    """The delivered orders of one delivery site ("" for orders without a site)."""

    site: str
    orders: int
    tkm: Decimal
    wtw_kg: Decimal
    electricity_kwh: Decimal
    scope2_location_kg: Decimal
    scope2_market_kg: Decimal


@dataclass(frozen=True)
class Scope2:
    electricity_kwh: Decimal
    location_kg: Decimal
    market_kg: Decimal  # over the orders that have a market-based figure
    orders_with_market: int
    orders_without_market: int
    declarations: tuple[DeclarationUsed, ...]


@dataclass(frozen=True)
class Points:
    earned: int
    activated: int
    redeemed: int
    expired: int
    balance: Balance  # at the period's end


@dataclass(frozen=True)
class ExcludedOrder:
    order_id: int
    external_id: str
    reason: Exclusion
    delivery_date: dt.date | None


@dataclass(frozen=True)
class DataQuality:
    legs: int
    legs_without_data: int
    tkm_by_tier: dict[str, Decimal]
    wtw_by_tier: dict[str, Decimal]
    primary_tkm_share: Decimal | None
    default_tkm_share: Decimal | None
    primary_wtw_share: Decimal | None
    default_wtw_share: Decimal | None
    excluded: tuple[ExcludedOrder, ...]
    excluded_by_reason: dict[str, int]
    # Share of WTW from legs whose data type (from provenance) is a modelled default: the
    # data-quality share of ISO 14083 reporting, beside the declared tiers above.
    modelled_default_wtw_share: Decimal | None = None


@dataclass(frozen=True)
class Inventory:
    period: ReportingPeriod
    counting_rule: str
    orders: int
    order_ids: tuple[int, ...]
    tkm: Decimal
    ttw_kg: Decimal
    wtt_kg: Decimal
    wtw_kg: Decimal
    intensity_g_per_tkm: Decimal | None
    radiative_forcing_kg: Decimal  # its own line: never included in wtw_kg
    by_mode: tuple[IntensityLine, ...]
    by_vehicle_category: tuple[IntensityLine, ...]
    by_month: tuple[MonthLine, ...]
    by_site: tuple[SiteLine, ...]
    lines: tuple[OrderLine, ...]
    scope2: Scope2
    points: Points
    data_quality: DataQuality
    method_versions: tuple[str, ...]
    datasets: tuple[str, ...]
    # Part of wtw_kg: hub operations' WTW without a published TTW/WTT split (GLEC defaults).
    hub_wtw_kg: Decimal = ZERO
    # The customer's Scope 3 view: category 4 (paid by the customer), 9 (by the seller), not
    # stated, by each order's Incoterm (carbon.reports.scope3).
    by_scope3_category: tuple[Scope3Line, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The inventory as JSON-ready data: decimals and dates as strings."""
        return _jsonable(self)

    @property
    def data_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the inventory."""
        return data_hash(self)


def _jsonable(value: Any) -> Any:
    if isinstance(value, ReportingPeriod):
        return value.as_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Balance):
            data["total"] = value.total
        return data
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    return value


def canonical_json(inventory: Inventory) -> str:
    return json.dumps(
        inventory.as_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def data_hash(inventory: Inventory) -> str:
    return hashlib.sha256(canonical_json(inventory).encode("utf-8")).hexdigest()


# --- the aggregation


def _kg(value: Decimal) -> Decimal:
    return value.quantize(KG_PLACES, rounding=ROUND_HALF_EVEN)


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_EVEN)


def _intensity(wtw_kg: Decimal, tkm: Decimal) -> Decimal | None:
    if not tkm:
        return None
    return (wtw_kg * 1000 / tkm).quantize(INTENSITY_PLACES, rounding=ROUND_HALF_EVEN)


def _lines(legs: list[LegRow], key) -> tuple[IntensityLine, ...]:
    groups: dict[str, list[LegRow]] = {}
    for leg in legs:
        groups.setdefault(key(leg), []).append(leg)
    lines = []
    for name in sorted(groups):
        tkm = sum((leg.tkm for leg in groups[name]), ZERO)
        wtw = sum((leg.wtw_kg for leg in groups[name]), ZERO)
        lines.append(
            IntensityLine(name, len(groups[name]), _kg(tkm), _kg(wtw), _intensity(wtw, tkm))
        )
    return tuple(lines)


def months(period: ReportingPeriod) -> list[str]:
    """Every calendar month ("YYYY-MM") the period touches, in order."""
    result = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _by_month(
    period: ReportingPeriod, counted: list[OrderRow], ledger: list[LedgerRow]
) -> tuple[MonthLine, ...]:
    # grouped once, so a ten-year custom period costs one pass over the orders, not 120
    snapshots: dict[str, list[SnapshotFigures]] = {}
    for order in counted:
        if order.delivery_date and order.snapshot is not None:
            snapshots.setdefault(order.delivery_date.strftime("%Y-%m"), []).append(order.snapshot)
    entries: dict[str, list[LedgerRow]] = {}
    for entry in ledger:
        entries.setdefault(entry.month, []).append(entry)
    lines = []
    for month in months(period):
        in_month = snapshots.get(month, [])
        tkm = sum((s.tkm for s in in_month), ZERO)
        wtw = sum((s.wtw_kg for s in in_month), ZERO)
        moved = entries.get(month, [])
        lines.append(
            MonthLine(
                month=month,
                orders=len(in_month),
                tkm=_kg(tkm),
                wtw_kg=_kg(wtw),
                intensity_g_per_tkm=_intensity(wtw, tkm),
                points_earned=sum(e.points for e in moved if e.kind == PointsKind.EARNED),
                points_redeemed=sum(e.points for e in moved if e.kind == PointsKind.REDEEMED),
            )
        )
    return tuple(lines)


def _by_site(snapshots: list[SnapshotFigures]) -> tuple[SiteLine, ...]:
    groups: dict[str, list[SnapshotFigures]] = {}
    for snapshot in snapshots:
        groups.setdefault(snapshot.site, []).append(snapshot)
    return tuple(
        SiteLine(
            site=site,
            orders=len(group),
            tkm=_kg(sum((s.tkm for s in group), ZERO)),
            wtw_kg=_kg(sum((s.wtw_kg for s in group), ZERO)),
            electricity_kwh=_kg(sum((s.electricity_kwh for s in group), ZERO)),
            scope2_location_kg=_kg(sum((s.scope2_location_kg for s in group), ZERO)),
            scope2_market_kg=_kg(sum((s.scope2_market_kg or ZERO for s in group), ZERO)),
        )
        for site, group in sorted(groups.items())
    )


def _line(order: OrderRow, snapshot: SnapshotFigures) -> OrderLine:
    if order.delivery_date is None:  # exclusion() keeps such orders out
        raise ValueError(f"order {order.order_id} counts without a delivery date")
    return OrderLine(
        order_id=order.order_id,
        external_id=order.external_id,
        organisation_id=order.organisation_id,
        organisation_name=order.organisation_name,
        delivery_date=order.delivery_date,
        site=snapshot.site,
        snapshot_id=snapshot.snapshot_id,
        method_version=snapshot.method_version,
        tkm=_kg(snapshot.tkm),
        ttw_kg=_kg(snapshot.ttw_kg),
        wtt_kg=_kg(snapshot.wtt_kg),
        wtw_kg=_kg(snapshot.wtw_kg),
        radiative_forcing_kg=_kg(snapshot.radiative_forcing_kg),
        electricity_kwh=_kg(snapshot.electricity_kwh),
        scope2_location_kg=_kg(snapshot.scope2_location_kg),
        scope2_market_kg=(
            _kg(snapshot.scope2_market_kg) if snapshot.scope2_market_kg is not None else None
        ),
        legs=snapshot.legs,
        incoterm=order.incoterm,
    )


def exclusion(order: OrderRow, period: ReportingPeriod) -> Exclusion | None:
    """Why `order` does not count in `period` (COUNTING_RULE), or None when it counts."""
    if order.status != DELIVERED:
        return Exclusion.NOT_DELIVERED
    if order.delivery_date is None or order.delivery_date not in period:
        return Exclusion.DELIVERED_OUTSIDE_PERIOD
    if order.snapshot is None:
        return Exclusion.NO_CURRENT_SNAPSHOT
    return None


def _points(entries: list[LedgerRow], opening: Balance) -> Points:
    def moved(kind: PointsKind) -> int:
        return sum(e.points for e in entries if e.kind == kind.value)

    balance = opening
    for entry in entries:
        balance = balance.plus(entry)
    return Points(
        earned=moved(PointsKind.EARNED),
        activated=moved(PointsKind.ACTIVATED),
        redeemed=moved(PointsKind.REDEEMED),
        expired=moved(PointsKind.EXPIRED),
        balance=balance,
    )


def _scope2(snapshots: list[SnapshotFigures]) -> Scope2:
    with_market = [s for s in snapshots if s.scope2_market_kg is not None]
    declarations = {s.declaration.declaration_id: s.declaration for s in snapshots if s.declaration}
    return Scope2(
        electricity_kwh=_kg(sum((s.electricity_kwh for s in snapshots), ZERO)),
        location_kg=_kg(sum((s.scope2_location_kg for s in snapshots), ZERO)),
        market_kg=_kg(sum((s.scope2_market_kg or ZERO for s in with_market), ZERO)),
        orders_with_market=len(with_market),
        orders_without_market=len(snapshots) - len(with_market),
        declarations=tuple(declarations[k] for k in sorted(declarations)),
    )


def _data_quality(
    snapshots: list[SnapshotFigures], legs: list[LegRow], excluded: list[ExcludedOrder]
) -> DataQuality:
    tkm_by_tier: dict[str, Decimal] = {}
    wtw_by_tier: dict[str, Decimal] = {}
    for leg in legs:
        tkm_by_tier[leg.data_tier] = tkm_by_tier.get(leg.data_tier, ZERO) + leg.tkm
        wtw_by_tier[leg.data_tier] = wtw_by_tier.get(leg.data_tier, ZERO) + leg.wtw_kg
    tkm = sum(tkm_by_tier.values(), ZERO)
    wtw = sum(wtw_by_tier.values(), ZERO)
    by_reason: dict[str, int] = {}
    for order in excluded:
        by_reason[order.reason.value] = by_reason.get(order.reason.value, 0) + 1
    return DataQuality(
        legs=len(legs),
        legs_without_data=sum(s.legs_without_data for s in snapshots),
        tkm_by_tier={k: _kg(v) for k, v in sorted(tkm_by_tier.items())},
        wtw_by_tier={k: _kg(v) for k, v in sorted(wtw_by_tier.items())},
        primary_tkm_share=_share(tkm_by_tier.get(PRIMARY_TIER, ZERO), tkm),
        default_tkm_share=_share(tkm_by_tier.get(DEFAULT_TIER, ZERO), tkm),
        primary_wtw_share=_share(wtw_by_tier.get(PRIMARY_TIER, ZERO), wtw),
        default_wtw_share=_share(wtw_by_tier.get(DEFAULT_TIER, ZERO), wtw),
        excluded=tuple(excluded),
        excluded_by_reason=dict(sorted(by_reason.items())),
        modelled_default_wtw_share=_share(
            sum((leg.wtw_kg for leg in legs if leg.data_type == "modelled_default"), ZERO), wtw
        ),
    )


def build_inventory(
    period: ReportingPeriod,
    orders: list[OrderRow],
    ledger: list[LedgerRow],
    opening: Balance | None = None,
) -> Inventory:
    """The inventory of `period` over `orders` (any order offered; COUNTING_RULE picks those
    that count) and the points `ledger` movements of the period, starting from the `opening`
    balance (the balance at the end of the day before the period starts)."""
    counted: list[OrderRow] = []
    excluded: list[ExcludedOrder] = []
    for order in sorted(orders, key=lambda o: o.order_id):
        reason = exclusion(order, period)
        if reason is None:
            counted.append(order)
        else:
            excluded.append(
                ExcludedOrder(order.order_id, order.external_id, reason, order.delivery_date)
            )
    snapshots = [o.snapshot for o in counted if o.snapshot is not None]
    legs = [leg for s in snapshots for leg in s.legs]
    tkm = sum((s.tkm for s in snapshots), ZERO)
    ttw = sum((s.ttw_kg for s in snapshots), ZERO)
    wtt = sum((s.wtt_kg for s in snapshots), ZERO)
    hub = sum((s.hub_wtw_kg for s in snapshots), ZERO)
    return Inventory(
        period=period,
        counting_rule=COUNTING_RULE,
        orders=len(counted),
        order_ids=tuple(o.order_id for o in counted),
        tkm=_kg(tkm),
        ttw_kg=_kg(ttw),
        wtt_kg=_kg(wtt),
        wtw_kg=_kg(ttw + wtt + hub),
        hub_wtw_kg=_kg(hub),
        by_scope3_category=tuple(
            replace(line, tkm=_kg(line.tkm), wtw_kg=_kg(line.wtw_kg))
            for line in scope3_lines(
                (o.incoterm, o.snapshot.tkm, o.snapshot.wtw_kg)
                for o in counted
                if o.snapshot is not None
            )
        ),
        intensity_g_per_tkm=_intensity(ttw + wtt + hub, tkm),
        radiative_forcing_kg=_kg(sum((s.radiative_forcing_kg for s in snapshots), ZERO)),
        by_mode=_lines(legs, lambda leg: leg.mode),
        by_vehicle_category=_lines(legs, lambda leg: leg.category),
        by_month=_by_month(period, counted, ledger),
        by_site=_by_site(snapshots),
        lines=tuple(_line(o, o.snapshot) for o in counted if o.snapshot is not None),
        scope2=_scope2(snapshots),
        points=_points(ledger, opening or Balance()),
        data_quality=_data_quality(snapshots, legs, excluded),
        method_versions=tuple(sorted({s.method_version for s in snapshots})),
        datasets=tuple(sorted({d for s in snapshots for d in s.datasets})),
    )
