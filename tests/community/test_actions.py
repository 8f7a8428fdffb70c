"""Community actions: posting rules, numbering, mentions, answers, edits, staff tools, events."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from community import access, actions
from community.exceptions import CommunityError, NotVisible, PostingRefused, RateLimited
from community.models import (
    Attachment,
    Level,
    Member,
    Post,
    PostStatus,
    Space,
    Subscription,
    Topic,
    TopicKind,
    WhoCanPost,
)
from portal.models import AuditEvent, OutboxEvent
from tests.community.conftest import settled

pytestmark = pytest.mark.django_db


def png(name="chart.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- topics and replies -------------------------------------------------------------------


def test_a_topic_opens_with_post_one_and_replies_count_up(member_a, engineer, public_space, ask):
    # given a question
    topic = ask(settled(member_a), public_space)
    # when two replies follow
    first = actions.reply(engineer, topic, body="Look at the order page.")
    second = actions.reply(member_a, topic, body="Thanks!", reply_to=first)
    # then posts are numbered 1, 2, 3 and the topic counts two replies
    assert list(topic.posts.values_list("number", flat=True)) == [1, 2, 3]
    topic.refresh_from_db()
    assert topic.reply_count == 2
    assert topic.last_poster == member_a
    assert second.reply_to == first
    # and the asker watches their topic
    assert Subscription.objects.get(user=member_a, topic=topic).level == Level.WATCHING


def test_a_topic_is_filed_under_the_authors_organisation(member_a, org_a, public_space, ask):
    topic = ask(settled(member_a), public_space)
    assert topic.organisation == org_a
    assert topic.posts.get().organisation == org_a


@pytest.mark.parametrize(
    ("field", "kwargs", "code"),
    [
        ("title", {"title": "Hi"}, "title"),
        ("body", {"body": "   "}, "body_empty"),
        ("kind", {"kind": "poll"}, "invalid_kind"),
        ("tags", {"tags": ["no-such-tag"]}, "unknown_tag"),
    ],
)
def test_bad_topic_input_names_the_field_and_stores_nothing(
    member_a, public_space, ask, field, kwargs, code
):
    # when a topic is opened with one bad field
    with pytest.raises(CommunityError) as refused:
        ask(settled(member_a), public_space, **kwargs)
    # then the error names it and nothing was written
    assert refused.value.field == field
    assert refused.value.code == code
    assert not Topic.objects.exists()
    assert not Post.objects.exists()


def test_another_organisation_cannot_post_into_a_private_space(member_b, private_space, ask):
    # given Globex's member, for whom Acme's board does not exist
    with pytest.raises(NotVisible):
        ask(settled(member_b), private_space)
    assert not Topic.objects.exists()


def test_customers_cannot_post_in_a_staff_only_space(member_a, engineer, ask):
    # given a space where only vendor staff write
    news = Space.objects.create(name="News", slug="news", who_can_post=WhoCanPost.STAFF)
    # when a customer tries / then they are told why
    with pytest.raises(PostingRefused, match="only people it invites can post"):
        ask(settled(member_a), news)
    # while the vendor can post there
    assert ask(engineer, news, title="Release 4.2 is out").pk


def test_a_viewer_reads_but_cannot_post(viewer_a, public_space, ask):
    with pytest.raises(PostingRefused):
        ask(settled(viewer_a), public_space)


def test_a_locked_topic_takes_no_replies_from_customers(member_a, engineer, public_space, ask):
    topic = ask(settled(member_a), public_space)
    actions.set_locked(engineer, topic, True)
    with pytest.raises(PostingRefused, match="locked"):
        actions.reply(member_a, topic, body="One more thing")
    # staff still can (to post a closing note)
    assert actions.reply(engineer, topic, body="Closed: fixed in 4.2").number == 2


def test_a_suspended_member_cannot_post(member_a, public_space, ask):
    settled(member_a)
    until = timezone.now() + dt.timedelta(days=3)
    Member.objects.filter(user=member_a).update(suspended_until=until, suspension_reason="Spam")
    with pytest.raises(PostingRefused, match="suspended until .* Spam"):
        ask(member_a, public_space)


def test_new_members_are_rate_limited(member_a, public_space, ask, settings):
    # given a brand-new account (joined today, no posts)
    settings.COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR = 2
    topic = ask(member_a, public_space)
    actions.reply(member_a, topic, body="Adding a detail")
    # when they post a third time within the hour / then they are told when they can again
    with pytest.raises(RateLimited, match="2 times an hour"):
        actions.reply(member_a, topic, body="And another")
    assert topic.posts.count() == 2


def test_established_members_are_not_rate_limited(member_a, public_space, ask, settings):
    settings.COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR = 1
    topic = ask(settled(member_a), public_space)
    actions.reply(member_a, topic, body="Adding a detail")
    assert topic.posts.count() == 2


# --- mentions ----------------------------------------------------------------------------


def test_mentions_link_only_people_who_can_see_the_space(
    member_a, admin_a, member_b, private_space, ask
):
    # given handles for an Acme colleague and a Globex member
    colleague = access.member_for(admin_a).handle
    outsider = access.member_for(member_b).handle
    # when an Acme member mentions both in Acme's private board
    topic = ask(settled(member_a), private_space, body=f"@{colleague} and @{outsider}, look")
    html = topic.posts.get().html
    # then only the colleague becomes a link; the outsider stays plain text
    assert f'href="/community/people/{colleague}/"' in html
    assert f"/community/people/{outsider}/" not in html
    assert f"@{outsider}" in html


def test_handles_are_unique(db):
    from tests.factories import UserFactory

    first = access.member_for(UserFactory(email="li.wei@huadong.example"))
    second = access.member_for(UserFactory(email="li.wei@other.example"))
    assert first.handle == "li.wei"
    assert second.handle == "li.wei2"


# --- answers, reactions, edits ----------------------------------------------------------


def test_the_asker_accepts_an_answer_and_it_can_change(member_a, engineer, public_space, ask):
    topic = ask(settled(member_a), public_space)
    first = actions.reply(engineer, topic, body="Try A")
    second = actions.reply(engineer, topic, body="Better: B")
    actions.accept_answer(member_a, first)
    topic = actions.accept_answer(member_a, second)
    assert topic.accepted_answer == second
    assert topic.is_solved
    actions.unaccept_answer(member_a, topic)
    topic.refresh_from_db()
    assert topic.accepted_answer is None


def test_only_the_asker_or_staff_accept(member_a, admin_a, engineer, public_space, ask):
    topic = ask(settled(member_a), public_space)
    answer = actions.reply(engineer, topic, body="Try A")
    with pytest.raises(PostingRefused):
        actions.accept_answer(admin_a, answer)
    assert actions.accept_answer(engineer, answer).accepted_answer == answer


def test_discussions_and_the_question_itself_have_no_answer(member_a, engineer, public_space, ask):
    discussion = ask(settled(member_a), public_space, kind=TopicKind.DISCUSSION)
    reply = actions.reply(engineer, discussion, body="Agreed")
    with pytest.raises(CommunityError, match="Only questions"):
        actions.accept_answer(member_a, reply)
    question = ask(member_a, public_space, title="Second question here")
    with pytest.raises(CommunityError, match="not the question"):
        actions.accept_answer(member_a, question.posts.get())


def test_reactions_toggle_and_count(member_a, admin_a, public_space, ask):
    topic = ask(settled(member_a), public_space)
    opening = topic.posts.get()
    assert actions.react(admin_a, opening, "upvote") is True
    opening.refresh_from_db()
    topic.refresh_from_db()
    assert (opening.reaction_count, topic.score) == (1, 1)
    assert actions.react(admin_a, opening, "upvote") is False
    opening.refresh_from_db()
    assert opening.reaction_count == 0
    with pytest.raises(CommunityError, match="your own post"):
        actions.react(member_a, opening, "upvote")
    with pytest.raises(CommunityError, match="Unknown reaction"):
        actions.react(admin_a, opening, "love")


def test_an_edit_keeps_the_previous_text(member_a, public_space, ask, tags):
    topic = ask(settled(member_a), public_space, body="First version")
    opening = topic.posts.get()
    actions.edit_post(
        member_a, opening, body="Second version", title="A clearer title", tags=["firmware"]
    )
    opening.refresh_from_db()
    topic.refresh_from_db()
    assert (opening.body, opening.edit_count, topic.title) == (
        "Second version",
        1,
        "A clearer title",
    )
    assert list(topic.tags.values_list("slug", flat=True)) == ["firmware"]
    revision = opening.revisions.get()
    assert (revision.body, revision.title) == ("First version", "How do I read the Scope 2 figure?")
    assert "second" in opening.search_document


def test_only_the_author_or_a_moderator_edits(member_a, admin_a, moderator, public_space, ask):
    topic = ask(settled(member_a), public_space)
    opening = topic.posts.get()
    with pytest.raises(PostingRefused):
        actions.edit_post(admin_a, opening, body="Hijacked")
    actions.edit_post(moderator, opening, body="Removed a phone number")
    assert AuditEvent.objects.filter(action="community.post_edited").exists()


def test_deleting_the_opening_post_hides_the_topic(member_a, admin_a, public_space, ask):
    topic = ask(settled(member_a), public_space)
    actions.delete_post(member_a, topic.posts.get())
    assert not Topic.objects.visible_to(admin_a).filter(pk=topic.pk).exists()


def test_a_deleted_accepted_answer_unsolves_the_topic(member_a, engineer, public_space, ask):
    topic = ask(settled(member_a), public_space)
    answer = actions.reply(engineer, topic, body="Try A")
    actions.accept_answer(member_a, answer)
    # when its author withdraws it
    actions.delete_post(engineer, answer)
    topic.refresh_from_db()
    assert (topic.accepted_answer, topic.reply_count) == (None, 0)


# --- attachments -------------------------------------------------------------------------


def test_attachments_are_stored_privately(member_a, public_space, ask):
    topic = ask(settled(member_a), public_space, attachments=[png()])
    attachment = Attachment.objects.get()
    assert attachment.post == topic.posts.get()
    assert (attachment.name, attachment.content_type) == ("chart.png", "image/png")
    assert attachment.file.name.startswith("private/community/")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("x.png", b"<script>alert(1)</script>"), "not an image"),
        (SimpleUploadedFile("report.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 20), "another kind"),
        (SimpleUploadedFile("cut.pdf", b"%PDF-1.4\n1 0 obj"), "not a complete PDF"),
        (SimpleUploadedFile("bad.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20), "could not be read"),
        (SimpleUploadedFile("empty.png", b""), "empty"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_stored(
    member_a, public_space, ask, upload, message
):
    with pytest.raises(CommunityError, match=message) as refused:
        ask(settled(member_a), public_space, attachments=[upload])
    assert upload.name in refused.value.message
    assert refused.value.field == "attachments"
    assert not Topic.objects.exists()
    assert not Attachment.objects.exists()


def test_oversize_attachments_are_refused(member_a, public_space, ask, settings):
    settings.COMMUNITY_ATTACHMENT_MAX_BYTES = 50
    with pytest.raises(CommunityError, match="at most 0 MB|at most"):
        ask(settled(member_a), public_space, attachments=[png()])
    assert not Topic.objects.exists()


# --- staff tools --------------------------------------------------------------------------


def test_staff_move_and_merge_topics(member_a, admin_a, engineer, public_space, ask):
    other = Space.objects.create(name="Installation", slug="installation")
    original = ask(settled(member_a), public_space, title="Inverter shows error 42")
    actions.reply(engineer, original, body="Firmware 4.2 fixes it")
    duplicate = ask(settled(admin_a), other, title="Error 42 on our inverter")
    actions.reply(engineer, duplicate, body="See the other topic")

    moved = actions.move_topic(engineer, duplicate, public_space)
    assert moved.space == public_space
    target = actions.merge_topics(engineer, duplicate, original)

    assert list(target.posts.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert target.reply_count == 3
    duplicate.refresh_from_db()
    assert duplicate.merged_into == original
    assert not Topic.objects.visible_to(member_a).filter(pk=duplicate.pk).exists()
    # the duplicate's asker now follows the surviving topic
    assert Subscription.objects.filter(user=admin_a, topic=original).exists()
    assert AuditEvent.objects.filter(action="community.topics_merged").exists()
    assert AuditEvent.objects.filter(action="community.topic_moved").exists()


def test_customers_cannot_use_staff_tools(member_a, public_space, ask):
    topic = ask(settled(member_a), public_space)
    with pytest.raises(PostingRefused):
        actions.set_pinned(member_a, topic, True)


# --- subscriptions -------------------------------------------------------------------------


def test_levels_per_topic_space_and_tag(member_a, public_space, ask, tags):
    topic = ask(settled(member_a), public_space)
    actions.set_level(member_a, Level.MUTED, topic=topic)
    actions.set_level(member_a, Level.TRACKING, space=public_space)
    actions.set_level(member_a, Level.WATCHING, tag=tags["firmware"])
    assert Subscription.objects.get(user=member_a, topic=topic).level == Level.MUTED
    actions.set_level(member_a, Level.NORMAL, space=public_space)
    assert not Subscription.objects.filter(user=member_a, space=public_space).exists()
    with pytest.raises(CommunityError):
        actions.set_level(member_a, "loud", tag=tags["firmware"])


def test_levels_need_a_visible_target(member_b, private_space):
    with pytest.raises(NotVisible):
        actions.set_level(member_b, Level.WATCHING, space=private_space)


def test_a_topic_level_can_be_cleared(member_a, public_space, ask):
    # given the asker, who watches their topic, mutes it instead
    topic = ask(settled(member_a), public_space)
    actions.set_level(member_a, Level.MUTED, topic=topic)
    # when they clear the topic's own level / then the space's level applies again
    assert actions.clear_topic_level(member_a, topic) is True
    assert not Subscription.objects.filter(user=member_a, topic=topic).exists()
    assert actions.clear_topic_level(member_a, topic) is False


# --- events -----------------------------------------------------------------------------


def test_events_from_a_public_space_carry_the_title(
    member_a, engineer, public_space, ask, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        topic = ask(settled(member_a), public_space)
        answer = actions.reply(engineer, topic, body="Try A")
        actions.accept_answer(member_a, answer)
    types = list(OutboxEvent.objects.order_by("time").values_list("type", flat=True))
    assert types == [actions.TOPIC_CREATED, actions.REPLY_POSTED, actions.ANSWER_ACCEPTED]
    created = OutboxEvent.objects.get(type=actions.TOPIC_CREATED)
    assert created.data["title"] == topic.title
    assert created.organisation_id == topic.organisation_id


def test_events_from_a_private_space_carry_ids_only(member_a, private_space, ask):
    topic = ask(settled(member_a), private_space, title="Confidential roadmap question")
    event = OutboxEvent.objects.get(type=actions.TOPIC_CREATED)
    assert set(event.data) == {"topic_id", "space_id", "post_id", "author_id"}
    assert "Confidential" not in str(event.data)
    assert event.data["topic_id"] == topic.pk


def test_hidden_posts_leave_the_readable_set(member_a, admin_a, moderator, public_space, ask):
    topic = ask(settled(member_a), public_space)
    reply = actions.reply(member_a, topic, body="Spam link")
    actions.set_post_status(reply, PostStatus.PENDING_REVIEW)
    assert not Post.objects.readable_by(admin_a).filter(pk=reply.pk).exists()
    assert Post.objects.readable_by(member_a).filter(pk=reply.pk).exists()
    assert Post.objects.readable_by(moderator).filter(pk=reply.pk).exists()
    topic.refresh_from_db()
    assert topic.reply_count == 0
