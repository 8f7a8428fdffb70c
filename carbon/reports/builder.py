"""The one place a report record becomes a `ReportDocument`: the inventory read as of the record's
moment, the previous period for the trend, the figures as first issued for a restated report, the
sources and the facts printed on the cover. Generating the same record twice builds the same
document (issued_at is the record's creation time, never the clock)."""

from __future__ import annotations

from typing import Any

from carbon.models import Report
from carbon.reports.document import ReportDocument
from carbon.reports.inventory import Inventory
from carbon.reports.loader import dataset_sources, load_inventory, points_policies
from carbon.reports.period import PeriodError

# The figures the API and the portal show of a finished report (decimal strings).
SUMMARY_FIGURES = (
    "orders",
    "tkm",
    "ttw_kg",
    "wtt_kg",
    "wtw_kg",
    "intensity_g_per_tkm",
    "radiative_forcing_kg",
)


def build_document(report: Report) -> ReportDocument:
    period = report.period
    organisation = report.organisation
    inventory = load_inventory(organisation, period, as_of=report.figures_as_of)
    try:
        previous_period = period.previous()
    except PeriodError:  # the first year the calendar allows has no year before
        previous: Inventory | None = None
    else:
        previous = load_inventory(organisation, previous_period, as_of=report.figures_as_of)
    as_issued = None
    if report.restated and report.as_issued_as_of is not None:
        as_issued = load_inventory(organisation, period, as_of=report.as_issued_as_of)
    labels = list(inventory.datasets)
    for label in as_issued.datasets if as_issued else ():
        if label not in labels:
            labels.append(label)
    return ReportDocument(
        report_id=str(report.public_id),
        language=report.language,
        issued_at=report.created_at,
        organisation_name=organisation.name if organisation else None,
        organisation_slug=organisation.slug if organisation else None,
        inventory=inventory,
        sources=dataset_sources(tuple(labels)),
        previous=previous,
        as_issued=as_issued,
        points_policies=points_policies(period),
    )


def _figures(inventory: Inventory) -> dict[str, Any]:
    data = inventory.as_json()
    figures: dict[str, Any] = {key: data[key] for key in SUMMARY_FIGURES}
    figures["scope2_location_kg"] = data["scope2"]["location_kg"]
    # no order with a market-based figure: none, rather than a 0 that reads as zero emissions
    figures["scope2_market_kg"] = (
        data["scope2"]["market_kg"] if data["scope2"]["orders_with_market"] else None
    )
    figures["points_earned"] = data["points"]["earned"]
    figures["points_redeemed"] = data["points"]["redeemed"]
    figures["excluded_orders"] = len(data["data_quality"]["excluded"])
    figures["datasets"] = data["datasets"]
    figures["data_hash"] = inventory.data_hash
    return figures


def figures_summary(document: ReportDocument) -> dict[str, Any]:
    """The totals of a report, as stored on its record for the API and the portal; a restated
    report carries the figures as first issued under `as_issued`."""
    summary = _figures(document.inventory)
    if document.as_issued is not None:
        summary["as_issued"] = _figures(document.as_issued)
    return summary
