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
from tests.carbon.desnz import (
    DIESEL_TTW_2026,
    DIESEL_WTT_2026,
    HGV_TTW,
    HGV_TTW_2026,
    HGV_WTT,
    HGV_WTT_2026,
    RAIL_TTW_2026,
    RAIL_WTT_2026,
)
from tests.carbon.factories import order_with_legs

pytestmark = pytest.mark.django_db


def _factor(dataset: FactorDataset, category: str, scope: str) -> Decimal:
    return dataset.factors.get(category=category, energy_scope=scope, radiative_forcing=False).value


def test_the_2026_file_loads_as_the_2026_vintage_of_the_desnz_series(desnz_2026):
    # then it continues the desnz-2025 series from 1 January 2026, not as the default
    assert (desnz_2026.series, desnz_2026.valid_from, desnz_2026.valid_to) == (
        "desnz-2025",
        dt.date(2026, 1, 1),
        None,
    )
    assert desnz_2026.is_default is False
    assert desnz_2026.publication_date == dt.date(2026, 6, 11)
    assert desnz_2026.source_url == (
        "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2026"
    )
    # and it holds the same 56 factors as 2025, all CO2e weighted with AR5
    assert desnz_2026.factors.count() == 56
    assert desnz_2026.gwp_basis == "AR5"
    assert {f.gases for f in desnz_2026.factors.all()} == {"CO2e"}
    # with the published 2026 values, copied exactly
    assert _factor(desnz_2026, "road.hgv.average_laden", "TTW") == HGV_TTW_2026
    assert _factor(desnz_2026, "road.hgv.average_laden", "WTT") == HGV_WTT_2026
    assert _factor(desnz_2026, "rail.freight", "TTW") == RAIL_TTW_2026
    assert _factor(desnz_2026, "rail.freight", "WTT") == RAIL_WTT_2026
    assert _factor(desnz_2026, "fuel.diesel", "TTW") == DIESEL_TTW_2026
    assert _factor(desnz_2026, "fuel.diesel", "WTT") == DIESEL_WTT_2026
    hgv = desnz_2026.factors.get(category="road.hgv.average_laden", energy_scope="TTW")
    assert hgv.source_id == "27_304_3140_14_1"


def test_an_order_takes_the_desnz_version_of_its_order_date(org_a, desnz_2026):
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
    assert old.wtw_kg == 10000 * (HGV_TTW + HGV_WTT) == Decimal("1252.200000")
    assert [d["label"] for d in old.datasets] == ["desnz-2025@1"]
