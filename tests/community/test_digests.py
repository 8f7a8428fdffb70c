"""Digests: sent daily or weekly only to people who have not visited since the period began,
holding only topics they may see now and have not muted, never twice in a period, never empty."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from community import access, actions, notifications, tasks
from community.models import Digest, Level, Member, Space, Subscription, Topic
from portal.models import Role
from tests.community.conftest import settled
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def reader(user, digest=Digest.DAILY, last_seen=None, sent=None):
    """A member who chose a digest, last seen and last sent a digest at the given times."""
    member = access.member_for(user)
    Member.objects.filter(pk=member.pk).update(
        digest=digest, last_seen_at=last_seen, digest_sent_at=sent
    )
    return user


def aged(topic, days):
    """Move a topic's creation and last activity `days` back."""
    when = timezone.now() - dt.timedelta(days=days)
    Topic.objects.filter(pk=topic.pk).update(created_at=when, last_activity_at=when)
    return topic


def digest_to(email):
    return [m for m in mail.outbox if m.to == [email]]


@pytest.fixture
def author(org_a):
    user = UserFactory(email="author@acme.example")
    MembershipFactory(user=user, organisation=org_a, role=Role.MEMBER)
    return settled(user)


@pytest.fixture
def busy_day(author, public_space, private_space, ask):
    """A public question, a public discussion with replies and a private Acme question."""
    question = ask(author, public_space, title="How do I export Scope 2 data?")
    discussion = ask(author, public_space, title="Share your solar yield tricks", kind="discussion")
    actions.reply(author, discussion, body="First trick: clean panels.")
    private = ask(author, private_space, title="Acme rollout of the new meters")
    return {"question": question, "discussion": discussion, "private": private}


def test_digest_holds_only_what_the_reader_may_see(member_a, member_b, busy_day, mailoutbox):
    # given a reader in Acme and one in Globex, neither seen for two days
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    reader(member_a, last_seen=two_days_ago)
    reader(member_b, last_seen=two_days_ago)
    # when the daily digests go out
    sent = notifications.send_digests(Digest.DAILY)
    # then both get one; only Acme's names the private topic
    assert sent == 2
    (acme,) = digest_to(member_a.email)
    (globex,) = digest_to(member_b.email)
    assert "Acme rollout of the new meters" in acme.body
    assert "Acme rollout of the new meters" not in globex.body
    assert "Acme rollout of the new meters" not in globex.alternatives[0][0]
    for message in (acme, globex):
        assert "How do I export Scope 2 data?" in message.body
        assert "Share your solar yield tricks" in message.body
        assert message.subject == "Your daily GreenLoop community digest"
    # and the unanswered question and the discussion sit in their sections
    unanswered, popular = globex.body.split("Popular topics")
    assert "How do I export Scope 2 data?" in unanswered
    assert "Share your solar yield tricks" in popular
    assert "1 reply" in popular
    # and each reader's digest_sent_at is now set
    assert Member.objects.filter(digest_sent_at__isnull=False).count() == 2


def test_digest_skips_people_who_visited_since_the_period_began(member_a, member_b, busy_day):
    # given one reader who came back an hour ago and one who never came
    reader(member_a, last_seen=timezone.now() - dt.timedelta(hours=1))
    reader(member_b, last_seen=None)
    # when the daily digests go out / then only the absent one gets one
    assert notifications.send_digests(Digest.DAILY) == 1
    assert [m.to for m in mail.outbox] == [[member_b.email]]
    assert Member.objects.get(user=member_a).digest_sent_at is None


def test_digest_leaves_out_muted_spaces_tags_and_topics(
    member_b, author, public_space, tags, ask, busy_day
):
    # given a reader who muted the space of one topic, a tag and a topic
    reader(member_b)
    muted_space = Space.objects.create(name="Noise", slug="noise")
    ask(author, muted_space, title="Something in a muted space")
    ask(author, public_space, title="Firmware tagged chatter", tags=["firmware"])
    Subscription.objects.create(user=member_b, space=muted_space, level=Level.MUTED)
    Subscription.objects.create(user=member_b, tag=tags["firmware"], level=Level.MUTED)
    Subscription.objects.create(user=member_b, topic=busy_day["question"], level=Level.MUTED)
    # when the digest goes out
    notifications.send_digests(Digest.DAILY)
    # then only the discussion remains
    (message,) = digest_to(member_b.email)
    assert "Share your solar yield tricks" in message.body
    for absent in (
        "Something in a muted space",
        "Firmware tagged chatter",
        "How do I export Scope 2 data?",
    ):
        assert absent not in message.body


def test_a_topic_choice_overrides_a_muted_space_in_the_digest(member_b, public_space, busy_day):
    # given a reader who muted the space but watches one topic in it
    reader(member_b)
    Subscription.objects.create(user=member_b, space=public_space, level=Level.MUTED)
    Subscription.objects.create(user=member_b, topic=busy_day["question"], level=Level.WATCHING)
    # when the digest goes out / then it holds only the watched topic
    notifications.send_digests(Digest.DAILY)
    (message,) = digest_to(member_b.email)
    assert "How do I export Scope 2 data?" in message.body
    assert "Share your solar yield tricks" not in message.body


def test_digest_leaves_out_the_readers_own_topics(author, busy_day):
    # given the author of every topic of the period / when digests go out
    reader(author)
    sent = notifications.send_digests(Digest.DAILY)
    # then their digest would be empty, so none is sent and nothing is recorded
    assert sent == 0
    assert mail.outbox == []
    assert Member.objects.get(user=author).digest_sent_at is None


def test_digest_leaves_out_topics_older_than_the_period(member_b, busy_day):
    # given every topic of the day moved to three days ago
    for topic in busy_day.values():
        aged(topic, 3)
    reader(member_b)
    # when the daily digest goes out / then there is nothing to send
    assert notifications.send_digests(Digest.DAILY) == 0
    # but the weekly digest still covers them
    reader(member_b, digest=Digest.WEEKLY)
    assert notifications.send_digests(Digest.WEEKLY) == 1
    (message,) = digest_to(member_b.email)
    assert message.subject == "Your weekly GreenLoop community digest"
    assert "Share your solar yield tricks" in message.body


def test_digest_is_not_sent_twice_in_a_period(member_b, busy_day):
    # given a reader who got today's digest
    reader(member_b)
    assert notifications.send_digests(Digest.DAILY) == 1
    # when the run repeats a minute later
    later = timezone.now() + dt.timedelta(minutes=1)
    # then nothing more is sent
    assert notifications.send_digests(Digest.DAILY, now=later) == 0
    assert len(mail.outbox) == 1
    # and the next day's run (started a few minutes early) sends again
    next_day = timezone.now() + dt.timedelta(hours=23, minutes=55)
    for topic in busy_day.values():
        Topic.objects.filter(pk=topic.pk).update(last_activity_at=next_day)
    assert notifications.send_digests(Digest.DAILY, now=next_day) == 1


def test_digest_only_for_the_chosen_frequency_and_active_members(
    org_a, member_a, member_b, busy_day
):
    # given a weekly reader, one who chose none, an inactive one and one with no organisation
    reader(member_a, digest=Digest.WEEKLY)
    reader(member_b, digest=Digest.NEVER)
    gone = UserFactory(email="gone@acme.example", is_active=False)
    MembershipFactory(user=gone, organisation=org_a)
    reader(gone)
    reader(UserFactory(email="loner@example.com"))
    closed = OrganisationFactory(slug="closed", is_active=False)
    former = UserFactory(email="former@closed.example")
    MembershipFactory(user=former, organisation=closed)
    reader(former)
    # when the daily digests go out / then nobody gets one
    assert notifications.send_digests(Digest.DAILY) == 0
    assert mail.outbox == []


def test_digest_follows_the_readers_language(member_b, busy_day):
    # given a reader who reads Chinese
    member_b.preferred_language = "zh-hans"
    member_b.save(update_fields=["preferred_language"])
    reader(member_b)
    # when the digest goes out / then it is rendered in Chinese
    notifications.send_digests(Digest.DAILY)
    (message,) = digest_to(member_b.email)
    assert '<html lang="zh-hans">' in message.alternatives[0][0]


def test_digest_task_runs_by_name(member_b, busy_day):
    # given a reader / when beat triggers the task by its name
    reader(member_b)
    result = tasks.send_digests.delay(Digest.DAILY)
    # then it sends the digests
    assert tasks.send_digests.name == "community.tasks.send_digests"
    assert result.get() == 1
    assert len(mail.outbox) == 1


def test_digest_refuses_an_unknown_frequency():
    # when asked for an hourly digest / then it says what it accepts
    with pytest.raises(ValueError, match="daily or weekly"):
        notifications.send_digests("hourly")


def test_digest_queries_per_reader_are_bounded(
    org_a, author, busy_day, django_assert_max_num_queries
):
    # given ten readers
    for n in range(10):
        user = UserFactory(email=f"reader{n}@acme.example")
        MembershipFactory(user=user, organisation=org_a)
        reader(user)
    # when the digests go out / then each reader costs a fixed number of queries
    with django_assert_max_num_queries(1 + 10 * 4):
        assert notifications.send_digests(Digest.DAILY) == 10
