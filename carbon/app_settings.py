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


# --- plausibility per transport mode (carbon.footprint.legs.plausibility_problems)
#
# A leg is one vehicle's movement of the consignment: cargo that needs several trucks or flights
# is recorded as one leg per vehicle. The limits sit above the largest vehicle of the mode in
# regular service, so a real leg never meets them, while a typing slip or a made-up figure does.

# mode -> (cargo mass per leg in t, distance per leg in km)
LEG_LIMITS_BY_MODE: dict[str, tuple[Decimal, Decimal]] = {
    # Road: the heaviest road combinations in regular use (Australian triple road trains, about
    # 120 t gross, ~80 t payload) stay under 100 t; the longest road freight runs (China -
    # Europe TIR, about 10,000 km) under 12,000 km.
    "road": (Decimal(100), Decimal(12_000)),
    # Rail: heavy-haul ore trains carry 30,000-40,000 t; the longest freight rail service
    # (Yiwu - Madrid) is 13,052 km.
    "rail": (Decimal(50_000), Decimal(15_000)),
    # Sea: the largest ships afloat are ~400,000 t deadweight (Valemax ore carriers); the
    # longest port-to-port sailings (East Asia - US East Coast via the Cape of Good Hope) are
    # about 25,000 km.
    "sea": (Decimal(500_000), Decimal(30_000)),
    # Air: the largest freighters in service carry 150 t (An-124-100M; Boeing 747-8F 137.7 t);
    # no two airports are more than 20,038 km apart (half the Earth's circumference), and a
    # freighter's range with payload is under 10,000 km.
    "air": (Decimal(150), Decimal(20_000)),
}

# (mode, fuel type) -> (floor, ceiling) of the fuel a leg may report per t·km, in the fuel's
# canonical unit (litre of diesel or jet fuel, kg of heavy fuel oil, kWh of electricity). A
# fuel-based footprint replaces the distance-based one, so a figure below the floor would erase
# most of a leg's emissions (the "1 l" over 10 t x 1,000 km is 0.0001 l per t·km). For
# scale, DESNZ 2025 average-laden HGV, 0.10 kg CO2e per t·km TTW at 2.51 kg CO2e per litre of
# diesel, is about 0.04 l per t·km.
FUEL_PER_TKM_LIMITS: dict[tuple[str, str], tuple[Decimal, Decimal]] = {
    # The most efficient trucks (60-76 t Nordic combinations at full load) use about 0.007 l per
    # t·km; a van 10% laden about 1.5 l.
    ("road", "diesel"): (Decimal("0.005"), Decimal("1.5")),
    # Battery-electric trucks: about 0.05 kWh per t·km at 40 t gross; a lightly laden e-van 3.
    ("road", "electricity"): (Decimal("0.015"), Decimal(5)),
    # US Class I railroads average about 0.0054 l per net t·km; heavy-haul trains about half.
    ("rail", "diesel"): (Decimal("0.002"), Decimal("0.1")),
    # Electric freight trains in Europe: 0.02-0.04 kWh per t·km.
    ("rail", "electricity"): (Decimal("0.005"), Decimal("0.5")),
    # The largest bulk carriers burn about 0.001 kg of fuel per t·km (IMO Fourth GHG Study:
    # 2-3 g CO2 per t·km); small general-cargo ships and feeders about 0.02.
    ("sea", "diesel"): (Decimal("0.0003"), Decimal("0.1")),
    ("sea", "hfo"): (Decimal("0.0003"), Decimal("0.1")),
    # A full Boeing 747-8F burns about 0.18 l per t·km; DESNZ 2025 domestic freight flights
    # (2.4 kg CO2e per t·km) about 0.95 l.
    ("air", "jet"): (Decimal("0.05"), Decimal(3)),
}

# Transport categories whose factors assume a load the customer cannot show: a laden row other
# than "average" lowers the footprint of the same truck (DESNZ 2025: 100% laden is about half
# the average-laden intensity), so only attested data (a carrier system, the CRM, staff) may
# choose it; customer entries use the average-laden rows.
ATTESTED_ONLY_CATEGORIES = frozenset({"road.hgv.laden_50", "road.hgv.laden_100"})


# --- distances between known locations (carbon.footprint.locations)
#
# GLEC Framework v3 (Smart Freight Centre, 2023), distance section, aligned with ISO 14083:2023:
# where the actual distance is not known, the planned or shortest feasible distance is raised by
# a distance adjustment factor per mode; for air, the great-circle distance plus 95 km (take-off,
# landing and stacking). The reference distance for points applies these factors to the
# great-circle distance, which is shorter than any feasible route, so it never overstates the
# distance a customer is rewarded for, and is capped by the declared distance.
# Caveat: the road, rail and sea factors below are the ones commonly quoted from the GLEC
# Framework; they have not yet been checked line by line against the v3 publication (its table
# was not available when they were entered). The air addition of 95 km is GLEC's and EN 16258's.
DISTANCE_ADJUSTMENT: dict[str, Decimal] = {
    "road": Decimal("1.05"),
    "rail": Decimal("1.05"),
}
AIR_DISTANCE_ADDITION_KM = Decimal(95)
# DESNZ air freight factors carry an 8% uplift on the great-circle distance (indirect routing,
# stacking; DESNZ 2025 methodology paper, air freight). An air leg's footprint therefore uses
# the DESNZ factor divided by this uplift, on either basis: the great-circle + 95 km when both
# airports are known (GLEC), or the declared flown distance, which already contains the detours.
DESNZ_AIR_DISTANCE_UPLIFT = Decimal("1.08")

# Plausibility of a declared distance between two known locations
# (carbon.footprint.legs.plausibility_problems). No route is shorter than the great circle; the
# coordinates mark a town or port area to the arc-minute (Shanghai's Yangshan terminals lie
# ~70 km from the CNSGH point), so a declared distance may fall short of it by this much.
GREAT_CIRCLE_SLACK_KM = Decimal(80)
# The longest plausible route, as (multiple of the great circle, plus km): sea routes around a
# continent reach ~3x (Shanghai - Rotterdam via the Cape of Good Hope, ~26,000 km over a
# ~9,000 km great circle) and short sea legs round a peninsula more (Genoa - Venice, ~2,000 km
# over 290 km), hence the added km; road and rail routes average 1.2-1.4x the great circle and
# mountain or ferry detours stay under 2x; flights stay within 1.3x of it (holding, airways).
MAX_ROUTE_OVER_GREAT_CIRCLE: dict[str, tuple[Decimal, Decimal]] = {
    "road": (Decimal(3), Decimal(100)),
    "rail": (Decimal(3), Decimal(200)),
    "sea": (Decimal(3), Decimal(2_000)),
    "air": (Decimal("1.5"), Decimal(500)),
}
