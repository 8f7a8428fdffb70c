"""Who may do what with carbon reports. `register()` runs once from CarbonConfig.ready().

Vendor sustainability staff request reports for any organisation and for every customer at once;
customer admins and members request their own organisation's; viewers may read and download the
reports that exist. Tokens act for their own organisation through their scopes."""

from __future__ import annotations

from typing import Any

from carbon.models import Report
from portal.models import Role
from portal.permissions import in_staff_role, owner_of, register_owner, register_rule, role_in
from portal.staff_roles import StaffRole, grant

PERM_VIEW_REPORTS = "carbon.view_reports"
PERM_REQUEST_REPORT = "carbon.request_report"
# Staff model permissions: the admin's report list and its bulk "Generate reports" form.
PERM_ADMIN_VIEW = "carbon.view_report"
PERM_ADMIN_GENERATE = "carbon.add_report"


def is_report_staff(user: Any) -> bool:
    """Vendor sustainability staff (with their second factor) and superusers."""
    return in_staff_role(user, StaffRole.SUSTAINABILITY)


def _role_at_least(user: Any, obj: Any, minimum: Role) -> bool:
    organisation = owner_of(obj)
    if organisation is None:  # every customer's report: staff only
        return False
    role = role_in(user, organisation)
    return role is not None and Role.rank(role) >= Role.rank(minimum)


def may_view(user: Any, obj: Any) -> bool:
    return is_report_staff(user) or _role_at_least(user, obj, Role.VIEWER)


def may_request(user: Any, obj: Any) -> bool:
    return is_report_staff(user) or _role_at_least(user, obj, Role.MEMBER)


def register() -> None:
    register_rule(PERM_VIEW_REPORTS, may_view)
    register_rule(PERM_REQUEST_REPORT, may_request)
    register_owner(Report, lambda report: report.organisation)
    grant(StaffRole.SUSTAINABILITY, PERM_ADMIN_VIEW, PERM_ADMIN_GENERATE)
