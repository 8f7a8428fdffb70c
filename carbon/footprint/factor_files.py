"""Emission-factor files: reading a dataset's CSV (metadata lines, then one factor per row) with
every cell checked, and row-by-row errors that name the row, the column and what was expected."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import pint

from carbon.footprint import categories
from carbon.footprint.exceptions import FactorFileError
from carbon.footprint.legs import NO_SPELLINGS, YES_SPELLINGS
from carbon.footprint.units import (
    ELECTRICITY_INTENSITY,
    FREIGHT_INTENSITY,
    co2_only_unit,
    convert,
    unit_from_text,
    ureg,
)
from carbon.models import (
    EmissionFactor,
    EnergyScope,
    FactorDataset,
    FactorKind,
    FuelType,
    GwpBasis,
)

FACTOR_COLUMNS = (
    "category",
    "kind",
    "energy_scope",
    "radiative_forcing",
    "value",
    "unit",
    "region",
    "valid_from",
    "valid_to",
    "source_label",
    "source_id",
    "description",
)


METADATA_KEYS = (
    "title",
    "publisher",
    "source_url",
    "publication_date",
    "licence",
    "gwp_basis",
    "distance_basis",
)

# Optional header lines: the dataset's series and the activity dates it serves (its vintage).
OPTIONAL_METADATA_KEYS = ("series", "valid_from", "valid_to")


# Freight and electricity factors are stored in the engine's canonical units (converted exactly
# when a source publishes another unit); fuel factors keep the unit their source publishes.
CANONICAL_UNITS = {
    FactorKind.FREIGHT: FREIGHT_INTENSITY,
    FactorKind.ELECTRICITY: ELECTRICITY_INTENSITY,
}


# A factor may count CO2e or, where its source publishes no more, CO2 alone ("kgCO2/kWh"); a
# CO2-only factor is stored as CO2 and says so wherever it is shown.
_FUEL_DIMENSIONS = [
    (ureg.Unit(gas) / ureg.Unit(per)).dimensionality
    for gas in ("kgCO2e", "kgCO2")
    for per in ("litre", "kg", "kWh")
]


def canonical_factor_unit(kind: str, unit: pint.Unit) -> str:
    """The unit a freight or electricity factor is stored in: the engine's CO2e unit, or its
    CO2-only counterpart for a factor that counts CO2 alone."""
    canonical = CANONICAL_UNITS[FactorKind(kind)]
    if unit.dimensionality == ureg.Unit(canonical).dimensionality:
        return canonical
    return co2_only_unit(canonical)


_ELECTRICITY_CODE = re.compile(r"^electricity\.[A-Za-z0-9_-]{2,20}\.(location|residual)$")


_VALUE_PLACES = EmissionFactor._meta.get_field("value").decimal_places


_VALUE_DIGITS = EmissionFactor._meta.get_field("value").max_digits


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class FactorRow:
    row: int
    category: str
    kind: str
    energy_scope: str
    radiative_forcing: bool
    value: Decimal
    unit: str
    region: str
    valid_from: date
    valid_to: date | None
    source_label: str
    source_id: str
    description: str

    @property
    def key(self) -> tuple[str, str, bool, str]:
        return (self.category, self.energy_scope, self.radiative_forcing, self.region)

    def as_factor(self, dataset: FactorDataset) -> EmissionFactor:
        return EmissionFactor(
            dataset=dataset,
            category=self.category,
            kind=self.kind,
            energy_scope=self.energy_scope,
            radiative_forcing=self.radiative_forcing,
            value=self.value,
            unit=self.unit,
            region=self.region,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            source_label=self.source_label,
            source_id=self.source_id,
            description=self.description,
        )


@dataclass
class FactorFile:
    metadata: dict[str, str]
    rows: list[FactorRow]
    sha256: str
    name: str
    comments: list[str] = field(default_factory=list)


def read_factor_file(source: str | Path | bytes | IO[Any], *, name: str = "") -> FactorFile:
    """Parse and validate a whole factor file; raise FactorFileError listing every problem."""
    raw = _read_bytes(source)
    if not name:
        name = Path(source).name if isinstance(source, str | Path) else getattr(source, "name", "")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = RowError(1, "file", "", f"the file is not UTF-8 text ({exc})")
        raise FactorFileError([problem]) from exc
    metadata: dict[str, str] = {}
    comments: list[str] = []
    data_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            comment = line[1:].strip()
            comments.append(comment)
            key, sep, value = comment.partition(":")
            known = key.strip() in METADATA_KEYS or key.strip() in OPTIONAL_METADATA_KEYS
            if sep and known and key.strip() not in metadata:
                metadata[key.strip()] = value.strip()
        elif line.strip():
            data_lines.append((number, line))
    if not data_lines:
        raise FactorFileError([RowError(1, "header", "", "the file has no header row")])
    header_row, header_line = data_lines[0]
    reader = csv.reader([line for _, line in data_lines])
    header = [h.strip() for h in next(reader)]
    missing = [c for c in FACTOR_COLUMNS if c not in header]
    if missing:
        raise FactorFileError(
            [RowError(header_row, c, "", "column missing from the header row") for c in missing]
        )
    errors: list[RowError] = []
    rows: list[FactorRow] = []
    seen: dict[tuple, int] = {}
    for values in _rows(reader, data_lines, errors):
        # A quoted field may span lines, so the row's line comes from the reader, not a count.
        number = data_lines[reader.line_num - 1][0]
        record = dict(zip(header, (v.strip() for v in values), strict=False))
        if len(values) != len(header):
            errors.append(
                RowError(number, "row", "", f"expected {len(header)} columns, found {len(values)}")
            )
            continue
        parsed = _parse_row(number, record, errors)
        if parsed is None:
            continue
        if parsed.key in seen:
            errors.append(
                RowError(
                    number,
                    "category",
                    parsed.category,
                    f"duplicates row {seen[parsed.key]} (same category, energy scope, "
                    "radiative forcing and region)",
                )
            )
            continue
        seen[parsed.key] = number
        rows.append(parsed)
    if not rows and not errors:
        errors.append(RowError(header_row, "row", "", "the file has no factor rows"))
    if errors:
        raise FactorFileError(errors)
    return FactorFile(
        metadata=metadata,
        rows=rows,
        sha256=hashlib.sha256(raw).hexdigest(),
        name=name,
        comments=comments,
    )


def _read_bytes(source: str | Path | bytes | IO[Any]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else data


def _parse_row(number: int, r: dict[str, str], errors: list[RowError]) -> FactorRow | None:
    before = len(errors)

    def error(column: str, message: str) -> None:
        errors.append(RowError(number, column, r.get(column, ""), message))

    category = r["category"]
    kind = r["kind"]
    expected_kind = _kind_for_category(category)
    if expected_kind is None:
        error(
            "category",
            f"unknown category '{category}' (a code from carbon/footprint/categories.py, "
            "fuel.<fuel type> or electricity.<region>.<location|residual>)",
        )
    if kind not in FactorKind.values:
        error("kind", f"'{kind}' is not one of {', '.join(FactorKind.values)}")
    elif expected_kind is not None and kind != expected_kind:
        error("kind", f"category '{category}' needs kind '{expected_kind}', not '{kind}'")
    scope = r["energy_scope"]
    if scope not in EnergyScope.values:
        error("energy_scope", f"'{scope}' is not one of {', '.join(EnergyScope.values)}")
    rf_text = r["radiative_forcing"].lower()
    rf = rf_text in YES_SPELLINGS
    if rf_text not in YES_SPELLINGS | NO_SPELLINGS:
        error("radiative_forcing", f"'{r['radiative_forcing']}' is not true or false")
    elif rf:
        cat = categories.get(category)
        if cat is None or not cat.supports_radiative_forcing:
            error("radiative_forcing", "only air freight factors can include radiative forcing")
    value = _parse_value(r["value"], error)
    unit = r["unit"]
    unit_obj = _parse_unit(unit, kind, error)
    if value is not None and unit_obj is not None and kind in CANONICAL_UNITS:
        canonical = canonical_factor_unit(kind, unit_obj)
        if unit_obj != ureg.Unit(canonical):
            published = f"{r['value']} {unit}"
            converted = convert(value, unit, canonical)
            if converted == converted.quantize(Decimal(1).scaleb(-_VALUE_PLACES)):
                value, unit = converted, canonical
                r = {**r, "description": f"{r['description']} [published as {published}]"}
            elif kind != FactorKind.ELECTRICITY:
                error("value", f"{published} in {canonical} needs more than 10 decimal places")
            # else: a grid rate whose exact kgCO2e/kWh value needs more places than a factor
            # stores (eGRID's 770.884 lb/MWh) keeps its published value and unit, and the factor
            # table converts it exactly on use: storing it rounded would change the figure.
        else:
            unit = canonical
    region = r["region"] or "GLO"
    if len(region) > 40:
        error("region", "at most 40 characters")
    valid_from = _parse_date(r["valid_from"], "valid_from", error, required=True)
    valid_to = _parse_date(r["valid_to"], "valid_to", error, required=False)
    if valid_from and valid_to and valid_to < valid_from:
        error("valid_to", "ends before valid_from")
    for column, limit, required in (
        ("source_label", 500, True),
        ("source_id", 60, False),
        ("description", 255, True),
    ):
        text = r[column]
        if required and not text:
            error(column, "is required: cite the row as the source names it")
        elif len(text) > limit:
            error(column, f"at most {limit} characters (got {len(text)})")
    if len(errors) > before:
        return None
    assert value is not None  # noqa: S101 - narrowed by the checks above
    assert valid_from is not None  # noqa: S101
    return FactorRow(
        row=number,
        category=category,
        kind=kind,
        energy_scope=scope,
        radiative_forcing=rf,
        value=value,
        unit=unit,
        region=region,
        valid_from=valid_from,
        valid_to=valid_to,
        source_label=r["source_label"],
        source_id=r["source_id"],
        description=r["description"],
    )


def _kind_for_category(code: str) -> str | None:
    if categories.get(code) is not None:
        return FactorKind.FREIGHT
    if code.startswith("fuel.") and code.removeprefix("fuel.") in FuelType.values:
        return FactorKind.FUEL
    if code.startswith(categories.ELECTRICITY_PREFIX) and _ELECTRICITY_CODE.match(code):
        return FactorKind.ELECTRICITY
    return None


def _parse_value(text: str, error) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        error("value", f"'{text}' is not a number")
        return None
    if not value.is_finite():
        error("value", f"'{text}' is not a finite number")
        return None
    if value < 0:
        error("value", "an emission factor cannot be negative")
        return None
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > _VALUE_PLACES or value.adjusted() >= _VALUE_DIGITS - _VALUE_PLACES:
        error("value", f"'{text}' does not fit {_VALUE_DIGITS} digits, {_VALUE_PLACES} decimals")
        return None
    return value


def _rows(reader, data_lines: list[tuple[int, str]], errors: list[RowError]):
    """Rows of a csv reader. Malformed CSV (e.g. an unterminated quote) becomes a row error at
    the line where the reader gave up, so the file is refused rather than read in part."""
    try:
        yield from reader
    except csv.Error as exc:
        number = data_lines[min(reader.line_num, len(data_lines)) - 1][0]
        errors.append(RowError(number, "row", "", f"malformed CSV: {exc}"))


def _parse_unit(text: str, kind: str, error) -> pint.Unit | None:
    unit = unit_from_text(text)
    if unit is None:
        error("unit", f"unknown unit '{text}'")
        return None
    if kind == FactorKind.FUEL:
        if unit.dimensionality not in _FUEL_DIMENSIONS:
            error("unit", f"'{text}' is not CO2e (or CO2) per litre, per kg or per kWh of fuel")
            return None
    elif kind in CANONICAL_UNITS:
        canonical = CANONICAL_UNITS[FactorKind(kind)]
        co2_only = co2_only_unit(canonical)
        if unit.dimensionality not in [ureg.Unit(u).dimensionality for u in (canonical, co2_only)]:
            error(
                "unit",
                f"'{text}' is not a {kind} factor unit like {canonical} "
                f"(or {co2_only} for a factor that counts CO2 alone)",
            )
            return None
    return unit


def _parse_date(text: str, column: str, error, *, required: bool) -> date | None:
    if not text:
        if required:
            error(column, "a date is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        error(column, f"'{text}' is not a date (YYYY-MM-DD)")
        return None


def metadata_fields(metadata: dict[str, str]) -> dict[str, Any]:
    """The FactorDataset fields read from a factor file's header lines (`# key: value`);
    FactorFileError names every missing or malformed one."""
    errors = [
        RowError(1, f"# {key}", "", "metadata line missing from the file header")
        for key in METADATA_KEYS
        if not metadata.get(key)
    ]
    if errors:
        raise FactorFileError(errors)
    try:
        published = date.fromisoformat(metadata["publication_date"])
    except ValueError as exc:
        raise FactorFileError(
            [RowError(1, "# publication_date", metadata["publication_date"], "not YYYY-MM-DD")]
        ) from exc
    if metadata["gwp_basis"] not in GwpBasis.values:
        raise FactorFileError(
            [RowError(1, "# gwp_basis", metadata["gwp_basis"], "not one of AR4, AR5, AR6")]
        )
    validity = {}
    for key in ("valid_from", "valid_to"):
        text = metadata.get(key, "")
        try:
            validity[key] = date.fromisoformat(text) if text else None
        except ValueError as exc:
            raise FactorFileError([RowError(1, f"# {key}", text, "not YYYY-MM-DD")]) from exc
    if (
        validity["valid_from"]
        and validity["valid_to"]
        and validity["valid_to"] < validity["valid_from"]
    ):
        raise FactorFileError(
            [RowError(1, "# valid_to", metadata["valid_to"], "ends before valid_from")]
        )
    series = metadata.get("series", "")
    if series and not re.fullmatch(r"[-a-z0-9_]{1,60}", series):
        raise FactorFileError([RowError(1, "# series", series, "not a slug (a-z, 0-9, - and _)")])
    return {
        **validity,
        "series": series,
        "title": metadata["title"][:255],
        "publisher": metadata["publisher"][:255],
        "source_url": metadata["source_url"],
        "publication_date": published,
        "licence": metadata["licence"][:255],
        "gwp_basis": metadata["gwp_basis"],
        "distance_basis": metadata["distance_basis"][:255],
    }
