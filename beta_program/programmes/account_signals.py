"""The beta wing's component of the account health score (portal.account_signals, hook
`greenloop_account_signals`): whether the organisation takes part in the vendor's beta
programmes, and how actively it tries their builds. Two queries for any number of
organisations. Imported from BetaProgramConfig.ready()."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from wagtail import hooks

from beta_program.programmes.models import (
    Application,
    ApplicationStatus,
    BuildDownload,
    ProgrammeStatus,
)
from portal.account_signals import HOOK_NAME
from portal.health import Component, saturating_score

DAYS = 90
# Taking part in an active programme counts five; each build download in 90 days one; ten is 100.
PER_PROGRAMME = 5
FULL_AT = 10
ACTIVE = (ProgrammeStatus.RECRUITING, ProgrammeStatus.RUNNING)


@hooks.register(HOOK_NAME)
def beta_signals(organisation_ids: list[int], now: dt.datetime) -> dict[int, list[Component]]:
    since = now - dt.timedelta(days=DAYS)
    applications = {
        row["organisation_id"]: row
        for row in Application.objects.filter(organisation_id__in=organisation_ids)
        .values("organisation_id")
        .annotate(
            ever=Count("id"),
            active=Count(
                "programme",
                distinct=True,
                filter=Q(status=ApplicationStatus.ACCEPTED, programme__status__in=ACTIVE),
            ),
        )
    }
    downloads = dict(
        BuildDownload.objects.filter(organisation_id__in=organisation_ids, downloaded_at__gte=since)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .values_list("organisation_id", "n")
    )
    found = {}
    for pk in organisation_ids:
        row = applications.get(pk)
        if row is None:
            # Never applied to a programme: nothing to score, so the others carry its weight.
            found[pk] = [Component("beta", None, "beta_program", {"applications": 0})]
            continue
        fetched = downloads.get(pk, 0)
        found[pk] = [
            Component(
                "beta",
                saturating_score(PER_PROGRAMME * row["active"] + fetched, FULL_AT),
                "beta_program",
                {
                    "applications": row["ever"],
                    "active_programmes": row["active"],
                    f"build_downloads_{DAYS}d": fetched,
                },
            )
        ]
    return found
