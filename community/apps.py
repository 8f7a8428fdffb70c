from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Community")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.staff_roles import StaffRole, grant

        # Moderators and product staff create and edit spaces in the Wagtail admin; spaces are
        # archived rather than deleted, so nobody is granted delete.
        space_perms = ("community.view_space", "community.add_space", "community.change_space")
        grant(StaffRole.MODERATOR, *space_perms)
        grant(StaffRole.PRODUCT, *space_perms)

        from community import permissions  # noqa: F401  (registers community.post)
