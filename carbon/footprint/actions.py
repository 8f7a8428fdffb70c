"""Every write of the footprint wing: orders, imports, emission-factor datasets and green-power
declarations. Each action is the transaction boundary, records the audit trail and publishes
the events; views, the API, the admin, commands and Celery tasks call these and nothing else to
write. The rules and the steps they apply live in the domain modules (`orders`, `importer`,
`datasets`, `declarations`, `calculation`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

# tasks import this module too; both sides import the module, never its names, so the cycle
# resolves at call time.
from carbon.footprint import calculation, datasets, importer, provenance, tasks

# Green-power declarations are written in their own module; they are reached through this one.
from carbon.footprint.declaration_actions import check_declaration as check_declaration
from carbon.footprint.declaration_actions import (
    recalculate_declaration_orders as recalculate_declaration_orders,
)
from carbon.footprint.declaration_actions import reject_declaration as reject_declaration
from carbon.footprint.declaration_actions import revoke_declaration as revoke_declaration
from carbon.footprint.declaration_actions import submit_declaration as submit_declaration
from carbon.footprint.declaration_actions import verify_declaration as verify_declaration
from carbon.footprint.events import (
    DATASET_PUBLISHED,
    ORDER_UPSERTED,
    ORDERS_IMPORTED,
)
from carbon.footprint.exceptions import (
    CalculationError,
    DatasetError,
    FactorFileError,
    OrdersRejected,
)
from carbon.footprint.factor_files import metadata_fields, read_factor_file
from carbon.footprint.importer import RowError
from carbon.footprint.orders import (
    OrderData,
    Progress,
    StoredOrders,
    calculate_written,
    event_data,
    lookups,
    order_problems,
    write_orders,
)
from carbon.footprint.verification import verify_order_data as verify_order_data
from carbon.models import (
    DatasetStatus,
    EmissionFactor,
    FactorDataset,
    ImportJob,
    ImportStatus,
    Order,
)
from portal import audit, events
from portal.models import Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)


# --- orders


def store_orders(
    organisation: Organisation,
    orders: list[OrderData],
    by: AbstractBaseUser | None = None,
    *,
    announce: Literal["each", "batch"] = "batch",
    progress: Progress | None = None,
    source: str | None = None,
) -> StoredOrders:
    """Create or replace `organisation`'s `orders` (by external id) in one transaction, with
    bulk inserts, and calculate their footprints. `by` is the person or token user writing.

    `source` (carbon.models.LegSource) is the writing channel, stamped on the legs; None:
    `by`'s own entry (`provenance.source_for_user`). Nothing the client sends can set it.

    Invalid data raises OrdersRejected listing every problem, before anything is written.
    Orders whose data equals what is stored are left alone (no rows, no snapshot, no event).
    With `announce="each"` (the API's upsert of one order) every changed order publishes
    `greenloop.carbon.order_upserted` and its own `footprint_calculated`, and a footprint that
    cannot be calculated raises its CalculationError naming the leg. With "batch" (an import)
    one `greenloop.carbon.orders_imported` event covers them all, footprints are announced per
    organisation, and every order that cannot be calculated is listed in OrdersRejected. A
    missing default dataset raises CalculationError in both cases.
    """
    source = source or provenance.source_for_user(by)
    products, sites = lookups(organisation, orders)
    problems = order_problems(orders, products, sites)
    if problems:
        raise OrdersRejected(problems)
    with transaction.atomic():
        result, todo = write_orders(
            organisation, orders, products, sites, source=source, progress=progress
        )
        if todo:
            calculate_written(todo, orders, each=announce == "each", progress=progress)
            _announce_orders(organisation, result, todo, announce=announce, by=by)
    return result


def upsert_order(
    organisation: Organisation,
    data: OrderData,
    *,
    by: AbstractBaseUser | None = None,
    source: str | None = None,
) -> tuple[Order, bool]:
    """Create or replace the one order `data.external_id` of `organisation` through
    `store_orders`, announced on its own; returns (order, created). Invalid data raises
    OrdersRejected (an OrderDataError) naming the first field at fault; a footprint that cannot
    be calculated raises CalculationError naming the leg."""
    result = store_orders(organisation, [data], by, announce="each", source=source)
    return result.orders[data.external_id], data.external_id in result.created


def _announce_orders(
    organisation: Organisation,
    result: StoredOrders,
    todo: list[Order],
    *,
    announce: Literal["each", "batch"],
    by: AbstractBaseUser | None,
) -> None:
    calculation.publish_orders_changed(organisation, [o.pk for o in todo], "stored")
    if announce == "each":
        created = set(result.created)
        for order in todo:
            events.publish(
                ORDER_UPSERTED,
                organisation,
                f"orders/{order.pk}",
                event_data(order, created=order.external_id in created, by=by),
            )
        return
    events.publish(
        ORDERS_IMPORTED,
        organisation,
        f"organisations/{organisation.slug}/orders",
        {
            **result.summary,
            "external_ids": [o.external_id for o in todo[:1000]],
            "external_ids_truncated": len(todo) > 1000,
        },
    )


def recalculate_orders(
    organisation: Organisation | None,
    dataset: FactorDataset | None,
    *,
    start_after_id: int | None = None,
    restate: str | None = None,
) -> calculation.RecalculationResult:
    """Recalculate the footprints of one organisation's orders (or all) with a dataset (or the
    versions valid for each order's activity date), in batches, logging the progress.
    Idempotent: orders whose inputs and factors are unchanged keep their snapshot; orders of
    closed periods keep theirs unless `restate` gives the reason to restate them."""

    def progress(result: calculation.RecalculationResult) -> None:
        logger.info(
            "recalculate_orders: %s/%s orders, last id %s",
            result.processed,
            result.total,
            result.last_id,
        )

    return calculation.recalculate(
        organisation, dataset, start_after_id=start_after_id, progress=progress, restate=restate
    )


# --- imports


def create_job(
    organisation: Organisation, uploaded_file, *, by, source: str | None = None
) -> ImportJob:
    """Store the file privately under a random name and record the job (not started); its
    legs will carry `source` (see `store_orders`)."""
    job = ImportJob(
        organisation=organisation,
        source=source or provenance.source_for_user(by),
        created_by=by if getattr(by, "is_authenticated", False) else None,
        original_name=(getattr(uploaded_file, "name", "") or "orders.csv").rsplit("/", 1)[-1][:255],
    )
    job.rows_total = importer.count_rows(uploaded_file)
    job.file.save(f"{uuid.uuid4().hex}.csv", File(uploaded_file), save=False)
    job.save()
    audit.record(
        "carbon.import_started",
        actor=job.created_by,
        organisation=organisation,
        obj=job,
        details={"file": job.original_name, "rows": job.rows_total},
    )
    return job


def start_import(
    organisation: Organisation, uploaded_file, *, by, source: str | None = None
) -> ImportJob:
    """Store the uploaded CSV privately and import it: at once for up to BACKGROUND_ABOVE_ROWS rows,
    otherwise as a Celery task after commit (the job shows the progress). The caller has
    checked the `carbon.import_orders` permission."""
    job = create_job(organisation, uploaded_file, by=by, source=source)
    if job.rows_total > importer.BACKGROUND_ABOVE_ROWS:
        transaction.on_commit(lambda: tasks.run_import_task.delay(job.pk))
    else:
        run_import(job)
    return job


def run_import(job: ImportJob, *, progress: Progress | None = None) -> ImportJob:
    """Validate the job's file and, when every row is valid, store it. Idempotent: a finished
    job is returned as it is."""
    if job.is_finished:
        return job
    job.status = ImportStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    update = importer.job_progress(job, progress)
    try:
        result = importer.validate_job_file(job, update)
        job.rows_total = result.rows
        errors = result.errors
        if not errors:
            try:
                args = (job.organisation, result.orders, job.created_by)
                stored = store_orders(*args, progress=update, source=job.source)
            except OrdersRejected as rejected:
                errors = importer.rejected_rows(rejected, result.orders, result.parsed)
            except CalculationError as exc:  # no default dataset to calculate with
                errors = [RowError(1, "", "", exc.message)]
            else:
                job.status = ImportStatus.SUCCEEDED
                job.summary = {"rows": result.rows, "orders": len(result.orders), **stored.summary}
        if errors:
            job.status = ImportStatus.FAILED
            job.error_report = [e.as_dict() for e in errors]
            job.summary = {"rows": result.rows, "errors": len(errors)}
    except Exception:
        logger.exception("Order import %s failed", job.pk)
        job.status = ImportStatus.FAILED
        job.error_report = [
            {"row": None, "column": "", "value": "", "reason": "internal error; nothing stored"}
        ]
        raise
    finally:
        job.rows_done = job.rows_total if job.status == ImportStatus.SUCCEEDED else job.rows_done
        job.phase = ""
        job.finished_at = timezone.now()
        job.save()
        audit.record(
            f"carbon.import_{job.status}",
            actor=job.created_by,
            organisation=job.organisation,
            obj=job,
            details={k: v for k, v in job.summary.items() if k != "external_ids"},
        )
    return job


def purge_old_import_files() -> int:
    """Delete order imports, their uploaded file and their error report (which quotes the
    file's cells), once they finished longer ago than the retention period
    (settings.GREENLOOP_RETENTION["import_file_days"]), or started that long ago and never
    finished (a lost worker). The audit trail keeps who imported what. Idempotent; returns how
    many were deleted."""
    cutoff = timezone.now() - dt.timedelta(days=settings.GREENLOOP_RETENTION["import_file_days"])
    return importer.purge_jobs(cutoff)


# --- emission-factor datasets


def load_dataset_file(
    path: str | Path,
    *,
    slug: str,
    version: int,
    by=None,
    make_default: bool = False,
    request=None,
) -> FactorDataset:
    """Load a cited reference file as a published dataset (the reference-data loader's path:
    no second approver; the audit trail records the file, its SHA-256 and its citation)."""
    factor_file = read_factor_file(path)
    fields = metadata_fields(factor_file.metadata)
    with transaction.atomic():
        if FactorDataset.objects.filter(slug=slug, version=version).exists():
            raise DatasetError(f"Dataset {slug}@{version} already exists.")
        dataset = FactorDataset.objects.create(
            slug=slug,
            version=version,
            notes="\n".join(factor_file.comments),
            status=DatasetStatus.DRAFT,
            created_by=by,
            **fields,
        )
        EmissionFactor.objects.bulk_create(r.as_factor(dataset) for r in factor_file.rows)
        dataset.status = DatasetStatus.PUBLISHED
        dataset.published_at = timezone.now()
        dataset.save()
        if make_default:
            datasets.make_default(dataset)
        audit.record(
            "carbon.dataset.loaded",
            actor=by,
            obj=dataset,
            request=request,
            details={
                "file": factor_file.name,
                "sha256": factor_file.sha256,
                "factors": len(factor_file.rows),
                "source_url": dataset.source_url,
                "approver": "reference data loader (cited file, no second approver)",
            },
        )
        _publish_dataset(dataset)
    return dataset


def create_draft_dataset(*, by, request=None, **fields: Any) -> FactorDataset:
    """A new, empty draft dataset (version 1 of a new slug, or the next version of a slug)."""
    datasets.require_manager(by)
    with transaction.atomic():
        if "version" not in fields:
            latest = FactorDataset.objects.filter(slug=fields["slug"]).aggregate(v=Max("version"))
            fields["version"] = (latest["v"] or 0) + 1
        dataset = FactorDataset.objects.create(status=DatasetStatus.DRAFT, created_by=by, **fields)
        audit.record("carbon.dataset.created", actor=by, obj=dataset, request=request)
    return dataset


def update_draft_dataset(dataset: FactorDataset, *, by, request=None) -> FactorDataset:
    """Save edits to a dataset's citation; only while it is a draft."""
    datasets.require_manager(by)
    with transaction.atomic():
        stored = datasets.locked(dataset)
        if stored.status != DatasetStatus.DRAFT:
            raise DatasetError("Only a draft dataset can be edited; make a new version instead.")
        dataset.status = DatasetStatus.DRAFT
        dataset.save()
        audit.record("carbon.dataset.edited", actor=by, obj=dataset, request=request)
    return dataset


def import_factors_csv(
    dataset: FactorDataset, file: str | Path | bytes | IO[Any], *, by, request=None
) -> int:
    """Add the factors of a CSV file to a draft dataset: all of them, or none if any row is
    invalid or collides with a factor already in the dataset. Returns the number added."""
    datasets.require_manager(by)
    factor_file = read_factor_file(file)
    with transaction.atomic():
        dataset = datasets.locked(dataset)
        if dataset.status != DatasetStatus.DRAFT:
            raise DatasetError("Factors can only be imported into a draft dataset.")
        clashes = datasets.clashes(dataset, factor_file)
        if clashes:
            raise FactorFileError(clashes)
        EmissionFactor.objects.bulk_create(r.as_factor(dataset) for r in factor_file.rows)
        audit.record(
            "carbon.dataset.factors_imported",
            actor=by,
            obj=dataset,
            request=request,
            details={
                "file": factor_file.name,
                "sha256": factor_file.sha256,
                "factors": len(factor_file.rows),
            },
        )
    return len(factor_file.rows)


def create_new_version(dataset: FactorDataset, by, *, request=None) -> FactorDataset:
    """A draft copy of `dataset` (citation and factors) as the slug's next version; it
    supersedes `dataset` once published."""
    datasets.require_manager(by)
    with transaction.atomic():
        draft, copied = datasets.next_version(dataset, by)
        audit.record(
            "carbon.dataset.version_created",
            actor=by,
            obj=draft,
            request=request,
            details={"from": dataset.label, "factors": copied},
        )
    return draft


def submit_for_approval(dataset: FactorDataset, by, *, request=None) -> FactorDataset:
    """Send a draft to a second sustainability staff member for approval."""
    datasets.require_manager(by)
    with transaction.atomic():
        dataset = datasets.locked(dataset)
        if dataset.status != DatasetStatus.DRAFT:
            raise DatasetError("Only a draft dataset can be submitted for approval.")
        if not dataset.factors.exists():
            raise DatasetError("The dataset has no factors yet: import a CSV of factors first.")
        dataset.status = DatasetStatus.AWAITING_APPROVAL
        dataset.submitted_by = by
        dataset.save(update_fields=["status", "submitted_by"])
        audit.record("carbon.dataset.submitted", actor=by, obj=dataset, request=request)
    return dataset


def approve_and_publish(
    dataset: FactorDataset, by, *, make_default: bool | None = None, request=None
) -> FactorDataset:
    """Publish a dataset awaiting approval. Four eyes: the approver must be another
    sustainability staff member than the submitter. `make_default=None` keeps the default
    flag of the version it supersedes."""
    datasets.require_manager(by)
    with transaction.atomic():
        dataset = datasets.locked(dataset)
        if dataset.status != DatasetStatus.AWAITING_APPROVAL:
            raise DatasetError("Only a dataset awaiting approval can be approved.")
        if dataset.submitted_by_id is None or dataset.submitted_by_id == by.pk:
            raise DatasetError(
                "You submitted this dataset, so another sustainability staff member must "
                "approve it (four-eyes rule)."
            )
        if make_default is None:
            make_default = bool(dataset.supersedes and dataset.supersedes.is_default)
        dataset.status = DatasetStatus.PUBLISHED
        dataset.approved_by = by
        dataset.published_at = timezone.now()
        dataset.save(update_fields=["status", "approved_by", "published_at"])
        if make_default:
            datasets.make_default(dataset)
        audit.record(
            "carbon.dataset.approved",
            actor=by,
            obj=dataset,
            request=request,
            details={
                "submitted_by": dataset.submitted_by.email if dataset.submitted_by else "",
                "approved_by": by.email,
                "factors": dataset.factors.count(),
                "supersedes": dataset.supersedes.label if dataset.supersedes else None,
                "default": dataset.is_default,
            },
        )
        _publish_dataset(dataset)
    return dataset


def _publish_dataset(dataset: FactorDataset) -> None:
    events.publish(
        DATASET_PUBLISHED, None, f"datasets/{dataset.label}", datasets.event_data(dataset)
    )
