from django.core.management.base import BaseCommand

from portal import tenancy
from portal.crm.delivery import run_pass


class Command(BaseCommand):
    help = "Deliver outbox events to the CRM endpoints: until nothing is due, or one pass (--once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run a single pass and stop.")

    @tenancy.for_all_organisations
    def handle(self, *args, once: bool = False, **options):
        totals = {"routed": 0, "delivered": 0, "failed": 0, "dead": 0}
        while True:
            result = run_pass()
            for key in totals:
                totals[key] += getattr(result, key)
            if once or not result.worked:
                break
        self.stdout.write(
            "Routed {routed} events; delivered {delivered}, failed {failed}, "
            "dead-lettered {dead}.".format(**totals)
        )
