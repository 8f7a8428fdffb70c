"""A merge racing votes on PostgreSQL: real threads vote on the duplicate and on the primary
while product staff merge them. Whatever the interleaving, the primary ends with one counted
vote per person, its counters equal a recount, and nothing counts on the duplicate."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.db.models import Count, Sum

from beta_program.boards import actions
from beta_program.boards.exceptions import VotingClosed
from beta_program.boards.merge import merge
from beta_program.boards.models import Idea, IdeaMerge, IdeaStatus, Vote
from tests.concurrency import race
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.race, pytest.mark.django_db(transaction=True)]

VOTERS = 7
ROUNDS = 4


@pytest.fixture
def statuses(transactional_db):
    # A transactional test's database was flushed by the one before: seed the workflow again.
    if not IdeaStatus.objects.exists():
        import_module("beta_program.migrations.0008_default_idea_statuses").seed(apps, None)


@pytest.fixture
def voters(org_a):
    people = []
    for index in range(VOTERS):
        user = UserFactory(email=f"voter{index}@acme.example")
        MembershipFactory(user=user, organisation=org_a)
        people.append(user)
    return people


def _recounted(idea: Idea) -> tuple[int, int, int]:
    totals = Vote.objects.filter(idea=idea, suppressed_by__isnull=True).aggregate(
        votes=Count("pk"),
        organisations=Count("organisation", distinct=True),
        importance=Sum("importance"),
    )
    return totals["votes"], totals["organisations"], totals["importance"] or 0


def test_votes_racing_a_merge_leave_one_counted_vote_per_person(
    statuses, public_board, org_a, admin_a, product, voters, propose
):
    # given a duplicate and its primary, each with some of the voters' votes already
    duplicate = propose(public_board, org_a, admin_a, title="Export as CSV")
    primary = propose(public_board, org_a, admin_a, title="CSV export")
    for index, person in enumerate(voters):
        if index % 2 == 0:
            actions.vote(duplicate, org_a, person, 1 + index % 3)
        if index % 3 == 0:
            actions.vote(primary, org_a, person, 1 + (index + 1) % 3)

    # when one thread merges while the others vote again and again on both ideas
    def worker(index: int) -> list:
        if index == VOTERS:
            return [merge(duplicate, primary, product)]
        person, outcomes = voters[index], []
        for n in range(ROUNDS):
            target = duplicate if (index + n) % 2 == 0 else primary
            try:
                outcomes.append(actions.vote(target, org_a, person, 1 + (index + n) % 3))
            except VotingClosed:
                outcomes.append("closed")
        return outcomes

    results = race(worker, VOTERS + 1)
    assert results.overlapped, results.intervals
    # then nothing failed but votes on the merged duplicate, refused as such
    assert not [r for r in results if isinstance(r, Exception)], results
    assert isinstance(results[VOTERS][0], IdeaMerge)
    # one counted personal vote per person on the primary, for every voter
    counted = list(
        Vote.objects.filter(idea=primary, suppressed_by__isnull=True).values_list(
            "voter_id", flat=True
        )
    )
    assert len(counted) == len(set(counted)) == VOTERS
    # nothing counts on the duplicate
    assert not Vote.objects.filter(idea=duplicate, suppressed_by__isnull=True).exists()
    stored = Idea.objects.get(pk=primary.pk)
    assert (stored.vote_count, stored.organisation_count, stored.importance_total) == _recounted(
        primary
    )
    stored_dup = Idea.objects.get(pk=duplicate.pk)
    assert (stored_dup.vote_count, stored_dup.importance_total) == (0, 0)
    assert stored_dup.merged_into_id == primary.pk
