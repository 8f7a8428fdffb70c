from django.apps import AppConfig


class CarbonConfig(AppConfig):
    name = "carbon"
    verbose_name = "Carbon accounting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Build the Pint registry once at start-up, not lazily inside a request thread.
        from carbon import units  # noqa: F401

        # Sustainability staff maintain emission-factor datasets and products in the admin.
        from carbon.datasets import STAFF_PERMISSIONS
        from portal.staff_roles import StaffRole, grant

        grant(StaffRole.SUSTAINABILITY, *STAFF_PERMISSIONS)
        # ...and review green-power declarations, follow and upload order imports and read
        # orders there (verify/reject itself is checked by carbon.declarations.can_verify).
        grant(
            StaffRole.SUSTAINABILITY,
            "carbon.view_greenpowerdeclaration",
            "carbon.view_importjob",
            "carbon.add_importjob",
            "carbon.view_order",
        )
        # ...and draft and approve points policies and read the points ledger (adjustments are
        # checked by carbon.admin_points.can_adjust). Customer success staff get the catalogue
        # and the redemption queue in carbon.redemptions.
        grant(
            StaffRole.SUSTAINABILITY,
            "carbon.view_pointspolicy",
            "carbon.add_pointspolicy",
            "carbon.change_pointspolicy",
            "carbon.view_pointsaccount",
            "carbon.view_ledgerentry",
        )

        # Portal hooks (permissions, navigation, dashboard panel, demo data) and the Celery
        # tasks of the importer and declarations, so that web and worker processes know them.
        from carbon import (  # noqa: F401
            account_signals,  # health score components (portal.account_signals)
            declarations,
            events,  # event types and schemas in portal.event_catalogue
            idempotency,
            importer,
            portal_hooks,
            redemptions,
            subscribers,  # points follow order events (award on delivery, reverse on cancel)
        )
