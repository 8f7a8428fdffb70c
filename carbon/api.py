"""The carbon plugin's REST API: both wings' routers mounted on the portal's API (`portal.urls`
imports every app's `api` module)."""

from carbon.footprint.api import router as footprint_router
from carbon.footprint.api_crm import router as crm_router
from carbon.points.api import router as points_router
from carbon.points.api_redemptions import router as redemptions_router
from carbon.reports.api import router as reports_router
from portal.api import api

api.add_router("/", footprint_router)
api.add_router("/", points_router)
api.add_router("/", redemptions_router)
api.add_router("/", reports_router)
api.add_router("/crm/", crm_router)
