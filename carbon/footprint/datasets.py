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

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from carbon.footprint.events import DATASET_PUBLISHED
from carbon.footprint.exceptions import DatasetError, FactorFileError
from carbon.footprint.factor_files import FactorFile, RowError, read_factor_file
from carbon.footprint.factor_files import metadata_fields as _metadata_fields
from carbon.footprint.permissions import can_manage_datasets
from carbon.models import (
    DatasetStatus,
    EmissionFactor,
    FactorDataset,
)
from portal import audit, events

# --- parsing


# --- permissions


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
        DATASET_PUBLISHED,
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
            "supersedes": dataset.supersedes.label if dataset.supersedes else None,
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

    def keyed(ds: FactorDataset) -> dict[tuple[str, str, bool, str], EmissionFactor]:
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
