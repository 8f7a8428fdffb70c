"""The footprint wing's REST API: estimates and emission factors, orders with their footprints,
and order imports, one module each, mounted here in the order the OpenAPI document lists them
(`carbon.api` mounts this router and the points wing's on the portal's API).
"""

from ninja import Router

from carbon.footprint import api_estimate, api_imports, api_method, api_orders

router = Router()
router.add_router("", api_estimate.router)
router.add_router("", api_orders.router)
router.add_router("", api_imports.router)
router.add_router("", api_method.router)
