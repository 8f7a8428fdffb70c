"""Hub operations (ISO 14083 HOCs): worked examples with the GLEC Framework v3 default hub
intensities of fixtures/glec-v3-hub-defaults.csv (kg CO2e per tonne handled, WTW, no split)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbon.footprint import hubs
from carbon.footprint.legs import parse_leg
from carbon.footprint.model import (
    FactorRef,
    FootprintInput,
    GridFactors,
    HubFactor,
    LegFactors,
    LegInput,
    compute,
)

D = Decimal


def _ref(pk: int, scope: str, value: str) -> FactorRef:
    return FactorRef(
        id=pk,
        dataset_id=1,
        dataset="worked-example@1",
        category="road.hgv.average_laden",
        kind="freight",
        energy_scope=scope,
        radiative_forcing=False,
        value=D(value),
        unit="kgCO2e / (tonne * km)",
        region="GLO",
        description="",
        source_label="",
        canonical=D(value),
    )


HGV = LegFactors(ttw=_ref(1, "TTW", "0.1"), wtt=_ref(2, "WTT", "0.025"))
WAREHOUSE = HubFactor(
    category="hub.warehouse.ambient",
    hub_type="warehouse",
    temperature="ambient",
    wtw=D("17.5"),
    ttw=None,
    wtt=None,
    row_label="Warehouse - ambient",
    source="GLEC Framework v3",
)


def test_the_cited_table_holds_the_glec_v3_hub_defaults():
    # given the cited table / then its figures are the framework's, in kg CO2e per tonne
    factors = hubs.hub_factors()
    assert {code: str(f.wtw) for code, f in factors.items()} == {
        "hub.transhipment.ambient": "0.6",
        "hub.transhipment.mixed": "2.2",
        "hub.storage_transhipment.ambient": "2.1",
        "hub.storage_transhipment.mixed": "4.0",
        "hub.warehouse.ambient": "17.5",
        "hub.warehouse.mixed": "33.0",
        "hub.liquid_bulk_terminal.ambient": "3.1",
        "hub.liquid_bulk_terminal.mixed": "8.1",
        "hub.container_terminal.ambient": "10.7",
        "hub.container_terminal.temperature_controlled": "12.6",
    }
    # no TTW/WTT split is published, and none is invented
    assert {(f.ttw, f.wtt) for f in factors.values()} == {(None, None)}
    assert hubs.source()["source_url"].endswith("GLEC_FRAMEWORK_v3_UPDATED_02_04_24.pdf")
    assert hubs.hub_types_without_default() == ["airport"]


def test_a_warehouse_stop_adds_tonnes_handled_times_its_default_to_wtw():
    # given 10 t x 100 km by HGV (TTW 100 kg, WTT 25 kg) then 12 t through an ambient
    # warehouse at 17.5 kg CO2e per tonne handled
    legs = [
        LegInput("road.hgv.average_laden", D(10), D(100)),
        LegInput("hub.warehouse.ambient", D(12), D(0), sequence=2, where="legs[1]"),
    ]
    # when computed
    (fp,) = compute(
        [FootprintInput(legs=legs)], [[HGV, LegFactors(None, None, hub=WAREHOUSE)]], [GridFactors()]
    )
    # then the hub adds 12 x 17.5 = 210 kg WTW and no t·km; TTW and WTT stay the road leg's
    assert (fp.tkm, fp.ttw, fp.wtt, fp.hub_wtw, fp.wtw) == (D(1000), D(100), D(25), D(210), D(335))
    hub_leg = fp.legs_json()[1]
    assert hub_leg["method"] == "hub"
    assert (hub_leg["tkm"], hub_leg["hub_wtw_kg"], hub_leg["wtw_kg"]) == (
        "0.000000",
        "210.000000",
        "210.000000",
    )
    assert hub_leg["hub_factor"]["wtw_kg_per_t"] == "17.5"
    assert fp.totals_json()["wtw_kg"] == "335.000000"
    # and the chain intensity is WTW per t·km, hub included (335 / 1,000)
    assert fp.intensity == D("0.335")


def test_a_published_split_goes_to_ttw_and_wtt():
    # given a hub default with a split (4 kg TTW + 1 kg WTT per tonne), 3 t handled
    split = HubFactor("hub.x.ambient", "x", "ambient", D(5), D(4), D(1), "x", "test")
    legs = [LegInput("hub.x.ambient", D(3), D(0))]
    # when computed
    (fp,) = compute(
        [FootprintInput(legs=legs)], [[LegFactors(None, None, hub=split)]], [GridFactors()]
    )
    # then 12 kg TTW and 3 kg WTT, nothing unsplit
    assert (fp.ttw, fp.wtt, fp.hub_wtw, fp.wtw) == (D(12), D(3), D(0), D(15))


def test_a_hub_leg_reads_tonnes_handled_and_needs_no_distance():
    # given a container-terminal stop of 26 t without a distance / when parsed
    leg, problems = parse_leg({"category": "hub.container_terminal.ambient", "mass": "26 t"})
    # then it is a hub leg of 26 t and 0 km
    assert problems == []
    assert (leg.category, leg.mass_t, leg.distance_km) == (
        "hub.container_terminal.ambient",
        D(26),
        D(0),
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"category": "hub.airport.ambient", "mass": "2 t"},
            [
                (
                    "category",
                    "the GLEC Framework v3 publishes no default intensity for 'airport' hubs; "
                    "no figure is invented for it",
                )
            ],
        ),
        (
            {"category": "hub.warehouse.ambient", "mass": "2 t", "distance": "40 km"},
            [("distance", "a hub operation has no distance; leave it empty or 0")],
        ),
        (
            {"category": "hub.warehouse.ambient", "mass": "0 t"},
            [("mass", "a hub operation needs the tonnes handled, e.g. 12 t")],
        ),
        (
            {
                "category": "hub.warehouse.ambient",
                "mass": "2 t",
                "fuel_type": "diesel",
                "fuel_used": "3 l",
            },
            [
                (
                    "fuel_type",
                    "hub operations use the GLEC default per tonne handled; fuel data is not used",
                )
            ],
        ),
    ],
)
def test_hub_legs_are_refused_with_the_field_at_fault(fields, expected):
    # given a bad hub leg / when parsed / then nothing is read and the field is named
    leg, problems = parse_leg(fields)
    assert leg is None
    assert [(p.field, p.reason) for p in problems] == expected


@pytest.mark.django_db
def test_the_estimate_api_prices_a_hub_stop(client, org_a):
    from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
    from portal import actions
    from tests.carbon.factories import published_dataset

    published_dataset()
    _, token = actions.issue_api_token(org_a, "ERP", ["carbon:read"], by=None)
    # given 3 t through a temperature-controlled container terminal (12.6 kg CO2e per tonne)
    body = {"legs": [{"category": "hub.container_terminal.temperature_controlled", "mass": "3 t"}]}
    # when estimated
    response = client.post(
        "/api/v1/carbon/estimate",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    # then 3 x 12.6 = 37.8 kg WTW, no t·km, no dataset factor rows
    assert response.status_code == 200, response.content
    leg = response.json()["legs"][0]
    assert (leg["method"], leg["tkm"], leg["hub_wtw_kg"], leg["wtw_kg"]) == (
        "hub",
        "0.000000",
        "37.800000",
        "37.800000",
    )
    assert leg["factors"]["ttw"] is None
