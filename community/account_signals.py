"""Community's component of the account health score (portal.account_signals, hook
`greenloop_account_signals`): what the organisation's people posted, and how many of their
answers were accepted, in the last 90 days. Two queries for any number of organisations.
Imported from CommunityConfig.ready()."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from wagtail import hooks

from community.models import Post, PostStatus, Topic
from portal.account_signals import HOOK_NAME
from portal.health import Component, saturating_score

DAYS = 90
# Ten points of activity in 90 days (a topic or a reply is one, an accepted answer two) is 100.
FULL_AT = 10


@hooks.register(HOOK_NAME)
def community_signals(organisation_ids: list[int], now: dt.datetime) -> dict[int, list[Component]]:
    since = now - dt.timedelta(days=DAYS)
    posts = {
        row["organisation_id"]: row
        for row in Post.objects.filter(
            organisation_id__in=organisation_ids,
            created_at__gte=since,
            status=PostStatus.VISIBLE,
        )
        .values("organisation_id")
        .annotate(
            topics=Count("id", filter=Q(number=1)), replies=Count("id", filter=Q(number__gt=1))
        )
    }
    accepted = dict(
        Topic.objects.filter(
            accepted_answer__organisation_id__in=organisation_ids,
            accepted_answer__created_at__gte=since,
        )
        .values("accepted_answer__organisation_id")
        .annotate(n=Count("id"))
        .values_list("accepted_answer__organisation_id", "n")
    )
    found = {}
    for pk in organisation_ids:
        row = posts.get(pk, {})
        topics, replies = row.get("topics", 0), row.get("replies", 0)
        answers = accepted.get(pk, 0)
        found[pk] = [
            Component(
                "community",
                saturating_score(topics + replies + 2 * answers, FULL_AT),
                "community",
                {
                    f"topics_{DAYS}d": topics,
                    f"replies_{DAYS}d": replies,
                    f"accepted_answers_{DAYS}d": answers,
                },
            )
        ]
    return found
