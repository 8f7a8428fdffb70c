from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("GreenLoop portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal import signals, staff_roles  # noqa: F401 - connects audit receivers

        post_migrate.connect(staff_roles.ensure_staff_groups, sender=self)

        from portal.images import limit_pillow

        limit_pillow()
