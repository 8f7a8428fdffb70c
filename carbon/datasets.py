"""Emission-factor datasets as cited data: reading factor CSV files, the draft -> approval ->
published workflow (with a second staff member's approval), and comparing versions.

Invariants:
* nothing is stored unless a whole file is valid; every problem is reported with its row (the
  line number in the file) and column;
* a published dataset never changes (a correction is a new version); the model refuses it too;
* the person who submits a dataset for approval can never be the one who approves it.

A factor CSV starts with comment lines (``# ...``) citing its source; ``# key: value`` comment
lines carry the dataset's metadata (title, publisher, source_url, publication_date, licence,
gwp_basis, distance_basis). Then a header row with FACTOR_COLUMNS and one row per factor.
"""

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
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from carbon import categories
from carbon.models import (
    DatasetStatus,
    EmissionFactor,
    EnergyScope,
    FactorDataset,
    FactorKind,
    FuelType,
    GwpBasis,
)
from carbon.units import ELECTRICITY_INTENSITY, FREIGHT_INTENSITY, convert, unit_from_text, ureg
from portal import audit, events

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
# Freight and electricity factors are stored in the engine's canonical units (converted exactly
# when a source publishes another unit); fuel factors keep the unit their source publishes.
CANONICAL_UNITS = {
    FactorKind.FREIGHT: FREIGHT_INTENSITY,
    FactorKind.ELECTRICITY: ELECTRICITY_INTENSITY,
}
_FUEL_DIMENSIONS = [(ureg.kgCO2e / ureg.Unit(per)).dimensionality for per in ("litre", "kg", "kWh")]
_ELECTRICITY_CODE = re.compile(r"^electricity\.[A-Za-z0-9_-]{2,20}\.(location|residual)$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
_VALUE_PLACES = EmissionFactor._meta.get_field("value").decimal_places
_VALUE_DIGITS = EmissionFactor._meta.get_field("value").max_digits

EVENT_DATASET_PUBLISHED = "greenloop.carbon.dataset_published"
# Model permissions the sustainability staff role holds (granted in CarbonConfig.ready).
STAFF_PERMISSIONS = (
    "carbon.view_factordataset",
    "carbon.add_factordataset",
    "carbon.change_factordataset",
    "carbon.view_emissionfactor",
    "carbon.view_product",
    "carbon.add_product",
    "carbon.change_product",
)


class DatasetError(Exception):
    """A dataset action that is not allowed in the dataset's state or for this person."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class FactorFileError(ValueError):
    """A factor file with problems; `errors` lists every one of them, by row and column."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} problem(s) in the factor file: {shown}{more}")


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


# --- parsing


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
            if sep and key.strip() in METADATA_KEYS and key.strip() not in metadata:
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
            f"unknown category '{category}' (a code from carbon/categories.py, "
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
    rf = rf_text in _TRUE
    if rf_text not in _TRUE | _FALSE:
        error("radiative_forcing", f"'{r['radiative_forcing']}' is not true or false")
    elif rf:
        cat = categories.get(category)
        if cat is None or not cat.supports_radiative_forcing:
            error("radiative_forcing", "only air freight factors can include radiative forcing")
    value = _parse_value(r["value"], error)
    unit = r["unit"]
    unit_obj = _parse_unit(unit, kind, error)
    if value is not None and unit_obj is not None and kind in CANONICAL_UNITS:
        canonical = CANONICAL_UNITS[FactorKind(kind)]
        if unit_obj != ureg.Unit(canonical):
            published = f"{r['value']} {unit}"
            value = convert(value, unit, canonical)
            if value != value.quantize(Decimal(1).scaleb(-_VALUE_PLACES)):
                error("value", f"{published} in {canonical} needs more than 10 decimal places")
            r = {**r, "description": f"{r['description']} [published as {published}]"}
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
            error("unit", f"'{text}' is not CO2e per litre, per kg or per kWh of fuel")
            return None
    elif kind in CANONICAL_UNITS:
        canonical = CANONICAL_UNITS[FactorKind(kind)]
        if unit.dimensionality != ureg.Unit(canonical).dimensionality:
            error("unit", f"'{text}' is not a {kind} factor unit like {canonical}")
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


def _metadata_fields(metadata: dict[str, str]) -> dict[str, Any]:
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
    return {
        "title": metadata["title"][:255],
        "publisher": metadata["publisher"][:255],
        "source_url": metadata["source_url"],
        "publication_date": published,
        "licence": metadata["licence"][:255],
        "gwp_basis": metadata["gwp_basis"],
        "distance_basis": metadata["distance_basis"][:255],
    }


# --- permissions


def can_manage_datasets(user) -> bool:
    """Sustainability staff (and superusers) maintain datasets: the model permission says so."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("carbon.change_factordataset")
    )


def _require_manager(user) -> None:
    if not can_manage_datasets(user):
        raise DatasetError("Only sustainability staff can manage emission-factor datasets.")


def _locked(dataset: FactorDataset) -> FactorDataset:
    return FactorDataset.objects.select_for_update().get(pk=dataset.pk)


# --- actions


def load_dataset_file(
    path: str | Path,
    *,
    slug: str,
    version: int,
    by=None,
    make_default: bool = False,
    request=None,
) -> FactorDataset:
    """Load a cited reference file as a published dataset (the reference-data loader's path:
    no second approver; the audit trail records the file, its SHA-256 and its citation)."""
    factor_file = read_factor_file(path)
    fields = _metadata_fields(factor_file.metadata)
    with transaction.atomic():
        if FactorDataset.objects.filter(slug=slug, version=version).exists():
            raise DatasetError(f"Dataset {slug}@{version} already exists.")
        dataset = FactorDataset.objects.create(
            slug=slug,
            version=version,
            notes="\n".join(factor_file.comments),
            status=DatasetStatus.DRAFT,
            created_by=by,
            **fields,
        )
        EmissionFactor.objects.bulk_create(r.as_factor(dataset) for r in factor_file.rows)
        dataset.status = DatasetStatus.PUBLISHED
        dataset.published_at = timezone.now()
        dataset.save()
        if make_default:
            _make_default(dataset)
        audit.record(
            "carbon.dataset.loaded",
            actor=by,
            obj=dataset,
            request=request,
            details={
                "file": factor_file.name,
                "sha256": factor_file.sha256,
                "factors": len(factor_file.rows),
                "source_url": dataset.source_url,
                "approver": "reference data loader (cited file, no second approver)",
            },
        )
        _publish_event(dataset)
    return dataset


def create_draft_dataset(*, by, request=None, **fields: Any) -> FactorDataset:
    """A new, empty draft dataset (version 1 of a new slug, or the next version of a slug)."""
    _require_manager(by)
    with transaction.atomic():
        if "version" not in fields:
            latest = FactorDataset.objects.filter(slug=fields["slug"]).aggregate(v=Max("version"))
            fields["version"] = (latest["v"] or 0) + 1
        dataset = FactorDataset.objects.create(status=DatasetStatus.DRAFT, created_by=by, **fields)
        audit.record("carbon.dataset.created", actor=by, obj=dataset, request=request)
    return dataset


def update_draft_dataset(dataset: FactorDataset, *, by, request=None) -> FactorDataset:
    """Save edits to a dataset's citation; only while it is a draft."""
    _require_manager(by)
    with transaction.atomic():
        stored = _locked(dataset)
        if stored.status != DatasetStatus.DRAFT:
            raise DatasetError("Only a draft dataset can be edited; make a new version instead.")
        dataset.status = DatasetStatus.DRAFT
        dataset.save()
        audit.record("carbon.dataset.edited", actor=by, obj=dataset, request=request)
    return dataset


def import_factors_csv(
    dataset: FactorDataset, file: str | Path | bytes | IO[Any], *, by, request=None
) -> int:
    """Add the factors of a CSV file to a draft dataset: all of them, or none if any row is
    invalid or collides with a factor already in the dataset. Returns the number added."""
    _require_manager(by)
    factor_file = read_factor_file(file)
    with transaction.atomic():
        dataset = _locked(dataset)
        if dataset.status != DatasetStatus.DRAFT:
            raise DatasetError("Factors can only be imported into a draft dataset.")
        existing = set(
            dataset.factors.values_list("category", "energy_scope", "radiative_forcing", "region")
        )
        clashes = [
            RowError(r.row, "category", r.category, "this factor is already in the dataset")
            for r in factor_file.rows
            if r.key in existing
        ]
        if clashes:
            raise FactorFileError(clashes)
        EmissionFactor.objects.bulk_create(r.as_factor(dataset) for r in factor_file.rows)
        audit.record(
            "carbon.dataset.factors_imported",
            actor=by,
            obj=dataset,
            request=request,
            details={
                "file": factor_file.name,
                "sha256": factor_file.sha256,
                "factors": len(factor_file.rows),
            },
        )
    return len(factor_file.rows)


def create_new_version(dataset: FactorDataset, by, *, request=None) -> FactorDataset:
    """A draft copy of `dataset` (citation and factors) as the slug's next version; it
    supersedes `dataset` once published."""
    _require_manager(by)
    with transaction.atomic():
        latest = FactorDataset.objects.filter(slug=dataset.slug).aggregate(v=Max("version"))["v"]
        draft = FactorDataset.objects.create(
            slug=dataset.slug,
            version=(latest or 0) + 1,
            title=dataset.title,
            publisher=dataset.publisher,
            publication_date=dataset.publication_date,
            licence=dataset.licence,
            source_url=dataset.source_url,
            gwp_basis=dataset.gwp_basis,
            distance_basis=dataset.distance_basis,
            notes=dataset.notes,
            status=DatasetStatus.DRAFT,
            supersedes=dataset,
            created_by=by,
        )
        copies = []
        for factor in dataset.factors.all():
            factor.pk = None
            factor.id = None
            factor.dataset = draft
            copies.append(factor)
        EmissionFactor.objects.bulk_create(copies)
        audit.record(
            "carbon.dataset.version_created",
            actor=by,
            obj=draft,
            request=request,
            details={"from": dataset.label, "factors": len(copies)},
        )
    return draft


def submit_for_approval(dataset: FactorDataset, by, *, request=None) -> FactorDataset:
    """Send a draft to a second sustainability staff member for approval."""
    _require_manager(by)
    with transaction.atomic():
        dataset = _locked(dataset)
        if dataset.status != DatasetStatus.DRAFT:
            raise DatasetError("Only a draft dataset can be submitted for approval.")
        if not dataset.factors.exists():
            raise DatasetError("The dataset has no factors yet: import a CSV of factors first.")
        dataset.status = DatasetStatus.AWAITING_APPROVAL
        dataset.submitted_by = by
        dataset.save(update_fields=["status", "submitted_by"])
        audit.record("carbon.dataset.submitted", actor=by, obj=dataset, request=request)
    return dataset


def return_to_draft(dataset: FactorDataset, by, *, reason: str = "", request=None):
    """Send a dataset awaiting approval back to its author as a draft."""
    _require_manager(by)
    with transaction.atomic():
        dataset = _locked(dataset)
        if dataset.status != DatasetStatus.AWAITING_APPROVAL:
            raise DatasetError("Only a dataset awaiting approval can be sent back.")
        dataset.status = DatasetStatus.DRAFT
        dataset.save(update_fields=["status"])
        audit.record(
            "carbon.dataset.returned",
            actor=by,
            obj=dataset,
            request=request,
            details={"reason": reason},
        )
    return dataset


def approve_and_publish(
    dataset: FactorDataset, by, *, make_default: bool | None = None, request=None
) -> FactorDataset:
    """Publish a dataset awaiting approval. Four eyes: the approver must be another
    sustainability staff member than the submitter. `make_default=None` keeps the default
    flag of the version it supersedes."""
    _require_manager(by)
    with transaction.atomic():
        dataset = _locked(dataset)
        if dataset.status != DatasetStatus.AWAITING_APPROVAL:
            raise DatasetError("Only a dataset awaiting approval can be approved.")
        if dataset.submitted_by_id is None or dataset.submitted_by_id == by.pk:
            raise DatasetError(
                "You submitted this dataset, so another sustainability staff member must "
                "approve it (four-eyes rule)."
            )
        if make_default is None:
            make_default = bool(dataset.supersedes and dataset.supersedes.is_default)
        dataset.status = DatasetStatus.PUBLISHED
        dataset.approved_by = by
        dataset.published_at = timezone.now()
        dataset.save(update_fields=["status", "approved_by", "published_at"])
        if make_default:
            _make_default(dataset)
        audit.record(
            "carbon.dataset.approved",
            actor=by,
            obj=dataset,
            request=request,
            details={
                "submitted_by": dataset.submitted_by.email if dataset.submitted_by else "",
                "approved_by": by.email,
                "factors": dataset.factors.count(),
                "supersedes": dataset.supersedes.label if dataset.supersedes else None,
                "default": dataset.is_default,
            },
        )
        _publish_event(dataset)
    return dataset


def _make_default(dataset: FactorDataset) -> None:
    for other in FactorDataset.objects.filter(is_default=True).exclude(pk=dataset.pk):
        other.is_default = False
        other.save(update_fields=["is_default"])
    dataset.is_default = True
    dataset.save(update_fields=["is_default"])


def _publish_event(dataset: FactorDataset) -> None:
    events.publish(
        EVENT_DATASET_PUBLISHED,
        None,
        subject=f"datasets/{dataset.label}",
        data={
            "dataset_id": dataset.pk,
            "slug": dataset.slug,
            "version": dataset.version,
            "title": dataset.title,
            "publisher": dataset.publisher,
            "source_url": dataset.source_url,
            "is_default": dataset.is_default,
            "supersedes": dataset.supersedes.label if dataset.supersedes_id else None,
            "factors": dataset.factors.count(),
            "published_at": dataset.published_at,
        },
    )


# --- comparing versions


@dataclass(frozen=True)
class FactorChange:
    category: str
    energy_scope: str
    radiative_forcing: bool
    region: str
    old: EmissionFactor | None
    new: EmissionFactor | None

    @property
    def old_value(self) -> Decimal | None:
        return self.old.value if self.old else None

    @property
    def new_value(self) -> Decimal | None:
        return self.new.value if self.new else None

    @property
    def changed_fields(self) -> list[str]:
        if not (self.old and self.new):
            return []
        names = ("value", "unit", "valid_from", "valid_to", "source_label", "source_id")
        return [n for n in names if getattr(self.old, n) != getattr(self.new, n)]


@dataclass
class DatasetComparison:
    old: FactorDataset
    new: FactorDataset
    added: list[FactorChange]
    removed: list[FactorChange]
    changed: list[FactorChange]
    unchanged: int

    @property
    def has_differences(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def compare_datasets(a: FactorDataset, b: FactorDataset) -> DatasetComparison:
    """What changes from dataset `a` (older) to `b` (newer): factors added, removed, and changed
    (value, unit, validity or source row), matched by category, scope, RF and region."""

    def keyed(ds: FactorDataset) -> dict[tuple, EmissionFactor]:
        return {
            (f.category, f.energy_scope, f.radiative_forcing, f.region): f
            for f in ds.factors.order_by("category", "energy_scope", "radiative_forcing")
        }

    old, new = keyed(a), keyed(b)
    added, removed, changed = [], [], []
    unchanged = 0
    for key in sorted(old.keys() | new.keys()):
        change = FactorChange(*key, old=old.get(key), new=new.get(key))
        if change.old is None:
            added.append(change)
        elif change.new is None:
            removed.append(change)
        elif change.changed_fields:
            changed.append(change)
        else:
            unchanged += 1
    return DatasetComparison(
        old=a, new=b, added=added, removed=removed, changed=changed, unchanged=unchanged
    )


def factor_rows_match(dataset: FactorDataset, factor_file: FactorFile) -> bool:
    """True when a stored dataset holds exactly the factors of a (re-read) reference file."""
    stored = {
        (f.category, f.energy_scope, f.radiative_forcing, f.region): (f.value, f.unit, f.source_id)
        for f in dataset.factors.all()
    }
    wanted = {r.key: (r.value, r.unit, r.source_id) for r in factor_file.rows}
    return stored == wanted
