"""Community's place in the portal: the top-bar link, the unread count and demo data.
Imported from CommunityConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks


@hooks.register("greenloop_nav_items")
def community_nav(request, org_slug: str) -> list[dict]:
    return [{"label": _("Community"), "url": reverse("community:index")}]


# After carbon's demo data: the demo topics mention demo orders' customers.
@hooks.register("greenloop_seed_demo", order=200)
def seed_community_demo(stdout=None) -> None:
    from community.demo import seed

    seed(stdout=stdout)


@hooks.register("greenloop_personal_data")
def community_personal_data(user) -> dict:
    from community.privacy import personal_data

    return personal_data(user)


@hooks.register("greenloop_erase_personal_data")
def erase_community_data(user) -> dict[str, int]:
    from community.privacy import erase_personal_data

    return erase_personal_data(user)
