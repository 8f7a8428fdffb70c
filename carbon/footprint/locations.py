"""Known locations and the reference distance of a leg (ISO 14083 / GLEC Framework).

A leg's origin and destination are free text. When both name a known location, the leg has a
great-circle distance that no real route can beat, and a reference distance for points: the
great-circle distance times the GLEC distance adjustment factor of the mode (air: great-circle
plus 95 km), never more than the declared distance, so that a longer declared route earns
nothing extra.

Known locations are airports from the `airportsdata` package (IATA codes; ICAO codes too) and the
ports and rail terminals of the cited UN/LOCODE subset in `fixtures/un-locode-ports.csv`, plus
the other names of `fixtures/location-aliases.csv`. A text is resolved by its code ("CNSGH",
"CN SGH", "PVG", "EDDF") or by a name that names one known location exactly (case and spacing
aside): no fuzzy matching, so a customer's plant ("Suzhou plant") stays unknown and its leg
keeps the declared distance, visibly.

Everything here is pure (no ORM): the same functions serve validation, the calculation and the
pages, over plain text and Decimal.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

from carbon import app_settings
from carbon.footprint.units import DISTANCE, Q_, plain_decimal

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PORTS_FILE = FIXTURES / "un-locode-ports.csv"
ALIASES_FILE = FIXTURES / "location-aliases.csv"

# Mean radius of the Earth (IUGG R1 = (2a + b) / 3 of WGS 84), the radius of the haversine.
EARTH_RADIUS = Q_(Decimal("6371.0088"), DISTANCE)
KM = Decimal(1)
REFERENCE_PLACES = Decimal("0.001")

# The kinds of place a vehicle of each mode starts and ends at: a sea leg runs between ports
# (UN/LOCODE function 1), a rail leg between rail terminals (2), a flight between airports; a
# truck may fetch from or deliver to any of them.
PORT, RAIL, AIRPORT = "port", "rail", "airport"
KINDS_BY_MODE = {
    "sea": frozenset({PORT}),
    "rail": frozenset({RAIL}),
    "air": frozenset({AIRPORT}),
    "road": frozenset({PORT, RAIL, AIRPORT}),
}
# Air legs use the airports of airportsdata, not UN/LOCODE town entries with an airport function.
_FUNCTION_KINDS = {"1": PORT, "2": RAIL}

_LOCODE = re.compile(r"^([A-Z]{2}) ?([A-Z2-9]{3})$")
_COORDINATE = re.compile(r"^(\d{2})(\d{2})([NS]) (\d{3})(\d{2})([EW])$")


@dataclass(frozen=True)
class Location:
    """A known place: its code (UN/LOCODE or IATA), name, kinds, and WGS 84 degrees."""

    code: str
    name: str
    kinds: frozenset[str]
    latitude: Decimal
    longitude: Decimal
    source: str  # "UN/LOCODE 2024-1", "geocoded", "airportsdata"

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "latitude": str(self.latitude),
            "longitude": str(self.longitude),
            "source": self.source,
        }


def parse_locode_coordinates(text: str) -> tuple[Decimal, Decimal]:
    """Decimal degrees (latitude, longitude) of UN/LOCODE's "DDMMN DDDMME" form, e.g.
    "3114N 12129E" -> (31.233333, 121.483333); ValueError for anything else."""
    match = _COORDINATE.match(text.strip())
    if match is None:
        raise ValueError(f"not UN/LOCODE coordinates: {text!r}")
    lat_d, lat_m, ns, lon_d, lon_m, ew = match.groups()
    six = Decimal("0.000001")
    lat = (Decimal(lat_d) + Decimal(lat_m) / 60).quantize(six)
    lon = (Decimal(lon_d) + Decimal(lon_m) / 60).quantize(six)
    if int(lat_m) >= 60 or int(lon_m) >= 60 or lat > 90 or lon > 180:
        raise ValueError(f"coordinates out of range: {text!r}")
    return (-lat if ns == "S" else lat), (-lon if ew == "W" else lon)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@cache
def _ports() -> dict[str, Location]:
    ports = {}
    for row in _rows(PORTS_FILE):
        latitude, longitude = parse_locode_coordinates(row["coordinates"])
        kinds = frozenset(_FUNCTION_KINDS[c] for c in row["function"] if c in _FUNCTION_KINDS)
        source = "UN/LOCODE 2024-1" if row["coordinates_source"] == "UN/LOCODE" else "geocoded"
        ports[row["locode"]] = Location(
            row["locode"], row["name"], kinds, latitude, longitude, source
        )
    return ports


@cache
def _airports() -> dict[str, dict[str, Any]]:
    import airportsdata  # imported on first use: the table is about 30,000 airports

    return cast(dict[str, dict[str, Any]], airportsdata.load("IATA"))


@cache
def _airports_by_icao() -> dict[str, str]:
    return {a["icao"]: iata for iata, a in _airports().items() if a.get("icao")}


def _airport(iata: str) -> Location | None:
    row = _airports().get(iata)
    if row is None:
        return None
    return Location(
        iata,
        row["name"],
        frozenset({AIRPORT}),
        Decimal(str(row["lat"])),
        Decimal(str(row["lon"])),
        "airportsdata",
    )


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


@cache
def _names() -> dict[str, str | None]:
    """Lower-cased name -> code, None where a name is shared by two places (then ambiguous)."""
    names: dict[str, str | None] = {}

    def add(name: str, code: str) -> None:
        key = _key(name)
        names[key] = code if names.get(key, code) == code else None

    for code, port in _ports().items():
        add(port.name, code)
    for iata, row in _airports().items():
        add(row["name"], iata)
    for row in _rows(ALIASES_FILE):
        if _by_code(row["code"]) is None:
            raise ValueError(f"location alias {row['alias']!r} names unknown code {row['code']}")
        names[_key(row["alias"])] = row["code"]  # an alias is chosen: it wins over a clash
    return names


def _by_code(code: str) -> Location | None:
    match = _LOCODE.match(code)
    if match:
        return _ports().get("".join(match.groups()))
    if len(code) == 3 and code.isalpha():
        return _airport(code)
    if len(code) == 4 and code.isalpha():
        iata = _airports_by_icao().get(code)
        return _airport(iata) if iata else None
    return None


@lru_cache(maxsize=8192)
def resolve_location(text: str, mode: str | None = None) -> Location | None:
    """The known location that `text` names (a code or one exact known name), or None.

    With a transport `mode`, only the kinds of place that mode serves count (a sea leg's "HAM" is
    not Hamburg airport): see KINDS_BY_MODE. Cached: a recalculation resolves the same few
    place names for every leg, and the tables it reads are loaded once per process."""
    text = " ".join((text or "").split())
    if not text:
        return None
    location = _by_code(text.upper())
    if location is None:
        code = _names().get(_key(text))
        location = _by_code(code) if code else None
    if location is None:
        return None
    if mode is not None and not location.kinds & KINDS_BY_MODE.get(mode, frozenset()):
        return None
    return location


def great_circle_km(a: Location, b: Location) -> Decimal:
    """Great-circle distance between two locations in km, rounded to the km (haversine on the
    mean Earth radius; the coordinates are good to about a km)."""
    lat1, lon1, lat2, lon2 = (
        math.radians(float(v)) for v in (a.latitude, a.longitude, b.latitude, b.longitude)
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    central_angle = 2 * math.asin(min(1.0, math.sqrt(h)))
    distance = EARTH_RADIUS * Decimal(repr(central_angle))
    return Decimal(distance.to(DISTANCE).magnitude).quantize(KM, rounding=ROUND_HALF_EVEN)


def known_ends(
    mode: str, origin: str, destination: str
) -> tuple[Location, Location, Decimal] | None:
    """Both ends of a leg and their great-circle km, or None when either end is unknown."""
    start, end = resolve_location(origin, mode), resolve_location(destination, mode)
    if start is None or end is None:
        return None
    return start, end, great_circle_km(start, end)


def reference_distance_km(
    mode: str, origin: str, destination: str, declared_km: Decimal
) -> tuple[Decimal | None, dict[str, Any]]:
    """The leg's reference distance in km for points, and its basis (JSON-ready).

    reference = min(declared, great-circle x DISTANCE_ADJUSTMENT[mode]) for road and rail,
    min(declared, great-circle + AIR_DISTANCE_ADDITION_KM) for air (GLEC Framework v3,
    `carbon.app_settings`), the declared route for sea (its great circle crosses land); None
    when either end is not a known location, and then the basis says so and that the declared
    distance is used."""
    basis: dict[str, Any] = {"declared_km": plain_decimal(declared_km)}
    ends = known_ends(mode, origin, destination)
    if ends is None:
        unknown = [
            name
            for name, text in (("origin", origin), ("destination", destination))
            if resolve_location(text, mode) is None
        ]
        basis.update({"basis": "declared", "unknown": unknown})
        return None, basis
    start, end, great_circle = ends
    if mode == "sea":
        # The great circle between two ports crosses land (Shanghai - Hamburg: 8,528 km against
        # some 19,500 km through Suez), and GLEC's sea factor applies to the shortest sea route,
        # which the portal has no model of yet. So a sea leg's reference is its declared route,
        # which the plausibility rule holds within MAX_ROUTE_OVER_GREAT_CIRCLE["sea"] of the
        # great circle (carbon.footprint.legs.great_circle_problems).
        basis.update(
            {
                "basis": "sea_declared",
                "origin": start.as_json(),
                "destination": end.as_json(),
                "great_circle_km": plain_decimal(great_circle),
                "reference_km": plain_decimal(declared_km),
            }
        )
        return declared_km, basis
    if mode == "air":
        addition = app_settings.AIR_DISTANCE_ADDITION_KM
        adjusted = great_circle + addition
        basis["adjustment"] = f"+{addition} km"
    else:
        factor = app_settings.DISTANCE_ADJUSTMENT[mode]
        adjusted = great_circle * factor
        basis["adjustment"] = f"x{factor}"
    adjusted = adjusted.quantize(REFERENCE_PLACES, rounding=ROUND_HALF_EVEN)
    reference = min(adjusted, declared_km)
    basis.update(
        {
            "basis": "great_circle" if adjusted <= declared_km else "declared_cap",
            "origin": start.as_json(),
            "destination": end.as_json(),
            "great_circle_km": plain_decimal(great_circle),
            "adjusted_km": plain_decimal(adjusted),
            "reference_km": plain_decimal(reference),
        }
    )
    return reference, basis


def air_emission_distance_km(
    origin: str, destination: str, declared_km: Decimal
) -> tuple[Decimal, dict[str, Any]]:
    """The distance an air leg's footprint uses, and its basis (JSON-ready).

    DESNZ air freight factors include an 8% uplift on the great-circle distance
    (`DESNZ_AIR_DISTANCE_UPLIFT`), so the footprint divides them by it and applies them to a
    distance that carries its detours once: the great-circle distance + 95 km (GLEC) when both
    airports are known, else the declared flown distance."""
    uplift = app_settings.DESNZ_AIR_DISTANCE_UPLIFT
    ends = known_ends("air", origin, destination)
    if ends is None:
        return declared_km, {
            "basis": "declared_flown",
            "km": plain_decimal(declared_km),
            "factor_uplift_removed": plain_decimal(uplift),
        }
    start, end, great_circle = ends
    km = great_circle + app_settings.AIR_DISTANCE_ADDITION_KM
    return km, {
        "basis": "great_circle_plus_95",
        "km": plain_decimal(km),
        "great_circle_km": plain_decimal(great_circle),
        "origin": start.code,
        "destination": end.code,
        "factor_uplift_removed": plain_decimal(uplift),
    }
