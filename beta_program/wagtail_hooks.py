"""Staff screens for beta programmes and the R&D boards in the Wagtail admin, each in its own
menu group. Who sees which follows the model permissions BetaProgramConfig.ready() grants to
Product staff (and, for reading the boards, to Customer success)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSetGroup

from beta_program.boards.admin import BoardViewSet, IdeaStatusViewSet, TagViewSet
from beta_program.boards.admin_status import IdeaViewSet
from beta_program.programmes.admin import ApplicationViewSet, ProgrammeViewSet
from beta_program.programmes.admin_announcements import AnnouncementViewSet
from beta_program.programmes.admin_feedback import FeedbackViewSet
from beta_program.programmes.admin_release import (
    BuildViewSet,
    CohortViewSet,
    NdaAcceptanceViewSet,
    NdaVersionViewSet,
)


class BetaGroup(ModelViewSetGroup):
    menu_label = _("Beta programmes")
    # Wagtail ships no rocket icon (an unknown name draws nothing); a task list stands in.
    menu_icon = "tasks"
    menu_order = 230
    items = (
        ProgrammeViewSet,
        ApplicationViewSet,
        NdaVersionViewSet,
        NdaAcceptanceViewSet,
        CohortViewSet,
        BuildViewSet,
        AnnouncementViewSet,
        FeedbackViewSet,
    )


class BoardsGroup(ModelViewSetGroup):
    """The R&D boards (issue #16): ideas first, as staff open it most."""

    menu_label = _("R&D boards")
    menu_icon = "pick"
    menu_order = 231
    items = (IdeaViewSet, BoardViewSet, TagViewSet, IdeaStatusViewSet)


@hooks.register("register_admin_viewset")
def register_beta_viewsets():
    return BetaGroup()


@hooks.register("register_admin_viewset")
def register_board_viewsets():
    return BoardsGroup()
