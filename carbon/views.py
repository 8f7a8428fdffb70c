"""Pages that show both wings: the order page (its footprint, and the points it earned), and
"Reports and trends" (the period inventory's monthly emissions, intensity and points)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language

from carbon.footprint.method import current_method_statement
from carbon.footprint.permissions import PERM_VIEW_ORDERS
from carbon.footprint.provenance import order_points_holds
from carbon.footprint.views import order_page_context
from carbon.points.views import award_explanations
from carbon.reports import charts
from carbon.reports.forms import PeriodForm
from carbon.reports.labels import intensity_rows, month_label, period_label
from carbon.reports.loader import load_inventory
from carbon.reports.period import ReportingPeriod
from carbon.reports.permissions import PERM_VIEW_REPORTS
from portal.models import Organisation
from portal.permissions import has_perm
from portal.views import organisation_view


@organisation_view(PERM_VIEW_ORDERS)
def order_detail(request: HttpRequest, organisation: Organisation, order_id: int) -> HttpResponse:
    context = order_page_context(request, organisation, order_id)
    context["awards"] = award_explanations(context["order"])
    context["points_holds"] = order_points_holds(context["order"])
    return render(request, "carbon/order_detail.html", context)


@organisation_view(PERM_VIEW_ORDERS)
def method_statement(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """What the footprint calculation covers and what it does not, generated from the engine."""
    context = {"organisation": organisation, "statement": current_method_statement()}
    return render(request, "carbon/method.html", context)


@organisation_view(PERM_VIEW_ORDERS)
def trends(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The figures of a period, from the same inventory as the PDF report: monthly emissions,
    intensity by mode against the period before, points earned and redeemed by month."""
    this_year = str(ReportingPeriod.year(timezone.localdate().year))
    form = PeriodForm(request.GET if "period" in request.GET else {"period": this_year})
    context: dict = {
        "organisation": organisation,
        "form": form,
        "can_see_reports": has_perm(request.user, PERM_VIEW_REPORTS, organisation),
    }
    if form.is_valid():
        period: ReportingPeriod = form.cleaned_data["period"]
        inventory = load_inventory(organisation, period)
        previous = load_inventory(organisation, period.previous())
        language = get_language() or "en"
        context |= {
            "period": period,
            "period_label": period_label(period),
            "previous_label": period_label(previous.period),
            "inventory": inventory,
            "previous": previous,
            "months": [(month_label(line.month), line) for line in inventory.by_month],
            "modes": intensity_rows(inventory.by_mode, previous.by_mode),
            # by name: the page gives each its own label and scroll hint
            "charts": {
                "monthly": charts.with_nonce(
                    charts.monthly_trend(inventory.by_month, language), request
                ),
                "intensity": charts.with_nonce(
                    charts.intensity_by_mode(inventory.by_mode, previous.by_mode, language), request
                ),
                "points": charts.with_nonce(
                    charts.points_over_time(inventory.by_month, language), request
                ),
            },
        }
    return render(request, "carbon/trends.html", context, status=200 if form.is_valid() else 400)
