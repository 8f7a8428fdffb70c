"""The boards index and a board's idea list: what each organisation's people see (a private
board never reaches another organisation, through its page, search or suggestions), sorting,
filters, search, bounded queries and the Chinese page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from beta_program.boards import actions
from beta_program.boards.models import Category, IdeaStatus, Tag, Vote


def titles(response) -> list[str]:
    return [idea.title for idea in response.context["ideas"]]


def test_index_lists_the_boards_the_organisation_sees_with_counts_and_badges(
    client, public_board, private_board, org_a, org_b, admin_a, admin_b, propose
):
    # given
    propose(public_board, org_a, admin_a, title="Export the dashboard as CSV")
    propose(private_board, org_a, admin_a, title="Secret pump controller")
    # when
    client.force_login(admin_a)
    own = client.get("/o/acme/ideas/")
    client.force_login(admin_b)
    other = client.get("/o/globex/ideas/")
    # then
    assert own.status_code == 200
    assert [b.name for b in own.context["boards"]] == ["Acme co-development", "Product ideas"]
    assert [b.idea_total for b in own.context["boards"]] == [1, 1]
    assert "Private" in own.content.decode()
    assert [i.title for i in own.context["top_ideas"]] == [
        "Secret pump controller",
        "Export the dashboard as CSV",
    ]
    body = other.content.decode()
    assert [b.name for b in other.context["boards"]] == ["Product ideas"]
    assert [i.title for i in other.context["top_ideas"]] == ["Export the dashboard as CSV"]
    assert "Acme co-development" not in body
    assert "Secret pump controller" not in body
    assert 'href="/o/globex/ideas/b/product-ideas/"' in body


def test_the_top_bar_has_an_ideas_link(client, public_board, admin_a):
    client.force_login(admin_a)
    body = client.get("/o/acme/ideas/").content.decode()
    assert 'href="/o/acme/ideas/"' in body
    assert ">Ideas<" in body


def test_private_board_is_404_under_the_other_organisations_own_urls(
    client, private_board, org_a, admin_a, admin_b, propose
):
    # given
    propose(private_board, org_a, admin_a, title="Secret pump controller")
    client.force_login(admin_b)
    # when / then
    for path in (
        "/o/globex/ideas/b/acme-codev/",
        "/o/globex/ideas/b/acme-codev/new/",
        "/o/globex/ideas/b/acme-codev/similar/?q=secret",
    ):
        assert client.get(path).status_code == 404, path
    # and org_a's own URL is not theirs to open either
    assert client.get("/o/acme/ideas/b/acme-codev/").status_code == 404
    client.force_login(admin_a)
    assert client.get("/o/acme/ideas/b/acme-codev/").status_code == 200


def test_search_and_similar_on_the_public_board_never_show_a_private_idea(
    client, public_board, private_board, org_a, admin_a, admin_b, propose
):
    # given
    propose(public_board, org_a, admin_a, title="Pump schedule export")
    propose(private_board, org_a, admin_a, title="Secret pump controller")
    client.force_login(admin_b)
    # when
    listed = client.get("/o/globex/ideas/b/product-ideas/?q=pump")
    similar = client.get("/o/globex/ideas/b/product-ideas/similar/?q=pump controller")
    # then
    assert titles(listed) == ["Pump schedule export"]
    assert [i["title"] for i in similar.json()["ideas"]] == ["Pump schedule export"]
    assert "Secret" not in listed.content.decode() + similar.content.decode()


@pytest.fixture
def three_ideas(public_board, org_a, org_b, admin_a, member_a, viewer_a, admin_b, propose):
    """Alpha: 3 votes, all from Acme, 20 days old; Bravo: 2 votes from 2 organisations, recent;
    Charlie: no vote, the newest."""
    now = timezone.now()
    alpha = propose(public_board, org_a, admin_a, title="Alpha")
    bravo = propose(public_board, org_a, admin_a, title="Bravo")
    charlie = propose(public_board, org_a, admin_a, title="Charlie")
    for age, idea in ((3, alpha), (2, bravo), (1, charlie)):
        type(idea).objects.filter(pk=idea.pk).update(created_at=now - timedelta(hours=age))
    for voter in (admin_a, member_a, viewer_a):
        actions.vote(alpha, org_a, voter, 2)
    Vote.objects.filter(idea=alpha).update(created_at=now - timedelta(days=20))
    actions.vote(bravo, org_a, admin_a, 3)
    actions.vote(bravo, org_b, admin_b, 1)
    return alpha, bravo, charlie


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("votes", ["Alpha", "Bravo", "Charlie"]),
        ("accounts", ["Bravo", "Alpha", "Charlie"]),
        ("newest", ["Charlie", "Bravo", "Alpha"]),
        ("trending", ["Bravo", "Alpha", "Charlie"]),
        ("bogus", ["Alpha", "Bravo", "Charlie"]),
        ("", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_sorting_orders_the_ideas(client, three_ideas, admin_a, sort, expected):
    client.force_login(admin_a)
    response = client.get(f"/o/acme/ideas/b/product-ideas/?sort={sort}")
    assert response.status_code == 200
    assert titles(response) == expected


def test_each_row_says_whether_the_viewer_voted(client, three_ideas, admin_b):
    client.force_login(admin_b)
    response = client.get("/o/globex/ideas/b/product-ideas/")
    assert {i.title: i.viewer_voted for i in response.context["ideas"]} == {
        "Alpha": False,
        "Bravo": True,
        "Charlie": False,
    }
    assert response.content.decode().count("You voted") == 1


def test_filters_by_category_tag_status_and_words(
    client, public_board, org_a, admin_a, product, propose
):
    # given
    reports = Category.objects.create(board=public_board, name="Reports", name_zh="报告")
    Category.objects.create(board=public_board, name="Alerts")
    api = Tag.objects.create(name="API", slug="api")
    propose(public_board, org_a, admin_a, title="Monthly PDF report", category_id=reports.pk)
    propose(
        public_board,
        org_a,
        admin_a,
        title="Webhook for alarms",
        tag_ids=(api.pk,),
        problem="Our SCADA polls every minute.",
    )
    planned = propose(public_board, org_a, admin_a, title="Dark mode")
    type(planned).objects.filter(pk=planned.pk).update(status=IdeaStatus.objects.get(key="planned"))
    client.force_login(admin_a)
    url = "/o/acme/ideas/b/product-ideas/"
    # when / then
    assert titles(client.get(f"{url}?category={reports.pk}")) == ["Monthly PDF report"]
    assert titles(client.get(f"{url}?tag=api")) == ["Webhook for alarms"]
    assert titles(client.get(f"{url}?status=planned")) == ["Dark mode"]
    assert titles(client.get(f"{url}?q=scada")) == ["Webhook for alarms"]
    assert titles(client.get(f"{url}?q=monthly+report")) == ["Monthly PDF report"]
    assert titles(client.get(f"{url}?q=monthly+alarms")) == []
    # Unknown values are ignored, never a server error.
    for bad in (
        "status=nope",
        "category=abc",
        "category=999999999999999999999",
        "tag=missing",
        "page=x",
        "page=99",
        "sort=votes%20desc",
        "q=%E2%80%8B",
    ):
        response = client.get(f"{url}?{bad}")
        assert response.status_code == 200, bad
        assert len(response.context["ideas"]) == 3, bad


def test_merged_ideas_are_not_listed(client, public_board, org_a, admin_a, propose):
    primary = propose(public_board, org_a, admin_a, title="Export the dashboard as CSV")
    duplicate = propose(public_board, org_a, admin_a, title="CSV export please")
    type(duplicate).objects.filter(pk=duplicate.pk).update(merged_into=primary)
    client.force_login(admin_a)
    assert titles(client.get("/o/acme/ideas/b/product-ideas/")) == ["Export the dashboard as CSV"]
    assert client.get("/o/acme/ideas/").context["boards"][0].idea_total == 1


def test_the_list_is_paginated_by_25(client, public_board, org_a, admin_a, propose):
    for n in range(27):
        propose(public_board, org_a, admin_a, title=f"Idea {n:02d}")
    client.force_login(admin_a)
    first = client.get("/o/acme/ideas/b/product-ideas/?sort=newest")
    second = client.get("/o/acme/ideas/b/product-ideas/?sort=newest&page=2")
    assert len(first.context["ideas"]) == 25
    assert len(second.context["ideas"]) == 2
    assert 'href="?sort=newest&amp;page=2"' in first.content.decode()


def test_board_list_and_index_queries_are_bounded(
    client, public_board, org_a, admin_a, member_a, propose, django_assert_max_num_queries
):
    # given 30 ideas, each with a category, two tags and a vote
    category = Category.objects.create(board=public_board, name="Reports")
    tags = [Tag.objects.create(name=f"Tag {n}", slug=f"tag-{n}") for n in range(2)]
    for n in range(30):
        idea = propose(
            public_board,
            org_a,
            admin_a,
            title=f"Idea {n}",
            category_id=category.pk,
            tag_ids=tuple(t.pk for t in tags),
        )
        actions.vote(idea, org_a, member_a, 2)
    client.force_login(member_a)
    client.get("/o/acme/ideas/")  # warm the per-person caches
    # when / then
    for sort in ("votes", "trending"):
        with django_assert_max_num_queries(16):
            response = client.get(f"/o/acme/ideas/b/product-ideas/?sort={sort}&q=idea")
        assert len(response.context["ideas"]) == 25
    with django_assert_max_num_queries(12):
        client.get("/o/acme/ideas/")


def test_the_chinese_page_shows_chinese_labels(client, public_board, org_a, admin_a, propose):
    propose(public_board, org_a, admin_a, title="导出数据")
    client.force_login(admin_a)
    index = client.get("/o/acme/ideas/", headers={"accept-language": "zh-hans"}).content.decode()
    board = client.get(
        "/o/acme/ideas/b/product-ideas/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert "产品创意" in index
    assert "热门创意" in index
    assert "提出创意" in board
    assert "排序方式" in board
    assert "新建" in board
    assert "Sort by" not in board
