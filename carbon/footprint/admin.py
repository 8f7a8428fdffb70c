"""Staff screens for carbon accounting in the Wagtail admin: emission-factor datasets with their
approval workflow, a read-only factor listing, products, green-power declarations (verify or
reject, evidence download), order imports (upload a CSV, follow the job) and read-only orders.

Every state change goes through an action in carbon/footprint/actions.py; these views parse,
authorise, call one action and respond, using Wagtail's own templates and components.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSetGroup

from carbon.footprint.admin_datasets import (
    EmissionFactorViewSet,
    FactorDatasetViewSet,
    ProductViewSet,
)
from carbon.footprint.admin_declarations import GreenPowerDeclarationViewSet
from carbon.footprint.admin_orders import ImportJobViewSet, OrderViewSet


class CarbonGroup(ModelViewSetGroup):
    menu_label = _("Carbon")
    menu_icon = "globe"
    menu_order = 210
    items = (
        FactorDatasetViewSet,
        EmissionFactorViewSet,
        ProductViewSet,
        GreenPowerDeclarationViewSet,
        ImportJobViewSet,
        OrderViewSet,
    )
