from django.apps import AppConfig


class CarbonConfig(AppConfig):
    name = "carbon"
    verbose_name = "Carbon accounting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Build the Pint registry once at start-up, not lazily inside a request thread.
        from carbon import (
            account_signals,  # noqa: F401 - health score components
            portal_hooks,  # noqa: F401 - navigation, dashboard, demo, privacy hooks
            work_queue,  # noqa: F401 - the admin home's work queue rows
        )
        from carbon.footprint import crm as footprint_crm
        from carbon.footprint import events as footprint_events  # noqa: F401 - event schemas
        from carbon.footprint import permissions as footprint_permissions
        from carbon.footprint import tasks as footprint_tasks  # noqa: F401 - workers know them
        from carbon.footprint import units  # noqa: F401
        from carbon.points import events as points_events  # noqa: F401
        from carbon.points import permissions as points_permissions
        from carbon.points import subscribers
        from carbon.points import tasks as points_tasks  # noqa: F401
        from carbon.reports import events as report_events  # noqa: F401 - event schema
        from carbon.reports import permissions as report_permissions
        from carbon.reports import tasks as report_tasks  # noqa: F401 - workers know them

        footprint_permissions.register()
        # The CRM's inbound products and orders (portal.crm.inbound runs them).
        footprint_crm.register()
        points_permissions.register()
        report_permissions.register()
        # Points follow order events (award on delivery, reverse on cancel).
        subscribers.register()
