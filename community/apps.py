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
        # Both also curate tags (a tag nobody used may be deleted: the delete view checks).
        tag_perms = (
            "community.view_tag",
            "community.add_tag",
            "community.change_tag",
            "community.delete_tag",
        )
        grant(StaffRole.MODERATOR, *tag_perms)
        grant(StaffRole.PRODUCT, *tag_perms)
        # Moderators open the review queue and the member list; the admin only reads these
        # models, their changes go through community.moderation.
        grant(StaffRole.MODERATOR, "community.view_post", "community.view_member")

        # Event types, community.post, the top-bar link, demo data, health-score components, event
        # subscribers and the Celery tasks.
        from community import (  # noqa: F401
            account_signals,
            events,
            notifications,
            page_cache,
            permissions,
            portal_hooks,
            subscribers,
            tasks,
            topic_counts,
            visibility,
        )

        # The space a beta cohort asks for through its event.
        subscribers.register()
        visibility.connect()
        page_cache.connect()
        from community.blocks import SPACE_CHOICES, space_choices
        from portal.home.block_choices import register_choices

        # The home page's space drop-downs (their migration names only the key).
        register_choices(SPACE_CHOICES.key, space_choices)
