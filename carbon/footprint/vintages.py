"""Factor vintages: which dataset version an order's activity date takes, and which periods are
closed to recalculation.

Activity date: the order date. Orders carry no shipment date, and the order date is the one
date every order has that never moves afterwards (a delivery date is set or corrected later,
which would silently move an order to another vintage); green-power declarations are matched
on it too.

Choice, per role (the freight dataset; the grid datasets for Scope 2):

1. the published versions of the role's series whose validity (`valid_from`..`valid_to`, both
   optional, ends included) covers the activity date, the latest-starting first;
2. else the nearest earlier vintage (the one whose validity ended last before that date);
3. else the default (the default freight dataset; the active grid dataset).

A fallback is never silent: the snapshot records, per dataset it used, the basis of the choice
and a note such as "fallback: no dataset covers 2019-03-02; used desnz-2025@1". Grid datasets
are ranked the same way, and each region takes its factor from the first ranked dataset that
has one (a regional vintage need not repeat every country).

Closed periods: a period is closed for an organisation once a report on its figures has been
issued ("as issued", ready or expired) for it or for all customers; the orders whose activity
date lies in it are not restated by a recalculation unless it is asked for (`restate`), and a
restatement says so on the new snapshot, whose predecessor keeps the figures as issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from carbon.models import FactorDataset, Report
from carbon.models.reports import ReportBasis, ReportStatus

COVERS = "covers"
EARLIER = "earlier"
DEFAULT = "default"
NAMED = "named"


@dataclass(frozen=True)
class Choice:
    """Why one dataset serves one activity date in one role (freight or grid)."""

    dataset: FactorDataset
    role: str
    day: dt.date
    basis: str

    @property
    def note(self) -> str:
        label = self.dataset.label
        if self.basis == COVERS:
            start = self.dataset.valid_from.isoformat() if self.dataset.valid_from else "open"
            end = self.dataset.valid_to.isoformat() if self.dataset.valid_to else "open"
            return f"valid {start} to {end}: covers {self.day.isoformat()}"
        if self.basis == NAMED:
            return f"named for this calculation: {label}"
        kind = "nearest earlier vintage" if self.basis == EARLIER else "default"
        return f"fallback: no dataset covers {self.day.isoformat()}; used {kind} {label}"

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "activity_date": self.day.isoformat(),
            "basis": self.basis,
            "fallback": self.basis in (EARLIER, DEFAULT),
            "valid_from": self.dataset.valid_from.isoformat() if self.dataset.valid_from else None,
            "valid_to": self.dataset.valid_to.isoformat() if self.dataset.valid_to else None,
            "note": self.note,
        }


def ranked(candidates: Iterable[FactorDataset], day: dt.date) -> list[tuple[FactorDataset, str]]:
    """The versions that may serve `day`, best first: those covering it (latest-starting, then
    newest published), then the earlier vintages (the one that ended last first)."""
    candidates = list(candidates)
    covering = sorted(
        (d for d in candidates if d.covers(day)),
        key=lambda d: (d.valid_from or dt.date.min, d.publication_date, d.version, d.pk),
        reverse=True,
    )
    earlier = sorted(
        (d for d in candidates if d.valid_to is not None and d.valid_to < day),
        key=lambda d: (d.valid_to, d.valid_from or dt.date.min, d.version, d.pk),
        reverse=True,
    )
    return [(d, COVERS) for d in covering] + [(d, EARLIER) for d in earlier]


def series_of(dataset: FactorDataset) -> list[FactorDataset]:
    """The published versions of `dataset`'s series (itself included), in one query."""
    key = dataset.series_key
    rows = FactorDataset.objects.published().filter(series=key) | (
        FactorDataset.objects.published().filter(series="", slug=key)
    )
    found = list(rows)
    return found if any(d.pk == dataset.pk for d in found) else [*found, dataset]


# --- closed periods


@dataclass(frozen=True)
class ClosedPeriod:
    organisation_id: int | None  # None: a report on every customer
    start: dt.date
    end: dt.date
    report: str

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "report": self.report}


class ClosedPeriods:
    """The periods issued reports have closed, loaded once for a recalculation."""

    def __init__(self, periods: Iterable[ClosedPeriod]):
        self.periods = list(periods)

    @classmethod
    def load(cls, organisation_id: int | None = None) -> ClosedPeriods:
        reports = Report.objects.filter(
            basis=ReportBasis.AS_ISSUED, status__in=[ReportStatus.DONE, ReportStatus.EXPIRED]
        )
        if organisation_id is not None:
            reports = reports.filter(organisation_id__in=[organisation_id]) | reports.filter(
                organisation__isnull=True
            )
        return cls(
            ClosedPeriod(org, start, end, str(public_id))
            for org, start, end, public_id in reports.order_by("period_start").values_list(
                "organisation_id", "period_start", "period_end", "public_id"
            )
        )

    def closing(self, organisation_id: int, day: dt.date) -> ClosedPeriod | None:
        """The issued period that closes `day` for the organisation, if any."""
        for period in self.periods:
            if period.organisation_id in (None, organisation_id) and (
                period.start <= day <= period.end
            ):
                return period
        return None
