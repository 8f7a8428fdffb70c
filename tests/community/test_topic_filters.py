"""One list filter for the pages and the API: `TopicQuerySet.filtered(name, user)`."""

from __future__ import annotations

import pytest
from django.urls import reverse

from community import actions
from community.models import Level, Topic, TopicKind


@pytest.fixture
def listed(member_a, member_b, engineer, public_space, ask):
    """An unanswered question by Acme's member, a solved question and a discussion by Globex's
    member; Acme's member watches the discussion (and, as its asker, their own question)."""
    ask(member_a, public_space, title="Open question on inverters")
    solved = ask(member_b, public_space, title="Solved question on meters")
    actions.accept_answer(member_b, actions.reply(engineer, solved, body="Update the firmware."))
    talk = ask(member_b, public_space, title="Discussion on yields", kind=TopicKind.DISCUSSION)
    actions.set_level(member_a, Level.WATCHING, topic=talk)


EXPECTED = {
    "": {"Open question on inverters", "Solved question on meters", "Discussion on yields"},
    "unanswered": {"Open question on inverters"},
    "solved": {"Solved question on meters"},
    "mine": {"Open question on inverters"},
    "followed": {"Open question on inverters", "Discussion on yields"},
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_filter_keeps_its_topics(listed, member_a, name):
    # given the topics / when one filter is applied for Acme's member
    topics = Topic.objects.visible_to(member_a).filtered(name, member_a)
    # then it keeps the topics it names
    assert {topic.title for topic in topics} == EXPECTED[name]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_page_and_the_api_list_the_same_topics(client, listed, member_a, name):
    # given Acme's member, signed in
    client.force_login(member_a)
    # when they filter the community page and the API the same way
    page = client.get(reverse("community:index"), {"filter": name} if name else {})
    api = client.get("/api/v1/community/topics", {"filter": name} if name else {})
    # then both list the same topics
    assert page.status_code == 200
    assert api.status_code == 200
    assert {topic.title for topic in page.context["page"].object_list} == EXPECTED[name]
    assert {item["title"] for item in api.json()["items"]} == EXPECTED[name]


def test_an_unknown_filter_is_a_programming_error(member_a, db):
    # the pages and the API only pass names they have checked; anything else is a bug
    with pytest.raises(ValueError, match="Unknown topic filter 'bogus'"):
        Topic.objects.all().filtered("bogus", member_a)
