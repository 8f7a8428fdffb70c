"""Vendor staff roles: groups with Wagtail admin access and the permissions each role needs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    SUSTAINABILITY = "Sustainability", _("Sustainability")
    PRODUCT = "Product", _("Product")
    MODERATOR = "Moderator", _("Moderator")
    CUSTOMER_SUCCESS = "Customer success", _("Customer success")
    INTEGRATION_ADMIN = "Integration admin", _("Integration admin")


# Staff roles that serve customer accounts directly and so may see every organisation.
ACCOUNT_FACING_ROLES = {
    StaffRole.SUSTAINABILITY,
    StaffRole.CUSTOMER_SUCCESS,
    StaffRole.INTEGRATION_ADMIN,
}

# Model permissions per role, as "app_label.codename". Plugins extend this with `grant()`.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    StaffRole.SUSTAINABILITY: {"portal.view_organisation", "portal.view_auditevent"},
    StaffRole.PRODUCT: {"portal.view_organisation"},
    StaffRole.MODERATOR: {"portal.view_auditevent"},
    StaffRole.CUSTOMER_SUCCESS: {
        "portal.view_organisation",
        "portal.change_organisation",
        "portal.view_auditevent",
        # The account overview (health score and signals); "add" recalculates it on demand.
        "portal.view_accounthealth",
        "portal.add_accounthealth",
    },
    StaffRole.INTEGRATION_ADMIN: {
        "portal.view_organisation",
        "portal.view_auditevent",
        "portal.view_outboxevent",
        # The CRM bridge: endpoints (no deleting: deactivate), deliveries (read; replay is a
        # change of the endpoint's).
        "portal.view_crmendpoint",
        "portal.add_crmendpoint",
        "portal.change_crmendpoint",
        "portal.view_delivery",
        # The inbound side (read-only): contacts the CRM pushed, webhook ids it sent.
        "portal.view_crmcontact",
        "portal.view_inboundwebhook",
    },
}


def grant(role: StaffRole, *permissions: str) -> None:
    """Let a plugin add its model permissions to a staff role (applied on the next migrate)."""
    ROLE_PERMISSIONS[role].update(permissions)


def ensure_staff_groups(**kwargs) -> None:
    """Create the staff groups and give them admin access plus their permissions. Idempotent."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.db import DEFAULT_DB_ALIAS

    using = kwargs.get("using", DEFAULT_DB_ALIAS)
    # Usually everything is in place already (each migrate, each flush of a transactional test,
    # every seed_demo and the test fixtures for staff call this): one query says so, where the
    # work below sends some 180 (~0.1 s of CPU per call in the tests, which call it hundreds of
    # times).
    if _staff_groups_complete(using):
        return
    # post_migrate reaches the portal before the plugin apps, whose permissions Django creates
    # only when their own post_migrate runs: create them all now, so one migrate is enough.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    access_admin = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    for role in StaffRole:
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm:
                wanted.append(perm)
        if access_admin:
            wanted.append(access_admin)
        group.permissions.add(*wanted)


def _staff_groups_complete(using: str) -> bool:
    """Every staff group exists and holds admin access and each of its role's permissions."""
    from django.contrib.auth.models import Group

    held = set(
        Group.permissions.through.objects.using(using)
        .filter(group__name__in=[role.value for role in StaffRole])
        .values_list("group__name", "permission__content_type__app_label", "permission__codename")
    )
    return all(
        (role.value, *dotted.split(".", 1)) in held
        for role in StaffRole
        for dotted in {*ROLE_PERMISSIONS[role], "wagtailadmin.access_admin"}
    )
