"""Stand-in renderers for the report tests (the real PDF, CSV and iLEAP renderers are tested in
their own modules): pure functions of the document, as the contract requires."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from carbon.footprint.calculation import calculate_order
from carbon.models import Order, OrderStatus
from carbon.reports import formats
from carbon.reports.document import ReportDocument
from tests.carbon.factories import grid_dataset, order_with_legs, published_dataset


def render_fake(document: ReportDocument) -> bytes:
    """A deterministic rendering: what the document says, as JSON."""
    return json.dumps(
        {
            "report_id": document.report_id,
            "language": document.language,
            "issued_at": document.issued_at.isoformat(),
            "organisation": document.organisation_name,
            "data_hash": document.inventory.data_hash,
            "wtw_kg": str(document.inventory.wtw_kg),
            "previous": document.previous.data_hash if document.previous else None,
            "as_issued": document.as_issued.data_hash if document.as_issued else None,
            "sources": [source.label for source in document.sources],
        },
        sort_keys=True,
    ).encode()


def render_broken(document: ReportDocument) -> bytes:
    raise RuntimeError("the renderer broke")


def use_renderer(monkeypatch, dotted: str = "tests.carbon.report_fakes.render_fake") -> None:
    """Every format renders with `dotted` for the test."""
    for key, entry in list(formats.FORMATS.items()):
        monkeypatch.setitem(formats.FORMATS, key, dataclasses.replace(entry, renderer=dotted))


def delivered_order(organisation) -> Order:
    """The reference datasets and one order of `organisation` delivered on 2025-05-06, with its
    footprint."""
    published_dataset()
    grid_dataset()
    order = order_with_legs(
        organisation,
        [{"category": "road.hgv.average_laden", "data_tier": "primary"}],
        order_date=dt.date(2025, 5, 2),
        status=OrderStatus.DELIVERED,
        delivery_date=dt.date(2025, 5, 6),
    )
    calculate_order(order)
    return order
