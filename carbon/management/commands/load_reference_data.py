"""Load the cited reference datasets shipped in fixtures/ as published datasets (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from carbon.footprint.actions import load_dataset_file
from carbon.footprint.datasets import factor_rows_match
from carbon.footprint.exceptions import DatasetError, FactorFileError
from carbon.footprint.factor_files import read_factor_file
from carbon.models import FactorDataset
from portal import tenancy


@dataclass(frozen=True)
class ReferenceFile:
    path: str  # relative to the project root
    slug: str
    version: int
    default: bool = False


REFERENCE_FILES = (
    ReferenceFile("fixtures/desnz-2025-freight.csv", "desnz-2025", 1, default=True),
    ReferenceFile("fixtures/grid-electricity.csv", "grid-electricity", 1),
    # A vintage of the grid-electricity series (its header says so): China 2023, regional grids.
    ReferenceFile("fixtures/mee-china-grid-2023.csv", "mee-china-grid-2023", 1),
    # A vintage of the desnz-2025 series: DESNZ 2026, for activity from 2026-01-01.
    ReferenceFile("fixtures/desnz-2026-freight.csv", "desnz-2026", 1),
    # A vintage of the grid-electricity series: EPA eGRID2023 (rev. 2) subregions, from 2025-06-12.
    ReferenceFile("fixtures/egrid-2023-subregions.csv", "egrid-2023", 1),
)


def load_reference_data(*, stdout=None) -> list[FactorDataset]:
    """Load every reference file not loaded yet; refuse a file whose content changed since it
    was loaded (a published dataset never changes: ship the change as a new version)."""
    loaded = []
    for ref in REFERENCE_FILES:
        path = Path(settings.BASE_DIR) / ref.path
        existing = FactorDataset.objects.filter(slug=ref.slug, version=ref.version).first()
        if existing is not None:
            if not factor_rows_match(existing, read_factor_file(path)):
                raise CommandError(
                    f"{ref.path} no longer matches published dataset {existing.label}; "
                    "publish the change as a new version instead."
                )
            if stdout:
                stdout.write(
                    f"{existing.label}: already loaded ({existing.factors.count()} factors)"
                )
            loaded.append(existing)
            continue
        dataset = load_dataset_file(
            path, slug=ref.slug, version=ref.version, make_default=ref.default
        )
        if stdout:
            stdout.write(
                f"{dataset.label}: loaded {dataset.factors.count()} factors from {ref.path}"
            )
        loaded.append(dataset)
    return loaded


class Command(BaseCommand):
    help = (
        "Load the cited emission-factor reference files in fixtures/ as published datasets "
        "(DESNZ 2025 freight and fuels as the default and DESNZ 2026 as its 2026 vintage; grid "
        "electricity with its China 2023 and eGRID2023 vintages). Idempotent."
    )

    @tenancy.for_all_organisations
    def handle(self, *args, **options):
        try:
            load_reference_data(stdout=self.stdout)
        except (FactorFileError, DatasetError) as exc:
            raise CommandError(str(exc)) from exc
