from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("GreenLoop portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        # The portal's event types, and its account signals (hook and daily Celery task).
        from portal import (  # noqa: F401 - registers receivers
            account_signals,
            audit_actions,
            checks,
            event_types,
            person_cache,
            signals,
            staff_roles,
            tenancy,
        )

        post_migrate.connect(staff_roles.ensure_staff_groups, sender=self)

        from portal.images import limit_pillow

        limit_pillow()
        task_prerun.connect(tenancy.task_started, weak=False)
        task_postrun.connect(tenancy.task_finished, weak=False)
        # The CRM bridge's tasks live outside portal/tasks.py (autodiscovery finds only that).
        from portal.crm import tasks as crm_tasks  # noqa: F401
