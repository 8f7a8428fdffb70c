"""Moderation: flags and the threshold that hides a post for review, moderators' decisions,
warnings and posting suspensions, with their events, notifications and audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from community import actions, moderation
from community.exceptions import CommunityError, NotVisible, PostingRefused
from community.models import (
    Flag,
    FlagReason,
    FlagStatus,
    Member,
    Notification,
    NotificationKind,
    Post,
    PostStatus,
    Topic,
)
from portal.models import AuditEvent, OutboxEvent
from tests.community.conftest import settled
from tests.concurrency import race
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.COMMUNITY_FLAG_THRESHOLD = 3


@pytest.fixture
def topic(member_a, public_space, ask):
    return ask(settled(member_a), public_space)


@pytest.fixture
def reply(member_a, topic):
    return actions.reply(member_a, topic, body="Buy cheap watches at example.com")


@pytest.fixture
def flaggers(admin_a, member_b, admin_b):
    """Three readers of the public space, none of them the author."""
    return [admin_a, member_b, admin_b]


def flag_all(post, people, reason=FlagReason.SPAM):
    return [moderation.flag_post(person, post, reason=reason) for person in people]


def hidden_for_review(post, flaggers):
    flag_all(post, flaggers)
    post.refresh_from_db()
    assert post.status == PostStatus.PENDING_REVIEW
    return post


# --- flags --------------------------------------------------------------------------------


def test_the_third_flag_hides_a_post_for_review(
    member_a, viewer_a, moderator, topic, reply, flaggers
):
    # given two flags on a reply
    flag_all(reply, flaggers[:2])
    # then it is still shown to everyone
    reply.refresh_from_db()
    assert (reply.status, reply.open_flag_count) == (PostStatus.VISIBLE, 2)
    assert Post.objects.readable_by(viewer_a).filter(pk=reply.pk).exists()
    # when the third reader flags it
    moderation.flag_post(flaggers[2], reply, reason=FlagReason.INAPPROPRIATE)
    # then it waits for review: hidden from other readers, still readable by its author (the
    # topic page shows them the notice) and by moderators
    reply.refresh_from_db()
    assert (reply.status, reply.open_flag_count) == (PostStatus.PENDING_REVIEW, 3)
    assert not Post.objects.readable_by(viewer_a).filter(pk=reply.pk).exists()
    assert Post.objects.readable_by(member_a).filter(pk=reply.pk).exists()
    assert Post.objects.readable_by(moderator).filter(pk=reply.pk).exists()
    # and the topic no longer counts it
    assert Topic.objects.get(pk=topic.pk).reply_count == 0
    assert Flag.objects.filter(post=reply, status=FlagStatus.OPEN).count() == 3


def test_a_flagged_opening_post_hides_its_topic(member_b, topic, flaggers):
    # when the question itself is flagged three times
    opening = topic.posts.get(number=1)
    flag_all(opening, flaggers)
    # then the topic leaves every list
    assert Topic.objects.get(pk=topic.pk).is_hidden
    assert not Topic.objects.visible_to(member_b).filter(pk=topic.pk).exists()


def test_nobody_flags_their_own_post(member_a, reply):
    with pytest.raises(CommunityError, match="your own post"):
        moderation.flag_post(member_a, reply, reason=FlagReason.SPAM)
    assert not Flag.objects.exists()
    reply.refresh_from_db()
    assert reply.open_flag_count == 0


def test_a_person_flags_a_post_once(admin_a, reply):
    # given a flag
    moderation.flag_post(admin_a, reply, reason=FlagReason.SPAM)
    # when the same person flags again, for another reason
    with pytest.raises(CommunityError, match="You already flagged this post"):
        moderation.flag_post(admin_a, reply, reason=FlagReason.OFF_TOPIC)
    # then one flag counts
    assert Flag.objects.get().reason == FlagReason.SPAM
    reply.refresh_from_db()
    assert reply.open_flag_count == 1


def test_another_organisation_cannot_flag_a_private_post(member_a, member_b, private_space, ask):
    # given a question in Acme's private space
    post = ask(settled(member_a), private_space).posts.get()
    # when a Globex member tries to flag it
    with pytest.raises(NotVisible):
        moderation.flag_post(member_b, post, reason=FlagReason.SPAM)
    # then nothing was stored and no event tells the CRM
    assert not Flag.objects.exists()
    assert not OutboxEvent.objects.filter(type=actions.POST_FLAGGED).exists()


@pytest.mark.parametrize(
    ("reason", "note", "field"),
    [
        ("rude", "", "reason"),
        (FlagReason.OTHER, "  ", "note"),
        (FlagReason.SPAM, "x" * 501, "note"),
    ],
)
def test_a_flag_needs_a_known_reason_and_a_note_for_other(admin_a, reply, reason, note, field):
    with pytest.raises(CommunityError) as refused:
        moderation.flag_post(admin_a, reply, reason=reason, note=note)
    assert refused.value.field == field
    assert not Flag.objects.exists()


def test_the_flag_event_of_a_public_space_carries_the_title(admin_b, org_b, topic, reply):
    # when a Globex admin flags a reply in a public space
    moderation.flag_post(admin_b, reply, reason=FlagReason.SPAM, note="Link farm")
    # then the CRM hears of it, filed under the flagger's organisation, with the title
    event = OutboxEvent.objects.get(type=actions.POST_FLAGGED)
    assert event.organisation == org_b
    assert event.subject == f"community/topics/{topic.pk}"
    assert event.data["title"] == topic.title
    assert (event.data["post_id"], event.data["reason"], event.data["flag_count"]) == (
        reply.pk,
        "spam",
        1,
    )
    # and the note, meant for moderators, is not in it
    assert "Link farm" not in str(event.data)


def test_the_flag_event_of_a_private_space_carries_ids_only(
    member_a, admin_a, org_a, private_space, ask
):
    # given a question in Acme's private space
    topic = ask(settled(member_a), private_space, title="Confidential roadmap question")
    post = topic.posts.get()
    # when an Acme colleague flags it
    moderation.flag_post(admin_a, post, reason=FlagReason.OFF_TOPIC)
    # then the event names ids, the reason and the count, nothing of the content
    event = OutboxEvent.objects.get(type=actions.POST_FLAGGED)
    assert event.data == {
        "topic_id": topic.pk,
        "space_id": private_space.pk,
        "post_id": post.pk,
        "author_id": member_a.pk,
        "reason": "off_topic",
        "flag_count": 1,
    }
    assert event.organisation == org_a


# --- decisions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "status", "flag_status", "reply_count", "audit_action"),
    [
        ("approve", PostStatus.VISIBLE, FlagStatus.DISAGREED, 1, "community.post_approved"),
        ("hide", PostStatus.HIDDEN, FlagStatus.AGREED, 0, "community.post_hidden"),
        ("delete", PostStatus.DELETED, FlagStatus.AGREED, 0, "community.post_deleted"),
    ],
)
def test_a_moderator_decides_on_a_post_under_review(
    member_a,
    org_a,
    moderator,
    topic,
    reply,
    flaggers,
    decision,
    status,
    flag_status,
    reply_count,
    audit_action,
):
    # given a reply hidden by three flags
    hidden_for_review(reply, flaggers)
    # when a moderator decides
    moderation.decide(moderator, reply, decision, note="Checked the link")
    # then the post has its new status, the topic counts it accordingly
    reply.refresh_from_db()
    assert (reply.status, reply.open_flag_count) == (status, 0)
    assert Topic.objects.get(pk=topic.pk).reply_count == reply_count
    # and every flag is resolved by the moderator
    assert set(Flag.objects.values_list("status", "resolved_by")) == {(flag_status, moderator.pk)}
    assert not Flag.objects.filter(resolved_at__isnull=True).exists()
    # and the audit trail has the decision
    entry = AuditEvent.objects.get(action=audit_action)
    assert (entry.actor, entry.organisation, entry.object_id) == (moderator, org_a, str(reply.pk))
    assert entry.details["flags_resolved"] == 3
    assert entry.details["previous_status"] == PostStatus.PENDING_REVIEW
    assert entry.details["note"] == "Checked the link"


def test_approving_restores_a_hidden_topic(member_b, moderator, topic, flaggers):
    opening = topic.posts.get(number=1)
    hidden_for_review(opening, flaggers)
    moderation.decide(moderator, opening, "approve")
    assert Topic.objects.visible_to(member_b).filter(pk=topic.pk).exists()


@pytest.mark.parametrize(("decision", "verb"), [("hide", "hid"), ("delete", "deleted")])
def test_the_author_is_told_when_their_post_is_hidden_or_deleted(
    member_a, moderator, topic, reply, flaggers, decision, verb
):
    hidden_for_review(reply, flaggers)
    moderation.decide(moderator, reply, decision, note="Advertising")
    notice = Notification.objects.get(user=member_a)
    assert (notice.kind, notice.post, notice.actor) == (
        NotificationKind.MODERATION,
        reply,
        moderator,
    )
    assert notice.message == f"A moderator {verb} your post in “{topic.title}”. Reason: Advertising"


def test_an_approval_tells_nobody(member_a, moderator, reply, flaggers):
    hidden_for_review(reply, flaggers)
    moderation.decide(moderator, reply, "approve")
    assert not Notification.objects.filter(user=member_a).exists()


def test_only_moderators_decide(engineer, admin_a, reply, flaggers):
    hidden_for_review(reply, flaggers)
    for person in (engineer, admin_a):
        with pytest.raises(PostingRefused, match="moderators"):
            moderation.decide(person, reply, "approve")
    reply.refresh_from_db()
    assert (reply.status, reply.open_flag_count) == (PostStatus.PENDING_REVIEW, 3)
    assert not AuditEvent.objects.filter(action__startswith="community.post_").exists()


def test_a_deleted_post_cannot_be_approved(moderator, reply):
    moderation.decide(moderator, reply, "delete")
    with pytest.raises(CommunityError, match="deleted"):
        moderation.decide(moderator, reply, "approve")
    reply.refresh_from_db()
    assert reply.status == PostStatus.DELETED
    assert not AuditEvent.objects.filter(action="community.post_approved").exists()


def test_an_unknown_decision_is_refused(moderator, reply):
    with pytest.raises(CommunityError, match="approve, hide or delete"):
        moderation.decide(moderator, reply, "ban")
    reply.refresh_from_db()
    assert reply.status == PostStatus.VISIBLE


def test_the_queue_lists_posts_waiting_for_review_oldest_first(
    moderator, topic, reply, flaggers, admin_a
):
    # given a reply hidden for review, then a question with one flag
    hidden_for_review(reply, flaggers)
    opening = topic.posts.get(number=1)
    moderation.flag_post(admin_a, opening, reason=FlagReason.OFF_TOPIC)
    # then both wait, the one flagged first on top
    assert list(moderation.review_queue()) == [reply, opening]
    # and a decided post leaves the queue
    moderation.decide(moderator, reply, "hide")
    assert list(moderation.review_queue()) == [opening]


# --- warnings and suspensions -------------------------------------------------------------


def test_a_warning_reaches_the_member_in_app_and_by_email(
    member_a, org_a, moderator, reply, mailoutbox, django_capture_on_commit_callbacks
):
    # when a moderator warns the author about a post
    with django_capture_on_commit_callbacks(execute=True):
        moderation.warn(moderator, member_a, "Please do not post advertising.", post=reply)
    # then the member has a notification and an e-mail, and one more warning on record
    notice = Notification.objects.get(user=member_a)
    assert (notice.kind, notice.message, notice.post) == (
        NotificationKind.MODERATION,
        "Please do not post advertising.",
        reply,
    )
    assert notice.emailed_at is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member_a.email]
    assert "Please do not post advertising." in mailoutbox[0].body
    assert reply.topic.get_absolute_url() in mailoutbox[0].body
    assert Member.objects.get(user=member_a).warning_count == 1
    # and the audit trail names the moderator and the member's organisation
    entry = AuditEvent.objects.get(action="community.member_warned")
    assert (entry.actor, entry.organisation) == (moderator, org_a)
    assert entry.details["post_id"] == reply.pk
    assert entry.details["warning_count"] == 1


def test_the_warning_email_is_sent_once(member_a, moderator, mailoutbox):
    notice = moderation.warn(moderator, member_a, "Mind your language.")
    assert moderation.send_warning_email(notice.pk) is True
    assert moderation.send_warning_email(notice.pk) is False
    assert len(mailoutbox) == 1


def test_a_warning_needs_a_message_and_a_moderator(member_a, engineer, moderator):
    with pytest.raises(CommunityError) as refused:
        moderation.warn(moderator, member_a, "   ")
    assert refused.value.field == "message"
    with pytest.raises(PostingRefused):
        moderation.warn(engineer, member_a, "Stop it.")
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action="community.member_warned").exists()


def test_a_suspended_member_cannot_post_until_the_date(
    member_a, org_a, moderator, public_space, topic, ask
):
    # when a moderator suspends the member's posting for three days
    until = timezone.now() + dt.timedelta(days=3)
    moderation.suspend(moderator, member_a, until=until, reason="Repeated advertising")
    # then new topics and replies are refused with the date and the reason
    shown = timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(PostingRefused, match=f"suspended until {shown}.*Repeated advertising"):
        ask(member_a, public_space, title="Another offer for you")
    with pytest.raises(PostingRefused, match=f"suspended until {shown}"):
        actions.reply(member_a, topic, body="Still here")
    assert Post.objects.filter(author=member_a).count() == 1
    # and they are told, and the audit trail has it
    assert Notification.objects.get(user=member_a).kind == NotificationKind.MODERATION
    entry = AuditEvent.objects.get(action="community.member_suspended")
    assert (entry.actor, entry.organisation) == (moderator, org_a)
    assert entry.details["reason"] == "Repeated advertising"
    assert entry.details["until"] == until.isoformat()


def test_lifting_a_suspension_lets_the_member_post_again(member_a, moderator, topic):
    # given a suspended member
    until = timezone.now() + dt.timedelta(days=3)
    moderation.suspend(moderator, member_a, until=until, reason="Cooling off")
    # when the moderator lifts it
    moderation.unsuspend(moderator, member_a)
    # then they post again and the audit trail has both steps
    member = Member.objects.get(user=member_a)
    assert (member.suspended_until, member.suspension_reason) == (None, "")
    assert actions.reply(member_a, topic, body="Thanks, understood.").number == 2
    assert list(
        AuditEvent.objects.filter(action__startswith="community.member_")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["community.member_suspended", "community.member_unsuspended"]


def test_lifting_needs_a_suspension(member_a, moderator):
    with pytest.raises(CommunityError, match="not suspended"):
        moderation.unsuspend(moderator, member_a)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("days", "reason", "message"),
    [(-1, "Spam", "in the future"), (3, "  ", "reason"), (3, "Spam", "Vendor staff")],
)
def test_bad_suspensions_are_refused(member_a, engineer, moderator, days, reason, message):
    target = engineer if message == "Vendor staff" else member_a
    until = timezone.now() + dt.timedelta(days=days)
    with pytest.raises(CommunityError, match=message):
        moderation.suspend(moderator, target, until=until, reason=reason)
    assert not Member.objects.filter(suspended_until__isnull=False).exists()
    assert not AuditEvent.objects.exists()


def test_only_moderators_suspend(member_a, engineer):
    with pytest.raises(PostingRefused):
        moderation.suspend(
            engineer, member_a, until=timezone.now() + dt.timedelta(days=1), reason="Spam"
        )
    assert not Member.objects.filter(suspended_until__isnull=False).exists()


# --- concurrency --------------------------------------------------------------------------

THREADS = 6


@pytest.mark.race
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_flags_hide_the_post_once_and_count_exactly(
    member_a, org_a, public_space, ask, settings
):
    # given a reply and six readers
    settings.COMMUNITY_FLAG_THRESHOLD = 3
    topic = ask(settled(member_a), public_space)
    post = actions.reply(member_a, topic, body="Questionable")
    readers = []
    for index in range(THREADS):
        user = UserFactory(email=f"reader{index}@acme.example")
        MembershipFactory(user=user, organisation=org_a)
        readers.append(user)
    # when they all flag it at the same moment
    results = race(
        lambda i: moderation.flag_post(readers[i], post, reason=FlagReason.SPAM), THREADS
    )
    assert results.overlapped, results.intervals
    # then every flag that got in is counted (late ones found the post already hidden) ...
    stored = [r for r in results if isinstance(r, Flag)]
    assert all(isinstance(r, Flag | NotVisible) for r in results)
    post.refresh_from_db()
    assert post.open_flag_count == len(stored) == Flag.objects.filter(post=post).count()
    assert len(stored) >= 3
    # ... and the post went under review exactly once
    assert post.status == PostStatus.PENDING_REVIEW
    assert Topic.objects.get(pk=topic.pk).reply_count == 0
