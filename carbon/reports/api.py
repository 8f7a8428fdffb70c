"""Carbon report endpoints of the REST API: request a report (generated in the background), list
the reports the caller may see, read one's status, progress and figures, download its file.

Scopes as the rest of carbon's API: `carbon:write` to request, `carbon:read` to read and download.
Tokens act for their own organisation; people need the member role to request and the viewer role
to read, and vendor sustainability staff reach every organisation's reports and every customer's
(`all_customers`). Another organisation's report is 404, whatever its id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from carbon.footprint.api_schemas import READ, WRITE
from carbon.models import Report, ReportStatus
from carbon.reports import actions
from carbon.reports.exceptions import ReportError
from carbon.reports.http import download_response
from carbon.reports.period import PeriodError, ReportingPeriod
from carbon.reports.permissions import (
    PERM_VIEW_REPORTS,
    is_report_staff,
    may_request,
)
from portal.access import reachable_or_404
from portal.api import ApiError, Caller, ErrorOut, Input, PathParams, caller, requires
from portal.api_common import (
    ERRORS,
    MAX_PAGE_SIZE,
    IsoDate,
    PageOut,
    organisation_named,
    page_out,
    require_perm,
)
from portal.api_contract import MAX_PAGE
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation

router = Router(tags=["reports"])

Language = Literal["en", "zh-hans"]
Format = Literal["pdf", "csv", "xlsx", "ileap"]


class PeriodOut(Schema):
    kind: str = Field(..., description="year, quarter, month or custom", examples=["year"])
    period: str = Field(..., examples=["2026", "2026-Q1", "2026-03", "2026-01-05..2026-02-10"])
    start: dt.date
    end: dt.date = Field(..., description="Inclusive")


class ReportOut(Schema):
    id: uuid.UUID = Field(..., description="The report's public id (printed on every page)")
    organisation: str | None = Field(..., description="Organisation slug; null: every customer")
    period: PeriodOut
    language: Language
    format: Format
    basis: Literal["as_issued", "restated"]
    figures_as_of: dt.datetime = Field(
        ...,
        description="The moment the figures are read as of (a reissue for a closed period "
        "reuses the first report's, so it gives the same figures and data hash)",
    )
    as_issued_as_of: dt.datetime | None = Field(
        ..., description="Restated: the moment of the figures as first issued, shown beside"
    )
    status: Literal["queued", "running", "done", "failed", "expired"]
    progress: int = Field(..., ge=0, le=100, description="Percent")
    step: str = Field(..., description="reading, rendering or storing while running, else ''")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    expires_at: dt.datetime | None = Field(..., description="When the file is deleted")
    size: int | None = Field(..., description="File size in bytes")
    file_sha256: str = Field(..., description="SHA-256 of the file, once done")
    data_hash: str = Field(..., description="SHA-256 of the figures (the inventory), once done")
    summary: dict[str, Any] = Field(
        ...,
        description="The report's totals as decimal strings (orders, tkm, ttw_kg, wtt_kg, "
        "wtw_kg, intensity_g_per_tkm, radiative_forcing_kg, scope2_location_kg, "
        "scope2_market_kg, points_earned, points_redeemed, excluded_orders, datasets, "
        "data_hash; restated: the same under as_issued), once done",
    )
    error: str = Field(..., description="Why it failed, when it did")
    url: str = Field(..., description="This report's status (also the Location of a POST)")
    download_url: str | None = Field(..., description="The file, once done; null otherwise")


class ReportIn(Input):
    organisation: str | None = Field(
        None,
        description="Organisation slug, for people in several organisations and staff; tokens "
        "act for their own",
    )
    all_customers: bool = Field(
        False, description="Every customer in one report (vendor sustainability staff only)"
    )
    period: str | None = Field(
        None,
        description="2026 (year), 2026-Q1 (quarter), 2026-03 (month) or "
        "2026-01-05..2026-02-10 (custom, both days included); or give start and end",
        examples=["2026"],
    )
    start: IsoDate | None = Field(None, description="Custom period: first day")
    end: IsoDate | None = Field(None, description="Custom period: last day (inclusive)")
    language: Language = "en"
    format: Format = "pdf"
    restated: bool = Field(
        False,
        description="Restated with current factors, beside the figures as first issued "
        "(needs an earlier as-issued report of the same period)",
    )


class ReportPage(PageOut):
    items: list[ReportOut]


class ReportFilters(Input):
    organisation: str | None = Field(None, description="Only this organisation's (slug)")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


def _report_out(report: Report) -> dict[str, Any]:
    period = report.period
    url = reverse("api-v1:carbon_report", kwargs={"report_id": report.public_id})
    return {
        "id": report.public_id,
        "organisation": report.organisation.slug if report.organisation else None,
        "period": {
            "kind": report.period_kind,
            "period": str(period),
            "start": period.start,
            "end": period.end,
        },
        "language": report.language,
        "format": report.format,
        "basis": report.basis,
        "figures_as_of": report.figures_as_of,
        "as_issued_as_of": report.as_issued_as_of,
        "status": report.status,
        "progress": report.progress,
        "step": report.step,
        "created_at": report.created_at,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "expires_at": report.expires_at,
        "size": report.size,
        "file_sha256": report.sha256,
        "data_hash": report.data_hash,
        "summary": report.summary or {},
        "error": report.error,
        "url": url,
        "download_url": (
            reverse("api-v1:carbon_report_file", kwargs={"report_id": report.public_id})
            if report.downloadable
            else None
        ),
    }


def _period(payload: ReportIn) -> ReportingPeriod:
    try:
        if payload.period:
            if payload.start or payload.end:
                raise ApiError(
                    422,
                    "validation_error",
                    "period: give a period or start and end, not both.",
                    "period",
                )
            return ReportingPeriod.parse(payload.period)
        if payload.start and payload.end:
            return ReportingPeriod.custom(payload.start, payload.end)
    except PeriodError as exc:
        raise ApiError(422, "invalid_period", f"period: {exc}", "period") from exc
    raise ApiError(
        422,
        "validation_error",
        "period: give a period (2026, 2026-Q1, 2026-03) or start and end.",
        "period",
    )


def _target(c: Caller, payload: ReportIn) -> Organisation | None:
    """The organisation the report is about (None: every customer)."""
    if payload.all_customers:
        if c.token is not None or not is_report_staff(c.user):
            raise ApiError(
                403,
                "permission_denied",
                "Only sustainability staff request reports on every customer.",
            )
        if payload.organisation:
            raise ApiError(
                422,
                "validation_error",
                "organisation: name no organisation for a report on every customer.",
                "organisation",
            )
        return None
    if c.token is not None:
        organisation = c.token.organisation
        if organisation is None:
            raise ApiError(403, "integration_token", "An integration token has no reports.")
        if payload.organisation and payload.organisation != organisation.slug:
            return reachable_or_404(c.request, c.organisations(), slug=payload.organisation)
        return organisation
    if payload.organisation:
        return organisation_named(c, payload.organisation)
    mine = list(Organisation.objects.for_member(c.user)[:2])
    if len(mine) == 1:
        return mine[0]
    raise ApiError(
        422,
        "organisation_required",
        "organisation: name the organisation by its slug (see GET /api/v1/me).",
        "organisation",
    )


def may_request_somewhere(c: Caller, params: PathParams) -> None:
    """`Access.load` of POST /reports, before the body names the organisation: a person must be
    allowed to request reports somewhere."""
    if c.token is None and not (
        is_report_staff(c.user)
        or any(may_request(c.user, o) for o in Organisation.objects.for_member(c.user))
    ):
        raise ApiError(403, "permission_denied", "Only members and admins request reports.")


def visible_reports(c: Caller) -> QuerySet[Report]:
    """The reports the caller may see: a token's organisation's; a person's organisations'
    (viewer and up); sustainability staff every report, every customer's included."""
    reports = Report.objects.select_related("organisation")
    if c.token is not None:
        if c.token.organisation_id is None:
            return reports.none()
        return reports.filter(organisation_id=c.token.organisation_id)
    if is_report_staff(c.user):
        return reports.filter(Q(organisation__in=c.organisations()) | Q(organisation__isnull=True))
    return reports.filter(organisation__in=Organisation.objects.for_member(c.user))


def _report(c: Caller, report_id: uuid.UUID) -> Report:
    report = reachable_or_404(c.request, visible_reports(c), public_id=report_id)
    if report.organisation is not None:
        require_perm(
            c,
            PERM_VIEW_REPORTS,
            report.organisation,
            "Only members see its reports.",
        )
    return report


@router.post(
    "/reports",
    response={202: ReportOut, 400: ErrorOut, **ERRORS},
    summary="Request a carbon report (generated in the background)",
    description=(
        "Records the report and queues its generation; answers 202 with the report and its "
        "URL in the `Location` header; poll GET /reports/{report_id} for status (queued, "
        "running, done, failed), progress and step, then fetch `download_url`. The period is "
        "`period` (2026, 2026-Q1, 2026-03, 2026-01-05..2026-02-10) or `start` and `end`. An "
        "as-issued report of a period that had ended when an earlier one was issued reads the "
        "figures as of that first report (same figures, same data hash); `restated` reads the "
        "current ones beside those as first issued (422 `no_issued_report` without an earlier "
        "report). Tokens need scope carbon:write; people need the member role; "
        "`all_customers` is for vendor sustainability staff."
    ),
    auth=requires(WRITE, load=may_request_somewhere),
    operation_id="carbon_reports_api_request_report",
)
def request_report(request: HttpRequest, payload: ReportIn, response: HttpResponse):
    c = caller(request)
    organisation = _target(c, payload)
    period = _period(payload)
    try:
        report = actions.request_report(
            organisation,
            period,
            language=payload.language,
            format=payload.format,
            restated=payload.restated,
            by=c.user,
            token=c.token,
            request=request,
        )
    except PermissionDeniedError as exc:
        raise ApiError(403, exc.code, exc.message) from exc
    except ReportError as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.field) from exc
    report.refresh_from_db()  # an eager generation has finished by now
    out = _report_out(report)
    response["Location"] = out["url"]
    return Status(202, out)


@router.get(
    "/reports",
    response={200: ReportPage, **ERRORS},
    summary="The carbon reports the caller may see, newest first",
    description="Paginated; `organisation` (slug) narrows to one. Needs scope carbon:read; "
    "people need the viewer role.",
    operation_id="carbon_reports_api_list_reports",
)
def list_reports(request: HttpRequest, filters: Query[ReportFilters]):
    c = caller(request)
    c.require_scope(READ)
    reports = visible_reports(c)
    if filters.organisation:
        reports = reports.filter(organisation__slug=filters.organisation)
    reports = reports.order_by("-created_at", "-id")
    return page_out(reports, filters.page, filters.page_size, _report_out)


@router.get(
    "/reports/{uuid:report_id}",
    response={200: ReportOut, **ERRORS},
    summary="A carbon report: status, progress, figures summary and download URL",
    description="Needs scope carbon:read; people need the viewer role. Another organisation's "
    "report is 404.",
    operation_id="carbon_reports_api_get_report",
    url_name="carbon_report",
)
def get_report(request: HttpRequest, report_id: uuid.UUID):
    c = caller(request)
    c.require_scope(READ)
    return _report_out(_report(c, report_id))


@router.get(
    "/reports/{uuid:report_id}/file",
    response={200: None, 409: ErrorOut, 410: ErrorOut, **ERRORS},
    summary="Download a carbon report's file",
    description="The file as an attachment (PDF, CSV, XLSX or iLEAP JSON), never cached. 409 "
    "`report_not_ready` while it is generated or after it failed, 410 `report_expired` once "
    "its file was deleted (the record and data hash stay). Needs scope carbon:read; people "
    "need the viewer role. Every download is in the audit trail.",
    operation_id="carbon_reports_api_report_file",
    url_name="carbon_report_file",
)
def report_file(request: HttpRequest, report_id: uuid.UUID):
    c = caller(request)
    c.require_scope(READ)
    report = _report(c, report_id)
    if report.status == ReportStatus.EXPIRED:
        raise ApiError(410, "report_expired", "The report's file has expired; request it again.")
    if not report.downloadable:
        raise ApiError(409, "report_not_ready", "The report's file is not ready.")
    actions.record_download(report, by=c.user, request=request)
    return download_response(report)
