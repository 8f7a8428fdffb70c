"""The admin home's work queue: what is waiting for the signed-in staff member.

Each app contributes the queues it owns through a hook, so the portal never imports a plugin:

    @hooks.register("greenloop_staff_work_queue")
    def redemptions_to_fulfil(request):
        if not can_fulfil(request.user):
            return None  # this role may not act on it: the row is not shown
        return WorkQueueItem.from_aggregate(
            "redemptions", _("Redemptions to fulfil"), Redemption.objects.filter(...),
            "requested_at", url=reverse("points_redemptions:index"), order=20)

A provider returns None when the person's role may not act on the queue, else one row with the
count and the oldest waiting item's time (one aggregate query)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Min, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HOOK_NAME = "greenloop_staff_work_queue"


@dataclass(frozen=True)
class WorkQueueItem:
    key: str
    label: StrOrPromise
    count: int
    oldest: dt.datetime | None
    url: str
    order: int = 100

    @classmethod
    def from_aggregate(
        cls,
        key: str,
        label: StrOrPromise,
        queryset: QuerySet[Any],
        waiting_since: str,
        *,
        url: str,
        order: int = 100,
    ) -> WorkQueueItem:
        """Count `queryset` and find its oldest `waiting_since` in one query."""
        totals = queryset.aggregate(count=Count("pk"), oldest=Min(waiting_since))
        return cls(key, label, totals["count"], totals["oldest"], url, order)

    @property
    def waiting_for(self) -> str:
        """How long the oldest item has waited, in its largest unit ("3 days"), or "—"."""
        if not self.count or self.oldest is None:
            return "—"
        return timesince(self.oldest, timezone.now(), depth=1)


Provider = Callable[[HttpRequest], WorkQueueItem | None]


def work_queue_for(request: HttpRequest) -> list[WorkQueueItem]:
    """The queues the signed-in person's staff role may act on, in display order."""
    items = [item for provider in hooks.get_hooks(HOOK_NAME) if (item := provider(request))]
    return sorted(items, key=lambda item: (item.order, item.key))


class WorkQueuePanel(Component):
    """The admin home's first panel (Wagtail's `construct_homepage_panels`)."""

    name = "greenloop_work_queue"
    template_name = "portal/admin/work_queue_panel.html"
    order = 10

    def __init__(self, items: list[WorkQueueItem]):
        self.items = items

    def get_context_data(self, parent_context=None):
        return {"items": self.items, "heading": _("Your work queue")}
