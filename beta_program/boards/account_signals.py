"""The R&D boards' component of the account health score (portal.account_signals, hook
`greenloop_account_signals`): whether the organisation's people shape the roadmap, from the
ideas they proposed and the votes they cast in the last 90 days, and the ideas they asked for
that shipped in that time. Three queries for any number of organisations. Imported from
BetaProgramConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count, Q
from wagtail import hooks

from beta_program.boards.models import Idea, StatusKind, Vote
from portal.account_signals import HOOK_NAME
from portal.health import Component, saturating_score

DAYS = 90
# A proposed idea counts three, a vote one, an idea the organisation asked for that shipped two
# (the vendor listened: a reason to keep taking part); ten is 100.
PER_IDEA = 3
PER_VOTE = 1
PER_SHIPPED = 2
FULL_AT = 10


# After the programmes' component (order 0), whatever the import order: the health page lists
# the wing's "beta" first.
@hooks.register(HOOK_NAME, order=1)
def idea_signals(organisation_ids: list[int], now: dt.datetime) -> dict[int, list[Component]]:
    since = now - dt.timedelta(days=DAYS)
    proposed = {
        row["organisation_id"]: row
        for row in Idea.objects.filter(organisation_id__in=organisation_ids)
        .values("organisation_id")
        .annotate(ever=Count("id"), recent=Count("id", filter=Q(created_at__gte=since)))
    }
    # Votes the organisation's people cast (not those staff recorded on its behalf); a vote a
    # merge suppressed was cast all the same.
    votes = {
        row["organisation_id"]: row
        for row in Vote.objects.filter(organisation_id__in=organisation_ids, on_behalf=False)
        .values("organisation_id")
        .annotate(ever=Count("id"), recent=Count("id", filter=Q(created_at__gte=since)))
    }
    # Shipped ideas the organisation asked for (proposed, or voted for), each counted once.
    shipped_now = Q(status__kind=StatusKind.SHIPPED, shipped_at__gte=since, shipped_at__lte=now)
    asked = (
        # No ordering in either part: SQLite refuses ORDER BY inside a compound statement (the
        # models order by creation by default).
        Idea.objects.filter(shipped_now, organisation_id__in=organisation_ids)
        .order_by()
        .values_list("organisation_id", "pk")
        .union(
            Vote.objects.filter(
                organisation_id__in=organisation_ids,
                suppressed_by__isnull=True,
                idea__status__kind=StatusKind.SHIPPED,
                idea__shipped_at__gte=since,
                idea__shipped_at__lte=now,
            )
            .order_by()
            .values_list("organisation_id", "idea_id")
        )
    )
    shipped = Counter(organisation_id for organisation_id, _idea in asked)
    found = {}
    for pk in organisation_ids:
        ideas, cast = proposed.get(pk), votes.get(pk)
        if ideas is None and cast is None:
            # Never proposed or voted: nothing to score, so the other components carry its weight.
            found[pk] = [Component("ideas", None, "beta_program", {"took_part": False})]
            continue
        recent_ideas = ideas["recent"] if ideas else 0
        recent_votes = cast["recent"] if cast else 0
        points = PER_IDEA * recent_ideas + PER_VOTE * recent_votes + PER_SHIPPED * shipped[pk]
        found[pk] = [
            Component(
                "ideas",
                saturating_score(points, FULL_AT),
                "beta_program",
                {
                    "took_part": True,
                    f"ideas_proposed_{DAYS}d": recent_ideas,
                    f"votes_cast_{DAYS}d": recent_votes,
                    f"ideas_shipped_{DAYS}d": shipped[pk],
                },
            )
        ]
    return found
