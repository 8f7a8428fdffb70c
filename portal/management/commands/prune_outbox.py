from django.core.management.base import BaseCommand

from portal import tenancy
from portal.crm.pruning import prune_outbox


class Command(BaseCommand):
    help = (
        "Delete outbox events (with their CRM deliveries and attempts) older than the retention "
        "that every active endpoint has."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    @tenancy.for_all_organisations
    def handle(self, *args, dry_run: bool = False, **options):
        result = prune_outbox(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {result.events} outbox events, {result.deliveries} deliveries and "
            f"{result.attempts} attempts (retention {result.retention_days:g} days)."
        )
