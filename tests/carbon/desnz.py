"""Published DESNZ greenhouse-gas conversion factors the carbon worked examples use, one constant
per row of the flat files, each cited by its row ID (fixtures/desnz-2025-freight.csv and
fixtures/desnz-2026-freight.csv carry the same rows)."""

from decimal import Decimal

# --- DESNZ 2025, as published (fixtures/desnz-2025-freight.csv)
# Freighting goods > Vans > Average (up to 3.5 tonnes) > Diesel > tonne.km (27_303_3102_14_1)
VAN_TTW = Decimal("0.63130")
# WTT- delivery vehs & freight > WTT- vans > Average (up to 3.5 tonnes) > Diesel (28_906_3102_14_1)
VAN_WTT = Decimal("0.15095")
# Freighting goods > HGV (all diesel) > All artics > Average laden > tonne.km (27_304_3136_14_1)
ARTIC_TTW = Decimal("0.07800")
# WTT- HGV (all diesel) > All artics > Average laden > tonne.km (28_907_3136_14_1)
ARTIC_WTT = Decimal("0.01823")
# Freighting goods > Cargo ship > Container ship > Average > tonne.km (27_320_3235_14_1)
SHIP_TTW = Decimal("0.01612")
# WTT- cargo ship > Container ship > Average > tonne.km (28_916_3235_14_1)
SHIP_WTT = Decimal("0.00365")
# Freighting goods > Freight flights > Long-haul, to/from UK > Without RF / With RF > tonne.km
AIR_TTW = Decimal("0.53130")  # 27_317_3157_14_1
AIR_TTW_RF = Decimal("0.89939")  # 27_317_3156_14_1
AIR_WTT = Decimal("0.13516")  # 28_913_3157_14_1 (the same with and without RF)
# Fuels > Liquid fuels > Diesel (average biofuel blend) > litres (1_101_1011_8_1, 11_101_1011_8_1)
DIESEL_TTW = Decimal("2.57082")
DIESEL_WTT = Decimal("0.61101")
# Freighting goods > HGV (all diesel) > Average laden > tonne.km, and its WTT- row
# (27_304_3140_14_1, 28_907_3140_14_1)
HGV_TTW = Decimal("0.10163")
HGV_WTT = Decimal("0.02359")

# --- DESNZ 2026 flat file v1.2, as published (row IDs as in the fixture)
# Freighting goods > HGV (non-refrigerated, all diesel) > Average non-refrigerated HGVs >
# Average laden > tonne.km (27_304_3140_14_1); its CO2, CH4 and N2O parts 0.10205 + 0.00002 +
# 0.00149 = 0.10356
HGV_TTW_2026 = Decimal("0.10356")
# WTT- HGV (non-refrigerated, all diesel) > ... > Average laden > tonne.km (28_907_3140_14_1)
HGV_WTT_2026 = Decimal("0.02359")
# Freighting goods > Rail > Freight train > tonne.km (27_315_3151_14_1, 28_911_3151_14_1)
RAIL_TTW_2026 = Decimal("0.02583")
RAIL_WTT_2026 = Decimal("0.00691")
# Fuels > Liquid fuels > Diesel (average biofuel blend) > litres (1_101_1011_8_1, 11_101_1011_8_1)
DIESEL_TTW_2026 = Decimal("2.58354")
DIESEL_WTT_2026 = Decimal("0.61101")
