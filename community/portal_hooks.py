"""Community's place in the portal: the top-bar link, the unread count and demo data.
Imported from CommunityConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from community import demo, privacy
from portal.notifications import Elsewhere


@hooks.register("greenloop_nav_items")
def community_nav(request, org_slug: str) -> list[dict]:
    return [{"label": _("Community"), "url": reverse("community:index")}]


# After carbon's demo data: the demo topics mention demo orders' customers.
@hooks.register("greenloop_seed_demo", order=200)
def seed_community_demo(stdout=None) -> None:
    demo.seed(stdout=stdout)


@hooks.register("greenloop_personal_data")
def community_personal_data(user) -> dict:
    return privacy.personal_data(user)


@hooks.register("greenloop_erase_personal_data")
def erase_community_data(user) -> dict[str, int]:
    return privacy.erase_personal_data(user)


@hooks.register("greenloop_unread_elsewhere")
def community_unread(user) -> list[Elsewhere]:
    """The community keeps its own notifications (and page); the portal's header counts them
    with its own so people see one number. One query."""
    from community.notifications import unread_count

    return [
        Elsewhere(
            label=str(_("Community")),
            url=reverse("community:notifications"),
            count=unread_count(user),
        )
    ]
