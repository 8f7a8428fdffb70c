"""Carbon's place in the portal: permissions, the top-bar link, the dashboard panel and demo
data. Registered with Wagtail's hook registry; imported from CarbonConfig.ready() because Wagtail
only auto-imports `wagtail_hooks` modules (that one holds the admin screens)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from carbon.demo import seed
from carbon.footprint.permissions import PERM_VIEW_ORDERS
from carbon.models import Order, OrderLine
from carbon.points.ledger import balance_summary
from carbon.points.permissions import PERM_VIEW_POINTS
from carbon.privacy import personal_data
from carbon.reports import charts
from carbon.reports.labels import period_label
from carbon.reports.loader import load_inventory
from carbon.reports.period import ReportingPeriod
from portal.dashboard import DashboardPanel
from portal.row_links import fixed_reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@hooks.register("greenloop_nav_items")
def orders_nav(request, org_slug: str) -> list[dict]:
    return [
        {
            "label": _("Orders"),
            "url": fixed_reverse("carbon:orders", org_slug=org_slug),
            "group": "carbon",
        },
        {
            "label": _("Green power"),
            "url": fixed_reverse("carbon:green_power", org_slug=org_slug),
            "group": "carbon",
        },
        {
            "label": _("Reports and trends"),
            "url": fixed_reverse("carbon:trends", org_slug=org_slug),
            "group": "carbon",
        },
    ]


@hooks.register("greenloop_nav_items")
def points_nav(request, org_slug: str) -> list[dict]:
    return [
        {
            "label": _("Points"),
            "url": fixed_reverse("carbon:points", org_slug=org_slug),
            "group": "carbon",
        }
    ]


@hooks.register("greenloop_nav_items")
def reports_nav(request, org_slug: str) -> list[dict]:
    return [
        {
            "label": _("Reports"),
            "url": fixed_reverse("carbon:reports", org_slug=org_slug),
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
        "ttw_kg": inventory.ttw_kg,
        "wtt_kg": inventory.wtt_kg,
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
        wide=True,
    )


RECENT_ORDERS = 5


def _recent_orders_context(request, organisation) -> dict:
    """The organisation's latest orders with their current footprint: one query."""
    orders = (
        Order.objects.filter(organisation=organisation)
        .with_footprint()
        .order_by("-order_date", "-pk")[:RECENT_ORDERS]
    )
    return {"orders": list(orders)}


@hooks.register("greenloop_dashboard_panels")
def recent_orders_panel() -> DashboardPanel:
    return DashboardPanel(
        "carbon-recent-orders",
        _("Recent orders"),
        "carbon/panels/recent_orders.html",
        get_context=_recent_orders_context,
        order=15,
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


# Names of carbon's audit actions in the customer's audit trail (portal.audit_actions).
AUDIT_ACTIONS: dict[str, StrOrPromise] = {
    "carbon.dataset.approved": _("Emission factor dataset approved"),
    "carbon.dataset.created": _("Emission factor dataset created"),
    "carbon.dataset.edited": _("Emission factor dataset edited"),
    "carbon.dataset.factors_imported": _("Emission factors imported"),
    "carbon.dataset.loaded": _("Emission factor dataset loaded"),
    "carbon.dataset.submitted": _("Emission factor dataset submitted for approval"),
    "carbon.dataset.version_created": _("New emission factor dataset version"),
    "carbon.green_power_checked": _("Green-power declaration checked"),
    "carbon.green_power_evidence_downloaded": _("Green-power evidence downloaded"),
    "carbon.green_power_proof_downloaded": _("Green-power proof downloaded"),
    "carbon.green_power_rejected": _("Green-power declaration rejected"),
    "carbon.green_power_revoked": _("Green-power declaration revoked"),
    "carbon.green_power_submitted": _("Green-power declaration submitted"),
    "carbon.green_power_verified": _("Green-power declaration verified"),
    "carbon.import_started": _("Order import started"),
    "carbon.import_succeeded": _("Order import finished"),
    "carbon.import_failed": _("Order import rejected"),
    "carbon.order_data_verified": _("Order data verified"),
    "carbon.points.adjusted": _("Points adjusted"),
    "carbon.points_policy.approved": _("Points policy approved"),
    "carbon.points_policy.created": _("Points policy created"),
    "carbon.points_policy.submitted": _("Points policy submitted for approval"),
    "carbon.points_policy.updated": _("Points policy changed"),
    "carbon.redemption.requested": _("Points redemption requested"),
    "carbon.redemption.fulfilled": _("Points redemption fulfilled"),
    "carbon.redemption.rejected": _("Points redemption rejected"),
    "carbon.redemption.cancelled": _("Points redemption cancelled"),
    "carbon.report_downloaded": _("Report downloaded"),
    "carbon.report_failed": _("Report failed"),
    "carbon.report_generated": _("Report generated"),
    "carbon.report_requested": _("Report requested"),
    "crm.order_created": _("Order created from the CRM"),
    "crm.order_updated": _("Order updated from the CRM"),
    "crm.product_created": _("Product created from the CRM"),
    "crm.product_updated": _("Product updated from the CRM"),
}


@hooks.register("greenloop_audit_actions")
def carbon_audit_actions() -> dict[str, StrOrPromise]:
    return AUDIT_ACTIONS
