"""Every event type the footprint wing publishes (its contract with the CRM; payload shapes in the
README's event catalogue and tests/event_contracts.py). Two more are defined with their write path
and listed here: ORDER_UPSERTED (orders.py) and ORDERS_IMPORTED (importer.py)."""

DATASET_PUBLISHED = "greenloop.carbon.dataset_published"
GREEN_POWER_VERIFIED = "greenloop.carbon.green_power_verified"
GREEN_POWER_REJECTED = "greenloop.carbon.green_power_rejected"
GREEN_POWER_SUBMITTED = "greenloop.carbon.green_power_submitted"
FOOTPRINT_CALCULATED = "greenloop.carbon.footprint_calculated"
FOOTPRINTS_RECALCULATED = "greenloop.carbon.footprints_recalculated"
