"""Staff screens for beta programmes in the Wagtail admin, in their own menu group. Who sees
which follows the model permissions BetaProgramConfig.ready() grants to Product staff."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSetGroup

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
    menu_icon = "rocket"
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


@hooks.register("register_admin_viewset")
def register_beta_viewsets():
    return BetaGroup()
