"""Carbon's place in the portal: permissions, the top-bar link, the dashboard panel and demo
data. Registered with Wagtail's hook registry; imported from CarbonConfig.ready() because Wagtail
only auto-imports `wagtail_hooks` modules (that one holds the admin screens)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from carbon.demo import seed
from carbon.footprint.permissions import PERM_VIEW_ORDERS
from carbon.models import OrderLine
from carbon.points.ledger import balance_summary
from carbon.points.permissions import PERM_VIEW_POINTS
from carbon.privacy import personal_data
from carbon.reports import charts
from carbon.reports.labels import period_label
from carbon.reports.loader import load_inventory
from carbon.reports.period import ReportingPeriod
from portal.dashboard import DashboardPanel


@hooks.register("greenloop_nav_items")
def orders_nav(request, org_slug: str) -> list[dict]:
    return [
        {
            "label": _("Orders"),
            "url": reverse("carbon:orders", kwargs={"org_slug": org_slug}),
            "group": "carbon",
        },
        {
            "label": _("Green power"),
            "url": reverse("carbon:green_power", kwargs={"org_slug": org_slug}),
            "group": "carbon",
        },
        {
            "label": _("Reports and trends"),
            "url": reverse("carbon:trends", kwargs={"org_slug": org_slug}),
            "group": "carbon",
        },
    ]


@hooks.register("greenloop_nav_items")
def points_nav(request, org_slug: str) -> list[dict]:
    return [
        {
            "label": _("Points"),
            "url": reverse("carbon:points", kwargs={"org_slug": org_slug}),
            "group": "carbon",
        }
    ]


@hooks.register("greenloop_nav_items")
def reports_nav(request, org_slug: str) -> list[dict]:
    return [
        {
            "label": _("Reports"),
            "url": reverse("carbon:reports", kwargs={"org_slug": org_slug}),
            "group": "carbon",
        }
    ]


def last_twelve_months() -> ReportingPeriod:
    """The dashboard's period: the eleven calendar months before this one, and this one to today."""
    today = timezone.localdate()
    year, month = (
        (today.year, today.month - 11) if today.month > 11 else (today.year - 1, today.month + 1)
    )
    return ReportingPeriod.custom(dt.date(year, month, 1), today)


def footprint_summary(organisation) -> dict:
    """The last twelve months by the reports' counting rule (delivered orders, by delivery date,
    from their stored snapshots): the same inventory as the PDF report and the trends page, so
    the card never counts an order the report leaves out. Three queries."""
    period = last_twelve_months()
    inventory = load_inventory(organisation, period)
    return {
        "period": period,
        "period_label": period_label(period),
        "orders": inventory.orders,
        "excluded": len(inventory.data_quality.excluded),
        "wtw_kg": inventory.wtw_kg,
        "tkm": inventory.tkm,
        "default_share": inventory.data_quality.modelled_default_wtw_share,
        "intensity_g": inventory.intensity_g_per_tkm,
        "months": inventory.by_month,
    }


def _footprint_panel_context(request, organisation) -> dict:
    summary = footprint_summary(organisation)
    chart = charts.monthly_trend(summary["months"], get_language() or "en")
    return {"summary": summary, "chart": charts.with_nonce(chart, request)}


@hooks.register("greenloop_dashboard_panels")
def carbon_panel() -> DashboardPanel:
    return DashboardPanel(
        "carbon-footprint",
        _("Carbon footprint"),
        "carbon/panels/footprint.html",
        get_context=_footprint_panel_context,
        order=10,
        permission=PERM_VIEW_ORDERS,
    )


def _points_panel_context(request, organisation) -> dict:
    return {"balance": balance_summary(organisation)}


@hooks.register("greenloop_dashboard_panels")
def points_panel() -> DashboardPanel:
    return DashboardPanel(
        "carbon-points",
        _("Carbon points"),
        "carbon/panels/points.html",
        get_context=_points_panel_context,
        order=20,
        permission=PERM_VIEW_POINTS,
    )


# Late in the sequence, after the reference data is loaded by other hooks.
@hooks.register("greenloop_seed_demo", order=100)
def seed_carbon_demo(stdout=None) -> None:
    seed(stdout=stdout)


@hooks.register("greenloop_personal_data")
def carbon_personal_data(user) -> dict:
    return personal_data(user)


@hooks.register("greenloop_organisation_skus")
def organisation_skus(organisation) -> set[str]:
    """What the organisation has ordered, by SKU: beta programmes' eligibility rule asks
    through this portal hook rather than importing carbon."""
    return set(
        OrderLine.objects.filter(order__organisation=organisation)
        .values_list("product__sku", flat=True)
        .distinct()
    )
