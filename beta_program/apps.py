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
            # R&D boards: boards, tags and the status workflow are configured in the admin (a
            # board with ideas and a status in use refuse deletion on their screens); ideas are
            # read there and change only through the boards' actions and the two staff forms.
            "beta_program.view_board",
            "beta_program.add_board",
            "beta_program.change_board",
            "beta_program.delete_board",
            "beta_program.view_tag",
            "beta_program.add_tag",
            "beta_program.change_tag",
            "beta_program.view_ideastatus",
            "beta_program.add_ideastatus",
            "beta_program.change_ideastatus",
            "beta_program.delete_ideastatus",
            "beta_program.view_idea",
        )
        # Customer success looks at the boards (is_board_staff) to answer accounts' questions,
        # but changes nothing there.
        grant(
            StaffRole.CUSTOMER_SUCCESS,
            "beta_program.view_board",
            "beta_program.view_tag",
            "beta_program.view_ideastatus",
            "beta_program.view_idea",
        )

        # Permission rules, the top-bar link, demo data, the health score component and the
        # Celery tasks.
        from django.db.models.signals import post_migrate

        from beta_program.boards import default_workflow
        from beta_program.boards import demo as board_demo  # noqa: F401

        # After a flush (a transactional test's teardown) the seeded workflow is written again.
        post_migrate.connect(
            default_workflow.after_migrate, sender=self, dispatch_uid="boards-default-workflow"
        )
        from beta_program.boards import account_signals as board_signals  # noqa: F401
        from beta_program.boards import admin_accounts as board_accounts  # noqa: F401
        from beta_program.boards import (  # noqa: F401
            admin_merge,
            comment_actions,  # noqa: F401  (its notification kinds)
            merge,
        )
        from beta_program.boards import events as board_events  # noqa: F401
        from beta_program.boards import notifications as board_notifications  # noqa: F401
        from beta_program.boards import portal_hooks as board_hooks  # noqa: F401
        from beta_program.programmes import (  # noqa: F401
            account_signals,
            events,
            participation_tasks,
            permissions,
            portal_hooks,
            tasks,
        )
