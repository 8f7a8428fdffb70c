"""Staff screens for carbon points in the Wagtail admin, in their own "Points" menu group:
the redemption queue (fulfil or reject), the service catalogue, balances and the read-only
ledger with manual adjustments, and the versioned points policy with its four-eyes approval.

Who sees what follows the model permissions of the staff roles: customer success staff run the
catalogue and the queue, sustainability staff the policies and the ledger (both may read the
queue and the catalogue). Every state change goes through an action of the points wing; these
views parse, authorise, call one action and respond, with Wagtail's own templates.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSetGroup

from carbon.points.admin_ledger import LedgerEntryViewSet, PointsAccountViewSet
from carbon.points.admin_policies import PointsPolicyViewSet
from carbon.points.admin_redemptions import RedemptionViewSet, ServiceViewSet


class PointsGroup(ModelViewSetGroup):
    menu_label = _("Points")
    menu_icon = "tasks"
    menu_order = 211
    items = (
        RedemptionViewSet,
        ServiceViewSet,
        PointsAccountViewSet,
        LedgerEntryViewSet,
        PointsPolicyViewSet,
    )
