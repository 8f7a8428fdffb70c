"""Deep topic pages through "Next": the rows after the previous page's last row (a keyset
cursor), the same rows OFFSET paging gives, read without an OFFSET; a forged or foreign cursor
falls back to numbered paging, never to an error or to rows the reader may not see."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community.models import Audience, Space
from tests.community.test_views_lists import make_topic, titles

pytestmark = pytest.mark.django_db


def next_link(response) -> str:
    match = re.search(r'href="(\?[^"]*)" rel="next"', response.content.decode())
    assert match, "the page has no Next link"
    return reverse("community:index") + html.unescape(match.group(1))


@pytest.fixture
def many(public_space, member_a, member_b):
    """45 topics: equal activity times in threes (so ties are broken by id), some pinned, scores
    and reply counts varying."""
    for number in range(45):
        make_topic(
            public_space,
            member_a if number % 2 else member_b,
            f"Topic {number:02}",
            minutes_ago=number // 3,
            is_pinned=number in (7, 30),
            score=number % 4,
        )


@pytest.mark.parametrize("sort", ["latest", "top", "newest"])
def test_next_links_walk_the_same_rows_as_numbered_pages(client, many, member_a, sort):
    client.force_login(member_a)
    # given the three numbered pages of a sort
    numbered = [
        titles(client.get(f"{reverse('community:index')}?sort={sort}&page={n}")) for n in (1, 2, 3)
    ]
    # when a reader follows the Next links from the first page
    first = client.get(f"{reverse('community:index')}?sort={sort}")
    second = client.get(next_link(first))
    third = client.get(next_link(second))
    # then each page holds the same topics in the same order, 45 in all, none twice
    assert [titles(first), titles(second), titles(third)] == numbered
    walked = titles(first) + titles(second) + titles(third)
    assert len(walked) == 45
    assert len(set(walked)) == 45
    assert third.context["page"].number == 3
    assert 'rel="next"' not in third.content.decode()


def test_a_page_reached_by_next_reads_no_offset(client, many, member_a):
    client.force_login(member_a)
    first = client.get(reverse("community:index"))
    # when the second page is opened through its Next link
    with CaptureQueriesContext(connection) as queries:
        second = client.get(next_link(first))
    # then the topic rows were read with a row comparison and a LIMIT, without an OFFSET
    topic_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "community_topic"' in q["sql"] and "LIMIT 20" in q["sql"]
    ]
    assert topic_reads, "no page read of the topics"
    assert all("OFFSET" not in sql for sql in topic_reads)
    assert second.context["page"].number == 2
    assert len(titles(second)) == 20


@pytest.mark.parametrize(
    "after",
    ["garbage", "W1tdXQ:1abc:xyz", ""],
)
def test_a_forged_cursor_falls_back_to_numbered_paging(client, many, member_a, after):
    client.force_login(member_a)
    numbered = titles(client.get(f"{reverse('community:index')}?page=2"))
    # when the cursor is not one the portal signed
    response = client.get(f"{reverse('community:index')}?page=2&after={after}")
    # then the page is the numbered second page
    assert response.status_code == 200
    assert titles(response) == numbered


def test_a_cursor_from_another_sort_is_not_applied(client, many, member_a):
    client.force_login(member_a)
    latest_next = next_link(client.get(reverse("community:index")))
    cursor = re.search(r"after=([^&]+)", latest_next).group(1)
    numbered_top = titles(client.get(f"{reverse('community:index')}?sort=top&page=2"))
    # when the "latest" cursor is sent with sort=top
    response = client.get(f"{reverse('community:index')}?sort=top&page=2&after={cursor}")
    # then it is refused by its signature and the numbered page is shown
    assert titles(response) == numbered_top


def test_a_cursor_never_shows_topics_of_a_space_the_reader_cannot_see(
    client, many, member_a, member_b, org_b
):
    # given a space only Globex (org_b) can see, with topics newer than everything else
    hidden = Space.objects.create(
        name="Globex only", slug="globex-only", audience=Audience.ORGANISATIONS
    )
    hidden.organisations.add(org_b)
    for number in range(5):
        make_topic(hidden, member_b, f"Secret {number}")
    client.force_login(member_a)
    # when Acme's member walks every page by Next links
    page = client.get(reverse("community:index"))
    seen = titles(page)
    while 'rel="next"' in page.content.decode():
        page = client.get(next_link(page))
        seen += titles(page)
    # then only the 45 public topics appear
    assert len(seen) == 45
    assert not [title for title in seen if title.startswith("Secret")]
