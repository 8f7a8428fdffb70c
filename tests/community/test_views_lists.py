"""Community list pages: the spaces overview, a space, a tag and a member's profile. Who sees
what (allowed organisation, another organisation, a suspended member, anonymous), the topic
list's filters, sorts and pagination, the solved marker, and a query count that does not grow
with the number of topics."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from community import access, actions, page_cache
from community.models import (
    Audience,
    Level,
    Post,
    PostStatus,
    Space,
    Subscription,
    Topic,
    TopicKind,
    WhoCanPost,
)
from tests.community.conftest import settled
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_topic(space, author, title, *, minutes_ago=0, replies=(), tags=(), **fields):
    """A topic written straight to the tables, its counters set as the actions would set them."""
    when = timezone.now() - dt.timedelta(minutes=minutes_ago)
    topic = Topic.objects.create(
        space=space,
        author=author,
        title=title,
        created_at=when,
        last_activity_at=when,
        last_poster=author,
        **fields,
    )
    topic.tags.set(tags)
    Post.objects.create(
        topic=topic, number=1, author=author, body=title, html=f"<p>{title}</p>", created_at=when
    )
    for number, replier in enumerate(replies, start=2):
        Post.objects.create(
            topic=topic, number=number, author=replier, body="Reply", html="<p>Reply</p>"
        )
    if replies:
        topic.reply_count = len(replies)
        topic.last_poster = replies[-1]
        topic.save(update_fields=["reply_count", "last_poster"])
    return topic


def titles(response) -> list[str]:
    return [topic.title for topic in response.context["page"].object_list]


def row(response, topic) -> str:
    """The rendered list entry of one topic."""
    match = re.search(
        rf'<li id="topic-{topic.pk}"[^>]*>(.*?)</li>', response.content.decode(), re.S
    )
    assert match, f"topic {topic.pk} is not on the page"
    return match.group(0)


def index_url(**params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return reverse("community:index") + (f"?{query}" if query else "")


@pytest.fixture
def board(public_space, private_space, member_a, member_b, tags):
    """Public topics by both organisations and one topic in Acme's private space."""
    return {
        "public_a": make_topic(
            public_space, member_a, "Inverter firmware update", tags=[tags["firmware"]]
        ),
        "public_b": make_topic(
            public_space, member_b, "Scope 2 question from Globex", tags=[tags["scope-2"]]
        ),
        "private": make_topic(
            private_space, member_a, "Acme confidential roadmap", tags=[tags["firmware"]]
        ),
    }


# --------------------------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("community:index", {}),
        ("community:space", {"space_slug": "inverters"}),
        ("community:tag", {"tag_slug": "firmware"}),
        ("community:person", {"handle": "member"}),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, board, name, kwargs):
    # given someone who is not signed in
    # when they open a community list page
    response = client.get(reverse(name, kwargs=kwargs))
    # then they are sent to the sign-in page
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_member_of_the_allowed_organisation_sees_the_private_space(client, board, member_a):
    # given Acme's member
    client.force_login(member_a)
    # when they open the overview and the private space
    overview = client.get(reverse("community:index"))
    space = client.get(reverse("community:space", kwargs={"space_slug": "acme-board"}))
    # then both spaces and all three topics are listed, and the private space opens
    assert [s.slug for s in overview.context["spaces"]] == ["acme-board", "inverters"]
    assert set(titles(overview)) == {
        "Inverter firmware update",
        "Scope 2 question from Globex",
        "Acme confidential roadmap",
    }
    assert space.status_code == 200
    assert titles(space) == ["Acme confidential roadmap"]


def test_member_of_another_organisation_cannot_find_the_private_space(client, board, member_b):
    # given Globex's member
    client.force_login(member_b)
    # when they open the overview, the private space, the tag page and the author's profile
    overview = client.get(reverse("community:index"))
    space = client.get(reverse("community:space", kwargs={"space_slug": "acme-board"}))
    tag = client.get(reverse("community:tag", kwargs={"tag_slug": "firmware"}))
    handle = access.member_for(board["private"].author).handle
    person = client.get(reverse("community:person", kwargs={"handle": handle}))
    # then the private space is a 404 and its topic appears nowhere
    assert space.status_code == 404
    assert [s.slug for s in overview.context["spaces"]] == ["inverters"]
    assert "Acme confidential roadmap" not in overview.content.decode()
    assert "Acme private board" not in overview.content.decode()
    assert titles(tag) == ["Inverter firmware update"]
    assert "Acme confidential roadmap" not in tag.content.decode()
    assert person.status_code == 200
    assert [post.topic.title for post in person.context["page"].object_list] == [
        "Inverter firmware update"
    ]
    assert "Acme confidential roadmap" not in person.content.decode()


def test_suspended_member_still_reads_but_is_told_why_they_cannot_post(
    client, board, member_a, public_space
):
    # given Acme's member, suspended from posting
    member = access.member_for(member_a)
    member.suspended_until = timezone.now() + dt.timedelta(days=3)
    member.suspension_reason = "Repeated spam"
    member.save(update_fields=["suspended_until", "suspension_reason"])
    client.force_login(member_a)
    # when they open the overview and a space
    overview = client.get(reverse("community:index"))
    space = client.get(reverse("community:space", kwargs={"space_slug": "inverters"}))
    # then they read everything they could before, with the reason instead of "New topic"
    assert len(titles(overview)) == 3
    assert space.status_code == 200
    html = space.content.decode()
    assert "Repeated spam" in html
    assert reverse("community:new_topic", kwargs={"space_slug": "inverters"}) not in html
    assert space.context["posting_refusal"] == access.posting_refusal(member_a, public_space)


def test_space_offers_new_topic_to_those_who_may_post(client, public_space, member_a, viewer_a):
    # given a member (may post) and a viewer (read-only role) of Acme
    new_topic = reverse("community:new_topic", kwargs={"space_slug": "inverters"})
    url = reverse("community:space", kwargs={"space_slug": "inverters"})
    # when each opens the space
    client.force_login(member_a)
    as_member = client.get(url)
    client.force_login(viewer_a)
    as_viewer = client.get(url)
    # then the member gets the button and the viewer the refusal
    assert new_topic in as_member.content.decode()
    assert as_member.context["posting_refusal"] is None
    assert new_topic not in as_viewer.content.decode()
    assert "only people it invites can post" in as_viewer.content.decode()


def test_staff_only_space_tells_customers_they_can_read_only(client, member_a, engineer):
    # given a space where only vendor staff post
    Space.objects.create(name="Announcements", slug="news", who_can_post=WhoCanPost.STAFF)
    url = reverse("community:space", kwargs={"space_slug": "news"})
    new_topic = reverse("community:new_topic", kwargs={"space_slug": "news"})
    # when a customer and an engineer open it
    client.force_login(member_a)
    customer = client.get(url)
    client.force_login(engineer)
    staff = client.get(url)
    # then only the engineer is offered "New topic"
    assert customer.context["posting_refusal"]
    assert new_topic not in customer.content.decode()
    assert new_topic in staff.content.decode()


def test_space_lists_its_sub_spaces_topics_and_hides_sub_spaces_one_may_not_see(
    client, org_a, public_space, member_a, member_b
):
    # given a public space with a public sub-space and one for Acme only, a topic in each
    guides = Space.objects.create(name="Guides", slug="guides", parent=public_space)
    acme_only = Space.objects.create(
        name="Acme setup", slug="acme-setup", parent=public_space, audience=Audience.ORGANISATIONS
    )
    acme_only.organisations.set([org_a])
    make_topic(public_space, member_a, "Top-level topic")
    make_topic(guides, member_a, "Guide topic")
    make_topic(acme_only, member_a, "Acme setup topic")
    url = reverse("community:space", kwargs={"space_slug": "inverters"})
    # when each organisation's member opens the parent space
    client.force_login(member_a)
    acme = client.get(url)
    client.force_login(member_b)
    globex = client.get(url)
    # then each sees the sub-spaces and sub-space topics open to them, and nothing more
    assert [s.slug for s in acme.context["subspaces"]] == ["acme-setup", "guides"]
    assert set(titles(acme)) == {"Top-level topic", "Guide topic", "Acme setup topic"}
    assert [s.slug for s in globex.context["subspaces"]] == ["guides"]
    assert set(titles(globex)) == {"Top-level topic", "Guide topic"}
    assert "Acme setup" not in globex.content.decode()


def test_index_nests_sub_spaces_and_counts_live_topics(client, public_space, member_a):
    # given a space with a sub-space, two live topics, one hidden and one merged away
    guides = Space.objects.create(
        name="Guides", slug="guides", parent=public_space, description="How-tos"
    )
    live = make_topic(public_space, member_a, "Live topic")
    make_topic(guides, member_a, "Guide topic")
    make_topic(public_space, member_a, "Hidden topic", is_hidden=True)
    make_topic(public_space, member_a, "Merged topic", merged_into=live)
    client.force_login(member_a)
    # when the member opens the overview
    response = client.get(reverse("community:index"))
    # then the sub-space is nested under its parent and only live topics count and show
    (top,) = response.context["spaces"]
    assert top.slug == "inverters"
    assert [(sub.slug, sub.topic_count) for sub in top.subspaces] == [("guides", 1)]
    assert (top.topic_count, top.total_topics) == (1, 2)
    assert set(titles(response)) == {"Live topic", "Guide topic"}
    assert "Hidden topic" not in response.content.decode()
    assert "Merged topic" not in response.content.decode()


# --------------------------------------------------------------------------------------------
# Filters, sorts, pagination
# --------------------------------------------------------------------------------------------


@pytest.fixture
def questions(public_space, member_a, member_b, engineer, tags):
    open_question = make_topic(public_space, member_a, "Open question", tags=[tags["firmware"]])
    replied = make_topic(public_space, member_b, "Replied question", replies=[engineer])
    solved = make_topic(public_space, member_a, "Solved question", replies=[engineer])
    solved.accepted_answer = solved.posts.get(number=2)
    solved.save(update_fields=["accepted_answer"])
    discussion = make_topic(public_space, member_a, "Plain discussion", kind=TopicKind.DISCUSSION)
    return {"open": open_question, "replied": replied, "solved": solved, "talk": discussion}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Open question", "Replied question", "Solved question", "Plain discussion"}),
        ({"filter": "unanswered"}, {"Open question"}),
        ({"filter": "solved"}, {"Solved question"}),
        ({"filter": "mine"}, {"Open question", "Solved question", "Plain discussion"}),
        ({"kind": "discussion"}, {"Plain discussion"}),
        ({"kind": "question", "filter": "mine"}, {"Open question", "Solved question"}),
        ({"tag": "firmware"}, {"Open question"}),
        ({"tag": "no-such-tag"}, set()),
        # A mistyped link shows the whole list rather than an error.
        ({"filter": "bogus", "sort": "bogus", "kind": "bogus"}, None),
    ],
)
def test_filters(client, questions, member_a, params, expected):
    # given Acme's member, who asked two of the questions and started the discussion
    client.force_login(member_a)
    # when they filter the list
    response = client.get(index_url(**params))
    # then only the matching topics are listed
    assert response.status_code == 200
    if expected is None:
        expected = {topic.title for topic in questions.values()}
    assert set(titles(response)) == expected


def test_followed_filter_lists_watched_and_tracked_topics_only(client, questions, member_b):
    # given Globex's member watching one topic, tracking another and muting a third
    actions.set_level(member_b, Level.WATCHING, topic=questions["open"])
    actions.set_level(member_b, Level.TRACKING, topic=questions["talk"])
    actions.set_level(member_b, Level.MUTED, topic=questions["solved"])
    client.force_login(member_b)
    # when they show the topics they follow
    response = client.get(index_url(filter="followed"))
    # then the watched and tracked topics are listed
    assert set(titles(response)) == {"Open question", "Plain discussion"}
    assert Subscription.objects.filter(user=member_b).count() == 3


@pytest.fixture
def ranked(public_space, member_a):
    def topic(title, created, active, **fields):
        made = make_topic(public_space, member_a, title, minutes_ago=created, **fields)
        made.last_activity_at = timezone.now() - dt.timedelta(minutes=active)
        made.save(update_fields=["last_activity_at"])
        return made

    topic("Old pinned", 300, 300, is_pinned=True)
    topic("Recently active", 200, 1, score=1)
    topic("Most liked", 100, 100, score=5)
    topic("Brand new", 10, 10)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["Old pinned", "Recently active", "Brand new", "Most liked"]),
        ("latest", ["Old pinned", "Recently active", "Brand new", "Most liked"]),
        ("top", ["Most liked", "Recently active", "Brand new", "Old pinned"]),
        ("newest", ["Brand new", "Most liked", "Recently active", "Old pinned"]),
    ],
)
def test_sorts(client, ranked, member_a, sort, expected):
    # given four topics with different activity, reactions and age, one pinned
    client.force_login(member_a)
    # when the list is sorted
    response = client.get(index_url(sort=sort) if sort else index_url())
    # then latest puts pinned topics first, top ranks by reactions, newest by creation
    assert titles(response) == expected


def test_top_breaks_ties_on_replies(client, public_space, member_a, engineer):
    # given two topics with the same reactions, one with more replies
    make_topic(public_space, member_a, "Fewer replies", score=2, replies=[engineer])
    make_topic(public_space, member_a, "More replies", score=2, replies=[engineer, engineer])
    client.force_login(member_a)
    # when sorted by top
    response = client.get(index_url(sort="top"))
    # then the busier topic comes first
    assert titles(response) == ["More replies", "Fewer replies"]


def test_pagination_keeps_filters(client, public_space, member_a):
    # given 25 open questions
    for number in range(25):
        make_topic(public_space, member_a, f"Question number {number:02}", minutes_ago=number)
    client.force_login(member_a)
    # when the second page of unanswered questions is opened
    first = client.get(index_url(filter="unanswered"))
    second = client.get(index_url(filter="unanswered", page=2))
    # then 20 are on the first page, 5 on the second, and the next link keeps the filter
    assert len(titles(first)) == 20
    assert titles(second) == [f"Question number {n:02}" for n in range(20, 25)]
    assert re.search(
        r'href="\?filter=unanswered&amp;page=2&amp;after=[\w:%-]+" rel="next"',
        first.content.decode(),
    )


# --------------------------------------------------------------------------------------------
# Rows: solved marker, names, never e-mail addresses
# --------------------------------------------------------------------------------------------


def test_solved_topics_are_marked(client, public_space, member_a, engineer, ask):
    # given a question answered by an engineer and accepted by the asker, and an open one
    settled(member_a)
    solved = ask(member_a, public_space, title="How do I export Scope 2 data?")
    answer = actions.reply(engineer, solved, body="Use the CSV export.")
    actions.accept_answer(member_a, answer)
    still_open = ask(member_a, public_space, title="Why is my meter offline?")
    client.force_login(member_a)
    # when the list is shown
    response = client.get(reverse("community:space", kwargs={"space_slug": "inverters"}))
    # then the solved question carries the marker and the open one does not
    assert "data-solved" in row(response, solved)
    assert "Solved" in row(response, solved)
    assert "data-solved" not in row(response, still_open)


def test_rows_show_markers_tags_and_names_but_never_e_mail(
    client, public_space, member_a, org_b, tags
):
    # given a pinned, locked topic by someone with no name on file
    nameless = UserFactory(email="nameless@globex.example", first_name="", last_name="")
    MembershipFactory(user=nameless, organisation=org_b)
    handle = access.member_for(nameless).handle
    topic = make_topic(
        public_space,
        nameless,
        "Firmware 2.1 breaks export",
        is_pinned=True,
        is_locked=True,
        tags=[tags["储能"]],
    )
    client.force_login(member_a)
    # when the list is shown
    html = row(client.get(index_url()), topic)
    # then the row shows the markers, the tag and the @handle, not the e-mail address
    assert "Pinned" in html
    assert "Locked" in html
    assert "#储能" in html
    assert f"@{handle}" in html
    assert reverse("community:person", kwargs={"handle": handle}) in html
    assert "nameless@globex.example" not in html


# --------------------------------------------------------------------------------------------
# Tag page
# --------------------------------------------------------------------------------------------


def test_unknown_tag_is_404(client, member_a):
    client.force_login(member_a)
    response = client.get(reverse("community:tag", kwargs={"tag_slug": "nope"}))
    assert response.status_code == 404


def test_tag_page_lists_visible_topics_with_the_tag_and_the_level_form(
    client, board, member_a, tags
):
    # given Acme's member tracking the firmware tag
    actions.set_level(member_a, Level.TRACKING, tag=tags["firmware"])
    client.force_login(member_a)
    # when they open the tag, with its Chinese sibling
    response = client.get(reverse("community:tag", kwargs={"tag_slug": "firmware"}))
    chinese = client.get(reverse("community:tag", kwargs={"tag_slug": "储能"}))
    # then both firmware topics they may see are listed and the form shows their level
    assert set(titles(response)) == {"Inverter firmware update", "Acme confidential roadmap"}
    html = response.content.decode()
    assert reverse("community:tag_level", kwargs={"tag_slug": "firmware"}) in html
    assert '<option value="tracking" selected>' in html
    assert chinese.status_code == 200
    assert titles(chinese) == []


def test_space_level_form_shows_the_current_level(client, public_space, member_a):
    # given a member watching the space
    actions.set_level(member_a, Level.WATCHING, space=public_space)
    client.force_login(member_a)
    # when they open it
    html = client.get(reverse("community:space", kwargs={"space_slug": "inverters"})).content
    # then the form posts to the space's level and shows "watching"
    html = html.decode()
    assert reverse("community:space_level", kwargs={"space_slug": "inverters"}) in html
    assert '<option value="watching" selected>' in html


# --------------------------------------------------------------------------------------------
# Person page
# --------------------------------------------------------------------------------------------


def person_url(user) -> str:
    return reverse("community:person", kwargs={"handle": access.member_for(user).handle})


def test_unknown_handle_is_404(client, member_a):
    client.force_login(member_a)
    response = client.get(reverse("community:person", kwargs={"handle": "nobody"}))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("member_b", 404),  # another organisation, no readable post
        ("viewer_a", 200),  # same organisation
        ("member_a", 200),  # themselves
        ("engineer", 200),  # vendor staff
    ],
)
def test_person_without_readable_posts_exists_only_for_colleagues_and_staff(
    request, client, board, member_a, viewer, expected
):
    # given Acme's member, whose only public topic was deleted: just the private one remains
    actions.set_post_status(board["public_a"].posts.get(number=1), PostStatus.DELETED)
    client.force_login(request.getfixturevalue(viewer))
    # when the viewer opens their profile
    response = client.get(person_url(member_a))
    # then outsiders get 404, as if the handle did not exist
    assert response.status_code == expected


def test_person_page_shows_name_organisation_and_readable_posts_only(
    client, board, member_a, member_b, engineer
):
    # given Acme's member with a public and a private topic and a public reply
    make_topic(board["public_b"].space, member_b, "Another Globex topic")
    Post.objects.create(
        topic=board["public_b"],
        number=2,
        author=member_a,
        body="Same here",
        html="<p>Same &amp; here</p>",
    )
    client.force_login(member_b)
    # when Globex's member opens the profile
    response = client.get(person_url(member_a))
    # then it shows their name, handle, organisation and the two public posts, no e-mail
    html = response.content.decode()
    assert member_a.get_full_name() in html
    # (the dot between handle and organisation keeps to the handle: a wrapped line starts with
    # the organisation, not with "·")
    assert (
        f'<span class="mono">@{access.member_for(member_a).handle}</span>&nbsp;· Acme Solar'
    ) in html
    assert (response.context["post_count"], response.context["topic_count"]) == (2, 1)
    assert [post.topic.title for post in response.context["page"].object_list] == [
        "Scope 2 question from Globex",
        "Inverter firmware update",
    ]
    assert "Same &amp; here" in html
    assert "Acme confidential roadmap" not in html
    assert "member@acme.example" not in html
    # and the replies tab lists only the reply
    replies = client.get(person_url(member_a) + "?show=replies")
    assert [post.number for post in replies.context["page"].object_list] == [2]


# --------------------------------------------------------------------------------------------
# Query counts
# --------------------------------------------------------------------------------------------


def _many_topics(count, space, sub, tags, engineer):
    authors = [MembershipFactory(organisation__slug="bulk").user for _ in range(3)]
    for author in authors:
        access.member_for(author)
    for number in range(count):
        make_topic(
            sub if number % 2 else space,
            authors[number % 3],
            f"Bulk topic {number}",
            tags=list(tags.values())[: number % 3 + 1],
            replies=[engineer] if number % 2 else [],
            is_pinned=number == 0,
        )


@pytest.mark.parametrize("count", [3, 30])
def test_list_pages_run_a_bounded_number_of_queries(
    client, public_space, tags, engineer, member_a, count, django_assert_max_num_queries
):
    # given many topics in a space and its sub-space, by several people, with tags and replies
    sub = Space.objects.create(name="Guides", slug="guides", parent=public_space)
    _many_topics(count, public_space, sub, tags, engineer)
    author = Topic.objects.order_by("pk").first().author
    client.force_login(member_a)
    client.get(reverse("community:index"))  # the first visit creates the Member row
    pages = [
        index_url(),
        index_url(sort="top", kind="question"),
        reverse("community:space", kwargs={"space_slug": "inverters"}),
        reverse("community:tag", kwargs={"tag_slug": "firmware"}),
        person_url(author),
    ]
    # when each page is opened
    for url in pages:
        # Rendered, not read from the kept pages (community/page_cache.py): the costlier path.
        page_cache.content_changed()
        # + 1: the unread-notifications count in the community navigation
        # + 2: setting and restoring the request's row-level scope (portal/tenancy.py)
        with django_assert_max_num_queries(17):
            response = client.get(url)
        # then the count stays under the same bound for 3 and for 30 topics
        assert response.status_code == 200
        assert response.context["page"].object_list
    page_cache.content_changed()
    assert len(client.get(index_url()).context["page"].object_list) == min(count, 20)


# Round trips to the shared cache, Redis as in production: the in-memory cache of the SQLite
# settings answers get_many() with one get() per key.
@pytest.mark.redis
def test_a_kept_list_page_reads_the_shared_cache_in_five_round_trips(
    client, public_space, tags, engineer, member_a, monkeypatch
):
    # given a member who has opened each page once (its main content and top bar are kept)
    from django.core.cache import caches

    topic = make_topic(public_space, engineer, "Firmware update", tags=[tags["firmware"]])
    client.force_login(member_a)
    pages = [
        index_url(),
        reverse("community:space", kwargs={"space_slug": "inverters"}),
        reverse("community:tag", kwargs={"tag_slug": "firmware"}),
        reverse("community:search") + "?q=firmware",
        reverse("community:topic", kwargs={"topic_id": topic.pk}),
    ]
    for url in pages:
        assert client.get(url).status_code == 200
    backend = caches["default"]
    reads: list[str] = []
    for method in ("get", "get_many", "has_key"):
        original = getattr(backend, method)
        monkeypatch.setattr(
            backend,
            method,
            lambda *args, _original=original, _method=method, **kwargs: (
                reads.append(_method) or _original(*args, **kwargs)
            ),
        )
    # when each is opened again
    for url in pages:
        reads.clear()
        assert client.get(url).status_code == 200
        # then five reads answer it: the session; the person's top bar, switcher and 2FA rule;
        # the visibility tokens with the unread count and the pages' generation; the visible
        # (and postable) space ids; the kept main content (or the topic's post fragments)
        assert len(reads) == 5, (url, reads)
