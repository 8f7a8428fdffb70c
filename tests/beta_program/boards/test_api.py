"""The R&D boards in the REST API: boards and ideas as the pages show them (a token: the
organisation's boards without an NDA), proposing, voting and following by people only (a token
gets 403 person_required), another organisation's private idea 404 under the caller's own slug,
strict bodies whose errors name the field, a bounded list and the operations in the schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

import portal.urls  # noqa: F401 - builds the API: every app's routers and token scopes
from beta_program.boards import actions
from beta_program.boards.models import (
    Board,
    Category,
    Comment,
    Idea,
    IdeaStatus,
    Subscription,
    Tag,
    Visibility,
    Vote,
)
from beta_program.boards.status_actions import change_status
from portal.api_scopes import SCOPES
from tests.api_client import api_error, token_headers

pytestmark = pytest.mark.django_db

IDEAS = "/api/v1/organisations/acme/ideas"


def _status(key: str) -> IdeaStatus:
    return IdeaStatus.objects.get(key=key)


@pytest.fixture
def globex_board(org_b):
    """Globex's own co-development board: nobody at Acme may know its ideas exist."""
    board = Board.objects.create(
        name="Globex co-development", slug="globex-codev", visibility=Visibility.PRIVATE
    )
    board.organisations.set([org_b])
    board.save()
    return board


@pytest.fixture
def nda_board(make_programme):
    return Board.objects.create(
        name="Storage NDA ideas", slug="storage-nda", nda_programme=make_programme()
    )


def test_scopes_are_registered_with_their_descriptions():
    assert str(SCOPES["ideas:read"]) == "Read the R&D boards and ideas the organisation may see"
    assert str(SCOPES["ideas:write"]) == (
        "Propose ideas, vote, comment and follow: needs a signed-in person"
    )


def test_a_person_sees_the_boards_and_ideas_the_pages_show(
    client, org_a, org_b, admin_a, admin_b, public_board, private_board, globex_board, propose
):
    Category.objects.create(board=public_board, name="Reports", name_zh="报告")
    public_board.save()
    mine = propose(public_board, org_a, admin_a, title="Export as CSV")
    codev = propose(private_board, org_a, admin_a, title="Shared pump firmware")
    propose(globex_board, org_b, admin_b, title="Globex secret")
    actions.vote(mine, org_a, admin_a, 3)
    client.force_login(admin_a)
    boards = client.get(f"{IDEAS}/boards").json()
    assert boards == [
        {
            "slug": "acme-codev",
            "name": "Acme co-development",
            "name_zh": "",
            "private": True,
            "categories": [],
        },
        {
            "slug": "product-ideas",
            "name": "Product ideas",
            "name_zh": "产品创意",
            "private": False,
            "categories": [
                {"id": public_board.categories.get().pk, "name": "Reports", "name_zh": "报告"}
            ],
        },
    ]
    page = client.get(IDEAS).json()
    assert (page["count"], page["page"], page["page_size"]) == (2, 1, 20)
    assert [(i["id"], i["board"], i["votes"], i["my_vote"]) for i in page["items"]] == [
        (mine.pk, "product-ideas", 1, 3),
        (codev.pk, "acme-codev", 0, None),
    ]
    assert page["items"][0]["status"] == {"key": "new", "name": "New", "kind": "open"}
    assert (page["items"][0]["organisations"], page["items"][0]["comments"]) == (1, 0)


def test_a_token_reads_its_organisations_boards_without_an_nda(
    client, org_a, admin_a, public_board, private_board, nda_board, propose
):
    propose(public_board, org_a, admin_a, title="Export as CSV")
    hidden = Idea.objects.create(
        board=nda_board, title="Under NDA", problem="Secret", status=_status("new")
    )
    headers = token_headers(org_a, ["ideas:read"])
    boards = client.get(f"{IDEAS}/boards", headers=headers).json()
    assert [b["slug"] for b in boards] == ["acme-codev", "product-ideas"]
    page = client.get(IDEAS, headers=headers).json()
    assert [(i["title"], i["my_vote"]) for i in page["items"]] == [("Export as CSV", None)]
    api_error(client.get(f"{IDEAS}/{hidden.pk}", headers=headers), 404, "not_found")


def test_a_token_without_the_scope_is_refused(client, org_a, public_board):
    headers = token_headers(org_a, ["account:read"])
    for url in (IDEAS, f"{IDEAS}/boards"):
        message = api_error(client.get(url, headers=headers), 403, "insufficient_scope")
        assert message == "This token lacks the 'ideas:read' scope."
    response = client.post(IDEAS, {}, content_type="application/json", headers=headers)
    api_error(response, 403, "insufficient_scope")


def test_a_token_cannot_write_before_its_body_is_read(
    client, org_a, admin_a, public_board, propose
):
    idea = propose(public_board, org_a, admin_a)
    headers = token_headers(org_a, ["ideas:read", "ideas:write"])
    # Invalid bodies: the refusal comes first, whatever they hold.
    calls = [
        client.post(IDEAS, {"title": 5}, content_type="application/json", headers=headers),
        client.put(
            f"{IDEAS}/{idea.pk}/vote",
            {"importance": "x"},
            content_type="application/json",
            headers=headers,
        ),
        client.delete(f"{IDEAS}/{idea.pk}/vote", headers=headers),
        client.put(
            f"{IDEAS}/{idea.pk}/subscription", {}, content_type="application/json", headers=headers
        ),
    ]
    for response in calls:
        message = api_error(response, 403, "person_required")
        assert message == (
            "Ideas are proposed, voted on and followed by people: sign in, a token cannot."
        )
    assert Vote.objects.count() == 0
    assert Idea.objects.count() == 1


def test_another_organisations_private_idea_is_404_under_the_callers_own_slug(
    client, org_a, org_b, admin_a, admin_b, member_b, globex_board, propose
):
    secret = propose(globex_board, org_b, admin_b, title="Globex secret")
    Comment.objects.create(idea=secret, organisation=org_b, body="Secret comment")
    client.force_login(admin_a)
    base = f"{IDEAS}/{secret.pk}"
    vote_body = {"importance": 2}
    calls = [
        client.get(base),
        client.get(f"{base}/comments"),
        client.put(f"{base}/vote", vote_body, content_type="application/json"),
        client.delete(f"{base}/vote"),
        client.put(f"{base}/subscription", {"subscribed": True}, content_type="application/json"),
        client.post(f"{base}/comments", {"body": "Leak?"}, content_type="application/json"),
        client.get(IDEAS, {"board": "globex-codev"}),
    ]
    for response in calls:
        api_error(response, 404, "not_found", None if response is not calls[-1] else "board")
    # and the same through a token of Acme (even one holding every scope)
    headers = token_headers(org_a, list(SCOPES))
    api_error(client.get(base, headers=headers), 404, "not_found")
    api_error(client.put(f"{base}/vote", vote_body, content_type="application/json",
                         headers=headers), 404, "not_found")  # fmt: skip
    api_error(client.delete(f"{base}/vote", headers=headers), 404, "not_found")
    # and Globex's own slug is not Acme's to use
    api_error(client.get(f"/api/v1/organisations/globex/ideas/{secret.pk}"), 404, "not_found")
    assert Vote.objects.count() == 0
    assert not Subscription.objects.filter(user=admin_a).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"importance": 0}, "payload.importance"),
        ({"importance": 4}, "payload.importance"),
        ({"importance": "2"}, "payload.importance"),
        ({"importance": 2.0}, "payload.importance"),
        ({}, "payload.importance"),
        ({"importance": 2, "reason": "x" * 2001}, "payload.reason"),
        ({"importance": 2, "weight": 5}, "payload.weight"),
    ],
)
def test_a_vote_body_is_strict_and_errors_name_the_field(
    client, org_a, admin_a, public_board, propose, body, field
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_a)
    response = client.put(f"{IDEAS}/{idea.pk}/vote", body, content_type="application/json")
    api_error(response, 422, "validation_error", field)
    assert Vote.objects.count() == 0


def test_vote_change_and_withdraw(client, org_a, member_a, admin_b, org_b, public_board, propose):
    idea = propose(public_board, org_b, admin_b)
    client.force_login(member_a)
    url = f"{IDEAS}/{idea.pk}/vote"
    response = client.put(
        url, {"importance": 3, "reason": "Audits"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "idea": idea.pk,
        "importance": 3,
        "reason": "Audits",
        "votes": 1,
        "organisations": 1,
    }
    changed = client.put(url, {"importance": 1}, content_type="application/json").json()
    assert (changed["importance"], changed["reason"], changed["votes"]) == (1, "", 1)
    assert client.get(f"{IDEAS}/{idea.pk}").json()["my_vote"] == 1
    # the voter follows the idea
    assert Subscription.objects.get(idea=idea, user=member_a).active is True
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 204  # nothing left to withdraw: the same answer
    detail = client.get(f"{IDEAS}/{idea.pk}").json()
    assert (detail["votes"], detail["my_vote"]) == (0, None)


def test_following_and_leaving(client, org_a, member_a, public_board, admin_a, propose):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(member_a)
    url = f"{IDEAS}/{idea.pk}/subscription"
    response = client.put(url, {"subscribed": True}, content_type="application/json")
    assert response.json() == {"idea": idea.pk, "subscribed": True}
    response = client.put(url, {"subscribed": False}, content_type="application/json")
    assert response.json() == {"idea": idea.pk, "subscribed": False}
    assert Subscription.objects.get(idea=idea, user=member_a).active is False
    response = client.put(url, {"subscribed": "no"}, content_type="application/json")
    api_error(response, 422, "validation_error", "payload.subscribed")


def test_a_person_proposes_an_idea(client, org_a, member_a, public_board, globex_board):
    category = Category.objects.create(board=public_board, name="Reports")
    public_board.save()
    Tag.objects.create(name="Export", slug="export")
    client.force_login(member_a)
    body = {
        "board": "product-ideas",
        "title": "  Export the dashboard  ",
        "problem": "We copy **numbers** by hand.",
        "solution": "A CSV button.",
        "category": category.pk,
        "tags": ["export"],
    }
    response = client.post(IDEAS, body, content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    idea = Idea.objects.get()
    assert (idea.author, idea.organisation, idea.title) == (member_a, org_a, "Export the dashboard")
    assert created["id"] == idea.pk
    assert (created["problem"], created["solution"]) == (
        "We copy **numbers** by hand.",
        "A CSV button.",
    )
    assert (created["category"], created["tags"], created["merged_into"]) == (
        category.pk,
        ["export"],
        None,
    )
    assert (created["status"]["key"], created["history"], created["my_vote"]) == ("new", [], None)
    # refusals name the field
    refused = [
        ({**body, "board": "globex-codev"}, 404, "not_found", "board"),
        ({**body, "tags": ["nope"]}, 422, "validation_error", "tags"),
        ({**body, "title": "   "}, 422, "validation_error", "title"),
        ({**body, "category": 999999}, 422, "validation_error", "category"),
        ({**body, "category": "1"}, 422, "validation_error", "payload.category"),
        ({k: v for k, v in body.items() if k != "problem"}, 422, "validation_error",
         "payload.problem"),
        ({**body, "title": "a\x00b"}, 422, "validation_error", "payload.title"),
    ]  # fmt: skip
    for sent, status, code, field in refused:
        response = client.post(IDEAS, sent, content_type="application/json")
        api_error(response, status, code, field)
    assert Idea.objects.count() == 1


def test_detail_has_the_public_history_and_a_merged_duplicate_names_its_primary(
    client, org_a, admin_a, member_a, public_board, product, propose
):
    primary = propose(public_board, org_a, admin_a, title="CSV export")
    duplicate = propose(public_board, org_a, member_a, title="Export to Excel")
    change_status(primary, _status("declined"), product, note="Use the API.", note_zh="请用 API。")
    Idea.objects.filter(pk=duplicate.pk).update(merged_into=primary, status=_status("duplicate"))
    client.force_login(member_a)
    detail = client.get(f"{IDEAS}/{primary.pk}").json()
    [change] = detail["history"]
    assert {k: change[k] for k in ("from_status", "to_status", "note", "note_zh")} == {
        "from_status": "new",
        "to_status": "declined",
        "note": "Use the API.",
        "note_zh": "请用 API。",
    }
    merged = client.get(f"{IDEAS}/{duplicate.pk}").json()
    assert (merged["merged_into"], merged["status"]["kind"]) == (primary.pk, "duplicate")
    # the list leaves the duplicate out; voting on it is refused with where to vote instead
    assert [i["id"] for i in client.get(IDEAS).json()["items"]] == [primary.pk]
    response = client.put(
        f"{IDEAS}/{duplicate.pk}/vote", {"importance": 2}, content_type="application/json"
    )
    assert api_error(response, 409, "idea_merged") == (
        f"This idea was merged into #{primary.pk}: vote there."
    )
    response = client.put(
        f"{IDEAS}/{primary.pk}/vote", {"importance": 2}, content_type="application/json"
    )
    api_error(response, 409, "voting_closed")


def test_filters_sorts_and_search(
    client, org_a, org_b, admin_a, member_a, viewer_a, admin_b, public_board, product, propose
):
    category = Category.objects.create(board=public_board, name="Reports")
    public_board.save()
    tag = Tag.objects.create(name="Export", slug="export")
    old = propose(public_board, org_a, admin_a, title="Dashboard export to spreadsheet")
    Idea.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    many = propose(public_board, org_a, admin_a, title="Dark mode", category_id=category.pk)
    wide = propose(public_board, org_a, admin_a, title="Inverter alarms by SMS", tag_ids=(tag.pk,))
    # many: 3 votes of one organisation, 20 days ago; wide: 2 votes of two organisations today;
    # old: 1 vote today
    for person in (admin_a, member_a, viewer_a):
        actions.vote(many, org_a, person, 1)
    Vote.objects.filter(idea=many).update(created_at=timezone.now() - dt.timedelta(days=20))
    actions.vote(wide, org_b, admin_b, 1)
    actions.vote(wide, org_a, member_a, 1)
    actions.vote(old, org_a, admin_a, 2)
    change_status(wide, _status("planned"), product)
    client.force_login(admin_a)

    def ids(**query):
        response = client.get(IDEAS, query)
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["items"]]

    assert ids() == ids(sort="votes") == [many.pk, wide.pk, old.pk]
    assert ids(sort="accounts") == [wide.pk, many.pk, old.pk]
    assert ids(sort="newest") == [wide.pk, many.pk, old.pk]
    assert ids(sort="trending") == [wide.pk, old.pk, many.pk]
    assert ids(status="planned") == [wide.pk]
    assert ids(category=category.pk) == [many.pk]
    assert ids(tag="export") == [wide.pk]
    assert ids(q="dashb spread") == [old.pk]
    assert ids(q="inverter") == [wide.pk]
    assert ids(q="nothing-like-it") == []
    assert ids(page=2, page_size=2, sort="newest") == [old.pk]
    api_error(client.get(IDEAS, {"sort": "oldest"}), 422, "validation_error", "sort")
    api_error(client.get(IDEAS, {"page_size": 201}), 422, "validation_error", "page_size")


def test_comments_are_listed_oldest_first_without_hidden_ones(
    client, org_a, admin_a, member_a, public_board, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    Comment.objects.create(idea=idea, author=member_a, organisation=org_a, body="Yes **please**")
    Comment.objects.create(idea=idea, author=member_a, organisation=org_a, body="Spam", hidden=True)
    Comment.objects.create(idea=idea, author=product, body="On our list.")
    client.force_login(admin_a)
    page = client.get(f"{IDEAS}/{idea.pk}/comments").json()
    assert page["count"] == 2
    assert [(c["body"], c["product_team"]) for c in page["items"]] == [
        ("Yes **please**", False),
        ("On our list.", True),
    ]
    assert page["items"][0]["html"] == "<p>Yes <strong>please</strong></p>\n"


def test_other_customers_people_are_a_customer_in_the_api_as_on_the_page(
    client, org_a, org_b, admin_a, member_a, admin_b, public_board, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    Comment.objects.create(idea=idea, author=member_a, organisation=org_a, body="Ours")
    client.force_login(admin_b)
    items = client.get(f"/api/v1/organisations/{org_b.slug}/ideas/{idea.pk}/comments").json()[
        "items"
    ]
    assert [c["author"] for c in items] == ["a customer"]
    client.force_login(admin_a)
    items = client.get(f"{IDEAS}/{idea.pk}/comments").json()["items"]
    assert [c["author"] for c in items] == [member_a.display_name]


def test_a_person_comments_and_a_token_cannot(client, org_a, admin_a, public_board, propose):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_a)
    made = client.post(
        f"{IDEAS}/{idea.pk}/comments",
        {"body": "Needed **monthly**"},
        content_type="application/json",
    )
    assert made.status_code == 201
    assert made.json()["html"] == "<p>Needed <strong>monthly</strong></p>\n"
    assert Comment.objects.get(idea=idea).body == "Needed **monthly**"
    idea.refresh_from_db()
    assert idea.comment_count == 1
    empty = client.post(
        f"{IDEAS}/{idea.pk}/comments", {"body": ""}, content_type="application/json"
    )
    assert empty.status_code == 422
    client.logout()
    refused = client.post(
        f"{IDEAS}/{idea.pk}/comments",
        {"body": "x"},
        content_type="application/json",
        headers=token_headers(org_a, ["ideas:write"]),
    )
    api_error(refused, 403, "person_required")


def test_the_list_costs_the_same_queries_for_30_ideas(
    client, org_a, admin_a, public_board, propose, django_assert_max_num_queries
):
    tag = Tag.objects.create(name="Export", slug="export")
    for n in range(30):
        idea = propose(public_board, org_a, admin_a, title=f"Idea {n}", tag_ids=(tag.pk,))
        actions.vote(idea, org_a, admin_a, 2)
    client.force_login(admin_a)
    with django_assert_max_num_queries(12):
        page = client.get(IDEAS, {"page_size": 30}).json()
    assert len(page["items"]) == 30
    assert {i["my_vote"] for i in page["items"]} == {2}
    headers = token_headers(org_a, ["ideas:read"])
    with django_assert_max_num_queries(12):
        assert len(client.get(IDEAS, {"page_size": 30}, headers=headers).json()["items"]) == 30


def test_the_operations_are_documented_with_their_scopes_and_errors(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    base = "/api/v1/organisations/{slug}/ideas"
    expected = {
        f"{base}/boards": {"get"},
        base: {"get", "post"},
        f"{base}/{{idea_id}}": {"get"},
        f"{base}/{{idea_id}}/comments": {"get", "post"},
        f"{base}/{{idea_id}}/vote": {"put", "delete"},
        f"{base}/{{idea_id}}/subscription": {"put"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods
        for method in methods:
            operation = paths[path][method]
            assert operation["tags"] == ["R&D boards"]
            scope = "ideas:read" if method == "get" else "ideas:write"
            assert f"Needs scope {scope}." in operation["description"]
            assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert {"400", "409"} <= set(paths[f"{base}/{{idea_id}}/vote"]["put"]["responses"])
    assert "person_required" in paths[base]["post"]["description"]
