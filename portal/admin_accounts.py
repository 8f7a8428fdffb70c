"""The account overview in the Wagtail admin (Customers > Account health): each organisation's
health score with a sparkline of the last 90 days, and per organisation its components and
signals, with "Recalculate now". For customer-success staff (`portal.view_accounthealth`;
recalculating needs `portal.add_accounthealth`, see portal/staff_roles.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from portal import account_signals
from portal.health import Component, health_score
from portal.models import AccountHealth, Organisation

VIEW_PERM = "portal.view_accounthealth"
RECALCULATE_PERM = "portal.add_accounthealth"
HISTORY_DAYS = 90
PER_PAGE = 50

# Names of the components the apps contribute (portal.account_signals); a key not listed here is
# shown as it is stored.
COMPONENT_LABELS = {
    "active_users": gettext_lazy("Active users"),
    "sign_in_recency": gettext_lazy("Last sign-in"),
    "carbon_intensity": gettext_lazy("Carbon intensity trend"),
    "points_use": gettext_lazy("Points use"),
    "community": gettext_lazy("Community activity"),
    "beta": gettext_lazy("Beta programmes"),
}


def component_label(key: str) -> str:
    return str(COMPONENT_LABELS.get(key, key))


def sparkline_svg(
    scores: Sequence[int | None], *, width: int = 120, height: int = 28, title: str = ""
) -> SafeString:
    """An inline SVG line through the 0-100 scores of consecutive days, oldest first, with a dot
    on the latest; a day without a score (no run that day) is skipped, so the line joins the
    days around it. Rendered on the server, so the admin needs no chart script."""
    count = len(scores)
    step = width / (count - 1) if count > 1 else 0
    points = [
        (index * step if count > 1 else width / 2, (height - 2) - (height - 4) * value / 100)
        for index, value in enumerate(scores)
        if value is not None
    ]
    line = (
        format_html(
            '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="1.5"/>',
            " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
        )
        if len(points) > 1
        else ""
    )
    dot = (
        format_html(
            '<circle cx="{}" cy="{}" r="2" fill="currentColor"/>',
            f"{points[-1][0]:.1f}",
            f"{points[-1][1]:.1f}",
        )
        if points
        else ""
    )
    return format_html(
        '<svg class="health-sparkline" xmlns="http://www.w3.org/2000/svg" width="{}" '
        'height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}{}</svg>',
        width,
        height,
        width,
        height,
        title,
        title,
        line,
        dot,
    )


def _daily_scores(rows: Sequence[AccountHealth], today: dt.date) -> list[int | None]:
    by_day = {row.day: row.score for row in rows}
    first = today - dt.timedelta(days=HISTORY_DAYS - 1)
    return [by_day.get(first + dt.timedelta(days=n)) for n in range(HISTORY_DAYS)]


def _components(row: AccountHealth | None) -> list[dict]:
    """The stored components with their label and what each contributed to the score."""
    if row is None:
        return []
    stored = [
        Component(c["key"], c["score"], c["source"], c.get("signals", {})) for c in row.components
    ]
    weights = {c["key"]: c["weight"] for c in row.components}
    result = health_score(stored, weights)
    return [
        {
            "key": part.component.key,
            "label": component_label(part.component.key),
            "score": part.component.score,
            "weight": part.weight,
            "contribution": part.contribution,
            "source": part.component.source,
            "signals": sorted(part.component.signals.items()),
        }
        for part in result.parts
    ]


class StaffPermissionMixin:
    permission = VIEW_PERM

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def _organisations(request: HttpRequest):
    # Scoped like every staff listing: the organisations this person may see at all.
    return Organisation.objects.for_user(request.user).order_by("name", "pk")


class OverviewView(StaffPermissionMixin, TemplateView):
    template_name = "portal/admin/account_overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        page = Paginator(_organisations(self.request), PER_PAGE).get_page(self.request.GET.get("p"))
        organisations = list(page.object_list)
        history: dict[int, list[AccountHealth]] = defaultdict(list)
        # One query for every listed organisation's 90 days (no query per row).
        for row in AccountHealth.objects.filter(
            organisation__in=[o.pk for o in organisations],
            day__gt=today - dt.timedelta(days=HISTORY_DAYS),
        ).order_by("organisation_id", "day"):
            history[row.organisation_id].append(row)
        keys = list(
            dict.fromkeys(
                c["key"] for rows in history.values() for c in (rows[-1].components if rows else [])
            )
        )
        accounts = []
        for organisation in organisations:
            rows = history.get(organisation.pk, [])
            latest = rows[-1] if rows else None
            scores = {c["key"]: c["score"] for c in (latest.components if latest else [])}
            accounts.append(
                {
                    "organisation": organisation,
                    "latest": latest,
                    "component_scores": [scores.get(key) for key in keys],
                    "sparkline": sparkline_svg(
                        _daily_scores(rows, today),
                        title=_("Health score of %(org)s, last 90 days") % {"org": organisation},
                    ),
                    "url": reverse("account_health:detail", args=[organisation.pk]),
                }
            )
        context.update(
            page_title=_("Account health"),
            header_icon="pick",
            accounts=accounts,
            component_headers=[component_label(key) for key in keys],
            page=page,
        )
        return context


def _organisation_or_404(request: HttpRequest, pk: int) -> Organisation:
    organisation = _organisations(request).filter(pk=pk).first()
    if organisation is None:
        raise Http404
    return organisation


class DetailView(StaffPermissionMixin, TemplateView):
    template_name = "portal/admin/account_health.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation = _organisation_or_404(self.request, kwargs["pk"])
        today = timezone.localdate()
        rows = list(
            AccountHealth.objects.filter(
                organisation=organisation, day__gt=today - dt.timedelta(days=HISTORY_DAYS)
            ).order_by("day")
        )
        latest = rows[-1] if rows else None
        context.update(
            page_title=_("Account health: %(org)s") % {"org": organisation},
            header_icon="pick",
            organisation=organisation,
            latest=latest,
            components=_components(latest),
            sparkline=sparkline_svg(
                _daily_scores(rows, today),
                width=360,
                height=60,
                title=_("Health score, last 90 days"),
            ),
            can_recalculate=self.request.user.has_perm(RECALCULATE_PERM),
            recalculate_url=reverse("account_health:recalculate", args=[organisation.pk]),
            index_url=reverse("account_health:index"),
        )
        return context


class RecalculateView(StaffPermissionMixin, View):
    permission = RECALCULATE_PERM
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        organisation = _organisation_or_404(request, pk)
        row = account_signals.recalculate(organisation, by=request.user, request=request)
        messages.success(
            request,
            _("Recalculated: %(org)s scores %(score)s.")
            % {"org": organisation, "score": row.score if row.score is not None else "-"},
        )
        return redirect("account_health:detail", pk=organisation.pk)


class AccountHealthMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VIEW_PERM)


class AccountHealthViewSet(ViewSet):
    name = "account_health"
    url_prefix = "account-health"
    icon = "pick"
    menu_label = gettext_lazy("Account health")
    add_to_admin_menu = False

    @property
    def menu_item_class(self):
        return AccountHealthMenuItem

    def get_urlpatterns(self):
        return [
            path("", OverviewView.as_view(), name="index"),
            path("<int:pk>/", DetailView.as_view(), name="detail"),
            path("<int:pk>/recalculate/", RecalculateView.as_view(), name="recalculate"),
        ]
