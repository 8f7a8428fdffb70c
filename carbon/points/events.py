"""Every event type the points wing publishes (its contract with the CRM; payload shapes in the
README's event catalogue and tests/event_contracts.py)."""

POINTS_AWARDED = "greenloop.carbon.points_awarded"
POINTS_ACTIVATED = "greenloop.carbon.points_activated"
POINTS_EXPIRED = "greenloop.carbon.points_expired"
POINTS_REVERSED = "greenloop.carbon.points_reversed"
REDEMPTION_REQUESTED = "greenloop.carbon.redemption_requested"
REDEMPTION_FULFILLED = "greenloop.carbon.redemption_fulfilled"
REDEMPTION_REJECTED = "greenloop.carbon.redemption_rejected"
REDEMPTION_CANCELLED = "greenloop.carbon.redemption_cancelled"
