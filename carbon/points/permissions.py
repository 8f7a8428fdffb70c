"""Every permission of the points wing (statement, redemptions, policies, catalogue, ledger) and
who holds it. `register()` runs once from CarbonConfig.ready(); nothing registers at import time."""

from __future__ import annotations

from wagtail.permissions import register_permission_policy

from carbon.models import (
    LedgerEntry,
    PointsAccount,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    Service,
)
from portal.admin_common import DraftOnlyPermissionPolicy, NoDeletePermissionPolicy
from portal.models import Role, User
from portal.permissions import in_staff_role, register_owner, register_rule
from portal.staff_roles import StaffRole, grant
from portal.wagtail_hooks import ReadOnlyPermissionPolicy

# Customer permissions (object: the organisation or one of its rows).
PERM_VIEW_POINTS = "carbon.view_points"
PERM_REDEEM = "carbon.redeem"
# Staff model permission that drafts, submits and approves policies.
PERM_MANAGE_POLICIES = "carbon.change_pointspolicy"

# Customer success staff deliver the services: they run the catalogue and the redemption queue.
CUSTOMER_SUCCESS_PERMISSIONS = (
    "carbon.view_redemption",
    "carbon.change_redemption",
    "carbon.view_service",
    "carbon.add_service",
    "carbon.change_service",
)
# Sustainability staff draft and approve policies and read the ledger (adjustments are checked by
# can_adjust); they may read the queue and the catalogue.
SUSTAINABILITY_PERMISSIONS = (
    "carbon.view_redemption",
    "carbon.view_service",
    "carbon.view_pointspolicy",
    "carbon.add_pointspolicy",
    PERM_MANAGE_POLICIES,
    "carbon.view_pointsaccount",
    "carbon.view_ledgerentry",
)


def can_fulfil(user: User | None) -> bool:
    """Customer success staff deliver the services, so they fulfil and reject requests."""
    return user is not None and (
        user.is_superuser or in_staff_role(user, StaffRole.CUSTOMER_SUCCESS)
    )


def can_manage_policies(user: User) -> bool:
    """Draft, submit and approve points policies: staff with the change permission."""
    return bool(user.is_active and user.is_staff and user.has_perm(PERM_MANAGE_POLICIES))


def can_adjust(user: User) -> bool:
    """The approver of a manual adjustment: sustainability staff (or a superuser)."""
    return in_staff_role(user, StaffRole.SUSTAINABILITY)


def register() -> None:
    register_rule(PERM_VIEW_POINTS, min_role=Role.VIEWER)
    register_rule(PERM_REDEEM, min_role=Role.MEMBER)
    register_owner(Redemption, lambda redemption: redemption.organisation)
    grant(StaffRole.CUSTOMER_SUCCESS, *CUSTOMER_SUCCESS_PERMISSIONS)
    grant(StaffRole.SUSTAINABILITY, *SUSTAINABILITY_PERMISSIONS)

    # Admin permission policies. A policy is edited only while it is a draft and never deleted:
    # awards cite it. Services are switched off, not deleted: redemptions keep pointing at them.
    register_permission_policy(
        PointsPolicy, DraftOnlyPermissionPolicy(PointsPolicy, draft_status=PolicyStatus.DRAFT)
    )
    register_permission_policy(Service, NoDeletePermissionPolicy(Service))
    # Redemptions change only through fulfil/reject, the ledger only through its actions: the
    # admin never edits them as forms.
    for model in (Redemption, PointsAccount, LedgerEntry):
        register_permission_policy(model, ReadOnlyPermissionPolicy(model))
