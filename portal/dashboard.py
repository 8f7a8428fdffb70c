"""The signed-in dashboard, into which plugins register panels.

A plugin registers a panel in its `wagtail_hooks.py`:

    @hooks.register("greenloop_dashboard_panels")
    def points_panel():
        return DashboardPanel("carbon-points", _("Carbon points"), "carbon/panels/points.html",
                              get_context=lambda request, organisation: {...}, order=20)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from wagtail import hooks

from portal.models import Organisation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HOOK_NAME = "greenloop_dashboard_panels"


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    title: StrOrPromise  # gettext_lazy: translated when the dashboard renders
    template: str
    get_context: Callable[[HttpRequest, Organisation], dict[str, Any]] = field(
        default=lambda request, organisation: {}
    )
    order: int = 100
    # Who sees the panel: a permission name from portal.permissions, checked on the organisation.
    permission: str = "organisation.view"
    # A wide panel takes a whole row of the grid (a chart beside its figures).
    wide: bool = False

    def render(self, request: HttpRequest, organisation: Organisation) -> str:
        context = {"organisation": organisation, "panel": self, "request": request}
        context.update(self.get_context(request, organisation))
        return render_to_string(self.template, context, request=request)


def panels_for(request: HttpRequest, organisation: Organisation) -> list[DashboardPanel]:
    from portal.permissions import has_perm

    panels = [factory() for factory in hooks.get_hooks(HOOK_NAME)]
    return sorted(
        (p for p in panels if has_perm(request.user, p.permission, organisation)),
        key=lambda p: (p.order, p.key),
    )
