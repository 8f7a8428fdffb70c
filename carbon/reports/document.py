"""What every report format renders: the inventory plus the facts about the report itself.

A renderer (PDF, CSV, XLSX, iLEAP JSON) is a pure function `render(document) -> bytes` over a
`ReportDocument`: no database, no clock, no request. Everything that varies between two
generations of the same report (issue time, report id, language) is in the document, taken from
the report's record, so that the same record renders to the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from carbon.reports.inventory import Inventory


@dataclass(frozen=True)
class DatasetSource:
    """One factor dataset the figures used, as the sources appendix cites it."""

    label: str  # "slug@version", as the snapshots and the inventory name it
    title: str
    publisher: str
    version: int
    publication_date: dt.date
    licence: str
    url: str
    gwp_basis: str  # "AR5", "AR6"...


@dataclass(frozen=True)
class PointsPolicyUsed:
    """A points policy version in force during the period, as the methodology prints it."""

    version: int
    effective_from: dt.date
    baseline_kg_per_tkm: Decimal | None  # None: a baseline per transport service class
    points_per_kg: Decimal
    include_green_power: bool
    pending_days: int
    expiry_months: int
    per_period_cap: int | None
    explanation: str
    explanation_zh: str

    def explanation_in(self, language: str) -> str:
        return (
            self.explanation_zh
            if language == "zh-hans" and self.explanation_zh
            else self.explanation
        )


@dataclass(frozen=True)
class ReportDocument:
    report_id: str  # the public id printed on the cover and in every footer
    language: str  # "en" or "zh-hans"
    issued_at: dt.datetime  # aware; the record's, so a regeneration prints the same moment
    organisation_name: str | None  # None: every customer (vendor staff)
    inventory: Inventory
    sources: tuple[DatasetSource, ...]
    previous: Inventory | None = None  # the previous comparable period (trend and intensity)
    # A "restated with current factors" report: `inventory` holds the figures with the current
    # snapshots and `as_issued` the figures as first issued, shown side by side.
    as_issued: Inventory | None = None
    points_policies: tuple[PointsPolicyUsed, ...] = ()  # in force during the period, oldest first
    # The organisation's portal address (its method statement page); None: every customer.
    organisation_slug: str | None = None

    @property
    def restated(self) -> bool:
        return self.as_issued is not None
