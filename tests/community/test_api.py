"""Community API (community/api.py): the same visibility as the pages for people, the
organisation's audience for tokens, 404 for anything private to someone else, writes by people
only (403 person_required for tokens), scopes, domain refusals with their status and field,
sanitised HTML and bounded query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from community import access, actions
from community import api as community_api  # noqa: F401 - registers the community scopes
from community.models import (
    Attachment,
    Member,
    Post,
    PostStatus,
    Reaction,
    Space,
    Topic,
    TopicKind,
    WhoCanPost,
)
from portal import actions as portal_actions
from tests.community.conftest import settled
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SPACES = "/api/v1/community/spaces"
TOPICS = "/api/v1/community/topics"
SEARCH = "/api/v1/community/search"
PERSON_REQUIRED = (
    "Community posts are written by people; call this endpoint with a signed-in session."
)


def topic_url(topic) -> str:
    return f"{TOPICS}/{topic.pk}"


def replies_url(topic) -> str:
    return f"{TOPICS}/{topic.pk}/replies"


def reactions_url(post) -> str:
    return f"/api/v1/community/posts/{post.pk}/reactions"


def accept_url(post) -> str:
    return f"/api/v1/community/posts/{post.pk}/accept"


def _token(org, scopes=("community:read", "community:write")) -> dict[str, str]:
    _, plaintext = portal_actions.issue_api_token(org, "Community bot", list(scopes), by=None)
    return {"Authorization": f"Bearer {plaintext}"}


def _post_json(client, url, body=None, headers=None):
    return client.post(url, body or {}, content_type="application/json", headers=headers or {})


def _error(response, status, code, field=None) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert (body["code"], body["field"]) == (code, field)
    return body["message"]


def _written() -> dict[str, int]:
    return {
        "topics": Topic.objects.count(),
        "posts": Post.objects.count(),
        "reactions": Reaction.objects.count(),
    }


def suspend(user, reason="Repeated off-topic posts"):
    member = access.member_for(user)
    member.suspended_until = timezone.now() + dt.timedelta(days=7)
    member.suspension_reason = reason
    member.save(update_fields=["suspended_until", "suspension_reason"])
    return user


@pytest.fixture
def colleague(org_a):
    """A second member of Acme."""
    user = UserFactory(email="colleague@acme.example", first_name="Cora", last_name="Lee")
    MembershipFactory(user=user, organisation=org_a)
    return settled(user)


@pytest.fixture
def public_topic(asker, public_space, ask, tags):
    return ask(asker, public_space, title="Inverter firmware upgrade", tags=["firmware"])


@pytest.fixture
def private_topic(asker, private_space, ask):
    return ask(asker, private_space, title="Acme warranty claim", body="Serial AC-778 failed.")


@pytest.fixture
def private_reply(private_topic, colleague):
    return actions.reply(colleague, private_topic, body="Same here with AC-779.")


# --------------------------------------------------------------------------------------------
# Authentication and scopes, every endpoint
# --------------------------------------------------------------------------------------------


def _operations(topic, post):
    return [
        ("get", SPACES, None),
        ("get", TOPICS, None),
        ("post", TOPICS, {"space": "inverters", "title": "Any title here", "body": "text"}),
        ("get", topic_url(topic), None),
        ("post", replies_url(topic), {"body": "text"}),
        ("post", reactions_url(post), {"kind": "upvote"}),
        ("post", accept_url(post), None),
        ("delete", f"{topic_url(topic)}/accepted-answer", None),
        ("get", f"{SEARCH}?q=warranty", None),
    ]


def test_anonymous_callers_get_401_everywhere(client, private_topic, private_reply):
    before = _written()
    for method, url, body in _operations(private_topic, private_reply):
        # given no credentials / when calling each endpoint
        if method == "post":
            response = _post_json(client, url, body)
        else:
            response = getattr(client, method)(url)
        # then it is 401 in the API's error format, and nothing is written
        _error(response, 401, "not_authenticated")
    assert _written() == before


def test_a_token_without_the_scope_gets_403(client, org_a, private_topic, private_reply):
    # given a token of Acme with an unrelated scope
    headers = _token(org_a, scopes=["account:read"])
    before = _written()
    for method, url, body in _operations(private_topic, private_reply):
        if method == "post":
            response = _post_json(client, url, body, headers)
        else:
            response = getattr(client, method)(url, headers=headers)
        # then every endpoint names the scope it lacks
        scope = "community:read" if method == "get" else "community:write"
        message = _error(response, 403, "insufficient_scope")
        assert scope in message
    assert _written() == before


def test_a_read_only_token_cannot_write(client, org_a, public_topic):
    # given a token with community:read only
    headers = _token(org_a, scopes=["community:read"])
    # when it replies / then the write scope is missing
    response = _post_json(client, replies_url(public_topic), {"body": "Hello"}, headers)
    assert "community:write" in _error(response, 403, "insufficient_scope")
    assert Post.objects.count() == 1


# --------------------------------------------------------------------------------------------
# GET /community/spaces
# --------------------------------------------------------------------------------------------


def _spaces(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {space["slug"]: space for space in response.json()}


def test_spaces_of_a_member_of_the_allowed_organisation(client, asker, public_space, private_space):
    # given a staff-only sub-space of the public space
    Space.objects.create(
        name="Announcements", slug="news", parent=public_space, who_can_post=WhoCanPost.STAFF
    )
    client.force_login(asker)
    # when Acme's member lists the spaces
    spaces = _spaces(client.get(SPACES))
    # then both spaces and the sub-space are listed, with where they may post
    assert spaces == {
        "inverters": {
            "id": public_space.pk,
            "slug": "inverters",
            "name": "Solar inverters",
            "description": "",
            "parent": None,
            "can_post": True,
        },
        "news": {
            "id": Space.objects.get(slug="news").pk,
            "slug": "news",
            "name": "Announcements",
            "description": "",
            "parent": "inverters",
            "can_post": False,
        },
        "acme-board": {
            "id": private_space.pk,
            "slug": "acme-board",
            "name": "Acme private board",
            "description": "",
            "parent": None,
            "can_post": True,
        },
    }


def test_spaces_of_a_member_of_another_organisation(client, outsider, public_space, private_space):
    client.force_login(outsider)
    assert set(_spaces(client.get(SPACES))) == {"inverters"}


def test_spaces_of_a_suspended_member_say_they_cannot_post(
    client, asker, public_space, private_space
):
    # given Acme's member is suspended
    suspend(asker)
    client.force_login(asker)
    # when they list the spaces / then they still see them, and may post in none
    spaces = _spaces(client.get(SPACES))
    assert {slug: space["can_post"] for slug, space in spaces.items()} == {
        "inverters": False,
        "acme-board": False,
    }


def test_spaces_of_tokens_follow_their_organisation(client, org_a, org_b, private_space):
    # given Acme's private space and a public one
    Space.objects.create(name="General", slug="general")
    # when each organisation's token lists the spaces
    acme = _spaces(client.get(SPACES, headers=_token(org_a, ["community:read"])))
    globex = _spaces(client.get(SPACES, headers=_token(org_b, ["community:read"])))
    # then Acme's sees its private space, Globex's does not; can_post is a person's question
    assert set(acme) == {"general", "acme-board"}
    assert set(globex) == {"general"}
    assert {space["can_post"] for space in acme.values()} == {None}


def test_reading_the_spaces_creates_no_member_record(client, org_a, public_space):
    # given a member who has never taken part
    user = MembershipFactory(organisation=org_a).user
    client.force_login(user)
    # when they list the spaces / then they may post, and nothing is written
    assert _spaces(client.get(SPACES))["inverters"]["can_post"] is True
    assert not Member.objects.filter(user=user).exists()


# --------------------------------------------------------------------------------------------
# GET /community/topics
# --------------------------------------------------------------------------------------------


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_topics_of_a_member_of_the_allowed_organisation(client, asker, public_topic, private_topic):
    client.force_login(asker)
    response = client.get(TOPICS)
    assert _titles(response) == ["Acme warranty claim", "Inverter firmware upgrade"]
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 20)
    item = body["items"][1]
    assert item == {
        "id": public_topic.pk,
        "space": {"slug": "inverters", "name": "Solar inverters"},
        "kind": "question",
        "title": "Inverter firmware upgrade",
        "author": {
            "name": asker.get_full_name(),
            "handle": Member.objects.get(user=asker).handle,
        },
        "organisation": "Acme Solar",
        "tags": [{"slug": "firmware", "name": "Firmware"}],
        "created_at": item["created_at"],
        "last_activity_at": item["last_activity_at"],
        "reply_count": 0,
        "score": 0,
        "solved": False,
        "pinned": False,
        "locked": False,
        "url": f"http://testserver/community/t/{public_topic.pk}/",
    }


def test_topics_of_a_member_of_another_organisation_leave_out_private_ones(
    client, outsider, public_topic, private_topic, private_space
):
    client.force_login(outsider)
    # when Globex's member lists topics / then Acme's private topic is not among them
    assert _titles(client.get(TOPICS)) == ["Inverter firmware upgrade"]
    assert client.get(TOPICS).json()["count"] == 1
    # and naming the private space is 404, as for a space that does not exist
    _error(client.get(TOPICS, {"space": "acme-board"}), 404, "not_found", "space")
    _error(client.get(TOPICS, {"space": "no-such-space"}), 404, "not_found", "space")


def test_topics_for_tokens_follow_their_organisation(
    client, org_a, org_b, public_topic, private_topic
):
    acme = client.get(TOPICS, headers=_token(org_a, ["community:read"]))
    globex = client.get(TOPICS, headers=_token(org_b, ["community:read"]))
    assert _titles(acme) == ["Acme warranty claim", "Inverter firmware upgrade"]
    assert _titles(globex) == ["Inverter firmware upgrade"]


def test_a_suspended_member_still_reads_topics(client, asker, public_topic, private_topic):
    suspend(asker)
    client.force_login(asker)
    assert _titles(client.get(TOPICS)) == ["Acme warranty claim", "Inverter firmware upgrade"]


def test_topic_filters_and_sorting(
    client, asker, colleague, engineer, public_space, private_space, ask, tags
):
    # given a sub-space, an answered question, a solved one, a discussion and an unanswered one
    sub = Space.objects.create(name="Hybrid inverters", slug="hybrid", parent=public_space)
    solved = ask(asker, public_space, title="Night-time readings are zero", tags=["firmware"])
    answer = actions.reply(engineer, solved, body="Update to 3.2.1.")
    actions.accept_answer(asker, answer)
    answered = ask(colleague, sub, title="Battery sizing for 10 kWp")
    actions.reply(engineer, answered, body="Around 10 kWh.")
    talk = ask(colleague, public_space, title="Share your yields", kind=TopicKind.DISCUSSION)
    actions.react(asker, talk.posts.get(), "upvote")
    lonely = ask(colleague, private_space, title="Scope 2 with green tariffs", tags=["scope-2"])
    actions.set_level(asker, "watching", topic=lonely)
    client.force_login(asker)

    def titles(**params):
        return _titles(client.get(TOPICS, params))

    # then each filter selects its topics, newest activity first
    assert titles(space="inverters") == [
        "Share your yields",
        "Battery sizing for 10 kWp",
        "Night-time readings are zero",
    ]
    assert titles(space="hybrid") == ["Battery sizing for 10 kWp"]
    assert titles(tag="firmware") == ["Night-time readings are zero"]
    assert titles(kind="discussion") == ["Share your yields"]
    assert titles(filter="unanswered") == ["Scope 2 with green tariffs"]
    assert titles(filter="solved") == ["Night-time readings are zero"]
    assert titles(filter="mine") == ["Night-time readings are zero"]
    assert titles(filter="followed") == [
        "Scope 2 with green tariffs",
        "Night-time readings are zero",
    ]
    # and the sort orders differ
    assert titles(sort="top")[0] == "Share your yields"
    assert titles(sort="newest") == [
        "Scope 2 with green tariffs",
        "Share your yields",
        "Battery sizing for 10 kWp",
        "Night-time readings are zero",
    ]
    # and the solved flag is set in the list
    items = {item["title"]: item for item in client.get(TOPICS).json()["items"]}
    assert items["Night-time readings are zero"]["solved"] is True
    assert items["Battery sizing for 10 kWp"]["reply_count"] == 1


def test_pinned_topics_come_first_in_latest(client, asker, engineer, public_space, ask):
    first = ask(asker, public_space, title="Read this first")
    ask(asker, public_space, title="A later question")
    actions.set_pinned(engineer, first, True)
    client.force_login(asker)
    assert _titles(client.get(TOPICS)) == ["Read this first", "A later question"]
    assert client.get(TOPICS).json()["items"][0]["pinned"] is True


def test_personal_filters_need_a_person(client, org_a, public_topic):
    headers = _token(org_a, ["community:read"])
    for name in ("mine", "followed"):
        response = client.get(TOPICS, {"filter": name}, headers=headers)
        _error(response, 403, "person_required", "filter")


def test_topic_list_pages(client, asker, public_space, ask):
    for n in range(5):
        ask(asker, public_space, title=f"Question number {n}")
    client.force_login(asker)
    body = client.get(TOPICS, {"page": 2, "page_size": 2}).json()
    assert (body["count"], body["page"], body["page_size"]) == (5, 2, 2)
    assert [item["title"] for item in body["items"]] == ["Question number 2", "Question number 1"]
    # and a page size over 200 (every list's limit, portal.api_common) is refused, field named
    _error(client.get(TOPICS, {"page_size": 201}), 422, "validation_error", "page_size")
    _error(client.get(TOPICS, {"sort": "oldest"}), 422, "validation_error", "sort")


def _many_topics(count, public_space, ask, tags):
    """`count` topics by three people, each with a tag, a reply and a reaction: enough variety
    that a query per row (author, handle, organisation, tags) would show."""
    people = []
    for n in range(3):
        person = settled(UserFactory(first_name=f"Author{n}"))
        MembershipFactory(user=person)
        people.append(person)
    for n in range(count):
        author, helper = people[n % 3], people[(n + 1) % 3]
        topic = ask(author, public_space, title=f"Question {n:02d} about inverters", tags=["储能"])
        actions.reply(helper, topic, body="An answer")
        actions.react(helper, topic.posts.get(number=1), "upvote")


@pytest.mark.parametrize("caller", ["session", "token"])
@pytest.mark.parametrize("count", [3, 30])
def test_topic_list_queries_are_bounded(
    client, org_a, asker, public_space, ask, tags, django_assert_max_num_queries, caller, count
):
    # given 3 or 30 topics by as many people
    _many_topics(count, public_space, ask, tags)
    headers = {}
    if caller == "session":
        client.force_login(asker)
    else:
        headers = _token(org_a, ["community:read"])
    # when a page with all of them is read / then the number of queries does not grow
    # + 2: setting and restoring the request's row-level scope (portal/tenancy.py)
    with django_assert_max_num_queries(9):
        response = client.get(
            TOPICS, {"page_size": 50, "space": "inverters", "tag": "储能"}, headers=headers
        )
    assert response.json()["count"] == count


# --------------------------------------------------------------------------------------------
# POST /community/topics
# --------------------------------------------------------------------------------------------


def _create(client, headers=None, **fields):
    body = {
        "space": "inverters",
        "kind": "question",
        "title": "Export limit resets after reboot",
        "body": "After a reboot the export limit goes back to 100 %.",
        "tags": ["firmware"],
        **fields,
    }
    return _post_json(client, TOPICS, body, headers)


def test_a_member_starts_a_topic(client, asker, public_space, tags, received_events):
    client.force_login(asker)
    # when Acme's member starts a question with a tag
    response = _create(client)
    # then it is created and returned with its opening post
    assert response.status_code == 201, response.content
    topic = Topic.objects.get()
    body = response.json()
    assert (body["id"], body["title"], body["kind"]) == (
        topic.pk,
        "Export limit resets after reboot",
        "question",
    )
    assert body["tags"] == [{"slug": "firmware", "name": "Firmware"}]
    assert (body["accepted_answer_id"], body["can_reply"], body["can_accept"]) == (None, True, True)
    [post] = body["posts"]
    assert post["number"] == 1
    assert post["body"] == "After a reboot the export limit goes back to 100 %."
    assert post["html"] == "<p>After a reboot the export limit goes back to 100 %.</p>\n"
    assert post["organisation"] == "Acme Solar"
    assert (topic.author, topic.space, list(topic.tags.values_list("slug", flat=True))) == (
        asker,
        public_space,
        ["firmware"],
    )


def test_posting_script_through_the_api_returns_sanitised_html(client, asker, public_space):
    client.force_login(asker)
    payload = (
        "<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) <img src=x onerror=alert(1)> "
        '<iframe src="https://evil.example"></iframe>'
    )
    # when a post carries script, an event handler, a javascript: link and an iframe
    response = _create(client, body=payload, tags=[])
    assert response.status_code == 201, response.content
    # then the returned HTML has none of them as markup, and reading it back gives the same
    for html in (
        response.json()["posts"][0]["html"],
        client.get(f"{TOPICS}/{response.json()['id']}").json()["posts"][0]["html"],
    ):
        assert "<script" not in html
        assert "<iframe" not in html
        assert "<img" not in html
        assert "<a " not in html
        assert 'href="javascript' not in html
        assert "&lt;script&gt;" in html
    # and the Markdown is kept as written
    assert response.json()["posts"][0]["body"] == payload


def test_starting_a_topic_in_an_invisible_space_is_404(client, outsider, private_space):
    client.force_login(outsider)
    before = _written()
    _error(_create(client, space="acme-board", tags=[]), 404, "not_found", "space")
    assert _written() == before


def test_a_suspended_member_cannot_start_a_topic(client, asker, public_space, tags):
    suspend(asker, reason="Spam links")
    client.force_login(asker)
    before = _written()
    message = _error(_create(client), 403, "posting_refused")
    assert message.startswith("Your posting is suspended until")
    assert "Spam links" in message
    assert _written() == before


def test_a_staff_only_space_refuses_customers(client, asker):
    Space.objects.create(name="News", slug="news", who_can_post=WhoCanPost.STAFF)
    client.force_login(asker)
    message = _error(_create(client, space="news", tags=[]), 403, "posting_refused")
    assert message == "You can read this space, but only people it invites can post in it."
    assert Topic.objects.count() == 0


def test_new_members_are_rate_limited(client, public_space, org_a):
    # given a member who joined today and has posted three times this hour
    newcomer = MembershipFactory(organisation=org_a).user
    client.force_login(newcomer)
    for n in range(3):
        assert _create(client, title=f"Question {n} of today", tags=[]).status_code == 201
    # when they post a fourth time / then they are told when they may post again
    message = _error(_create(client, title="One more question", tags=[]), 429, "rate_limited")
    assert message.startswith("New members can post 3 times an hour")
    assert Topic.objects.count() == 3


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"title": "Hi"}, 400, "title", "title"),
        ({"body": "   "}, 400, "body_empty", "body"),
        ({"tags": ["no-such-tag"]}, 400, "unknown_tag", "tags"),
        # Schema errors name the field as the portal's handler does: under the body's name.
        ({"kind": "poll"}, 422, "validation_error", "payload.kind"),
        ({"title": None}, 422, "validation_error", "payload.title"),
    ],
)
def test_invalid_topics_are_refused_with_the_field(
    client, asker, public_space, tags, fields, status, code, field
):
    client.force_login(asker)
    _error(_create(client, **fields), status, code, field)
    assert Topic.objects.count() == 0


def test_a_token_cannot_start_a_topic(client, org_a, org_b, private_space, tags):
    before = _written()
    # when Acme's token starts a topic in its space / then a person is required
    message = _error(_create(client, _token(org_a), space="acme-board"), 403, "person_required")
    assert message == PERSON_REQUIRED
    # and Globex's token gets the same answer, before the space it names is looked up
    message = _error(_create(client, _token(org_b), space="acme-board"), 403, "person_required")
    assert message == PERSON_REQUIRED
    assert _written() == before


# --------------------------------------------------------------------------------------------
# GET /community/topics/{topic_id}
# --------------------------------------------------------------------------------------------


def test_a_member_reads_a_topic_with_its_posts(
    client, asker, colleague, engineer, private_topic, private_reply
):
    # given a reply the asker accepted, one reaction and a reply under review
    actions.accept_answer(asker, private_reply)
    actions.react(asker, private_reply, "thanks")
    actions.react(engineer, private_reply, "thanks")
    actions.react(engineer, private_reply, "upvote")
    pending = actions.reply(colleague, private_topic, body="Any news?")
    actions.set_post_status(pending, PostStatus.PENDING_REVIEW)
    client.force_login(asker)
    # when the asker reads the topic
    response = client.get(topic_url(private_topic))
    # then it carries the readable posts with their reactions and the accepted answer
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["solved"], body["accepted_answer_id"]) == (
        "Acme warranty claim",
        True,
        private_reply.pk,
    )
    assert [post["number"] for post in body["posts"]] == [1, 2]
    reply = body["posts"][1]
    assert reply == {
        "id": private_reply.pk,
        "number": 2,
        "author": {"name": "Cora Lee", "handle": "colleague"},
        "organisation": "Acme Solar",
        "body": "Same here with AC-779.",
        "html": "<p>Same here with AC-779.</p>\n",
        "status": "visible",
        "reply_to": None,
        "created_at": reply["created_at"],
        "edited_at": None,
        "reactions": {"thanks": 2, "upvote": 1},
        "my_reactions": ["thanks"],
        "is_accepted": True,
        "attachments": [],
    }
    # and the author of the post under review sees it, marked
    client.force_login(colleague)
    posts = client.get(topic_url(private_topic)).json()["posts"]
    assert [(post["number"], post["status"]) for post in posts] == [
        (1, "visible"),
        (2, "visible"),
        (3, "pending_review"),
    ]


def test_attachments_are_listed_with_their_private_address(client, asker, public_space, ask):
    # given a question with a PDF attached
    pdf = SimpleUploadedFile("meter.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF\n", "application/pdf")
    topic = ask(asker, public_space, attachments=[pdf])
    attachment = Attachment.objects.get()
    client.force_login(asker)
    # when the topic is read / then the attachment links to the view that checks visibility
    [post] = client.get(topic_url(topic)).json()["posts"]
    assert post["attachments"] == [
        {
            "name": "meter.pdf",
            "content_type": "application/pdf",
            "size": attachment.size,
            "url": f"http://testserver/community/attachments/{attachment.pk}/",
            "download_url": f"http://testserver/community/attachments/{attachment.pk}/original/",
        }
    ]


@pytest.mark.parametrize("replies", [2, 20])
def test_reading_a_topic_takes_a_fixed_number_of_queries(
    client, asker, public_topic, django_assert_max_num_queries, replies
):
    # given replies by several people, each thanked by the asker
    people = []
    for n in range(3):
        person = settled(UserFactory(first_name=f"Helper{n}"))
        MembershipFactory(user=person)
        people.append(person)
    for n in range(replies):
        post = actions.reply(people[n % 3], public_topic, body=f"Reply {n}")
        actions.react(asker, post, "thanks")
    client.force_login(asker)
    # when the topic is read / then the count of queries does not grow with the replies
    # + 2: setting and restoring the request's row-level scope (portal/tenancy.py)
    with django_assert_max_num_queries(13):
        response = client.get(topic_url(public_topic))
    assert len(response.json()["posts"]) == replies + 1


def test_a_member_of_another_organisation_gets_404_for_a_private_topic(
    client, outsider, private_topic
):
    client.force_login(outsider)
    message = _error(client.get(topic_url(private_topic)), 404, "not_found")
    assert message == "No such topic."


def test_tokens_read_topics_of_their_organisation_only(
    client, org_a, org_b, colleague, private_topic, private_reply
):
    # given a reply under review
    pending = actions.reply(colleague, private_topic, body="Any news?")
    actions.set_post_status(pending, PostStatus.PENDING_REVIEW)
    # when Acme's token reads the topic / then it sees the visible posts only
    response = client.get(topic_url(private_topic), headers=_token(org_a, ["community:read"]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [post["number"] for post in body["posts"]] == [1, 2]
    assert (body["can_reply"], body["reply_refusal"], body["can_accept"]) == (False, None, False)
    assert {post["my_reactions"] == [] for post in body["posts"]} == {True}
    # and Globex's token gets 404
    response = client.get(topic_url(private_topic), headers=_token(org_b, ["community:read"]))
    _error(response, 404, "not_found")


def test_a_suspended_member_reads_a_topic_and_is_told_why_they_cannot_reply(
    client, asker, private_topic
):
    suspend(asker, reason="Cooling off")
    client.force_login(asker)
    body = client.get(topic_url(private_topic)).json()
    assert body["can_reply"] is False
    assert "Cooling off" in body["reply_refusal"]
    assert [post["number"] for post in body["posts"]] == [1]


# --------------------------------------------------------------------------------------------
# POST /community/topics/{topic_id}/replies
# --------------------------------------------------------------------------------------------


def test_a_member_replies(client, asker, colleague, private_topic):
    client.force_login(colleague)
    opening = private_topic.posts.get(number=1)
    response = _post_json(
        client,
        replies_url(private_topic),
        {"body": "Did you try **3.2.1**?", "reply_to": opening.pk},
    )
    assert response.status_code == 201, response.content
    post = Post.objects.get(topic=private_topic, number=2)
    assert response.json() | {"created_at": None} == {
        "id": post.pk,
        "number": 2,
        "author": {"name": "Cora Lee", "handle": "colleague"},
        "organisation": "Acme Solar",
        "body": "Did you try **3.2.1**?",
        "html": "<p>Did you try <strong>3.2.1</strong>?</p>\n",
        "status": "visible",
        "reply_to": opening.pk,
        "created_at": None,
        "edited_at": None,
        "reactions": {},
        "my_reactions": [],
        "is_accepted": False,
        "attachments": [],
    }
    assert Topic.objects.get(pk=private_topic.pk).reply_count == 1


def test_replying_to_a_locked_topic_is_refused(client, asker, engineer, public_topic):
    actions.set_locked(engineer, public_topic, True)
    client.force_login(asker)
    message = _error(
        _post_json(client, replies_url(public_topic), {"body": "Me too"}), 403, "posting_refused"
    )
    assert message == "This topic is locked: it takes no new replies."
    assert Post.objects.filter(topic=public_topic).count() == 1


def test_a_member_of_another_organisation_cannot_reply_to_a_private_topic(
    client, outsider, private_topic
):
    client.force_login(outsider)
    response = _post_json(client, replies_url(private_topic), {"body": "Let me in"})
    _error(response, 404, "not_found")
    assert Post.objects.filter(topic=private_topic).count() == 1


def test_a_suspended_member_cannot_reply(client, asker, private_topic):
    suspend(asker, reason="Cooling off")
    client.force_login(asker)
    response = _post_json(client, replies_url(private_topic), {"body": "Still here"})
    assert "Cooling off" in _error(response, 403, "posting_refused")
    assert Post.objects.filter(topic=private_topic).count() == 1


def test_reply_text_and_target_are_checked(client, asker, public_topic, private_topic):
    client.force_login(asker)
    _error(_post_json(client, replies_url(private_topic), {}), 400, "body_empty", "body")
    other = public_topic.posts.get(number=1)
    response = _post_json(client, replies_url(private_topic), {"body": "Hi", "reply_to": other.pk})
    _error(response, 400, "reply_to", "reply_to")
    assert Post.objects.filter(topic=private_topic).count() == 1


def test_a_reply_target_must_be_a_number_not_a_string(client, asker, private_topic):
    # given the asker and the opening post of their topic
    client.force_login(asker)
    opening = private_topic.posts.get(number=1)
    # when the reply names its target as a string of digits
    response = _post_json(
        client, replies_url(private_topic), {"body": "Hi", "reply_to": str(opening.pk)}
    )
    # then it is refused as the schema says (an integer), and nothing is posted
    _error(response, 422, "validation_error", "payload.reply_to")
    assert Post.objects.filter(topic=private_topic).count() == 1


def test_tokens_cannot_reply(client, org_a, org_b, private_topic):
    response = _post_json(client, replies_url(private_topic), {"body": "Bot"}, _token(org_a))
    assert _error(response, 403, "person_required") == PERSON_REQUIRED
    response = _post_json(client, replies_url(private_topic), {"body": "Bot"}, _token(org_b))
    _error(response, 404, "not_found")
    assert Post.objects.filter(topic=private_topic).count() == 1


# --------------------------------------------------------------------------------------------
# POST /community/posts/{post_id}/reactions
# --------------------------------------------------------------------------------------------


def test_reactions_toggle(client, asker, outsider, public_topic):
    post = public_topic.posts.get()
    client.force_login(outsider)
    # when Globex's member thanks Acme's member's public post, twice
    first = _post_json(client, reactions_url(post), {"kind": "thanks"})
    second = _post_json(client, reactions_url(post), {"kind": "thanks"})
    # then the reaction is given, then taken back
    assert first.json() == {"kind": "thanks", "on": True, "count": 1}
    assert second.json() == {"kind": "thanks", "on": False, "count": 0}
    assert Reaction.objects.count() == 0
    # and the default kind is an upvote
    assert _post_json(client, reactions_url(post)).json() == {
        "kind": "upvote",
        "on": True,
        "count": 1,
    }


@pytest.mark.parametrize("body", ["5.02e16", '"thanks"', '["upvote"]', "true"])
def test_a_body_that_is_not_an_object_is_refused(client, outsider, public_topic, body):
    # given a reader of a public post
    post = public_topic.posts.get()
    client.force_login(outsider)
    # when the body is JSON but not an object (every field of the schema has a default)
    response = client.post(reactions_url(post), body, content_type="application/json")
    # then it is a 422 naming the body, not a reaction at the defaults
    _error(response, 422, "validation_error", "payload")
    assert Reaction.objects.count() == 0


def test_reactions_on_private_posts_and_own_posts(client, asker, outsider, private_reply):
    client.force_login(outsider)
    _error(_post_json(client, reactions_url(private_reply), {"kind": "upvote"}), 404, "not_found")
    client.force_login(private_reply.author)
    response = _post_json(client, reactions_url(private_reply), {"kind": "upvote"})
    _error(response, 400, "own_post")
    _error(
        _post_json(client, reactions_url(private_reply), {"kind": "love"}),
        422,
        "validation_error",
        "payload.kind",
    )
    assert Reaction.objects.count() == 0


def test_tokens_cannot_react(client, org_a, org_b, private_reply):
    response = _post_json(client, reactions_url(private_reply), {"kind": "upvote"}, _token(org_a))
    assert _error(response, 403, "person_required") == PERSON_REQUIRED
    response = _post_json(client, reactions_url(private_reply), {"kind": "upvote"}, _token(org_b))
    _error(response, 404, "not_found")
    assert Reaction.objects.count() == 0


# --------------------------------------------------------------------------------------------
# Accepting an answer
# --------------------------------------------------------------------------------------------


def test_the_asker_accepts_and_withdraws_an_answer(client, asker, private_topic, private_reply):
    client.force_login(asker)
    # when the asker accepts the reply
    response = _post_json(client, accept_url(private_reply))
    # then the topic is solved, with that answer
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["solved"], body["accepted_answer_id"]) == (True, private_reply.pk)
    assert [post["is_accepted"] for post in body["posts"]] == [False, True]
    assert Topic.objects.get(pk=private_topic.pk).accepted_answer == private_reply
    # when they withdraw it / then it is no longer solved
    response = client.delete(f"{topic_url(private_topic)}/accepted-answer")
    assert response.status_code == 200, response.content
    assert (response.json()["solved"], response.json()["accepted_answer_id"]) == (False, None)
    assert Topic.objects.get(pk=private_topic.pk).accepted_answer is None


def test_only_the_asker_or_staff_accept(client, colleague, engineer, private_topic, private_reply):
    # given another member of Acme
    other = settled(MembershipFactory(organisation=private_topic.organisation).user)
    client.force_login(other)
    message = _error(_post_json(client, accept_url(private_reply)), 403, "posting_refused")
    assert message == "Only the person who asked or vendor staff can accept an answer."
    response = client.delete(f"{topic_url(private_topic)}/accepted-answer")
    _error(response, 403, "posting_refused")
    assert Topic.objects.get(pk=private_topic.pk).accepted_answer is None
    # and vendor staff may
    client.force_login(engineer)
    assert _post_json(client, accept_url(private_reply)).json()["solved"] is True


def test_the_opening_post_is_not_an_answer(client, asker, private_topic):
    client.force_login(asker)
    response = _post_json(client, accept_url(private_topic.posts.get(number=1)))
    _error(response, 400, "not_a_reply")


def test_a_member_of_another_organisation_cannot_accept(client, outsider, private_reply):
    client.force_login(outsider)
    _error(_post_json(client, accept_url(private_reply)), 404, "not_found")
    response = client.delete(f"{topic_url(private_reply.topic)}/accepted-answer")
    _error(response, 404, "not_found")


def test_tokens_cannot_accept(client, org_a, org_b, private_topic, private_reply):
    url = f"{topic_url(private_topic)}/accepted-answer"
    response = _post_json(client, accept_url(private_reply), headers=_token(org_a))
    assert _error(response, 403, "person_required") == PERSON_REQUIRED
    _error(client.delete(url, headers=_token(org_a)), 403, "person_required")
    _error(_post_json(client, accept_url(private_reply), headers=_token(org_b)), 404, "not_found")
    _error(client.delete(url, headers=_token(org_b)), 404, "not_found")
    assert Topic.objects.get(pk=private_topic.pk).accepted_answer is None


# --------------------------------------------------------------------------------------------
# GET /community/search
# --------------------------------------------------------------------------------------------


def _found(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_search_finds_what_the_caller_may_see(
    client, org_a, org_b, asker, outsider, public_space, private_topic, private_reply, ask
):
    ask(asker, public_space, title="Warranty for inverters", body="How long is the warranty?")
    # when Acme's member searches / then both topics are found
    client.force_login(asker)
    response = client.get(SEARCH, {"q": "warranty"})
    assert sorted(_found(response)) == ["Acme warranty claim", "Warranty for inverters"]
    hit = next(i for i in response.json()["items"] if i["title"] == "Acme warranty claim")
    assert hit == {
        "topic_id": private_topic.pk,
        "title": "Acme warranty claim",
        "space": {"slug": "acme-board", "name": "Acme private board"},
        "solved": False,
        "post_id": hit["post_id"],
        "number": 1,
        "snippet_html": hit["snippet_html"],
        "url": f"http://testserver/community/t/{private_topic.pk}/#post-1",
    }
    # and a word only in the private reply is found by Acme, not by Globex's member
    assert _found(client.get(SEARCH, {"q": "AC-779"})) == ["Acme warranty claim"]
    client.force_login(outsider)
    assert _found(client.get(SEARCH, {"q": "warranty"})) == ["Warranty for inverters"]
    assert _found(client.get(SEARCH, {"q": "AC-779"})) == []
    # and tokens find what their organisation may see
    client.logout()
    acme = client.get(SEARCH, {"q": "warranty"}, headers=_token(org_a, ["community:read"]))
    globex = client.get(SEARCH, {"q": "warranty"}, headers=_token(org_b, ["community:read"]))
    assert sorted(_found(acme)) == ["Acme warranty claim", "Warranty for inverters"]
    assert _found(globex) == ["Warranty for inverters"]


def test_search_snippets_are_escaped(client, asker, public_space, ask):
    ask(asker, public_space, title="Escaping check", body="`<b>bold</b>` inverter note")
    client.force_login(asker)
    [hit] = client.get(SEARCH, {"q": "inverter"}).json()["items"]
    assert "<b>" not in hit["snippet_html"]
    assert "<mark>inverter</mark>" in hit["snippet_html"]


def test_a_suspended_member_still_searches(client, asker, private_topic):
    suspend(asker)
    client.force_login(asker)
    assert _found(client.get(SEARCH, {"q": "warranty"})) == ["Acme warranty claim"]


def test_search_needs_a_query(client, asker):
    client.force_login(asker)
    _error(client.get(SEARCH), 422, "validation_error", "q")
    _error(client.get(SEARCH, {"q": "x", "limit": 51}), 422, "validation_error", "limit")


# --------------------------------------------------------------------------------------------
# OpenAPI
# --------------------------------------------------------------------------------------------


def test_openapi_documents_the_community_endpoints(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    expected = {
        ("/api/v1/community/spaces", "get"),
        ("/api/v1/community/topics", "get"),
        ("/api/v1/community/topics", "post"),
        ("/api/v1/community/topics/{topic_id}", "get"),
        ("/api/v1/community/topics/{topic_id}/replies", "post"),
        ("/api/v1/community/posts/{post_id}/reactions", "post"),
        ("/api/v1/community/posts/{post_id}/accept", "post"),
        ("/api/v1/community/topics/{topic_id}/accepted-answer", "delete"),
        ("/api/v1/community/search", "get"),
    }
    community = {
        (path, method): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if "Community" in operation.get("tags", [])
    }
    assert set(community) == expected
    for (path, method), operation in community.items():
        assert operation["summary"], (path, method)
        assert operation["description"], (path, method)
        assert {"401", "403", "404", "422"} <= set(operation["responses"]), (path, method)
    assert "429" in community[("/api/v1/community/topics", "post")]["responses"]
    assert "201" in community[("/api/v1/community/topics/{topic_id}/replies", "post")]["responses"]
