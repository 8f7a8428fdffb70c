from django.core.management.base import BaseCommand
from django.db.models import Count, Min
from django.utils import timezone

from portal import tenancy
from portal.crm.delivery import run_pass
from portal.models import Delivery, DeliveryState


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
        self._explain_what_waits()

    def _explain_what_waits(self) -> None:
        # "Delivered 0" after a receiver came back is puzzling: say that the lanes wait for their
        # failed head's next attempt (retries back off), and what to do about it.
        now = timezone.now()
        waiting = Delivery.objects.filter(
            state=DeliveryState.PENDING,
            endpoint__is_active=True,
            endpoint__paused=False,
            next_attempt_at__gt=now,
        ).aggregate(n=Count("id"), first=Min("next_attempt_at"))
        if waiting["n"]:
            seconds = max(1, round((waiting["first"] - now).total_seconds()))
            self.stdout.write(
                f"{waiting['n']} deliveries wait for a retry after failing; the next is due in "
                f"{seconds} s (run this again then; a worker's beat does it by itself)."
            )
        dead = Delivery.objects.filter(state=DeliveryState.DEAD, endpoint__is_active=True).count()
        if dead:
            self.stdout.write(
                f"{dead} deliveries are dead-lettered and block their lanes: replay them from "
                "the endpoint's page in the admin (Customers > CRM endpoints)."
            )
