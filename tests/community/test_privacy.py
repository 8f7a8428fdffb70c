"""The community's part of a member's personal data: what their export holds (and what it never
holds of other people), and what erasure keeps, anonymises and removes."""

from __future__ import annotations

import json

import pytest

from community import access, actions
from community.models import Level, Member, Notification, Post, Subscription
from portal import privacy
from portal.models import Role
from tests.community.conftest import settled
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(org_a):
    """A second member of Acme who posts in the same topics."""
    user = UserFactory(email="clara.colleague@acme.example", first_name="Clara", last_name="C")
    MembershipFactory(user=user, organisation=org_a, role=Role.MEMBER)
    return settled(user)


@pytest.fixture
def conversation(
    member_a, colleague, admin_a, public_space, ask, tags, django_capture_on_commit_callbacks
):
    """member_a asks; the colleague answers, mentioning member_a and admin_a; member_a thanks."""
    settled(member_a)
    handle = access.member_for(member_a).handle
    admin_handle = access.member_for(admin_a).handle
    with django_capture_on_commit_callbacks(execute=True):
        topic = ask(member_a, public_space, title="Inverter fan noise", body="My own question.")
        answer = actions.reply(
            colleague, topic, body=f"@{handle} try the quiet mode; @{admin_handle} knows more."
        )
        thanks = actions.reply(member_a, topic, body="My own thanks.", reply_to=answer)
    actions.set_level(member_a, Level.WATCHING, tag=tags["firmware"])
    return {"topic": topic, "answer": answer, "thanks": thanks, "handle": handle}


def test_export_holds_the_members_posts_and_notifications_and_nobody_elses(
    member_a, colleague, conversation
):
    # given a conversation between a member and a colleague
    topic = conversation["topic"]
    # when the member's data is collected
    data = privacy.personal_data(member_a)["community"]
    # then it holds their handle, topic, posts, notification levels and notifications
    assert data["member"]["handle"] == conversation["handle"]
    assert [(t["id"], t["title"]) for t in data["topics"]] == [(topic.pk, "Inverter fan noise")]
    assert [(p["topic_id"], p["number"], p["body"]) for p in data["posts"]] == [
        (topic.pk, 1, "My own question."),
        (topic.pk, 3, "My own thanks."),
    ]
    assert [(s["level"], s["topic_id"], s["tag"]) for s in data["notification_levels"]] == [
        ("watching", topic.pk, None),
        ("watching", None, "Firmware"),
    ]
    assert [(n["kind"], n["post_id"]) for n in data["notifications"]] == [
        ("mention", conversation["answer"].pk)
    ]
    # and nothing of the colleague: neither their words, name, address nor handle
    text = json.dumps(data, default=str)
    colleague_handle = Member.objects.get(user=colleague).handle
    for foreign in ("quiet mode", "Clara", "clara.colleague@acme.example", colleague_handle):
        assert foreign not in text


def test_erasure_keeps_posts_as_by_a_deleted_user(client, member_a, colleague, conversation):
    # given a member's topic and reply in a conversation
    topic = conversation["topic"]
    # when their data is erased
    summary = privacy.erase_personal_data(member_a)
    # then their posts stay, with their text, under the same author id
    assert list(
        Post.objects.filter(author=member_a).order_by("number").values_list("number", "body")
    ) == [(1, "My own question."), (3, "My own thanks.")]
    # and readers see them as by "Deleted user", with no handle or profile link
    client.force_login(colleague)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert html.count("<strong>Deleted user</strong>") == 2
    assert f"/community/people/{conversation['handle']}/" not in html
    assert client.get(f"/community/people/{conversation['handle']}/").status_code == 404
    # and their community record, notification levels and notifications are gone
    assert not Member.objects.filter(user=member_a).exists()
    assert not Subscription.objects.filter(user=member_a).exists()
    assert not Notification.objects.filter(user=member_a).exists()
    assert summary["community_mentions_unlinked"] == 1


def test_erasure_unlinks_mentions_of_the_released_handle_only(
    member_a, admin_a, colleague, conversation
):
    # given the colleague's answer mentioning the member and an admin
    answer = conversation["answer"]
    admin_handle = Member.objects.get(user=admin_a).handle
    # when the member's data is erased
    privacy.erase_personal_data(member_a)
    # then the colleague's words are unchanged, but only the admin's mention still links
    answer.refresh_from_db()
    assert answer.body.startswith(f"@{conversation['handle']} try the quiet mode")
    assert f"/community/people/{conversation['handle']}/" not in answer.html
    assert f"@{conversation['handle']} try the quiet mode" in answer.html
    assert f'href="/community/people/{admin_handle}/" class="mention"' in answer.html
