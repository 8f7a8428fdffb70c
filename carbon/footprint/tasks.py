"""Background work of the footprint wing. Tasks take ids, reload rows and are safe to run twice.
Task names are fixed (beat schedules and queued messages name them), not derived from modules."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from carbon.footprint import calculation, declarations, importer
from carbon.models import FactorDataset, GreenPowerDeclaration, ImportJob
from portal.models import Organisation

logger = logging.getLogger(__name__)


@shared_task(name="carbon.tasks.recalculate_orders", acks_late=True)
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


@shared_task(name="carbon.tasks.purge_old_import_files", acks_late=True)
def purge_old_import_files() -> int:
    """Daily (retention, settings.GREENLOOP_RETENTION["import_file_days"]): delete order imports,
    their uploaded file and their error report (which quotes the file's cells), once they
    finished longer ago than the period, or started that long ago and never finished (a lost
    worker). The audit trail keeps who imported what. Idempotent; returns how many were
    deleted."""
    cutoff = timezone.now() - dt.timedelta(days=settings.GREENLOOP_RETENTION["import_file_days"])
    old = ImportJob.objects.filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    deleted = 0
    for job in old.iterator(chunk_size=200):
        if job.file:
            # The file first: a row without its file is harmless, a file without its row is
            # never found again.
            job.file.delete(save=False)
        job.delete()
        deleted += 1
    return deleted


@shared_task(name="carbon.declarations.recalculate_declaration_orders", acks_late=True)
def recalculate_declaration_orders(declaration_id: int) -> int:
    """Recalculate the orders a declaration covers; returns how many. Safe to run twice: an
    unchanged calculation records no new snapshot."""
    declaration = GreenPowerDeclaration.objects.filter(pk=declaration_id).first()
    if declaration is None:
        return 0
    count = 0
    for order in declarations.orders_covered(declaration).iterator(chunk_size=500):
        with transaction.atomic():
            calculation.calculate_order(order)
        count += 1
    return count


@shared_task(name="carbon.importer.run_import_task", acks_late=True)
def run_import_task(job_id: int) -> str:
    job = ImportJob.objects.select_related("organisation").filter(pk=job_id).first()
    if job is None:
        return "missing"
    return importer.run_import(job).status
