"""Authorisation before validation (issue #10, item 11) in the community API: a topic or post
the caller cannot see is 404, a missing scope is 403 and a token (posts are written by people)
is 403, all before the body is read, so an invalid body changes none of these answers."""

from __future__ import annotations

import pytest

from community import actions
from community import api as community_api  # noqa: F401 - registers the community scopes
from community.models import Post, Reaction, Topic
from tests.api_client import api_error, token_headers
from tests.community.conftest import settled
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

INVALID = {"body": ["not", "text"], "kind": 7, "title": None, "space": {"x": 1}, "reply_to": "x"}


def _written():
    return (Topic.objects.count(), Post.objects.count(), Reaction.objects.count())


@pytest.fixture
def private_topic(member_a, private_space, ask):
    return ask(settled(member_a), private_space, title="Acme warranty claim", body="AC-778.")


@pytest.fixture
def private_reply(org_a, private_topic):
    colleague = UserFactory(email="colleague@acme.example")
    MembershipFactory(user=colleague, organisation=org_a)
    return actions.reply(settled(colleague), private_topic, body="Same here.")


def _writes(topic, post):
    return [
        "/api/v1/community/topics",
        f"/api/v1/community/topics/{topic.pk}/replies",
        f"/api/v1/community/posts/{post.pk}/reactions",
    ]


def _post(client, url, headers=None):
    return client.post(url, INVALID, content_type="application/json", headers=headers or {})


def test_a_read_only_token_is_403_whatever_the_body(client, org_a, private_topic, private_reply):
    # given Acme's token that may read the community
    headers = token_headers(org_a, ["community:read"])
    before = _written()
    for url in _writes(private_topic, private_reply):
        # when it writes an invalid body / then the missing scope is the answer
        message = api_error(_post(client, url, headers), 403, "insufficient_scope")
        assert "community:write" in message
    assert _written() == before


def test_a_writing_token_is_refused_as_not_a_person_whatever_the_body(
    client, org_a, private_topic, private_reply
):
    # given Acme's token with the write scope, which can see Acme's private board
    headers = token_headers(org_a, ["community:read", "community:write"])
    before = _written()
    for url in _writes(private_topic, private_reply):
        # when it writes an invalid body / then a person is required
        api_error(_post(client, url, headers), 403, "person_required")
    assert _written() == before


def test_another_organisations_token_gets_404_for_private_posts_whatever_the_body(
    client, org_b, private_topic, private_reply
):
    # given Globex's token with the write scope; Acme's board does not exist for Globex
    headers = token_headers(org_b, ["community:read", "community:write"])
    before = _written()
    for url in _writes(private_topic, private_reply)[1:]:
        # when it writes an invalid body to Acme's topic and post / then they do not exist
        api_error(_post(client, url, headers), 404, "not_found")
    assert _written() == before


def test_another_organisations_member_gets_404_for_private_posts_whatever_the_body(
    client, member_b, private_topic, private_reply
):
    # given a member of Globex signed in
    client.force_login(settled(member_b))
    before = _written()
    for url in _writes(private_topic, private_reply)[1:]:
        # when they write an invalid body to Acme's topic and post / then they do not exist
        api_error(_post(client, url), 404, "not_found")
    assert _written() == before
