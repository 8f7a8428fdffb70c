"""Footprint API: order imports from CSV files, and their jobs' status and error report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, File, Router, Schema, Status, UploadedFile

from carbon.footprint import actions, provenance
from carbon.footprint.api_schemas import (
    ORDER_WRITE_ACCESS,
    READ,
)
from carbon.footprint.forms import MAX_IMPORT_BYTES
from carbon.footprint.importer import COLUMNS
from carbon.footprint.permissions import PERM_IMPORT
from carbon.models import (
    ImportJob,
)
from portal.api import ApiError, ErrorOut, caller
from portal.api_common import (
    ERRORS,
    organisation_named,
    require_perm,
)
from portal.models import Organisation
from portal.text import Text

router = Router(tags=["carbon"])


# --- CSV import


class ImportErrorOut(Schema):
    row: int | None = Field(..., description="Line of the file (the header is row 1)")
    column: str = Field(..., examples=["mass"])
    value: str = Field(..., examples=["-3 t"])
    reason: str = Field(..., examples=["a mass cannot be negative"])


class ImportJobOut(Schema):
    id: int = Field(..., examples=[42])
    organisation: str = Field(..., description="Organisation slug")
    file_name: str = Field(..., examples=["orders-2025-03.csv"])
    status: str = Field(
        ...,
        description="pending, running, succeeded (everything stored) or failed (nothing stored)",
        examples=["succeeded"],
    )
    finished: bool
    phase: str = Field(..., description="validating or storing while the job runs, else empty")
    rows_done: int
    rows_total: int
    progress: int = Field(..., description="Percentage of rows done", ge=0, le=100)
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] = Field(
        ..., description="rows, orders, created, updated, unchanged (or errors when failed)"
    )
    errors: list[ImportErrorOut] = Field(
        ..., description="The full error report; empty unless the file was rejected"
    )
    url: str = Field(..., description="Where to poll the job (also sent as the Location header)")


def _job_url(job: ImportJob) -> str:
    return reverse(
        "api-v1:get_order_import",
        kwargs={"slug": job.organisation.slug, "job_id": job.pk},
    )


def _job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "organisation": job.organisation.slug,
        "file_name": job.original_name,
        "status": job.status,
        "finished": job.is_finished,
        "phase": job.phase,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "progress": 100 if job.status == "succeeded" else min(job.percent, 100),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "summary": {k: v for k, v in (job.summary or {}).items() if k != "external_ids"},
        "errors": [
            {
                "row": e.get("row"),
                "column": str(e.get("column") or ""),
                "value": str(e.get("value") or ""),
                "reason": str(e.get("reason") or ""),
            }
            for e in job.error_report or []
        ],
        "url": _job_url(job),
    }


@router.post(
    "/organisations/{slug}/order-imports",
    response={202: ImportJobOut, 400: ErrorOut, **ERRORS},
    summary="Import orders from a CSV file (POST /organisations/{slug}/order-imports)",
    description=(
        "Upload a CSV (multipart field `file`, UTF-8, one row per transport leg; columns "
        f"{', '.join(COLUMNS)}) for the organisation `slug`, as the order upsert names it. "
        "Every row and field is validated first; nothing is stored unless the whole file is "
        "valid. Answers 202 with the import job and its URL in the `Location` header; poll "
        "GET /organisations/{slug}/order-imports/{job_id} for status, progress and the error "
        "report (row, column, value, reason). Small files are finished when the answer comes; "
        "large ones run in the background. Tokens need scope carbon:write and act only for "
        "their own organisation; people need the member role. The caller is authorised "
        "before the file is required, so another organisation's slug is always 404."
    ),
    openapi_extra={"requestBody": {"required": True}},
    auth=ORDER_WRITE_ACCESS,
    operation_id="carbon_footprint_api_import_orders",
)
def import_orders(
    request: HttpRequest,
    slug: Text,
    response: HttpResponse,
    file: File[UploadedFile | None] = None,
):
    c = caller(request)
    organisation = c.target
    if file is None:
        raise ApiError(422, "validation_error", "file: a CSV file is required.", "file")
    if (file.size or 0) > MAX_IMPORT_BYTES:
        raise ApiError(
            422, "file_too_large", "file: the file is larger than 100 MB; split it.", "file"
        )
    job = actions.start_import(
        organisation, file, by=c.user, source=provenance.source_for_caller(c)
    )
    job.organisation = organisation
    response["Location"] = _job_url(job)
    return Status(202, _job_out(job))


@router.get(
    "/organisations/{slug}/order-imports/{int:job_id}",
    response={200: ImportJobOut, **ERRORS},
    summary="An order import: status, progress and the full error report",
    description="Status (pending, running, succeeded, failed), phase, rows done of the total, "
    "the summary and every problem found (row, column, value, reason). Needs scope "
    "carbon:read; people need the member role.",
    operation_id="carbon_footprint_api_get_order_import",
)
def get_order_import(request: HttpRequest, slug: Text, job_id: int):
    c = caller(request)
    c.require_scope(READ)
    organisation = organisation_named(c, slug)
    require_perm(c, PERM_IMPORT, organisation, "Only members and admins see order imports.")
    job = _import_job(organisation, job_id)
    job.organisation = organisation
    return _job_out(job)


def _import_job(organisation: Organisation, job_id: int) -> ImportJob:
    """`organisation`'s import job `job_id` (404 otherwise)."""
    job = ImportJob.objects.filter(organisation=organisation, pk=job_id).first()
    if job is None:
        raise Http404
    return job
