"""Background work of the carbon plugin. Tasks take ids, reload rows and are safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from carbon import calculation
from carbon.models import FactorDataset
from portal.models import Organisation

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def recalculate_orders(
    organisation_id: int | None = None,
    dataset_id: int | None = None,
    start_after_id: int | None = None,
) -> dict[str, Any]:
    """Recalculate the footprints of one organisation's orders (or all) with a dataset (or the
    default one), in batches. Idempotent: orders whose inputs and factors are unchanged keep
    their snapshot, so a retried or repeated run writes nothing new."""
    organisation = Organisation.objects.get(pk=organisation_id) if organisation_id else None
    dataset = FactorDataset.objects.get(pk=dataset_id) if dataset_id else None

    def progress(result: calculation.RecalculationResult) -> None:
        logger.info(
            "recalculate_orders: %s/%s orders, last id %s",
            result.processed,
            result.total,
            result.last_id,
        )

    result = calculation.recalculate(
        organisation, dataset, start_after_id=start_after_id, progress=progress
    )
    return {
        "processed": result.processed,
        "created": result.created,
        "unchanged": result.unchanged,
        "failed": [
            {"order_id": order_id, "message": message, "field": field}
            for order_id, message, field in result.failed
        ],
        "last_id": result.last_id,
    }


@shared_task(acks_late=True)
def activate_due_points(day: str | None = None) -> int:
    """Daily (Celery beat): make pending points available once their pending period is over.
    Idempotent through the ledger's keys (``activate:<award>``); returns entries written."""
    from carbon import ledger

    return len(ledger.activate_due(_day(day)))


@shared_task(acks_late=True)
def expire_due_points(day: str | None = None) -> int:
    """Daily (Celery beat): expire unspent points whose lots have run out, first in first out.
    Idempotent through the ledger's keys (``expire:<date>``); returns entries written."""
    from carbon import ledger

    return len(ledger.expire_due(_day(day)))


def _day(day: str | None) -> dt.date:
    # Beat passes no argument: "today" in the site's time zone, decided when the task runs.
    return dt.date.fromisoformat(day) if day else timezone.localdate()
