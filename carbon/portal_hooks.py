"""Carbon's place in the portal: permissions, the top-bar link, the dashboard panel and demo
data. Registered with Wagtail's hook registry; imported from CarbonConfig.ready() because Wagtail
only auto-imports `wagtail_hooks` modules (that one holds the admin screens)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from carbon.demo import seed
from carbon.footprint.permissions import PERM_VIEW_ORDERS
from carbon.models import Order, OrderLine
from carbon.points.ledger import balance_summary
from carbon.points.permissions import PERM_VIEW_POINTS
from carbon.privacy import personal_data
from portal.dashboard import DashboardPanel


@hooks.register("greenloop_nav_items")
def orders_nav(request, org_slug: str) -> list[dict]:
    return [
        {"label": _("Orders"), "url": reverse("carbon:orders", kwargs={"org_slug": org_slug})},
        {
            "label": _("Green power"),
            "url": reverse("carbon:green_power", kwargs={"org_slug": org_slug}),
        },
        {
            "label": _("Reports and trends"),
            "url": reverse("carbon:trends", kwargs={"org_slug": org_slug}),
        },
    ]


@hooks.register("greenloop_nav_items")
def points_nav(request, org_slug: str) -> list[dict]:
    return [{"label": _("Points"), "url": reverse("carbon:points", kwargs={"org_slug": org_slug})}]


@hooks.register("greenloop_nav_items")
def reports_nav(request, org_slug: str) -> list[dict]:
    return [
        {"label": _("Reports"), "url": reverse("carbon:reports", kwargs={"org_slug": org_slug})}
    ]


def footprint_summary(organisation, *, days: int = 365) -> dict:
    """Last 12 months: WTW kg, t·km, orders, and the share of t·km on default factors. One
    query, summing the current snapshots' columns."""
    since = timezone.localdate() - timedelta(days=days)
    totals = Order.objects.filter(organisation=organisation, order_date__gte=since).aggregate(
        orders=Count("id", distinct=True),
        wtw=Sum("snapshots__wtw_kg", filter=Q(snapshots__is_current=True)),
        tkm=Sum("snapshots__tkm", filter=Q(snapshots__is_current=True)),
        default_tkm=Sum(
            ExpressionWrapper(
                F("snapshots__tkm") * F("snapshots__default_share"),
                output_field=DecimalField(max_digits=30, decimal_places=12),
            ),
            filter=Q(snapshots__is_current=True),
        ),
    )
    tkm = totals["tkm"] or Decimal(0)
    return {
        "since": since,
        "orders": totals["orders"],
        "wtw_kg": totals["wtw"] or Decimal(0),
        "tkm": tkm,
        "default_share": (totals["default_tkm"] or 0) / tkm if tkm else None,
        "intensity_g": (totals["wtw"] or 0) * 1000 / tkm if tkm else None,
    }


@hooks.register("greenloop_dashboard_panels")
def carbon_panel() -> DashboardPanel:
    return DashboardPanel(
        "carbon-footprint",
        _("Carbon footprint"),
        "carbon/panels/footprint.html",
        get_context=lambda request, organisation: {"summary": footprint_summary(organisation)},
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
