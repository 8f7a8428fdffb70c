"""Reads compiled once and run again with new values (community/statements.py): each answers
as its QuerySet would, and the topic page's reads never reuse SQL built for another reader, for
other visible spaces or for a reader who has since become a moderator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from community import actions
from community.models import Post, PostStatus
from community.statements import Statement
from portal.staff_roles import StaffRole

pytestmark = pytest.mark.django_db


def _posts_of(topic: int) -> list[tuple]:
    return list(
        Post.objects.filter(topic_id=topic)
        .order_by("number")
        .values_list("pk", "number", "created_at", "edited_at", "author__email")
    )


@pytest.fixture
def two_topics(acme, globex, public_space, ask):
    first = ask(acme, public_space, title="Grid fault every morning")
    actions.reply(globex, first, body="Same here since the update.")
    second = ask(globex, public_space, title="Meter doubled overnight")
    return first, second


def test_a_statement_answers_as_its_queryset_for_each_value(two_topics):
    # given a read compiled for one topic
    first, second = two_topics
    statement = Statement(
        lambda *, topic: (
            Post.objects.filter(topic_id=topic)
            .order_by("number")
            .values_list("pk", "number", "created_at", "edited_at", "author__email")
        )
    )
    assert statement.rows(None, topic=first.pk) == _posts_of(first.pk)
    # when it runs for another topic
    with CaptureQueriesContext(connection) as queries:
        rows = statement.rows(None, topic=second.pk)
    # then it answers as the QuerySet, in one statement, with the dates converted alike
    assert rows == _posts_of(second.pk)
    assert len(queries) == 1


def test_lists_of_each_length_get_their_own_statement(two_topics):
    first, second = two_topics
    statement = Statement(
        lambda *, topics: (
            Post.objects.filter(topic_id__in=topics).order_by("pk").values_list("pk", "topic_id")
        )
    )
    one = statement.rows(None, topics=[first.pk])
    both = statement.rows(None, topics=[first.pk, second.pk])
    again = statement.rows(None, topics=[second.pk])
    assert one == list(Post.objects.filter(topic=first).order_by("pk").values_list("pk", "topic"))
    assert len(both) == Post.objects.count() == 3
    assert again == [(second.posts.get().pk, second.pk)]


def test_a_constant_equal_to_a_stand_in_is_never_replaced(two_topics):
    # given a read whose constant happens to equal the stand-in of its value
    first, _second = two_topics
    statement = Statement(
        lambda *, topic: (
            Post.objects.filter(Q(topic_id=topic) | Q(number=2_000_000_011))
            .order_by("pk")
            .values_list("pk")
        )
    )
    # then it still answers for the topic asked, each time
    expected = list(Post.objects.filter(topic=first).order_by("pk").values_list("pk"))
    assert statement.rows(None, topic=first.pk) == expected
    assert statement.rows(None, topic=first.pk) == expected


# On PostgreSQL, as the ORM: SQLite's driver refuses such a number, ORM or not.
@pytest.mark.postgres
def test_a_number_no_column_holds_finds_nothing(two_topics):
    statement = Statement(lambda *, topic: Post.objects.filter(topic_id=topic).values_list("pk"))
    assert statement.rows(None, topic=2**70) == []


def _page(client, user, topic) -> tuple[int, str]:
    client.force_login(user)
    response = client.get(f"/community/t/{topic.pk}/")
    return response.status_code, response.content.decode()


def test_a_private_topic_stays_private_after_an_insider_opened_it(
    client, acme, globex, private_space, ask
):
    # given a topic of Acme's private board, opened by a member of Acme
    topic = ask(acme, private_space, title="Zeppelin tender")
    status, html = _page(client, acme, topic)
    assert status == 200
    assert "Zeppelin tender" in html
    # when a member of Globex asks for it
    status, html = _page(client, globex, topic)
    # then it does not exist for them
    assert status == 404
    assert "Zeppelin tender" not in html


def test_another_reader_never_sees_a_post_under_review_that_is_not_theirs(
    client, acme, globex, public_space, ask
):
    # given the author of a post under review opened the page first
    topic = ask(acme, public_space, title="Grid fault every morning")
    held = actions.reply(globex, topic, body="Our meter doubled overnight.")
    Post.objects.filter(pk=held.pk).update(status=PostStatus.PENDING_REVIEW)
    assert "Our meter doubled overnight." in _page(client, globex, topic)[1]
    # then another reader does not see it
    assert "Our meter doubled overnight." not in _page(client, acme, topic)[1]


def test_a_new_moderator_sees_hidden_posts_at_once(client, acme, engineer, public_space, ask):
    # given a post a moderator hid, and a vendor engineer who read the topic without it
    topic = ask(acme, public_space, title="Grid fault every morning")
    hidden = actions.reply(acme, topic, body="Call me on my private number.")
    Post.objects.filter(pk=hidden.pk).update(status=PostStatus.HIDDEN)
    assert "Call me on my private number." not in _page(client, engineer, topic)[1]
    # when the engineer becomes a moderator
    engineer.groups.add(Group.objects.get(name=StaffRole.MODERATOR))
    # then the next page shows the hidden post, marked as such
    html = _page(client, engineer, topic)[1]
    assert "Call me on my private number." in html
    assert "Hidden by a moderator" in html
