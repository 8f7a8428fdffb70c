"""`seed_demo`'s community: spaces, tags and bilingual topics written through the actions,
idempotent, with the Huadong R&D board invisible to Nordwind."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from community import access, actions, demo
from community.models import (
    Member,
    Post,
    PostStatus,
    Reaction,
    Space,
    Subscription,
    Tag,
    Topic,
    TopicKind,
)
from community.search import search_posts
from portal.models import AuditEvent, OutboxEvent, User

pytestmark = pytest.mark.django_db

NORDWIND = (
    "anna.schmidt@nordwind.example",
    "jonas.weber@nordwind.example",
    "lena.fischer@nordwind.example",
)


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(demo_seed) -> str:
    """The whole demo (portal, carbon, then the community), seeded once for the module."""
    return demo_seed


def user(email: str) -> User:
    return User.objects.get(email=email)


def _counts() -> dict[str, int]:
    return {
        "spaces": Space.objects.count(),
        "tags": Tag.objects.count(),
        "topics": Topic.objects.count(),
        "posts": Post.objects.count(),
        "reactions": Reaction.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "members": Member.objects.count(),
        "group_members": User.groups.through.objects.count(),
        "audit": AuditEvent.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def test_seed_creates_the_community(seeded):
    # then the run reports the community part
    assert "community: 6 spaces, 5 tags, 8 demo topics (8 new)" in seeded
    # and the spaces exist with their rules
    assert list(Space.objects.order_by("sort_order").values_list("slug", flat=True)) == [
        "announcements",
        "product-qa",
        "inverters",
        "sustainability",
        "huadong-rd",
        "beta-storage",
    ]
    assert Space.objects.get(slug="inverters").parent.slug == "product-qa"
    assert list(
        Space.objects.get(slug="huadong-rd").organisations.values_list("slug", flat=True)
    ) == ["huadong-pv"]
    assert list(Group.objects.get(name="Beta cohort").user_set.values_list("email", flat=True)) == [
        "anna.schmidt@nordwind.example"
    ]
    # and every demo topic was written, with its replies and counters
    assert Topic.objects.count() == len(demo.TOPICS)
    # (plus the one flagged promotional reply waiting in the review queue)
    replies = sum(len(t.replies) for t in demo.TOPICS)
    assert Post.objects.count() == len(demo.TOPICS) + replies + 1
    spam = Post.objects.get(body=demo.SPAM)
    assert (spam.status, spam.open_flag_count) == (PostStatus.PENDING_REVIEW, 3)
    firmware = Topic.objects.get(title="SUN-110K-G firmware update stops at 80 %")
    assert firmware.reply_count == 2
    assert firmware.accepted_answer.author.email == "product@greenloop.example"
    assert firmware.accepted_by.email == "jonas.weber@nordwind.example"
    assert Topic.objects.filter(accepted_answer__isnull=False).count() == 1
    # and the welcome announcement is pinned, in the staff-only space
    (pinned,) = Topic.objects.filter(is_pinned=True)
    assert pinned.space.slug == "announcements"
    # and reactions went through the action (counters match the rows)
    for post in Post.objects.all():
        assert post.reaction_count == Reaction.objects.filter(post=post).count()
    # and mentions became links
    answer = firmware.posts.get(number=2)
    assert 'href="/community/people/jonas.weber/"' in answer.html


def test_seed_leaves_a_public_question_unanswered(seeded):
    # then one question in a space open to all customers waits for an answer
    open_questions = Topic.objects.filter(
        kind=TopicKind.QUESTION, reply_count=0, accepted_answer__isnull=True
    )
    assert [(t.space.slug, t.author.email) for t in open_questions] == [
        ("product-qa", "jonas.weber@nordwind.example")
    ]
    # and both organisations can see it
    for email in ("li.wei@huadong.example", "anna.schmidt@nordwind.example"):
        assert Topic.objects.visible_to(user(email)).filter(pk=open_questions[0].pk).exists()


def test_demo_customers_are_established_members(seeded):
    # then demo customers can ask live without the new-member rate limit
    asker = user("zhang.min@huadong.example")
    member = access.member_for(asker)
    assert not access.is_new_member(asker, member)
    # and posting a question now works
    topic = actions.create_topic(
        asker, Space.objects.get(slug="product-qa"), title="网关固件版本怎么查看？", body="请问。"
    )
    assert topic.posts.count() == 1


def test_seeding_twice_duplicates_nothing(demo_seed):
    # given the whole demo seeded, the community after the portal and carbon
    first_run = demo_seed
    assert first_run.index("carbon:") < first_run.index("community:")
    first = _counts()
    # when it is seeded again
    second_run = _seed()
    # then nothing is added, not even an event or audit record
    assert "community: 6 spaces, 5 tags, 8 demo topics (0 new)" in second_run
    assert _counts() == first


def test_the_rd_board_is_invisible_to_nordwind(seeded, enable_totp):
    # given the Huadong R&D board's topic
    board = Topic.objects.get(space__slug="huadong-rd")
    # then no Nordwind person can see the board, its topic or find it
    for email in NORDWIND:
        nordwind = user(email)
        assert not Space.objects.visible_to(nordwind).filter(slug="huadong-rd").exists()
        assert not Topic.objects.visible_to(nordwind).filter(pk=board.pk).exists()
        assert board.pk not in [hit.topic.pk for hit in search_posts(nordwind, "储能柜")]
        assert board.pk not in [hit.topic.pk for hit in search_posts(nordwind, "BMS")]
    # while Huadong's people and vendor staff (once they have a second factor) can
    staff = user("product@greenloop.example")
    assert [hit.topic.pk for hit in search_posts(staff, "储能柜")] == []
    enable_totp(staff)
    for email in (
        "li.wei@huadong.example",
        "chen.jing@huadong.example",
        "product@greenloop.example",
    ):
        assert [hit.topic.pk for hit in search_posts(user(email), "储能柜")] == [board.pk]


def test_the_beta_space_is_only_for_the_cohort(seeded):
    # given the storage controller beta's space
    beta = Space.objects.get(slug="beta-storage")
    # then the cohort's member sees it, her colleague and other customers do not
    assert (
        Space.objects.visible_to(user("anna.schmidt@nordwind.example")).filter(pk=beta.pk).exists()
    )
    assert (
        not Space.objects.visible_to(user("jonas.weber@nordwind.example"))
        .filter(pk=beta.pk)
        .exists()
    )
    assert not Space.objects.visible_to(user("li.wei@huadong.example")).filter(pk=beta.pk).exists()


def test_customers_find_each_others_answers_in_both_languages(seeded):
    # when a Nordwind customer searches in Chinese, and a Huadong customer in English
    from_nordwind = search_posts(user("anna.schmidt@nordwind.example"), "碳足迹")
    from_huadong = search_posts(user("zhang.min@huadong.example"), "firmware gateway")
    # then each finds the other organisation's topic
    assert [hit.topic.title for hit in from_nordwind] == ["如何导出产品碳足迹报告用于客户审核？"]
    assert "SUN-110K-G firmware update stops at 80 %" in [hit.topic.title for hit in from_huadong]
