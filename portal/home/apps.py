from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Wagtail pages of the portal; a separate app so the user model does not depend on Wagtail."""

    name = "portal.home"
    label = "home"
    default_auto_field = "django.db.models.BigAutoField"
