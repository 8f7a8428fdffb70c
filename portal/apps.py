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
        name_relations_by_their_model()

        from portal.images import limit_pillow

        limit_pillow()
        task_prerun.connect(tenancy.task_started, weak=False)
        task_postrun.connect(tenancy.task_finished, weak=False)
        # The CRM bridge's tasks live outside portal/tasks.py (autodiscovery finds only that).
        from portal.crm import tasks as crm_tasks  # noqa: F401


def name_relations_by_their_model() -> None:
    """A foreign key named after its model (`organisation`, `service`, `programme`) and given no
    verbose name of its own is headed by Django's untranslated field name ("Organisation" on the
    Chinese admin's listings and filters); name it as its model is named, which is translated.
    Runtime only: migrations read the declared name (`_verbose_name`), which stays unset."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.fields:
            related = field.related_model
            if (
                (field.many_to_one or field.one_to_one)
                and related is not None
                and not isinstance(related, str)
                and getattr(field, "_verbose_name", "") is None
                and field.name == related._meta.model_name
            ):
                field.verbose_name = related._meta.verbose_name or field.verbose_name
