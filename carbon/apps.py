from django.apps import AppConfig


class CarbonConfig(AppConfig):
    name = "carbon"
    verbose_name = "Carbon accounting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Build the Pint registry once at start-up, not lazily inside a request thread.
        from carbon import units  # noqa: F401
