from django.apps import AppConfig


class BetaProgramConfig(AppConfig):
    name = "beta_program"
    default_auto_field = "django.db.models.BigAutoField"
