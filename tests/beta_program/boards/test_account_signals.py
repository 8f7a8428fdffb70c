"""The R&D boards' component of the health score (beta_program/boards/account_signals.py):
ideas proposed and votes cast in 90 days, and ideas the organisation asked for that shipped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from beta_program.boards import actions
from beta_program.boards.account_signals import idea_signals
from beta_program.boards.models import Idea, IdeaStatus, Vote
from beta_program.boards.status_actions import change_status
from portal import account_signals
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _ship(idea, product):
    for key in ("planned", "in_progress"):
        change_status(idea, IdeaStatus.objects.get(key=key), product)
    change_status(idea, IdeaStatus.objects.get(key="shipped"), product, note="In 4.2.")


def test_ideas_votes_and_shipped_ideas_of_the_last_90_days(
    public_board, org_a, org_b, admin_a, member_a, admin_b, product, propose,
    django_assert_max_num_queries,
):  # fmt: skip
    # Acme proposed one idea; its two people voted on Globex's idea, which shipped
    acme_idea = propose(public_board, org_a, admin_a, title="CSV export")
    globex_idea = propose(public_board, org_b, admin_b, title="Dark mode")
    actions.vote(globex_idea, org_a, admin_a, 3)
    actions.vote(globex_idea, org_a, member_a, 1)
    _ship(globex_idea, product)
    now = timezone.now()
    # and a third organisation never took part
    quiet = OrganisationFactory(slug="quiet")
    # when the signals are collected, in three queries whatever the number of organisations
    with django_assert_max_num_queries(3):
        found = idea_signals([org_a.pk, org_b.pk, quiet.pk], now)
    # then Acme: 3 x 1 idea + 1 x 2 votes + 2 x 1 shipped idea it voted for = 7 of 10 -> 70
    [acme] = found[org_a.pk]
    assert (acme.key, acme.score, acme.source) == ("ideas", 70, "beta_program")
    assert acme.signals == {
        "took_part": True,
        "ideas_proposed_90d": 1,
        "votes_cast_90d": 2,
        "ideas_shipped_90d": 1,
    }
    # Globex: 3 x 1 idea + 2 x its shipped idea (proposed, counted once) = 5 -> 50
    [globex] = found[org_b.pk]
    assert (globex.score, globex.signals["ideas_shipped_90d"]) == (50, 1)
    # the quiet one is not scored: the other components carry its weight
    [none] = found[quiet.pk]
    assert (none.key, none.score, none.signals) == ("ideas", None, {"took_part": False})
    assert Idea.objects.filter(pk=acme_idea.pk, organisation=org_a).exists()


def test_activity_older_than_90_days_scores_0_and_many_ideas_saturate(
    public_board, org_a, admin_a, propose
):
    for n in range(4):
        propose(public_board, org_a, admin_a, title=f"Idea {n}")
    now = timezone.now()
    # four ideas: 12 points of 10 -> 100
    assert idea_signals([org_a.pk], now)[org_a.pk][0].score == 100
    # 91 days later nothing is recent: scored 0, not None (the organisation took part)
    later = idea_signals([org_a.pk], now + dt.timedelta(days=91))[org_a.pk][0]
    assert (later.score, later.signals["ideas_proposed_90d"]) == (0, 0)


def test_votes_staff_recorded_on_behalf_do_not_count(public_board, org_a, org_b, admin_b, propose):
    idea = propose(public_board, org_b, admin_b)
    Vote.objects.create(idea=idea, organisation=org_a, on_behalf=True, note="Asked by phone")
    [component] = idea_signals([org_a.pk], timezone.now())[org_a.pk]
    assert component.score is None
    assert Idea.objects.count() == 1


def test_the_component_enters_the_health_score_with_weight_10(
    public_board, org_a, admin_a, propose
):
    propose(public_board, org_a, admin_a)
    components = account_signals.collect([org_a.pk], timezone.now())[org_a.pk]
    [ideas] = [c for c in components if c.key == "ideas"]
    assert ideas.score == 30
    [part] = [p for p in account_signals.score(components).parts if p.component.key == "ideas"]
    assert part.weight == 10.0
    assert part.contribution is not None
