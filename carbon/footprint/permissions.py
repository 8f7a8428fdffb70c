"""Every permission of the footprint wing (orders, imports, datasets, declarations) and who holds
it. `register()` runs once from CarbonConfig.ready(); nothing registers at import time."""

from __future__ import annotations

from wagtail.permissions import register_permission_policy

from carbon.models import (
    DatasetStatus,
    EmissionFactor,
    FactorDataset,
    GreenPowerDeclaration,
    ImportJob,
    Order,
)
from portal.admin_common import DraftOnlyPermissionPolicy
from portal.models import Role
from portal.permissions import grant_staff, in_staff_role, register_owner, register_rule
from portal.staff_roles import StaffRole, grant
from portal.wagtail_hooks import ReadOnlyPermissionPolicy

# Customer permissions (object: the organisation or one of its rows).
PERM_VIEW_ORDERS = "carbon.view_orders"
PERM_IMPORT = "carbon.import_orders"
PERM_SUBMIT = "carbon.submit_declaration"
PERM_VERIFY = "carbon.verify_declaration"
# Staff model permissions. Uploading an order file in the admin is an `add_importjob`, checked by
# the upload view itself since the read-only policy hides "add".
PERM_UPLOAD_ORDERS = "carbon.add_importjob"
PERM_MANAGE_DATASETS = "carbon.change_factordataset"

# Sustainability staff maintain emission-factor datasets and products, review green-power
# declarations, follow and upload order imports and read orders in the admin.
SUSTAINABILITY_PERMISSIONS = (
    "carbon.view_factordataset",
    "carbon.add_factordataset",
    PERM_MANAGE_DATASETS,
    "carbon.view_emissionfactor",
    "carbon.view_product",
    "carbon.add_product",
    "carbon.change_product",
    "carbon.view_greenpowerdeclaration",
    "carbon.view_importjob",
    PERM_UPLOAD_ORDERS,
    "carbon.view_order",
)


def can_manage_datasets(user) -> bool:
    """Sustainability staff (and superusers) maintain datasets: the model permission says so."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(PERM_MANAGE_DATASETS)
    )


def can_verify(user) -> bool:
    return in_staff_role(user, StaffRole.SUSTAINABILITY)


def register() -> None:
    register_rule(PERM_VIEW_ORDERS, min_role=Role.VIEWER)
    register_rule(PERM_IMPORT, min_role=Role.MEMBER)
    register_rule(PERM_SUBMIT, min_role=Role.MEMBER)
    register_rule(PERM_VERIFY, lambda user, obj: can_verify(user))
    # Account-facing staff can read a customer's orders, as they can the organisation.
    grant_staff(PERM_VIEW_ORDERS)
    register_owner(Order, lambda order: order.organisation)
    register_owner(GreenPowerDeclaration, lambda declaration: declaration.organisation)
    register_owner(ImportJob, lambda job: job.organisation)
    grant(StaffRole.SUSTAINABILITY, *SUSTAINABILITY_PERMISSIONS)

    # Admin permission policies. Datasets are edited only while they are drafts and are never
    # deleted: a published dataset is evidence (the model refuses changes too).
    register_permission_policy(
        FactorDataset, DraftOnlyPermissionPolicy(FactorDataset, draft_status=DatasetStatus.DRAFT)
    )
    register_permission_policy(EmissionFactor, ReadOnlyPermissionPolicy(EmissionFactor))
    # Declarations change only through verify/reject, imports only through an upload, orders only
    # through the import and the API: the admin never edits them as forms.
    for model in (GreenPowerDeclaration, ImportJob, Order):
        register_permission_policy(model, ReadOnlyPermissionPolicy(model))
