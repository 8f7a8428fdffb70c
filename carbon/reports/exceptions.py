"""Domain errors of carbon reports."""

from __future__ import annotations

from portal.exceptions import PortalError


class ReportError(PortalError):
    code = "report_error"
    status = 422
