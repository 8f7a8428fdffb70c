"""python manage.py import_orders FILE.csv --org SLUG

Validates every row first; prints the full error report and stores nothing when any row is
wrong (exit status 1). Progress goes to stderr. The column reference is in the README.

Only the vendor's operators run commands on the server, so the file is recorded as the CRM's
export by default (attested); `--source customer` records a file a customer sent in, whose
points then wait for staff verification."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from carbon.footprint.actions import create_job, run_import
from carbon.models import ImportStatus, LegSource
from portal import tenancy
from portal.models import Organisation


class Command(BaseCommand):
    help = "Import orders from a CSV file (one row per transport leg), all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="slug of the customer organisation")
        parser.add_argument(
            "--source",
            choices=LegSource.values,
            default=LegSource.CRM,
            help="where the file's data comes from (default: crm)",
        )
        parser.add_argument(
            "--max-errors", type=int, default=200, help="errors to print (all are kept in the job)"
        )

    @tenancy.for_all_organisations
    def handle(self, *args, **options):
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug '{options['org']}'.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as handle:
            job = create_job(
                organisation, File(handle, name=path.name), by=None, source=options["source"]
            )
        job = run_import(job, progress=self._progress)
        self.stderr.write("")
        if job.status == ImportStatus.SUCCEEDED:
            s = job.summary
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {s['rows']} rows, {s['orders']} orders into {organisation.slug}: "
                    f"{s['created']} new, {s['updated']} updated, {s['unchanged']} unchanged "
                    f"(job {job.pk})."
                )
            )
            return
        errors = job.error_report
        self.stdout.write("row\tcolumn\tvalue\treason")
        for error in errors[: options["max_errors"]]:
            self.stdout.write(
                f"{error['row']}\t{error['column']}\t{error['value']}\t{error['reason']}"
            )
        if len(errors) > options["max_errors"]:
            self.stdout.write(f"... and {len(errors) - options['max_errors']} more (job {job.pk})")
        raise CommandError(f"Nothing imported: {len(errors)} problems in {path.name}.")

    def _progress(self, phase: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        # One line per phase, redrawn in place with a carriage return.
        if phase != getattr(self, "_phase", phase):
            self.stderr.write("")
        self._phase = phase
        self.stderr.write(f"\r{phase:<12} [{bar}] {done:,}/{total:,}", ending="")
        self.stderr.flush()
