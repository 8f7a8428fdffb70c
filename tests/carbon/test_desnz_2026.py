"""DESNZ 2026 freighting goods and fuels: the published rows (fixtures/desnz-2026-freight.csv,
flat-file row IDs cited per row) load as the 2026 vintage of the desnz-2025 series, and orders
take the version valid on their order date. Worked examples from the published values (the
fuel-based diesel example runs against both vintages in test_calculation)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carbon.footprint.calculation import calculate_order
from carbon.models import FactorDataset
from tests.carbon.factories import order_with_legs, reference_dataset

pytestmark = pytest.mark.django_db

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
# The 2025 rows the 2026 ones replace for 2026 activity (fixtures/desnz-2025-freight.csv)
HGV_TTW_2025 = Decimal("0.10163")
HGV_WTT_2025 = Decimal("0.02359")


@pytest.fixture
def reference(db):
    return reference_dataset("desnz-2026")


def _factor(dataset: FactorDataset, category: str, scope: str) -> Decimal:
    return dataset.factors.get(category=category, energy_scope=scope, radiative_forcing=False).value


def test_the_2026_file_loads_as_the_2026_vintage_of_the_desnz_series(reference):
    # then it continues the desnz-2025 series from 1 January 2026, not as the default
    assert (reference.series, reference.valid_from, reference.valid_to) == (
        "desnz-2025",
        dt.date(2026, 1, 1),
        None,
    )
    assert reference.is_default is False
    assert reference.publication_date == dt.date(2026, 6, 11)
    assert reference.source_url == (
        "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2026"
    )
    # and it holds the same 56 factors as 2025, all CO2e weighted with AR5
    assert reference.factors.count() == 56
    assert reference.gwp_basis == "AR5"
    assert {f.gases for f in reference.factors.all()} == {"CO2e"}
    # with the published 2026 values, copied exactly
    assert _factor(reference, "road.hgv.average_laden", "TTW") == HGV_TTW_2026
    assert _factor(reference, "road.hgv.average_laden", "WTT") == HGV_WTT_2026
    assert _factor(reference, "rail.freight", "TTW") == RAIL_TTW_2026
    assert _factor(reference, "rail.freight", "WTT") == RAIL_WTT_2026
    assert _factor(reference, "fuel.diesel", "TTW") == DIESEL_TTW_2026
    assert _factor(reference, "fuel.diesel", "WTT") == DIESEL_WTT_2026
    hgv = reference.factors.get(category="road.hgv.average_laden", energy_scope="TTW")
    assert hgv.source_id == "27_304_3140_14_1"


def test_an_order_takes_the_desnz_version_of_its_order_date(org_a, reference):
    # given the same leg, 10 t carried 1,000 km by an average laden HGV (10,000 t·km), ordered
    # in March 2025 and in March 2026
    leg = [{"category": "road.hgv.average_laden", "mass_t": 10, "distance_km": 1000}]
    in_2025 = order_with_legs(org_a, leg, order_date=dt.date(2025, 3, 3))
    in_2026 = order_with_legs(org_a, leg, order_date=dt.date(2026, 3, 2))
    # when both are calculated
    old, new = calculate_order(in_2025), calculate_order(in_2026)
    # then 2026 uses DESNZ 2026: 10,000 x 0.10356 = 1,035.6 kg TTW, 10,000 x 0.02359 = 235.9 kg
    # WTT, 1,271.5 kg WTW
    assert new.ttw_kg == 10000 * HGV_TTW_2026 == Decimal("1035.600000")
    assert new.wtt_kg == 10000 * HGV_WTT_2026 == Decimal("235.900000")
    assert new.wtw_kg == Decimal("1271.500000")
    assert [d["label"] for d in new.datasets] == ["desnz-2026@1"]
    assert new.datasets[0]["selection"]["note"] == "valid 2026-01-01 to open: covers 2026-03-02"
    # and 2025 keeps DESNZ 2025: 10,000 x 0.10163 + 10,000 x 0.02359 = 1,016.3 + 235.9 = 1,252.2 kg
    assert old.wtw_kg == 10000 * (HGV_TTW_2025 + HGV_WTT_2025) == Decimal("1252.200000")
    assert [d["label"] for d in old.datasets] == ["desnz-2025@1"]
