"""The R&D boards' place in the portal: the top-bar link. Imported from
BetaProgramConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks


@hooks.register("greenloop_nav_items")
def ideas_nav(request, org_slug: str) -> list[dict]:
    if not org_slug:
        return []
    return [
        {
            "label": _("Ideas"),
            "url": reverse("beta:ideas", kwargs={"org_slug": org_slug}),
            "group": "cocreation",
        }
    ]
