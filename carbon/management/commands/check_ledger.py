"""Prove that every points balance equals the sum of its ledger entries."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from carbon.models import PointsAccount
from carbon.points.ledger import reconcile
from portal import tenancy


class Command(BaseCommand):
    help = (
        "Check that every points account's cached balances (pending, available, held) equal the "
        "sums of its ledger entries; exits non-zero when one does not."
    )

    @tenancy.for_all_organisations
    def handle(self, *args, **options) -> None:
        mismatches = reconcile()
        for m in mismatches:
            self.stderr.write(
                f"account {m.account_id} ({m.organisation}): cached pending/available/held "
                f"{m.cached} != entries {m.summed}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} points account(s) do not reconcile.")
        count = PointsAccount.objects.count()
        self.stdout.write(self.style.SUCCESS(f"{count} points account(s) reconcile."))
