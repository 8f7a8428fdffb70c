"""The iLEAP-shaped JSON report (carbon.reports.ileap): every ShipmentFootprint validates against
the schema written from iLEAP 1.0.0, the mapping of legs to TCEs is literal, every number is a
decimal string, and the schema does refuse what the spec forbids. No database."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jsonschema_rs
import pytest
from django.conf import settings

from carbon.reports import ileap
from carbon.reports.ileap import IleapError, render_ileap, validation_errors
from carbon.reports.inventory import OrderRow, build_inventory
from tests.carbon.report_samples import AIR, HGV, Q1_2026, VAN, document, snapshot

D = Decimal
SCHEMA = Path(settings.BASE_DIR) / "fixtures" / "ileap" / "shipment-footprint.schema.json"


def report(doc=None) -> dict:
    return json.loads(render_ileap(doc or document()))


def footprints(data: dict) -> list[dict]:
    return [entry["extension"]["data"] for entry in data["shipments"] if "extension" in entry]


def schema_validator():
    # read here from the file, not through the module's cached validator
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_every_shipment_footprint_validates_against_the_schema():
    data = report()

    assert [entry["shipmentId"] for entry in data["shipments"]] == ["GL-1/S-1", "GL-2"]
    validator = schema_validator()
    for footprint in footprints(data):
        assert validator.is_valid(footprint), list(validator.iter_errors(footprint))


def test_a_shipment_of_two_legs_as_an_ileap_shipment_footprint():
    entry = report()["shipments"][0]

    assert entry["extension"] == {
        "specVersion": "2.0.0",
        "dataSchema": "https://api.ileap.sine.dev/shipment-footprint.json",
        "documentation": "https://sine-fdn.github.io/ileap-extension/",
        "data": {
            # the heavier leg's cargo: 10 t = 10000 kg
            "mass": "10000",
            "shipmentId": "GL-1/S-1",
            "tces": [
                {
                    "tceId": "GL-11-1",
                    "prevTceIds": [],
                    "tocId": "road.hgv.average_laden",
                    "shipmentId": "GL-1/S-1",
                    "mass": "10000",
                    "distance": {"actual": "20"},
                    "transportActivity": "200",
                    "co2eWTW": "25",
                    "co2eTTW": "20",
                },
                {
                    "tceId": "GL-11-2",
                    "prevTceIds": ["GL-11-1"],
                    "tocId": "road.van.diesel",
                    "shipmentId": "GL-1/S-1",
                    "mass": "2000",
                    "distance": {"actual": "100"},
                    "transportActivity": "200",
                    "co2eWTW": "125",
                    "co2eTTW": "100",
                },
            ],
        },
    }
    assert entry["order"] == {
        "id": "1",
        "number": "PO-1",
        "organisation": "绿环贸易有限公司",
        "deliveryDate": "2026-02-10",
        "calculationId": "11",
        "methodVersion": "1",
        "shipmentReference": "S-1",
    }
    assert entry["legs"][0]["factorIds"] == {"ttw": "101", "wtt": "102"}
    assert entry["legs"][0]["mode"] == "Road"


def test_radiative_forcing_stays_out_of_the_ileap_figures():
    entry = report()["shipments"][1]

    tce = entry["extension"]["data"]["tces"][0]
    # 120 TTW + 28 WTT = 148 WTW; the 84 kg uplift is not in either
    assert (tce["co2eTTW"], tce["co2eWTW"]) == ("120", "148")
    assert entry["legs"] == [
        {
            "tceId": "GL-12-1",
            "legNumber": "1",
            "mode": "Air",
            "vehicleCategory": "air.long_haul",
            "calculationMethod": "distance",
            "dataTier": "primary",
            "origin": "LHR",
            "destination": "PVG",
            "co2eWTT": "28",
            "radiativeForcingUplift": "84",
            "factorIds": {"ttw": "105", "ttw_rf": "107", "wtt": "106"},
        }
    ]


def test_every_number_is_a_decimal_string():
    def leaves(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)
        else:
            yield value

    data = report()
    kinds = {type(v) for v in leaves(data["shipments"])}
    assert kinds == {str}
    assert data["report"]["restatedWithCurrentFactors"] is False  # the only non-string flag


def test_the_report_block_names_the_report_and_its_data_hash():
    doc = document()

    assert report(doc)["report"] | {"countingRule": "…"} == {
        "reportId": "RPT-2026-0001",
        "organisation": "绿环贸易有限公司",
        "period": {
            "kind": "quarter",
            "period": "2026-Q1",
            "start": "2026-01-01",
            "end": "2026-03-31",
        },
        "issuedAt": "2026-04-02T09:30:00+00:00",
        "countingRule": "…",
        "dataHash": doc.inventory.data_hash,
        "methodVersions": ["1"],
        "datasets": ["test-freight v1"],
        "restatedWithCurrentFactors": False,
    }


def test_parallel_legs_all_precede_the_next_leg():
    # two pre-carriage legs numbered 1 (e.g. two trucks to the port), then the main leg 2
    first = dataclasses.replace(HGV, shipment="S-9", sequence=1)
    second = dataclasses.replace(VAN, shipment="S-9", sequence=1)
    main = dataclasses.replace(AIR, shipment="S-9", sequence=2)
    rows = [
        OrderRow(
            5, "PO-5", 1, "delivered", dt.date(2026, 1, 5), snapshot(15, (first, second, main))
        )
    ]
    data = report(document(inventory=build_inventory(Q1_2026, rows, [])))

    tces = footprints(data)[0]["tces"]
    assert [(t["tceId"], t["prevTceIds"]) for t in tces] == [
        ("GL-15-1", []),
        ("GL-15-2", []),
        ("GL-15-3", ["GL-15-1", "GL-15-2"]),
    ]


def test_a_leg_without_mass_or_distance_is_listed_not_invented():
    # distance known: the mass comes from 200 t·km / 400 km = 0.5 t; nothing known: left out
    derived = dataclasses.replace(AIR, mass_t=None)
    unknown = dataclasses.replace(HGV, shipment="S-2", mass_t=None, distance_km=None)
    rows = [
        OrderRow(6, "PO-6", 1, "delivered", dt.date(2026, 1, 5), snapshot(16, (derived, unknown)))
    ]
    data = report(document(inventory=build_inventory(Q1_2026, rows, [])))

    with_tce, without = data["shipments"]
    assert with_tce["extension"]["data"]["tces"][0]["mass"] == "500"
    assert without["shipmentId"] == "GL-6/S-2"
    assert "extension" not in without
    assert without["legsWithoutTce"] == [{"legNumber": "1", "reason": "mass or distance unknown"}]


def test_the_json_is_the_same_in_every_language_and_on_every_render():
    assert render_ileap(document("zh-hans")) == render_ileap(document("en"))
    assert render_ileap(document()) == render_ileap(document())


VALID = report()["shipments"][0]["extension"]["data"]


def broken(change) -> dict:
    footprint = copy.deepcopy(VALID)
    change(footprint)
    return footprint


@pytest.mark.parametrize(
    ("change", "error"),
    [
        # a JSON number where iLEAP wants a decimal string
        (lambda f: f["tces"][0].update(co2eWTW=25), "tces/0/co2eWTW"),
        # a decimal with a comma or an exponent
        (lambda f: f["tces"][0].update(mass="10,000"), "tces/0/mass"),
        (lambda f: f["tces"][0].update(transportActivity="2E+2"), "tces/0/transportActivity"),
        # a misspelt field name
        (lambda f: f["tces"][0].update(co2eWtw="25"), "tces/0"),
        # a required field missing
        (lambda f: f["tces"][0].pop("co2eTTW"), "tces/0"),
        (lambda f: f.pop("shipmentId"), "(root)"),
        # no TCE at all
        (lambda f: f.update(tces=[]), "tces"),
        # neither tocId nor hocId
        (lambda f: f["tces"][0].pop("tocId"), "tces/0"),
        # a distance without any of actual, gcd, sfd
        (lambda f: f["tces"][0].update(distance={}), "tces/0/distance"),
        # a location whose country is not an ISO 3166 alpha-2 code
        (
            lambda f: f["tces"][0].update(origin={"city": "Leeds", "country": "United Kingdom"}),
            "tces/0/origin",
        ),
    ],
)
def test_the_schema_refuses_what_the_spec_forbids(change, error):
    assert validation_errors(VALID) == []

    errors = validation_errors(broken(change))

    assert errors
    assert any(e.startswith(error) for e in errors), errors
    assert not schema_validator().is_valid(broken(change))


def test_an_invalid_footprint_is_never_written(monkeypatch):
    # given a mapping bug that writes a number where iLEAP wants a decimal string
    real = ileap._tce

    def buggy(*args):
        return real(*args) | {"co2eWTW": 25}

    monkeypatch.setattr(ileap, "_tce", buggy)

    with pytest.raises(IleapError, match="GL-1/S-1: tces/0/co2eWTW"):
        render_ileap(document())


def test_the_schema_file_cites_the_spec_it_was_written_from():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    assert "iLEAP Technical Specifications, Version 1.0.0" in schema["$comment"]
    assert "https://sine-fdn.github.io/ileap-extension/" in schema["$comment"]
    assert jsonschema_rs.meta.is_valid(schema)
