"""One reading of a transport leg, for the API upsert, the CSV import and the estimate.

A leg arrives as text fields named alike in the API body and the CSV header (category, origin,
destination, distance, mass, data_tier, fuel_type, fuel_used, radiative_forcing). `parse_leg`
reads them with the quantity parser of `carbon.footprint.units` and checks the result with
`validate_leg`, the one set of leg rules (`carbon.footprint.orders.validate_order` applies it to
every leg it stores), so both doors refuse the same bad leg with the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from carbon import app_settings
from carbon.footprint import categories, hubs, locations
from carbon.footprint.engine import FUEL_UNITS
from carbon.footprint.exceptions import QuantityError
from carbon.footprint.units import DISTANCE, MASS, parse_number, parse_quantity
from carbon.models import DataTier, FuelType

# The input fields of a leg, in the order their problems are reported.
LEG_FIELDS = (
    "category",
    "origin",
    "destination",
    "distance",
    "mass",
    "data_tier",
    "fuel_type",
    "fuel_used",
    "radiative_forcing",
)
# LegData attributes that the API body and the CSV header name differently.
INPUT_FIELD = {"mass_t": "mass", "distance_km": "distance", "fuel_amount": "fuel_used"}

# The kind of quantity (parse_quantity's `kind`) each fuel unit is.
FUEL_UNIT_KINDS = {"litre": "volume", "kg": "mass", "kWh": "energy"}
# The transport modes each fuel drives: a leg's fuel data must be fuel its vehicle burns, or the
# fuel-based footprint replaces the distance-based one with a figure for another vehicle.
FUEL_MODES = {
    "diesel": ("road", "rail", "sea"),
    "hfo": ("sea",),
    "jet": ("air",),
    "electricity": ("road", "rail"),
}
# A yes/no cell of a CSV file (orders and factor files); JSON bodies send true or false.
YES_SPELLINGS = frozenset({"1", "true", "yes", "y"})
NO_SPELLINGS = frozenset({"", "0", "false", "no", "n"})

INVALID_QUANTITY = "invalid_quantity"
INVALID_LEG = "invalid_order"


@dataclass
class LegData:
    category: str
    mass_t: Decimal
    distance_km: Decimal
    origin: str = ""
    destination: str = ""
    data_tier: str = DataTier.DEFAULT
    radiative_forcing: bool = False
    fuel_type: str = ""
    fuel_amount: Decimal | None = None


@dataclass(frozen=True)
class LegProblem:
    """Why a leg cannot be used: the input field at fault (one of LEG_FIELDS), the reason, and
    the API's error code (`invalid_quantity` for a quantity that cannot be read)."""

    field: str
    reason: str
    code: str = INVALID_LEG


# --- quantities


def parse_mass(text: str | None, field: str) -> Decimal:
    """Cargo mass in tonnes from e.g. "12.5 t" or "27,557 lb"; QuantityError names `field`."""
    return parse_quantity(text, field=field, kind="mass", to=MASS)


def parse_distance(text: str | None, field: str) -> Decimal:
    """Distance in km from e.g. "830 km" or "515.7 mi"; QuantityError names `field`."""
    return parse_quantity(text, field=field, kind="distance", to=DISTANCE)


def parse_fuel_used(fuel_type: str, text: str | None, field: str) -> Decimal:
    """Fuel in the canonical unit of the known `fuel_type` (litres, kg or kWh)."""
    unit = FUEL_UNITS[fuel_type]
    return parse_quantity(text, field=field, kind=FUEL_UNIT_KINDS[unit], to=unit, fuel=True)


def parse_line_quantity(value: object, field: str) -> Decimal:
    """A line's number of units, e.g. "24" or "1,200"; its bounds are `validate_order`'s."""
    return parse_number(value, field=field)


# --- reading a leg


def parse_leg(fields: Mapping[str, object]) -> tuple[LegData | None, list[LegProblem]]:
    """The leg that `fields` (input field -> text, or a bool for radiative_forcing) describe,
    or None with every problem found, one per field: the quantities that cannot be read first,
    then the broken rules, each in LEG_FIELDS order."""
    problems: dict[str, LegProblem] = {}

    def text(name: str) -> str:
        value = fields.get(name)
        return "" if value is None else str(value)

    def quantity(name: str, parse, *args) -> Decimal:
        try:
            return parse(*args, text(name), name)
        except QuantityError as exc:
            problems[name] = LegProblem(name, exc.message, INVALID_QUANTITY)
            return Decimal(0)

    mass = quantity("mass", parse_mass)
    # A hub operation has no distance: an empty distance is none, not a missing one.
    hub_leg = hubs.is_hub(text("category"))
    distance = (
        Decimal(0) if hub_leg and not text("distance") else quantity("distance", parse_distance)
    )
    fuel_type = text("fuel_type").lower()
    fuel_amount = None
    if text("fuel_used"):
        if not fuel_type:
            problems["fuel_type"] = LegProblem("fuel_type", NEEDS_FUEL_TYPE)
        elif fuel_type in FUEL_UNITS:
            fuel_amount = quantity("fuel_used", parse_fuel_used, fuel_type)
        # an unknown fuel type is validate_leg's to report
    radiative_forcing = fields.get("radiative_forcing")
    if not isinstance(radiative_forcing, bool):
        answer = text("radiative_forcing").strip().lower()
        if answer not in YES_SPELLINGS | NO_SPELLINGS:
            problems["radiative_forcing"] = LegProblem("radiative_forcing", "yes or no")
        radiative_forcing = answer in YES_SPELLINGS
    leg = LegData(
        category=text("category"),
        mass_t=mass,
        distance_km=distance,
        origin=text("origin"),
        destination=text("destination"),
        data_tier=(text("data_tier") or DataTier.DEFAULT).lower(),
        radiative_forcing=radiative_forcing,
        fuel_type=fuel_type,
        fuel_amount=fuel_amount,
    )
    for name, reason in validate_leg(leg):
        field = INPUT_FIELD.get(name, name)
        problems.setdefault(field, LegProblem(field, reason))
    if not problems:
        return leg, []
    # Values that cannot be read come first: a client fixes those before the rules make sense.
    return None, sorted(
        problems.values(), key=lambda p: (p.code != INVALID_QUANTITY, LEG_FIELDS.index(p.field))
    )


# --- the rules of a leg

NEEDS_FUEL_TYPE = "a fuel amount needs its fuel type"


def validate_leg(leg: LegData) -> list[tuple[str, str]]:
    """The problems of one leg as (LegData attribute, reason) pairs."""
    errors = []
    category = categories.get(leg.category)
    if hubs.is_hub(leg.category):
        return _hub_problems(leg)
    if not leg.category:
        errors.append(("category", "a transport category is required for a leg"))
    elif category is None:
        errors.append(("category", f"unknown transport category '{leg.category}'"))
    bounds = leg_bounds(leg)
    errors.extend(bounds)
    if category is not None:
        out_of_bounds = {name for name, _ in bounds}
        errors.extend(
            (name, reason)
            for name, reason in plausibility_problems(leg, category.mode)
            if name not in out_of_bounds
        )
    if leg.data_tier not in DataTier.values:
        errors.append(
            ("data_tier", f"unknown data tier '{leg.data_tier}'; one of {', '.join(DataTier)}")
        )
    if leg.radiative_forcing and category is not None and not category.supports_radiative_forcing:
        errors.append(("radiative_forcing", "radiative forcing applies to air freight only"))
    errors.extend(_fuel_problems(leg, category))
    for name, limit in (("origin", 120), ("destination", 120)):
        if len(getattr(leg, name) or "") > limit:
            errors.append((name, f"at most {limit} characters"))
    return errors


def _hub_problems(leg: LegData) -> list[tuple[str, str]]:
    """A hub leg: a category the cited table has a default for, the tonnes handled as its mass,
    no distance, no fuel data (the defaults are per tonne handled) and no radiative forcing."""
    errors = []
    refusal = hubs.refusal(leg.category)
    if refusal:
        errors.append(("category", refusal))
    errors.extend(leg_bounds(leg))
    if not errors and leg.mass_t <= 0:
        errors.append(("mass_t", "a hub operation needs the tonnes handled, e.g. 12 t"))
    if leg.distance_km:
        errors.append(("distance_km", "a hub operation has no distance; leave it empty or 0"))
    if leg.data_tier not in DataTier.values:
        errors.append(
            ("data_tier", f"unknown data tier '{leg.data_tier}'; one of {', '.join(DataTier)}")
        )
    if leg.radiative_forcing:
        errors.append(("radiative_forcing", "radiative forcing applies to air freight only"))
    if leg.fuel_type or leg.fuel_amount is not None:
        errors.append(
            (
                "fuel_type",
                "hub operations use the GLEC default per tonne handled; fuel data is not used",
            )
        )
    for name, limit in (("origin", 120), ("destination", 120)):
        if len(getattr(leg, name) or "") > limit:
            errors.append((name, f"at most {limit} characters"))
    return errors


def _fuel_problems(leg: LegData, category: categories.Category | None) -> list[tuple[str, str]]:
    if leg.fuel_type and leg.fuel_type not in FuelType.values:
        return [("fuel_type", f"unknown fuel type '{leg.fuel_type}'; one of {', '.join(FuelType)}")]
    if leg.fuel_amount is not None and not leg.fuel_type:
        return [("fuel_type", NEEDS_FUEL_TYPE)]
    if leg.fuel_type and leg.fuel_amount is None:
        return [("fuel_amount", "a fuel type needs the fuel used, e.g. 350 l")]
    modes = FUEL_MODES.get(leg.fuel_type, ())
    if leg.fuel_type and category is not None and category.mode not in modes:
        return [
            (
                "fuel_type",
                f"{leg.fuel_type} is not a fuel of {category.mode} freight; "
                f"one of {', '.join(f for f, m in FUEL_MODES.items() if category.mode in m)}",
            )
        ]
    return []


def _figure(value: Decimal) -> str:
    """A quantity for a message: thousands separated, at most 6 significant digits, no
    trailing zeros (0.0001, 10,000, 1,000,000,000)."""
    rounded = Decimal(f"{value:.6g}")
    text = f"{rounded:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plausibility_problems(leg: LegData, mode: str) -> list[tuple[str, str]]:
    """The leg's mass, distance and fuel per t·km against the limits of its transport `mode`
    (`carbon.app_settings.LEG_LIMITS_BY_MODE` and `FUEL_PER_TKM_LIMITS`, which cite where each
    number comes from), as (LegData attribute, reason) pairs with the figures in the reason."""
    errors = []
    max_mass, max_distance = app_settings.LEG_LIMITS_BY_MODE[mode]
    if leg.mass_t.is_finite() and leg.mass_t > max_mass:
        errors.append(
            (
                "mass_t",
                f"{_figure(leg.mass_t)} t is more than one {mode} vehicle carries: at most "
                f"{_figure(max_mass)} t per {mode} leg (record one leg per vehicle)",
            )
        )
    if leg.distance_km.is_finite() and leg.distance_km > max_distance:
        errors.append(
            (
                "distance_km",
                f"{_figure(leg.distance_km)} km is longer than any {mode} route: at most "
                f"{_figure(max_distance)} km per {mode} leg",
            )
        )
    if not errors:
        errors.extend(great_circle_problems(leg, mode))
    limits = app_settings.FUEL_PER_TKM_LIMITS.get((mode, leg.fuel_type))
    tkm = leg.mass_t * leg.distance_km if not errors else Decimal(0)
    if limits is None or leg.fuel_amount is None or not leg.fuel_amount.is_finite() or tkm <= 0:
        return errors
    floor, ceiling = limits
    per_tkm = leg.fuel_amount / tkm
    if floor <= per_tkm <= ceiling:
        return errors
    unit = FUEL_UNITS[leg.fuel_type]
    errors.append(
        (
            "fuel_amount",
            f"{_figure(leg.fuel_amount)} {unit} over {_figure(tkm)} t·km is "
            f"{_figure(per_tkm)} {unit} per t·km; {mode} {leg.fuel_type} takes "
            f"{_figure(floor)} to {_figure(ceiling)} {unit} per t·km "
            f"({'below what any vehicle burns' if per_tkm < floor else 'above any vehicle'})",
        )
    )
    return errors


def great_circle_problems(leg: LegData, mode: str) -> list[tuple[str, str]]:
    """The declared distance against the great circle between the leg's two ends, when both
    are known locations (`carbon.footprint.locations`): never shorter than the great circle
    (less `GREAT_CIRCLE_SLACK_KM` for coordinates that mark a town, not a berth), never longer
    than `MAX_ROUTE_OVER_GREAT_CIRCLE` allows for the mode."""
    if not leg.distance_km.is_finite():
        return []
    ends = locations.known_ends(mode, leg.origin, leg.destination)
    if ends is None:
        return []
    start, end, great_circle = ends
    between = f"{start.code} and {end.code}"
    shortest = max(great_circle - app_settings.GREAT_CIRCLE_SLACK_KM, Decimal(0))
    if leg.distance_km < shortest:
        return [
            (
                "distance_km",
                f"{_figure(leg.distance_km)} km is shorter than the great-circle distance "
                f"between {between} ({_figure(great_circle)} km): at least "
                f"{_figure(shortest)} km for this {mode} leg",
            )
        ]
    times, plus = app_settings.MAX_ROUTE_OVER_GREAT_CIRCLE[mode]
    longest = great_circle * times + plus
    if leg.distance_km > longest:
        return [
            (
                "distance_km",
                f"{_figure(leg.distance_km)} km is more than {_figure(times)} times the "
                f"great-circle distance between {between} ({_figure(great_circle)} km) plus "
                f"{_figure(plus)} km: at most {_figure(longest)} km for this {mode} leg",
            )
        ]
    return []


def leg_bounds(leg: LegData) -> list[tuple[str, str]]:
    """Mass, distance and fuel of one leg outside zero..`carbon.app_settings`'s bounds, as
    (LegData attribute, reason) pairs; the estimate applies them too."""
    errors = []
    fuel_unit = FUEL_UNITS.get(leg.fuel_type, "")
    for name, value, noun, maximum, unit in (
        ("mass_t", leg.mass_t, "cargo mass", app_settings.MAX_LEG_MASS_T, "t"),
        ("distance_km", leg.distance_km, "distance", app_settings.MAX_LEG_DISTANCE_KM, "km"),
        ("fuel_amount", leg.fuel_amount, "fuel amount", app_settings.MAX_LEG_FUEL, fuel_unit),
    ):
        if value is None and name == "fuel_amount":
            continue
        if value is None or not value.is_finite() or value < 0:
            errors.append((name, f"the {noun} must be zero or more"))
        elif value > maximum:
            errors.append((name, f"at most {maximum:,} {unit} per leg"))
    return errors
