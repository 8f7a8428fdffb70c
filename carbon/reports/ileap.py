"""The report's shipment footprints as iLEAP-shaped JSON (pure renderer, validated).

`render_ileap(document)` writes one iLEAP ShipmentFootprint per shipment of every counted order,
each wrapped as the PACT DataModelExtension iLEAP defines (specVersion, dataSchema, documentation,
data), so that a recipient can lift it into a PACT ProductFootprint's `extensions` unchanged.
Beside each extension the file carries GreenLoop's traceability (order, calculation, factor ids,
data tier) under its own names, outside the iLEAP objects. Spec: iLEAP Technical Specifications
1.0.0, https://sine-fdn.github.io/ileap-extension/. Every ShipmentFootprint is validated against
`fixtures/ileap/shipment-footprint.schema.json` (written from that spec: no schema is published on
PyPI or npm; see fixtures/ileap/README.md) before the bytes are returned.

The mapping:

- **Shipment -> ShipmentFootprint.** The legs of an order with the same shipment reference form
  one shipment. `shipmentId` is `GL-<order id>/<shipment reference>`, or `GL-<order id>` for the
  legs without a reference: GreenLoop's order id is unique across organisations, the reference
  only within its order, and the spec wants an id unique to the host system and the recipient.
  `mass` (kg) is the largest cargo mass of the shipment's legs (the goods; no leg carries more).
- **Leg -> TCE** (transport TCEs only: GreenLoop does not model hub operations yet, so there is no
  HOC and no hub TCE). `tceId` is `GL-<calculation id>-<leg position>`, stable for one
  calculation; `prevTceIds` lists the legs of the same shipment with the next lower leg number
  (`[]` for the first), as the spec's happens-before ordering asks. `tocId` is the vehicle category
  code whose factors the calculation used (e.g. `road.hgv.average_laden`), the transport operation
  category of the leg; its mode (`Road`, `Rail`, `Sea`, `Air`, the spec's TransportMode values)
  and the factor ids are in the traceability block. `mass` is the leg's cargo mass in kg,
  `distance.actual` its distance in km as declared on the order (GreenLoop applies no great-circle
  or shortest-feasible adjustment, so `gcd` and `sfd` are not written), `transportActivity` its
  stored t·km. `origin` and `destination` are free-text labels in GreenLoop, not the city and
  ISO country a Location requires, so they go to the traceability block, not to the TCE.
- **Emissions.** `co2eTTW` is the leg's tank-to-wheel kg CO2e, `co2eWTW` its TTW + WTT
  (well-to-tank) kg CO2e, as stored in the calculation snapshot; WTT alone is written as `co2eWTT`
  in the traceability block. **Radiative forcing** is not in either figure: iLEAP has no field
  for it and GLEC/ISO 14083 report aviation's non-CO2 effects apart, so the uplift of an air leg
  is written as `radiativeForcingUplift` (kg CO2e) in the traceability block, as every report
  keeps it on its own line.
- **Numbers.** Every number, ids included, is a decimal string with a dot and no exponent.

Orders without legs have no ShipmentFootprint (the spec requires at least one TCE); a leg whose
mass or distance cannot be read (only in calculations made before both were stored) is left out of
its ShipmentFootprint and listed under `legsWithoutTce`, never sent with an invented figure.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema_rs
from django.conf import settings

from carbon.footprint.units import plain_decimal
from carbon.reports.document import ReportDocument
from carbon.reports.inventory import LegRow, OrderLine

SPEC_VERSION = "1.0.0"
SPEC_URL = "https://sine-fdn.github.io/ileap-extension/"
# The values the spec prescribes for a ShipmentFootprint's PACT DataModelExtension.
EXTENSION_SPEC_VERSION = "2.0.0"
DATA_SCHEMA_URL = "https://api.ileap.sine.dev/shipment-footprint.json"
SCHEMA_FILE = Path(settings.BASE_DIR) / "fixtures" / "ileap" / "shipment-footprint.schema.json"

# GreenLoop's transport modes (carbon.footprint.categories) as the spec's TransportMode values.
TRANSPORT_MODES = {"road": "Road", "rail": "Rail", "sea": "Sea", "air": "Air"}
KG_PER_TONNE = Decimal(1000)


class IleapError(ValueError):
    """A ShipmentFootprint that does not validate against the schema (a bug: never sent)."""


@functools.cache
def validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def validation_errors(footprint: Any) -> list[str]:
    """What is wrong with `footprint` as an iLEAP ShipmentFootprint ([] when it is valid)."""
    return [
        f"{'/'.join(str(p) for p in error.instance_path) or '(root)'}: {error.message}"
        for error in validator().iter_errors(footprint)
    ]


def number(value: Decimal | int) -> str:
    """A decimal string as iLEAP's Decimal type wants it ("12.5", "0", "-3")."""
    return plain_decimal(value) or "0"


@dataclass(frozen=True)
class _Leg:
    position: int  # 1-based, in the calculation's order of legs
    leg: LegRow
    mass_kg: Decimal
    distance_km: Decimal


def _measures(leg: LegRow) -> tuple[Decimal, Decimal] | None:
    """The leg's cargo mass (kg) and distance (km), or None when they cannot be known."""
    mass_t, distance = leg.mass_t, leg.distance_km
    # t·km = t x km: one of the two can be recovered from the stored t·km and the other.
    if mass_t is None and distance:
        mass_t = leg.tkm / distance
    if distance is None and mass_t:
        distance = leg.tkm / mass_t
    if mass_t is None or distance is None:
        return None
    return mass_t * KG_PER_TONNE, distance


def _shipments(line: OrderLine) -> dict[str, list[tuple[int, LegRow]]]:
    """The order's legs (with their 1-based position) by shipment reference, in the order each
    shipment first appears."""
    shipments: dict[str, list[tuple[int, LegRow]]] = {}
    for position, leg in enumerate(line.legs, start=1):
        shipments.setdefault(leg.shipment, []).append((position, leg))
    return shipments


def _tce_id(line: OrderLine, leg: _Leg) -> str:
    return f"GL-{line.snapshot_id}-{leg.position}"


def _previous(legs: list[_Leg], leg: _Leg) -> list[_Leg]:
    """The legs of the shipment with the next lower leg number (the spec's happens-before)."""
    earlier = [other.leg.sequence for other in legs if other.leg.sequence < leg.leg.sequence]
    if not earlier:
        return []
    return [other for other in legs if other.leg.sequence == max(earlier)]


def _tce(line: OrderLine, shipment_id: str, leg: _Leg, prev: list[_Leg]) -> dict[str, Any]:
    return {
        "tceId": _tce_id(line, leg),
        "prevTceIds": [_tce_id(line, p) for p in prev],
        # A hub operation is an ISO 14083 hub operation category (HOC), not a transport one.
        ("hocId" if leg.leg.mode == "hub" else "tocId"): leg.leg.category,
        "shipmentId": shipment_id,
        "mass": number(leg.mass_kg),
        "distance": {"actual": number(leg.distance_km)},
        "transportActivity": number(leg.leg.tkm),
        "co2eWTW": number(leg.leg.wtw_kg),
        "co2eTTW": number(leg.leg.ttw_kg),
    }


def _trace(line: OrderLine, leg: _Leg) -> dict[str, Any]:
    return {
        "tceId": _tce_id(line, leg),
        "legNumber": number(leg.leg.sequence),
        "mode": TRANSPORT_MODES.get(leg.leg.mode, leg.leg.mode),
        "vehicleCategory": leg.leg.category,
        "calculationMethod": leg.leg.method,
        "dataTier": leg.leg.data_tier,
        "origin": leg.leg.origin,
        "destination": leg.leg.destination,
        "co2eWTT": number(leg.leg.wtt_kg),
        "radiativeForcingUplift": number(leg.leg.radiative_forcing_kg),
        "factorIds": {role: number(factor) for role, factor in leg.leg.factor_ids},
    }


def shipment_footprints(line: OrderLine) -> list[dict[str, Any]]:
    """One entry per shipment of `line` with legs: the iLEAP extension and its traceability."""
    entries = []
    for reference, legs in _shipments(line).items():
        shipment_id = f"GL-{line.order_id}/{reference}" if reference else f"GL-{line.order_id}"
        usable, unknown = [], []
        for position, leg in legs:
            if (measures := _measures(leg)) is None:
                unknown.append(leg)
            else:
                usable.append(_Leg(position, leg, *measures))
        tces = [_tce(line, shipment_id, leg, _previous(usable, leg)) for leg in usable]
        entry: dict[str, Any] = {
            "shipmentId": shipment_id,
            "order": {
                "id": number(line.order_id),
                "number": line.external_id,
                "organisation": line.organisation_name,
                "deliveryDate": line.delivery_date.isoformat(),
                "calculationId": number(line.snapshot_id),
                "methodVersion": line.method_version,
                "shipmentReference": reference,
            },
            "legs": [_trace(line, leg) for leg in usable],
            "legsWithoutTce": [
                {"legNumber": number(leg.sequence), "reason": "mass or distance unknown"}
                for leg in unknown
            ],
        }
        if tces:
            entry["extension"] = {
                "specVersion": EXTENSION_SPEC_VERSION,
                "dataSchema": DATA_SCHEMA_URL,
                "documentation": SPEC_URL,
                "data": {
                    "mass": number(max(leg.mass_kg for leg in usable)),
                    "shipmentId": shipment_id,
                    "tces": tces,
                },
            }
        entries.append(entry)
    return entries


def ileap_report(document: ReportDocument) -> dict[str, Any]:
    """The JSON document `render_ileap` writes, validated (IleapError when a footprint is not)."""
    inventory = document.inventory
    shipments = [entry for line in inventory.lines for entry in shipment_footprints(line)]
    for entry in shipments:
        if "extension" in entry and (errors := validation_errors(entry["extension"]["data"])):
            raise IleapError(f"{entry['shipmentId']}: {'; '.join(errors)}")
    return {
        "report": {
            "reportId": document.report_id,
            "organisation": document.organisation_name,
            "period": inventory.period.as_json(),
            "issuedAt": document.issued_at.isoformat(),
            "countingRule": inventory.counting_rule,
            "dataHash": inventory.data_hash,
            "methodVersions": list(inventory.method_versions),
            "datasets": list(inventory.datasets),
            "restatedWithCurrentFactors": document.restated,
        },
        "ileap": {
            "specification": f"iLEAP Technical Specifications {SPEC_VERSION}",
            "documentation": SPEC_URL,
            "dataSchema": DATA_SCHEMA_URL,
            "units": {
                "mass": "kg",
                "distance": "km",
                "transportActivity": "t.km",
                "co2eWTW": "kg CO2e",
                "co2eTTW": "kg CO2e",
                "co2eWTT": "kg CO2e",
                "radiativeForcingUplift": "kg CO2e",
            },
            "radiativeForcing": (
                "Not included in co2eWTW or co2eTTW; the uplift of air legs is given apart as "
                "radiativeForcingUplift."
            ),
        },
        "shipments": shipments,
    }


def render_ileap(document: ReportDocument) -> bytes:
    """The report's shipment footprints as iLEAP-shaped JSON, UTF-8 (see the module's docstring).
    JSON has no language: keys and values are the same in every report language."""
    return (
        json.dumps(ileap_report(document), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    ).encode("utf-8")
