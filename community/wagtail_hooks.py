"""Staff screens for the community in the Wagtail admin, in their own "Community" menu group:
the review queue and members (community/admin_moderation.py), spaces and tags
(community/admin_spaces.py). Who sees which follows the model permissions that
CommunityConfig.ready() grants to the staff roles."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSetGroup

from community.admin_moderation import MemberViewSet, ReviewQueueViewSet
from community.admin_spaces import SpaceViewSet, TagViewSet


class CommunityGroup(ModelViewSetGroup):
    menu_label = _("Community")
    menu_icon = "folder-open-inverse"
    menu_order = 220
    items = (ReviewQueueViewSet, SpaceViewSet, TagViewSet, MemberViewSet)


@hooks.register("register_admin_viewset")
def register_community_viewsets():
    return CommunityGroup()
