"""Beta programmes' place in the portal: the top-bar link and demo data. Imported from
BetaProgramConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks


@hooks.register("greenloop_nav_items")
def beta_nav(request, org_slug: str) -> list[dict]:
    if not org_slug:
        return []
    return [
        {
            "label": _("Beta"),
            "url": reverse("beta:index", kwargs={"org_slug": org_slug}),
            "group": "cocreation",
        }
    ]


# After community's demo data: the confidential beta's cohort is community's "Beta cohort" group.
@hooks.register("greenloop_seed_demo", order=300)
def seed_beta_demo(stdout=None) -> None:
    from beta_program.programmes.demo import seed

    seed(stdout=stdout)


@hooks.register("greenloop_personal_data")
def beta_personal_data(user) -> dict:
    from beta_program.programmes.privacy import personal_data

    return personal_data(user)


@hooks.register("greenloop_notification_kinds")
def beta_notification_kinds() -> dict:
    from beta_program.programmes.announcement_actions import (
        NOTIFICATION_KIND,
        notification_message,
    )

    return {NOTIFICATION_KIND: notification_message}
