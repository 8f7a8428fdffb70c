"""Emission-factor datasets as cited data: the workflow's rules (draft -> approval -> published,
with a second staff member's approval) and comparing versions. The workflow's writes are
actions (`carbon.footprint.actions`); factor files are read by `carbon.footprint.factor_files`.

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
from typing import Any

from django.db.models import Max

from carbon.footprint.exceptions import DatasetError
from carbon.footprint.factor_files import FactorFile, RowError
from carbon.footprint.permissions import can_manage_datasets
from carbon.models import DatasetStatus, EmissionFactor, FactorDataset


def require_manager(user) -> None:
    """Refuse anyone but sustainability staff (DatasetError)."""
    if not can_manage_datasets(user):
        raise DatasetError("Only sustainability staff can manage emission-factor datasets.")


def locked(dataset: FactorDataset) -> FactorDataset:
    """`dataset` read again and locked for the rest of the transaction."""
    return FactorDataset.objects.select_for_update().get(pk=dataset.pk)


def make_default(dataset: FactorDataset) -> None:
    """Make `dataset` the default one, and no other."""
    for other in FactorDataset.objects.filter(is_default=True).exclude(pk=dataset.pk):
        other.is_default = False
        other.save(update_fields=["is_default"])
    dataset.is_default = True
    dataset.save(update_fields=["is_default"])


def clashes(dataset: FactorDataset, factor_file: FactorFile) -> list[RowError]:
    """The rows of `factor_file` whose factor is already in `dataset`."""
    existing = set(
        dataset.factors.values_list("category", "energy_scope", "radiative_forcing", "region")
    )
    return [
        RowError(r.row, "category", r.category, "this factor is already in the dataset")
        for r in factor_file.rows
        if r.key in existing
    ]


def next_version(dataset: FactorDataset, by) -> tuple[FactorDataset, int]:
    """A draft copy of `dataset`, its citation and its factors, as the slug's next version,
    superseding it; returns the draft and the number of factors copied."""
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
    return draft, len(copies)


def event_data(dataset: FactorDataset) -> dict[str, Any]:
    """The payload of `greenloop.carbon.dataset_published`."""
    return {
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
    }


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
