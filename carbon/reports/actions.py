"""Every write of carbon reports: requesting one (who may, and which moment its figures are read
as of), generating it (the Celery task calls this), recording a download and expiring old files.
The portal, the API, the admin and the tasks call these and nothing else.

Reproducibility: an as-issued report for an organisation (or every customer) and a period reuses
`figures_as_of` of the first earlier as-issued report of the same scope that was generated after
the period had ended, so a reissue shows the same figures and data hash even after new factor
datasets are published and the orders recalculated. Otherwise its figures are read as of now. A
restated report reads the current figures and, beside them, those as first issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from carbon.models import Report, ReportBasis, ReportLanguage, ReportStatus, ReportStep, report_path
from carbon.reports import tasks
from carbon.reports.builder import build_document, figures_summary
from carbon.reports.events import REPORT_GENERATED
from carbon.reports.exceptions import ReportError
from carbon.reports.formats import FORMATS, renderer
from carbon.reports.period import ReportingPeriod
from carbon.reports.permissions import PERM_REQUEST_REPORT, is_report_staff
from portal import audit, events
from portal.exceptions import PermissionDeniedError
from portal.models import ApiToken, Organisation, User
from portal.permissions import has_perm

logger = logging.getLogger(__name__)

# Progress shown while a report is generated: (percent at the start of the step, step).
PROGRESS = {
    ReportStep.READING: 5,
    ReportStep.RENDERING: 40,
    ReportStep.STORING: 85,
}


# --- requesting


def _check_may_request(
    organisation: Organisation | None, by: User | None, token: ApiToken | None
) -> None:
    """Vendor sustainability staff for any organisation or every customer; customer admins and
    members for their own; an API token (its scope checked by the API) for its own."""
    if token is not None:
        if organisation is None or token.organisation_id != organisation.pk:
            raise PermissionDeniedError(_("A token requests reports for its own organisation."))
        return
    if organisation is None:
        if not is_report_staff(by):
            raise PermissionDeniedError(
                _("Only sustainability staff request reports on every customer.")
            )
        return
    if not has_perm(by, PERM_REQUEST_REPORT, organisation):
        raise PermissionDeniedError(
            _("Only members and admins of the organisation request reports.")
        )


def issued_reports(organisation: Organisation | None, period: ReportingPeriod) -> QuerySet[Report]:
    """The as-issued reports of the same scope (organisation or every customer, same days) whose
    figures can be read again: all but the failed ones, first issued first."""
    return (
        Report.objects.filter(
            organisation=organisation,
            period_start=period.start,
            period_end=period.end,
            basis=ReportBasis.AS_ISSUED,
        )
        .exclude(status=ReportStatus.FAILED)
        .order_by("figures_as_of", "pk")
    )


def period_closed_at(period: ReportingPeriod) -> dt.datetime:
    """The moment the period ends: midnight after its last day, in the project's time zone."""
    return timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))


def figures_moments(
    organisation: Organisation | None, period: ReportingPeriod, *, restated: bool
) -> tuple[dt.datetime, dt.datetime | None]:
    """(figures_as_of, as_issued_as_of) of a new report (see the module's docstring)."""
    now = timezone.now()
    issued = issued_reports(organisation, period)
    closed = issued.filter(figures_as_of__gte=period_closed_at(period)).first()
    if not restated:
        return (closed.figures_as_of if closed else now), None
    first = closed or issued.first()
    if first is None:
        raise ReportError(
            _(
                "A restated report compares with the report first issued for the same period: "
                "generate an as-issued report first."
            ),
            field="restated",
            code="no_issued_report",
        )
    return now, first.figures_as_of


def request_report(
    organisation: Organisation | None,
    period: ReportingPeriod,
    *,
    language: str,
    format: str,  # noqa: A002 - the report's format, as the API names it
    restated: bool = False,
    by: User | None = None,
    token: ApiToken | None = None,
    request: Any = None,
) -> Report:
    """Record a report and queue its generation (after commit). `organisation` None: every
    customer. Refused with PermissionDeniedError (403) or ReportError (422, naming the field)."""
    _check_may_request(organisation, by, token)
    if language not in ReportLanguage.values:
        raise ReportError(
            _("The language must be one of: %s.") % ", ".join(ReportLanguage.values),
            field="language",
            code="invalid_language",
        )
    if format not in FORMATS:
        raise ReportError(
            _("The format must be one of: %s.") % ", ".join(FORMATS),
            field="format",
            code="invalid_format",
        )
    figures_as_of, as_issued_as_of = figures_moments(organisation, period, restated=restated)
    with transaction.atomic():
        report = Report.objects.create(
            organisation=organisation,
            period_kind=str(period.kind),
            period_start=period.start,
            period_end=period.end,
            language=language,
            format=format,
            basis=ReportBasis.RESTATED if restated else ReportBasis.AS_ISSUED,
            figures_as_of=figures_as_of,
            as_issued_as_of=as_issued_as_of,
            requested_by=by,
        )
        audit.record(
            "carbon.report_requested",
            actor=by,
            organisation=organisation,
            obj=report,
            request=request,
            details={
                "report": str(report.public_id),
                "period": str(period),
                "format": format,
                "language": language,
                "basis": report.basis,
                "figures_as_of": figures_as_of.isoformat(),
                **({"token": token.display_prefix} if token is not None else {}),
            },
        )
        transaction.on_commit(lambda: tasks.generate_report.delay(report.pk))
    return report


# --- generating


def _step(report: Report, step: ReportStep) -> None:
    # Saved at once (outside any transaction) so a page polling the record sees it.
    report.status = ReportStatus.RUNNING
    report.step = step
    report.progress = PROGRESS[step]
    report.save(update_fields=["status", "step", "progress", "started_at"])


def _event_data(report: Report) -> dict[str, Any]:
    return {
        "report_id": str(report.public_id),
        "organisation_id": report.organisation_id,
        "requested_by_id": report.requested_by_id,
        "period": str(report.period),
        "period_kind": report.period_kind,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "format": report.format,
        "language": report.language,
        "basis": report.basis,
        "figures_as_of": report.figures_as_of,
        "data_hash": report.data_hash,
        "file_sha256": report.sha256,
        "size": report.size,
    }


def file_name(report: Report) -> str:
    """The name a report's file is stored and downloaded under."""
    scope = report.organisation.slug if report.organisation else "all-customers"
    extension = FORMATS[report.format].extension
    return f"greenloop-carbon-report-{scope}-{report.period}-{report.language}.{extension}"


def generate_report(report: Report) -> Report:
    """Read the figures, render the file and store it; the report ends done (with its file, data
    hash and figures summary, an audit entry, an event and an e-mail to the requester) or failed
    with a message and no file. Safe to run twice: a finished report is returned as it is."""
    if report.status in (ReportStatus.DONE, ReportStatus.EXPIRED):
        return report
    report.started_at = timezone.now()
    stored: str | None = None
    try:
        _step(report, ReportStep.READING)
        document = build_document(report)
        _step(report, ReportStep.RENDERING)
        content = renderer(report.format)(document)
        if not isinstance(content, bytes):
            raise TypeError(f"The {report.format} renderer returned {type(content).__name__}.")
        _step(report, ReportStep.STORING)
        name = f"{report.public_id}/{file_name(report)}"
        stored = report.file.storage.save(report_path(report, name), ContentFile(content))
        finished = timezone.now()
        with transaction.atomic():
            report.file.name = stored
            report.size = len(content)
            report.sha256 = hashlib.sha256(content).hexdigest()
            report.data_hash = document.inventory.data_hash
            report.summary = figures_summary(document)
            report.status = ReportStatus.DONE
            report.progress = 100
            report.step = ReportStep.WAITING
            report.error = ""
            report.finished_at = finished
            report.expires_at = finished + dt.timedelta(
                days=settings.GREENLOOP_REPORT_RETENTION_DAYS
            )
            report.save()
            audit.record(
                "carbon.report_generated",
                actor=report.requested_by,
                organisation=report.organisation,
                obj=report,
                details={
                    "report": str(report.public_id),
                    "data_hash": report.data_hash,
                    "sha256": report.sha256,
                    "size": report.size,
                },
            )
            events.publish(
                REPORT_GENERATED,
                report.organisation,
                f"reports/{report.public_id}",
                _event_data(report),
            )
    except Exception as exc:
        # Nothing half-written stays: the file goes with the failure.
        logger.exception("Carbon report %s failed", report.public_id)
        if stored:
            report.file.storage.delete(stored)
        report.file.name = ""
        report.status = ReportStatus.FAILED
        report.step = ReportStep.WAITING
        report.finished_at = timezone.now()
        # Stored untranslated: the pages and the e-mail translate it for their reader.
        report.error = (
            exc.message
            if isinstance(exc, ReportError)
            else gettext_noop(
                "The report could not be generated; nothing was stored. Try again later."
            )
        )
        report.save()
        audit.record(
            "carbon.report_failed",
            actor=report.requested_by,
            organisation=report.organisation,
            obj=report,
            details={"report": str(report.public_id), "error": type(exc).__name__},
        )
    if report.requested_by_id is not None:
        transaction.on_commit(lambda: tasks.send_report_email.delay(report.pk))
    return report


def record_download(report: Report, *, by: User | None, request: Any = None) -> None:
    """Every download of a report's file is in the audit trail."""
    audit.record(
        "carbon.report_downloaded",
        actor=by,
        organisation=report.organisation,
        obj=report,
        request=request,
        details={"report": str(report.public_id), "sha256": report.sha256},
    )


# --- retention

# A report still queued or running this long after it was asked for lost its worker: the nightly
# run marks it failed, so its page stops waiting and it can be asked for again.
ABANDONED_AFTER = dt.timedelta(hours=24)
ABANDONED = gettext_noop("The report was not generated in time; nothing was stored. Ask again.")


def expire_reports(now: dt.datetime | None = None) -> int:
    """Delete the files of finished reports past their `expires_at`; the record keeps its figures
    summary and data hash (status expired). Reports abandoned by their worker are marked failed.
    Idempotent; returns how many expired."""
    now = now or timezone.now()
    Report.objects.filter(
        status__in=(ReportStatus.QUEUED, ReportStatus.RUNNING),
        created_at__lt=now - ABANDONED_AFTER,
    ).update(status=ReportStatus.FAILED, step=ReportStep.WAITING, error=ABANDONED, finished_at=now)
    expired = 0
    for report in Report.objects.filter(status=ReportStatus.DONE, expires_at__lte=now).iterator(
        chunk_size=200
    ):
        if report.file:
            report.file.delete(save=False)
        report.file.name = ""
        report.status = ReportStatus.EXPIRED
        report.save(update_fields=["file", "status"])
        expired += 1
    return expired
