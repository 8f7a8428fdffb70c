"""Recalculate order footprints in batches, resumably, with a progress bar on stderr.

    python manage.py recalculate_carbon [--org SLUG] [--dataset SLUG[@VERSION]]
                                        [--batch-size N] [--resume | --resume-from ID]
                                        [--workers N] [--restate REASON]

Orders of closed periods (an issued report covers their activity date) keep their figures
unless --restate gives the reason to restate them; their new snapshots are then labelled
restatements (the superseded snapshot keeps the figures as issued).

After each batch (its own transaction) the last order id is written to a checkpoint file under
VAR_DIR, so an interrupted run continues with `--resume`; `--resume-from ID` starts after ID.
A dataset whose slug is the grid-electricity dataset's replaces the grid factors instead.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from carbon.footprint import calculation, factors
from carbon.models import FactorDataset
from portal import tenancy
from portal.models import Organisation


def checkpoint_path(org: str | None, dataset: str | None) -> Path:
    name = f"recalculate_carbon-{org or 'all'}-{(dataset or 'default').replace('@', '_v')}.json"
    return Path(settings.VAR_DIR) / "checkpoints" / name


class ProgressBar:
    """A one-line progress bar: [#######.......]  42,000/100,000 orders  12.1 s."""

    def __init__(self, stream, total: int, width: int = 32):
        self.stream = stream
        self.total = total
        self.width = width
        self.started = time.perf_counter()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def update(self, done: int, last_id: int | None) -> None:
        share = done / self.total if self.total else 1.0
        filled = round(self.width * share)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{self.total:,} orders "
            f"{share:6.1%}  {time.perf_counter() - self.started:6.1f} s  last id {last_id}"
        )
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Recalculate order footprints (new snapshots only where something changed)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organisation's orders (slug).")
        parser.add_argument(
            "--dataset", help="Dataset slug or slug@version (default: the default dataset)."
        )
        parser.add_argument("--batch-size", type=int, default=1000)
        resume = parser.add_mutually_exclusive_group()
        resume.add_argument("--resume-from", type=int, help="Start after this order id.")
        resume.add_argument(
            "--resume", action="store_true", help="Continue after the last checkpoint."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--restate",
            metavar="REASON",
            help="Also restate orders of closed periods, recording this reason on them.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Processes working at once on id ranges (not resumable when above 1).",
        )

    @tenancy.for_all_organisations
    def handle(self, *args, **options):
        organisation = None
        if options["org"]:
            organisation = Organisation.objects.filter(slug=options["org"]).first()
            if organisation is None:
                raise CommandError(f"No organisation '{options['org']}'.")
        dataset = grid = None
        if options["dataset"]:
            dataset = self._dataset(options["dataset"])
            if dataset.slug == factors.grid_dataset_slug():
                dataset, grid = None, dataset
        restate = options["restate"]
        if restate is not None and not restate.strip():
            raise CommandError("--restate needs a reason.")
        if options["workers"] < 1:
            raise CommandError("--workers must be 1 or more.")
        if options["workers"] > 1:
            if options["resume"] or options["resume_from"] is not None:
                raise CommandError("--resume and --resume-from need --workers 1.")
            result = calculation.recalculate_parallel(
                organisation,
                dataset,
                grid_dataset=grid,
                workers=options["workers"],
                batch_size=options["batch_size"],
                restate=restate,
            )
            self._report(result)
            return
        checkpoint = checkpoint_path(options["org"], options["dataset"])
        start_after = options["resume_from"]
        if options["resume"]:
            if not checkpoint.exists():
                raise CommandError(f"No checkpoint at {checkpoint}; nothing to resume.")
            start_after = json.loads(checkpoint.read_text())["last_id"]
            self.stderr.write(f"Resuming after order {start_after}.")
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        bar: ProgressBar | None = None

        def progress(result: calculation.RecalculationResult) -> None:
            nonlocal bar
            checkpoint.write_text(json.dumps({"last_id": result.last_id}))
            if options["no_progress"]:
                return
            if bar is None:
                bar = ProgressBar(self.stderr._out, result.total)
            bar.update(result.processed, result.last_id)

        try:
            result = calculation.recalculate(
                organisation,
                dataset,
                grid_dataset=grid,
                batch_size=options["batch_size"],
                start_after_id=start_after,
                progress=progress,
                restate=restate,
            )
        except calculation.CalculationError as exc:
            raise CommandError(exc.message) from exc
        except KeyboardInterrupt:
            if bar:
                bar.close()
            last = json.loads(checkpoint.read_text())["last_id"] if checkpoint.exists() else None
            self.stderr.write(f"Interrupted; continue with --resume (after order {last}).")
            sys.exit(130)
        if bar:
            bar.close()
        checkpoint.unlink(missing_ok=True)
        self._report(result)

    def _report(self, result: calculation.RecalculationResult) -> None:
        for order_id, message, field in result.failed:
            self.stderr.write(f"order {order_id}: {field or ''} {message}".strip())
        self.stdout.write(
            f"{result.processed} orders: {result.created} new snapshots, "
            f"{result.unchanged} unchanged, {len(result.failed)} failed, "
            f"{result.closed} left as issued (closed periods; --restate to restate); "
            f"last order id {result.last_id}."
        )

    def _dataset(self, ref: str) -> FactorDataset:
        dataset = FactorDataset.objects.by_reference(ref)
        if dataset is None:
            raise CommandError(f"No published dataset '{ref}'.")
        return dataset
