from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BetaProgramConfig(AppConfig):
    name = "beta_program"
    verbose_name = _("Beta programmes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.staff_roles import StaffRole, grant

        # Product staff run programmes; a programme is closed, never deleted. Applications are
        # read in the admin and change only through the review actions.
        grant(
            StaffRole.PRODUCT,
            "beta_program.view_programme",
            "beta_program.add_programme",
            "beta_program.change_programme",
            "beta_program.view_application",
            "beta_program.view_ndaversion",
            "beta_program.add_ndaversion",
            "beta_program.change_ndaversion",
            "beta_program.view_ndaacceptance",
            "beta_program.view_cohort",
            "beta_program.add_cohort",
            "beta_program.change_cohort",
            "beta_program.view_build",
            "beta_program.add_build",
            "beta_program.change_build",
            "beta_program.view_announcement",
            "beta_program.add_announcement",
            "beta_program.change_announcement",
            # Feedback is read in the triage queue and changes only through its actions.
            "beta_program.view_feedback",
        )

        # Permission rules, the top-bar link, demo data, the health score component and the
        # Celery tasks.
        from beta_program.boards import account_signals as board_signals  # noqa: F401
        from beta_program.boards import events as board_events  # noqa: F401
        from beta_program.programmes import (  # noqa: F401
            account_signals,
            events,
            participation_tasks,
            permissions,
            portal_hooks,
            tasks,
        )
