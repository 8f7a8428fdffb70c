"""The cited reference files in fixtures/ load as published datasets, hold the published values
exactly, and cover every public category code."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from carbon.footprint import categories
from carbon.footprint.factor_files import read_factor_file
from carbon.footprint.units import FREIGHT_INTENSITY, ureg
from carbon.models import DatasetStatus, EmissionFactor, FactorDataset
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference_data(db):
    call_command("load_reference_data")
    return {ds.slug: ds for ds in FactorDataset.objects.all()}


def factor(slug, category, scope, rf=False, region="GLO") -> EmissionFactor:
    return EmissionFactor.objects.get(
        dataset__slug=slug,
        category=category,
        energy_scope=scope,
        radiative_forcing=rf,
        region=region,
    )


def test_both_reference_files_load_as_published_datasets(reference_data):
    # given the two fixture files / when loaded
    desnz, grid = reference_data["desnz-2025"], reference_data["grid-electricity"]
    # then both are published with their citation, DESNZ as the default
    assert desnz.status == DatasetStatus.PUBLISHED
    assert desnz.is_default is True
    assert desnz.publisher == "UK Department for Energy Security and Net Zero (DESNZ)"
    assert desnz.licence == "Open Government Licence v3.0"
    assert desnz.source_url == (
        "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2025"
    )
    assert desnz.factors.count() == 56  # 25 freight lines (air twice: with/without RF) + 3 fuels
    assert grid.status == DatasetStatus.PUBLISHED
    assert grid.is_default is False
    assert grid.factors.count() == 5  # CN location and residual, GB, US, EU-27
    assert FactorDataset.objects.active() == desnz
    assert FactorDataset.objects.active("grid-electricity") == grid


def test_loading_twice_changes_nothing(reference_data):
    # given the reference data loaded once / when the command runs again
    call_command("load_reference_data")
    # then there is still one version of each and one audit record per file
    assert FactorDataset.objects.count() == 5
    # 56 DESNZ 2025, 5 grid, 9 MEE China 2023, 56 DESNZ 2026, 28 eGRID2023
    assert EmissionFactor.objects.count() == 154
    assert AuditEvent.objects.filter(action="carbon.dataset.loaded").count() == 5


def test_the_audit_trail_records_the_cited_file(reference_data):
    event = AuditEvent.objects.get(
        action="carbon.dataset.loaded",
        object_repr__contains="(v1)",
        object_id=str(reference_data["desnz-2025"].pk),
    )
    assert event.actor is None
    assert event.details["file"] == "desnz-2025-freight.csv"
    assert event.details["factors"] == 56
    assert event.details["approver"].startswith("reference data loader")
    assert len(event.details["sha256"]) == 64


def test_loading_announces_each_dataset(db, received_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_reference_data")
    published = [e for e in received_events if e.type == "greenloop.carbon.dataset_published"]
    assert [e.subject for e in published] == [
        "datasets/desnz-2025@1",
        "datasets/grid-electricity@1",
        "datasets/mee-china-grid-2023@1",
        "datasets/desnz-2026@1",
        "datasets/egrid-2023@1",
    ]
    assert published[0].data["is_default"] is True
    assert published[3].data["is_default"] is False


def test_a_changed_fixture_is_refused_not_overwritten(reference_data, tmp_path, settings):
    # given the loaded data and a copy of the project whose DESNZ file was edited afterwards
    (tmp_path / "fixtures").mkdir()
    for name in ("desnz-2025-freight.csv", "grid-electricity.csv"):
        shutil.copy(settings.BASE_DIR / "fixtures" / name, tmp_path / "fixtures" / name)
    edited = tmp_path / "fixtures" / "desnz-2025-freight.csv"
    edited.write_text(edited.read_text().replace(",0.10163,", ",0.10164,"), encoding="utf-8")
    settings.BASE_DIR = tmp_path
    # when the loader runs / then it refuses, and the published value is untouched
    with pytest.raises(CommandError, match="new version"):
        call_command("load_reference_data")
    assert factor("desnz-2025", "road.hgv.average_laden", "TTW").value == Decimal("0.10163")


# Values exactly as published in DESNZ ghg-conversion-factors-2025-flat-format (row ID cited).
@pytest.mark.parametrize(
    ("category", "scope", "rf", "expected"),
    [
        # 27_304_3140_14_1 Freighting goods > HGV (all diesel) > All HGVs > Average laden
        ("road.hgv.average_laden", "TTW", False, Decimal("0.10163")),
        # 28_907_3140_14_1 WTT- HGV (all diesel) > All HGVs > Average laden
        ("road.hgv.average_laden", "WTT", False, Decimal("0.02359")),
        # 27_304_3124_14_1 HGV (all diesel) > All rigids > Average laden
        ("road.hgv.rigid", "TTW", False, Decimal("0.19748")),
        # 27_306_3140_14_1 HGV refrigerated (all diesel) > All HGVs > Average laden
        ("road.hgv.refrigerated", "TTW", False, Decimal("0.11894")),
        # 27_303_3102_14_1 Vans > Average (up to 3.5 tonnes) > Diesel
        ("road.van.diesel", "TTW", False, Decimal("0.63130")),
        # 28_906_3102_14_1 WTT- vans > Average (up to 3.5 tonnes) > Diesel
        ("road.van.diesel", "WTT", False, Decimal("0.15095")),
        # 27_315_3151_14_1 Rail > Freight train
        ("rail.freight", "TTW", False, Decimal("0.02779")),
        # 27_320_3235_14_1 Cargo ship > Container ship > Average
        ("sea.container.average", "TTW", False, Decimal("0.01612")),
        # 28_916_3229_14_1 WTT- cargo ship > Container ship > 8000+ TEU
        ("sea.container.large", "WTT", False, Decimal("0.00287")),
        # 27_320_3221_14_1 Cargo ship > Bulk carrier > Average
        ("sea.bulk.average", "TTW", False, Decimal("0.00353")),
        # 27_317_3156_14_1 Freight flights > Long-haul, to/from UK > With RF
        ("air.long_haul", "TTW", True, Decimal("0.89939")),
        # 27_317_3157_14_1 Freight flights > Long-haul, to/from UK > Without RF
        ("air.long_haul", "TTW", False, Decimal("0.53130")),
        # 28_913_3153_14_1 WTT- freight flights > Domestic, to/from UK > Without RF
        ("air.domestic", "WTT", False, Decimal("0.57429")),
        # 1_101_1011_8_1 Fuels > Liquid fuels > Diesel (average biofuel blend) > litres
        ("fuel.diesel", "TTW", False, Decimal("2.57082")),
        # 11_101_1011_8_1 WTT- fuels > Liquid fuels > Diesel (average biofuel blend) > litres
        ("fuel.diesel", "WTT", False, Decimal("0.61101")),
        # 1_101_1024_15_1 Fuels > Liquid fuels > Marine fuel oil > tonnes
        ("fuel.hfo", "TTW", False, Decimal("3154.75334")),
        # 1_101_1009_8_1 Fuels > Liquid fuels > Aviation turbine fuel > litres
        ("fuel.jet", "TTW", False, Decimal("2.54269")),
    ],
)
def test_values_are_exactly_as_published(reference_data, category, scope, rf, expected):
    assert factor("desnz-2025", category, scope, rf).value == expected


def test_a_factor_names_its_source_row(reference_data):
    f = factor("desnz-2025", "air.international", "TTW", rf=True)
    assert f.source_id == "27_317_3158_14_1"
    assert f.source_label == (
        "Freighting goods > Freight flights > International, to/from non-UK > With RF > tonne.km"
    )
    assert f.value == Decimal("0.89939")


def test_well_to_wheel_of_an_hgv_is_the_sum_of_the_published_rows(reference_data):
    # rows 27_304_3140_14_1 (TTW 0.10163) and 28_907_3140_14_1 (WTT 0.02359)
    ttw = factor("desnz-2025", "road.hgv.average_laden", "TTW").value
    wtt = factor("desnz-2025", "road.hgv.average_laden", "WTT").value
    assert ttw + wtt == Decimal("0.12522")


def test_every_public_category_has_ttw_and_wtt_factors(reference_data):
    missing = []
    for code, category in categories.CATEGORIES.items():
        if category.mode == "hub":
            continue  # hub operations use the cited GLEC hub table, not dataset rows
        variants = [False, True] if category.supports_radiative_forcing else [False]
        for rf in variants:
            for scope in ("TTW", "WTT"):
                if not EmissionFactor.objects.filter(
                    dataset__slug="desnz-2025",
                    category=code,
                    energy_scope=scope,
                    radiative_forcing=rf,
                ).exists():
                    missing.append((code, scope, rf))
    assert missing == []


def test_freight_factors_are_stored_in_the_engines_unit(reference_data):
    units = set(
        EmissionFactor.objects.filter(dataset__slug="desnz-2025", kind="freight").values_list(
            "unit", flat=True
        )
    )
    assert {ureg.Unit(u) for u in units} == {ureg.Unit(FREIGHT_INTENSITY)}


def test_grid_factors_as_published(reference_data):
    # MEE/NBS announcement 2024 No. 33: 0.5366 national, 0.5856 excluding traded non-fossil
    assert factor("grid-electricity", "electricity.CN.location", "TTW", region="CN").value == (
        Decimal("0.5366")
    )
    assert factor("grid-electricity", "electricity.CN.residual", "TTW", region="CN").value == (
        Decimal("0.5856")
    )
    # DESNZ 2025 flat file row 7_400_4000_5_1 (UK electricity, kWh)
    gb = factor("grid-electricity", "electricity.GB.location", "TTW", region="GB")
    assert gb.value == Decimal("0.17700")
    assert gb.source_id == "7_400_4000_5_1"
    assert not EmissionFactor.objects.filter(category="electricity.GB.residual").exists()


def test_a_grid_factor_published_in_pounds_is_converted_exactly(reference_data):
    # EIA: "about 0.81 pounds of CO2 emissions per kWh" (2023); 1 lb = 0.45359237 kg exactly
    us = factor("grid-electricity", "electricity.US.location", "TTW", region="US")
    assert us.value == Decimal("0.81") * Decimal("0.45359237")
    assert us.value == Decimal("0.3674098197")
    # EIA counts CO2 alone: stored as CO2, never relabelled as CO2e
    assert us.unit == "kgCO2 / kWh"
    assert "[published as 0.81 lbCO2/kWh]" in us.description


def test_co2_only_grid_factors_are_stored_as_co2(reference_data):
    # MEE/NBS publish "二氧化碳排放因子": CO2 only, published in kgCO2/kWh (no conversion)
    for category in ("electricity.CN.location", "electricity.CN.residual"):
        cn = factor("grid-electricity", category, "TTW", region="CN")
        assert cn.unit == "kgCO2 / kWh"
        assert "[published as" not in cn.description
    # DESNZ and the EEA publish CO2e
    assert factor("grid-electricity", "electricity.GB.location", "TTW", region="GB").unit == (
        "kgCO2e / kWh"
    )


def test_the_eu27_factor_is_converted_from_grams_exactly(reference_data):
    # EEA IND-353 (2020-12-08): EU-27 total electricity generation 2018, 281 g CO2e/kWh
    eu = factor("grid-electricity", "electricity.EU.location", "TTW", region="EU")
    assert eu.value == Decimal("0.281")
    assert eu.source_id == "EEA-IND-353/EU27-2018"


def test_the_fixture_files_cite_their_sources():
    for name in ("desnz-2025-freight.csv", "grid-electricity.csv"):
        parsed = read_factor_file(f"fixtures/{name}")
        assert {"title", "publisher", "source_url", "publication_date", "licence"} <= set(
            parsed.metadata
        )
