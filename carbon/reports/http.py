"""How a report's file leaves the server, the same from the portal, the API and the admin."""

from __future__ import annotations

from django.http import FileResponse, HttpResponseBase

from carbon.models import Report
from carbon.reports.actions import file_name
from carbon.reports.formats import FORMATS
from portal.security import harden_download


def download_response(report: Report) -> HttpResponseBase:
    """A report's file as an attachment: never cached, never sniffed or run as a page."""
    response = FileResponse(
        report.file.open("rb"),
        content_type=FORMATS[report.format].content_type,
        as_attachment=True,
        filename=file_name(report),
    )
    return harden_download(response)
