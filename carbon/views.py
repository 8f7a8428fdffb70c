"""Pages that show both wings: the order page (its footprint, and the points it earned)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carbon.footprint.permissions import PERM_VIEW_ORDERS
from carbon.footprint.views import order_page_context
from carbon.points.views import award_explanations
from portal.models import Organisation
from portal.views import organisation_view


@organisation_view(PERM_VIEW_ORDERS)
def order_detail(request: HttpRequest, organisation: Organisation, order_id: int) -> HttpResponse:
    context = order_page_context(request, organisation, order_id)
    context["awards"] = award_explanations(context["order"])
    return render(request, "carbon/order_detail.html", context)
