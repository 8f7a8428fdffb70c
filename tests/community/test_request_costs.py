"""Each community page family compiles the same number of SQL statements and reverses the same
number of URLs whatever the number of topics, replies and search hits (issue #18, item 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from community import actions
from community.models import Space, Topic
from tests.community.conftest import settled
from tests.factories import MembershipFactory, UserFactory
from tests.request_costs import page_costs

pytestmark = pytest.mark.django_db


def _add_topics(count: int, space, sub, engineer, people) -> None:
    """`count` topics by three people, in a space and its sub-space, each with a tag, a reply
    and a reaction; every title and text holds the word "harmonics"."""
    start = Topic.objects.count()
    for n in range(start, start + count):
        author, helper = people[n % 3], people[(n + 1) % 3]
        topic = actions.create_topic(
            author,
            sub if n % 2 else space,
            title=f"Harmonics question {n:02d}",
            body="Harmonics trip the residual current device.",
            tags=["firmware", "储能"][: n % 2 + 1],
        )
        actions.reply(helper, topic, body="Harmonics filters helped us.")
        actions.reply(engineer, topic, body="Check the harmonics settings.")
        actions.react(helper, topic.posts.get(number=1), "upvote")


def _pages(busy_topic: Topic) -> dict[str, str]:
    return {
        "index": reverse("community:index"),
        "index, top": reverse("community:index") + "?sort=top",
        "space": reverse("community:space", kwargs={"space_slug": "inverters"}),
        "space, page 2": reverse("community:space", kwargs={"space_slug": "inverters"}) + "?page=2",
        "tag": reverse("community:tag", kwargs={"tag_slug": "firmware"}),
        "topic": reverse("community:topic", kwargs={"topic_id": busy_topic.pk}),
        "search": reverse("community:search") + "?q=harmonics",
    }


def test_community_pages_cost_the_same_whatever_the_data(
    client, public_space, tags, engineer, member_a
):
    # given a few topics, in a space and its sub-space, by several people
    sub = Space.objects.create(name="Guides", slug="guides", parent=public_space)
    people = []
    for n in range(3):
        person = settled(UserFactory(first_name=f"Author{n}"))
        MembershipFactory(user=person)
        people.append(person)
    _add_topics(3, public_space, sub, engineer, people)
    busy = Topic.objects.order_by("pk").first()
    client.force_login(member_a)
    few = {name: page_costs(client, url).as_tuple() for name, url in _pages(busy).items()}
    # when many more topics, replies to the busy topic and search hits are added
    _add_topics(45, public_space, sub, engineer, people)
    for _ in range(8):
        actions.reply(people[1], busy, body="Harmonics again.")
    many = {name: page_costs(client, url).as_tuple() for name, url in _pages(busy).items()}
    # then every page compiles as many statements and reverses as many URLs as before
    assert many == few
