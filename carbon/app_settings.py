"""The carbon app's knobs: how big one order may be, and the plausibility bounds of its values.

Both doors for orders (the API upsert and the CSV import) read legs with
`carbon.footprint.legs.parse_leg` and store through `carbon.footprint.actions.store_orders`, whose
validation (`carbon.footprint.orders.validate_order`) applies these numbers (the leg bounds in
`carbon.footprint.legs.leg_bounds`, which the estimate applies too). The bounds are
far above any real shipment and keep every stored value and every footprint total inside its
database column: a leg's mass (Leg.mass_t, 14 digits, 6 places) and distance (Leg.distance_km, 14
digits, 3 places), its fuel (Leg.fuel_amount, 16 digits, 4 places), a line's quantity
(OrderLine.quantity, 14 digits, 3 places), and an order's t·km and kg CO2e totals
(CalculationSnapshot, 20 digits, 6 places).
"""

from __future__ import annotations

from decimal import Decimal

# Transport legs in one shipment, and shipments in one order (Leg.sequence is a smallint; the
# order page paginates its legs).
MAX_LEGS_PER_SHIPMENT = 50
MAX_SHIPMENTS_PER_ORDER = 100
# Legs per page of the order page's leg table.
LEGS_PER_PAGE = 50

# Cargo mass of one leg, in tonnes: above the largest ship afloat (~400,000 t deadweight).
MAX_LEG_MASS_T = Decimal(1_000_000)
# Distance of one leg, in km: more than a freight route around the world.
MAX_LEG_DISTANCE_KM = Decimal(50_000)
# Fuel of one leg, in the fuel's unit (litres, kg or kWh).
MAX_LEG_FUEL = Decimal(1_000_000_000)
# Units of one product line.
MAX_LINE_QUANTITY = Decimal(1_000_000_000)
# Freight activity of one order, in t·km: its footprint (a few kg CO2e per t·km at most) stays
# far inside the snapshot's columns.
MAX_ORDER_TKM = Decimal(1_000_000_000_000)
