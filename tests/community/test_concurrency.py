"""Concurrent writes on PostgreSQL: reply numbers, the new-member rate limit and flags stay exact
under real row-lock contention."""

from __future__ import annotations

import pytest
from django.db.models import Max

from community import actions
from community.exceptions import RateLimited
from community.models import Member, Post, Topic
from tests.community.conftest import settled
from tests.concurrency import race
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.race, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture
def repliers(org_a):
    people = []
    for index in range(THREADS):
        user = UserFactory(email=f"replier{index}@acme.example")
        MembershipFactory(user=user, organisation=org_a)
        people.append(settled(user))
    return people


def test_simultaneous_replies_get_distinct_numbers(member_a, public_space, ask, repliers):
    # given a question
    topic = ask(settled(member_a), public_space)
    # when eight people reply at the same moment
    results = race(lambda i: actions.reply(repliers[i], topic, body=f"Reply {i}"), THREADS)
    assert results.overlapped, results.intervals
    # then every reply got its own number, with no gap, and the counter agrees
    assert not [r for r in results if isinstance(r, Exception)]
    numbers = sorted(Post.objects.filter(topic=topic).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 2))
    assert Topic.objects.get(pk=topic.pk).reply_count == THREADS


def test_a_new_member_cannot_beat_the_rate_limit_with_parallel_posts(
    member_a, public_space, ask, settings
):
    # given a brand-new member allowed three posts an hour, with one question posted
    settings.COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR = 3
    topic = ask(member_a, public_space)
    # when they fire eight replies at once
    results = race(lambda i: actions.reply(member_a, topic, body=f"Again {i}"), THREADS)
    assert results.overlapped, results.intervals
    # then exactly two more got through and the rest were told to wait
    accepted = [r for r in results if isinstance(r, Post)]
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert (len(accepted), len(refused)) == (2, THREADS - 2)
    assert Post.objects.filter(author=member_a).count() == 3
    assert Member.objects.get(user=member_a).post_count == 3
    assert Post.objects.filter(topic=topic).aggregate(last=Max("number"))["last"] == 3
