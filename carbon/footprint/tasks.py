"""Background work of the footprint wing. Each task takes ids, loads the rows and calls an action
of `carbon.footprint.actions`; all are safe to run twice. Task names are fixed (beat schedules
and queued messages name them), not derived from modules."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from carbon.footprint import actions
from carbon.models import FactorDataset, GreenPowerDeclaration, ImportJob
from portal.models import Organisation


@shared_task(name="carbon.tasks.recalculate_orders", acks_late=True)
def recalculate_orders(
    organisation_id: int | None = None,
    dataset_id: int | None = None,
    start_after_id: int | None = None,
    restate: str | None = None,
) -> dict[str, Any]:
    """Recalculate the footprints of one organisation's orders (or all) with a dataset (or the
    versions valid for each order's date), in batches; orders of closed periods only with a
    `restate` reason; see `actions.recalculate_orders`."""
    organisation = Organisation.objects.get(pk=organisation_id) if organisation_id else None
    dataset = FactorDataset.objects.get(pk=dataset_id) if dataset_id else None
    result = actions.recalculate_orders(
        organisation, dataset, start_after_id=start_after_id, restate=restate
    )
    return {
        "processed": result.processed,
        "closed": result.closed,
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
    """Daily: delete order imports past their retention; see `actions.purge_old_import_files`."""
    return actions.purge_old_import_files()


@shared_task(name="carbon.declarations.recalculate_declaration_orders", acks_late=True)
def recalculate_declaration_orders(declaration_id: int) -> int:
    """Recalculate the orders a declaration covers; returns how many (0 for a declaration that
    is gone)."""
    declaration = GreenPowerDeclaration.objects.filter(pk=declaration_id).first()
    if declaration is None:
        return 0
    return actions.recalculate_declaration_orders(declaration)


@shared_task(name="carbon.importer.run_import_task", acks_late=True)
def run_import_task(job_id: int) -> str:
    """Run an import job (a large file, after the upload's commit); returns its status."""
    job = ImportJob.objects.select_related("organisation").filter(pk=job_id).first()
    if job is None:
        return "missing"
    return actions.run_import(job).status
