"""Customer portal pages of carbon reports: the organisation's reports with the form that asks for
a new one, a report's page (progress while it is generated, then its figures and download link)
and the access-checked download."""

from __future__ import annotations

import uuid

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from carbon.footprint.permissions import PERM_VIEW_ORDERS
from carbon.models import Report, ReportLanguage
from carbon.reports import actions
from carbon.reports.exceptions import ReportError
from carbon.reports.formats import FORMATS
from carbon.reports.forms import ReportForm
from carbon.reports.http import download_response
from carbon.reports.permissions import PERM_REQUEST_REPORT, PERM_VIEW_REPORTS
from portal.access import reachable_or_404
from portal.exceptions import PortalError
from portal.http import OrganisationRequest
from portal.models import Organisation
from portal.permissions import has_perm
from portal.views import forbidden, organisation_view

PAGE_SIZE = 25
# The report page reloads itself this often (seconds) until the report is finished.
REFRESH_SECONDS = 2


def _report(
    request: OrganisationRequest, organisation: Organisation, report_id: uuid.UUID
) -> Report:
    return reachable_or_404(
        request,
        Report.objects.filter(organisation=organisation).select_related("requested_by"),
        public_id=report_id,
    )


def _initial_language() -> str:
    language = (get_language() or "en").lower()
    return language if language in ReportLanguage.values else ReportLanguage.EN


@require_http_methods(["GET", "POST"])
@organisation_view(PERM_VIEW_REPORTS)
def reports(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    can_request = has_perm(request.user, PERM_REQUEST_REPORT, organisation)
    form = ReportForm(request.POST or None, initial={"language": _initial_language()})
    status = 200
    if request.method == "POST":
        if not can_request:
            return forbidden(request, organisation, PERM_REQUEST_REPORT)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = actions.request_report(
                    organisation,
                    data["period"],
                    language=data["language"],
                    format=data["format"],
                    restated=data["restated"],
                    by=request.user,
                    request=request,
                )
            except ReportError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            except PortalError as error:
                form.add_error(None, error.message)
            else:
                return redirect(
                    "carbon:report_detail", org_slug=organisation.slug, report_id=report.public_id
                )
        status = 400
    page = Paginator(
        Report.objects.filter(organisation=organisation).select_related("requested_by"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "carbon/reports/reports.html",
        {
            "organisation": organisation,
            "page": page,
            "form": form,
            "can_request": can_request,
            "can_see_trends": has_perm(request.user, PERM_VIEW_ORDERS, organisation),
            "formats": FORMATS,
        },
        status=status,
    )


@organisation_view(PERM_VIEW_REPORTS)
def report_detail(
    request: OrganisationRequest, organisation: Organisation, report_id: uuid.UUID
) -> HttpResponse:
    report = _report(request, organisation, report_id)
    return render(
        request,
        "carbon/reports/report_detail.html",
        {
            "organisation": organisation,
            "report": report,
            "format": FORMATS.get(report.format),
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@organisation_view(PERM_VIEW_REPORTS)
def report_download(
    request: OrganisationRequest, organisation: Organisation, report_id: uuid.UUID
) -> HttpResponseBase:
    report = _report(request, organisation, report_id)
    if not report.downloadable:
        raise Http404
    actions.record_download(report, by=request.user, request=request)
    return download_response(report)
