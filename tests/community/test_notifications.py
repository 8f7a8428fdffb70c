"""Notifications: who hears about a new post (levels per topic, space and tag, mentions,
replies), who never does (the author, muted people, people who cannot see the space), e-mail in
the recipient's language, the in-app list and the level forms."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community import access, actions, notifications
from community.context_processors import community as community_context
from community.models import (
    Audience,
    Level,
    Notification,
    NotificationKind,
    PostStatus,
    Space,
    Subscription,
)
from portal.models import Role, Tier
from portal.staff_roles import StaffRole
from tests.community.conftest import settled
from tests.conftest import _staff
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def person(org, email, role=Role.MEMBER, **extra):
    user = UserFactory(email=email, **extra)
    MembershipFactory(user=user, organisation=org, role=role)
    access.member_for(user)
    return user


def follow(user, level, **target):
    return Subscription.objects.create(user=user, level=level, **target)


def notified(post):
    """user -> kind of the notifications about one post."""
    return {n.user: n.kind for n in Notification.objects.filter(post=post)}


@pytest.fixture
def topic(asker, public_space, ask):
    return ask(asker, public_space, title="Inverter firmware 2.1 keeps rebooting")


@pytest.fixture
def post_reply(django_capture_on_commit_callbacks):
    """post_reply(user, topic, body=, reply_to=) -> Post, with the after-commit fan-out run."""

    def _reply(user, topic, body="Same here after the update.", reply_to=None):
        with django_capture_on_commit_callbacks(execute=True):
            return actions.reply(settled(user), topic, body=body, reply_to=reply_to)

    return _reply


# --------------------------------------------------------------------------------------------
# Levels
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic_level", "space_level", "parent_level", "tag_levels", "expected"),
    [
        (None, None, None, [], Level.NORMAL),
        (None, Level.WATCHING, None, [], Level.WATCHING),
        (None, None, Level.TRACKING, [], Level.TRACKING),
        # a sub-space's own choice replaces its parent's
        (None, Level.TRACKING, Level.MUTED, [], Level.TRACKING),
        (None, None, Level.MUTED, [Level.WATCHING], Level.MUTED),
        # a muted space or tag mutes
        (None, Level.WATCHING, None, [Level.MUTED], Level.MUTED),
        (None, Level.MUTED, None, [Level.WATCHING], Level.MUTED),
        # otherwise the most attentive level applies
        (None, Level.TRACKING, None, [Level.WATCHING, Level.NORMAL], Level.WATCHING),
        # a topic-level choice overrides space and tags, either way
        (Level.WATCHING, Level.MUTED, None, [Level.MUTED], Level.WATCHING),
        (Level.NORMAL, Level.WATCHING, None, [Level.WATCHING], Level.NORMAL),
        (Level.MUTED, Level.WATCHING, None, [], Level.MUTED),
    ],
)
def test_effective_level_worked_examples(
    topic_level, space_level, parent_level, tag_levels, expected
):
    # given one person's choices / then their level for the topic
    assert notifications.effective_level(topic_level, space_level, parent_level, tag_levels) == (
        expected
    )


def test_space_levels_decide_who_hears_about_a_reply(
    org_a, topic, public_space, member_b, post_reply, mailoutbox
):
    # given followers of the space at every level
    watcher = person(org_a, "watcher@acme.example")
    tracker = person(org_a, "tracker@acme.example")
    normal = person(org_a, "normal@acme.example")
    muted = person(org_a, "muted@acme.example")
    for user, level in [
        (watcher, Level.WATCHING),
        (tracker, Level.TRACKING),
        (normal, Level.NORMAL),
        (muted, Level.MUTED),
    ]:
        follow(user, level, space=public_space)

    # when a member of another organisation replies
    post = post_reply(member_b, topic)

    # then watchers and trackers get an in-app notification, the asker (who watches their own
    # topic) too; only watchers are e-mailed
    assert notified(post) == {
        watcher: NotificationKind.WATCHED,
        tracker: NotificationKind.WATCHED,
        topic.author: NotificationKind.WATCHED,
    }
    assert sorted(m.to[0] for m in mailoutbox) == ["member@acme.example", "watcher@acme.example"]
    emailed = Notification.objects.filter(post=post, emailed_at__isnull=False)
    assert set(emailed.values_list("user__email", flat=True)) == {
        "member@acme.example",
        "watcher@acme.example",
    }


def test_tag_levels_and_topic_precedence(
    org_a, asker, public_space, tags, ask, member_b, post_reply
):
    # given a tagged topic and followers with conflicting choices
    topic = ask(asker, public_space, title="Firmware rollback steps", tags=["firmware"])
    firmware = tags["firmware"]
    tag_watcher = person(org_a, "tagwatch@acme.example")
    follow(tag_watcher, Level.WATCHING, tag=firmware)
    tag_muter = person(org_a, "tagmute@acme.example")
    follow(tag_muter, Level.WATCHING, space=public_space)
    follow(tag_muter, Level.MUTED, tag=firmware)
    space_muter = person(org_a, "spacemute@acme.example")
    follow(space_muter, Level.MUTED, space=public_space)
    follow(space_muter, Level.TRACKING, topic=topic)
    topic_normal = person(org_a, "topicnormal@acme.example")
    follow(topic_normal, Level.WATCHING, space=public_space)
    actions.set_level(topic_normal, Level.NORMAL, topic=topic)

    # when someone replies
    post = post_reply(member_b, topic)

    # then the tag watcher hears, the muted tag silences a watched space, a topic choice
    # overrides a muted space and a topic set to normal overrides a watched space
    assert notified(post) == {
        asker: NotificationKind.WATCHED,
        tag_watcher: NotificationKind.WATCHED,
        space_muter: NotificationKind.WATCHED,
    }


def test_muting_the_topic_silences_its_own_author(asker, topic, member_b, post_reply, mailoutbox):
    # given the asker muted their own topic
    actions.set_level(asker, Level.MUTED, topic=topic)
    # when someone replies to them directly and mentions them
    opening = topic.posts.get(number=1)
    handle = access.member_for(asker).handle
    post = post_reply(member_b, topic, body=f"@{handle} see above", reply_to=opening)
    # then they hear nothing
    assert notified(post) == {}
    assert mailoutbox == []


def test_new_topic_reaches_followers_of_its_space(
    org_a, member_b, public_space, ask, django_capture_on_commit_callbacks, mailoutbox
):
    # given a watcher of the space
    watcher = person(org_a, "watcher@acme.example")
    follow(watcher, Level.WATCHING, space=public_space)
    # when someone opens a topic there
    with django_capture_on_commit_callbacks(execute=True):
        topic = ask(settled(member_b), public_space, title="Battery storage sizing")
    # then the watcher is told, by e-mail too, and the author is not
    opening = topic.posts.get(number=1)
    assert notified(opening) == {watcher: NotificationKind.WATCHED}
    assert [m.to for m in mailoutbox] == [["watcher@acme.example"]]
    assert mailoutbox[0].subject == "New topic: “Battery storage sizing”"


# --------------------------------------------------------------------------------------------
# Mentions and replies
# --------------------------------------------------------------------------------------------


def test_reply_to_a_post_notifies_its_author_once(
    org_a, topic, member_b, engineer, post_reply, mailoutbox
):
    # given an engineer's answer
    answer = post_reply(engineer, topic, body="Roll back to 2.0.4.")
    Notification.objects.all().delete()
    mailoutbox.clear()
    # when a customer replies to the answer and mentions the engineer
    handle = access.member_for(engineer).handle
    post = post_reply(member_b, topic, body=f"Thanks @{handle}, that worked", reply_to=answer)
    # then the engineer gets one notification: the mention wins over the reply
    assert notified(post) == {
        engineer: NotificationKind.MENTION,
        topic.author: NotificationKind.WATCHED,
    }
    mails = {m.to[0]: m for m in mailoutbox}
    assert sorted(mails) == sorted([engineer.email, topic.author.email])
    assert mails[engineer.email].subject == (
        f"{member_b.get_full_name()} mentioned you in “Inverter firmware 2.1 keeps rebooting”"
    )


def test_reply_notification_goes_to_the_replied_to_author(
    org_a, topic, member_b, engineer, post_reply, mailoutbox
):
    # given an engineer's answer
    answer = post_reply(engineer, topic, body="Roll back to 2.0.4.")
    mailoutbox.clear()
    # when a customer replies to that answer
    post = post_reply(member_b, topic, body="Which build exactly?", reply_to=answer)
    # then the engineer gets a reply notification and an e-mail; the asker's watch still applies
    assert notified(post) == {
        engineer: NotificationKind.REPLY,
        topic.author: NotificationKind.WATCHED,
    }
    reply_mail = next(m for m in mailoutbox if m.to == [engineer.email])
    assert reply_mail.subject.endswith("replied to you in “Inverter firmware 2.1 keeps rebooting”")
    assert "Which build exactly?" in reply_mail.body
    assert f"/community/t/{topic.pk}/#post-{post.number}" in reply_mail.body


def test_mention_of_someone_who_cannot_see_the_space_reaches_nobody(
    org_a, member_b, private_space, ask, django_capture_on_commit_callbacks, mailoutbox
):
    # given a member of another organisation with a handle
    outsider = access.member_for(member_b).handle
    colleague = person(org_a, "colleague@acme.example")
    colleague_handle = access.member_for(colleague).handle
    author = settled(person(org_a, "author@acme.example"))
    # when an Acme member mentions both in Acme's private space
    with django_capture_on_commit_callbacks(execute=True):
        topic = ask(
            author,
            private_space,
            title="Our rollout plan",
            body=f"@{outsider} and @{colleague_handle}, please check",
        )
    opening = topic.posts.get(number=1)
    # then only the colleague is notified and e-mailed; the outsider's handle is plain text
    assert notified(opening) == {colleague: NotificationKind.MENTION}
    assert [m.to for m in mailoutbox] == [["colleague@acme.example"]]
    assert f'href="/community/people/{outsider}/"' not in opening.html
    assert f"@{outsider}" in opening.html


def test_nobody_who_lost_access_since_posting_is_notified(
    org_a, org_b, member_b, private_space, ask, mailoutbox
):
    # given a Globex member mentioned while Globex could see the space
    private_space.organisations.add(org_b)
    author = settled(person(org_a, "author@acme.example"))
    topic = ask(author, private_space, title="Shared pilot notes")
    follow(member_b, Level.WATCHING, space=private_space)
    post = actions.reply(author, topic, body="Update")
    # when Globex is removed before the fan-out runs
    private_space.organisations.remove(org_b)
    created = notifications.post_created(post.pk, [member_b.pk])
    # then they hear nothing
    assert created == 0
    assert notified(post) == {}
    assert mailoutbox == []


def test_authors_are_never_notified_of_their_own_posts(
    asker, topic, public_space, post_reply, mailoutbox
):
    # given the asker watches the space too
    follow(asker, Level.WATCHING, space=public_space)
    handle = access.member_for(asker).handle
    # when they reply to their own topic, to their own post, mentioning themselves
    post = post_reply(asker, topic, body=f"Note to self @{handle}", reply_to=topic.posts.get())
    # then nothing is created
    assert notified(post) == {}
    assert mailoutbox == []


def test_posts_readers_do_not_see_notify_nobody(org_a, topic, member_b, public_space):
    # given a watcher and a reply held for review
    watcher = person(org_a, "watcher@acme.example")
    follow(watcher, Level.WATCHING, space=public_space)
    post = actions.reply(settled(member_b), topic, body="spam?")
    actions.set_post_status(post, PostStatus.PENDING_REVIEW)
    # when the fan-out runs / then nobody is notified
    assert notifications.post_created(post.pk, [watcher.pk]) == 0
    assert Notification.objects.count() == 0


def test_fan_out_is_safe_to_run_twice(org_a, topic, member_b, public_space, mailoutbox):
    # given a watcher and a reply whose fan-out already ran
    watcher = person(org_a, "watcher@acme.example")
    follow(watcher, Level.WATCHING, space=public_space)
    post = actions.reply(settled(member_b), topic, body="Update")
    assert notifications.post_created(post.pk, []) == 2
    # when it runs again
    created = notifications.post_created(post.pk, [])
    # then no second notification and no second e-mail
    assert created == 0
    assert Notification.objects.filter(post=post).count() == 2
    assert len(mailoutbox) == 2


def test_email_is_in_the_recipients_language(org_a, topic, member_b, public_space, post_reply):
    # given a watcher who reads Chinese and one who set no language
    chinese = person(org_a, "zh@acme.example", preferred_language="zh-hans")
    follow(chinese, Level.WATCHING, space=public_space)
    # when someone replies
    from django.core import mail

    post_reply(member_b, topic)
    # then each e-mail is rendered in its recipient's language
    by_recipient = {m.to[0]: m for m in mail.outbox}
    html_zh = by_recipient["zh@acme.example"].alternatives[0][0]
    html_default = by_recipient[topic.author.email].alternatives[0][0]
    assert '<html lang="zh-hans">' in html_zh
    assert '<html lang="en">' in html_default


def test_accepted_answer_notifies_its_author(
    topic, asker, engineer, post_reply, django_capture_on_commit_callbacks, mailoutbox
):
    # given an engineer's answer
    answer = post_reply(engineer, topic, body="Roll back to 2.0.4.")
    mailoutbox.clear()
    # when the asker accepts it
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_answer(asker, answer)
    # then the engineer is told in the app and by e-mail
    notification = Notification.objects.get(kind=NotificationKind.ACCEPTED)
    assert (notification.user, notification.post, notification.actor) == (engineer, answer, asker)
    assert notification.emailed_at is not None
    assert [m.to for m in mailoutbox] == [[engineer.email]]
    assert mailoutbox[0].subject == (
        "Your answer in “Inverter firmware 2.1 keeps rebooting” was accepted"
    )
    # and running the task again changes nothing
    assert notifications.answer_accepted(topic.pk) == 0
    assert len(mailoutbox) == 1


def test_accepting_ones_own_answer_notifies_nobody(
    engineer, topic, post_reply, django_capture_on_commit_callbacks, mailoutbox
):
    # given an engineer's answer
    answer = post_reply(engineer, topic, body="Roll back to 2.0.4.")
    mailoutbox.clear()
    # when the engineer (staff) accepts it themselves
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_answer(engineer, answer)
    # then nobody is notified
    assert not Notification.objects.filter(kind=NotificationKind.ACCEPTED).exists()
    assert mailoutbox == []


# --------------------------------------------------------------------------------------------
# Who can see a space, for many people at once
# --------------------------------------------------------------------------------------------


def test_space_viewers_agrees_with_visible_to(org_a, org_b):
    # given spaces with every audience rule, a sub-space, an archived one, and people of all kinds
    cohort = Group.objects.create(name="Beta cohort")
    gold = OrganisationFactory(slug="goldco", tier=Tier.GOLD)
    closed = OrganisationFactory(slug="closed", is_active=False)
    spaces = [
        Space.objects.create(name="Public", slug="public"),
        Space.objects.create(name="Acme", slug="acme", audience=Audience.ORGANISATIONS),
        Space.objects.create(name="Gold", slug="gold", audience=Audience.TIERS, tiers=[Tier.GOLD]),
        Space.objects.create(name="Beta", slug="beta", audience=Audience.GROUPS),
        Space.objects.create(name="Old", slug="old", is_archived=True),
    ]
    spaces[1].organisations.set([org_a])
    spaces[3].groups.set([cohort])
    spaces.append(Space.objects.create(name="Acme beta", slug="acme-beta", parent=spaces[1]))
    spaces.append(
        Space.objects.create(
            name="Acme gold", slug="acme-gold", parent=spaces[1], audience=Audience.TIERS
        )
    )
    spaces[-1].tiers = [Tier.GOLD]
    spaces[-1].save()
    beta_tester = person(org_b, "beta@globex.example")
    beta_tester.groups.add(cohort)
    people = [
        person(org_a, "a@acme.example"),
        person(org_a, "viewer@acme.example", role=Role.VIEWER),
        person(org_b, "b@globex.example"),
        person(gold, "g@gold.example"),
        person(closed, "c@closed.example"),
        person(org_a, "gone@acme.example", is_active=False),
        beta_tester,
        UserFactory(email="nobody@example.com"),
        _staff("product@greenloop.example", StaffRole.PRODUCT),
        _staff("plainstaff@greenloop.example", None),
        _staff("root@greenloop.example", None, is_superuser=True),
    ]
    ids = [user.pk for user in people]
    for space in Space.objects.select_related("parent"):
        # when asked for everyone at once / then the answer is the per-person rule's
        expected = {
            user.pk for user in people if Space.objects.visible_to(user).filter(pk=space.pk)
        }
        got = set(Space.objects.viewers(space, ids).values_list("pk", flat=True))
        assert got == expected, space.slug


# --------------------------------------------------------------------------------------------
# Bounded queries
# --------------------------------------------------------------------------------------------


def _fan_out_queries(org_a, topic, public_space, author, followers: int) -> int:
    Notification.objects.all().delete()
    Subscription.objects.filter(space=public_space).delete()
    for n in range(followers):
        watcher = person(org_a, f"w{followers}-{n}@acme.example")
        follow(watcher, Level.WATCHING if n % 2 else Level.TRACKING, space=public_space)
    post = actions.reply(author, topic, body="Update")
    with CaptureQueriesContext(connection) as queries:
        created = notifications.post_created(post.pk, [])
    assert created == followers + 1
    return len(queries)


def test_fan_out_queries_do_not_grow_with_followers(org_a, topic, public_space, member_b):
    # given 3 and then 30 followers / when a reply fans out
    author = settled(member_b)
    few = _fan_out_queries(org_a, topic, public_space, author, 3)
    many = _fan_out_queries(org_a, topic, public_space, author, 30)
    # then both take the same small number of queries
    assert few == many
    assert many <= 7


# --------------------------------------------------------------------------------------------
# The list page
# --------------------------------------------------------------------------------------------


@pytest.fixture
def unread_badge(settings):
    """Pages render the navigation's unread count, as once the lead adds the processor."""
    engine = settings.TEMPLATES[0]
    processors = [*engine["OPTIONS"]["context_processors"]]
    if "community.context_processors.community" not in processors:
        processors.append("community.context_processors.community")
    settings.TEMPLATES = [
        {**engine, "OPTIONS": {**engine["OPTIONS"], "context_processors": processors}}
    ]


@pytest.fixture
def inbox(org_a, org_b, member_b, private_space, public_space, ask):
    """member_b (Globex) has a notification about a public topic and one about a private
    space that Globex could see once and no longer can."""
    private_space.organisations.add(org_b)
    author = settled(person(org_a, "author@acme.example"))
    visible = ask(author, public_space, title="Visible topic about meters")
    hidden = ask(author, private_space, title="Secret roadmap topic")
    for topic in (visible, hidden):
        Notification.objects.create(
            user=member_b,
            kind=NotificationKind.MENTION,
            topic=topic,
            post=topic.posts.get(),
            actor=author,
        )
    private_space.organisations.remove(org_b)
    return visible, hidden


def test_list_shows_only_topics_still_visible_and_marks_them_read(client, member_b, inbox):
    visible, hidden = inbox
    # given member_b signed in
    client.force_login(member_b)
    # when they open the list
    response = client.get(reverse("community:notifications"))
    # then only the visible topic is listed, highlighted as new, with a link to the post
    html = response.content.decode()
    assert response.status_code == 200
    assert "Visible topic about meters" in html
    assert "Secret roadmap topic" not in html
    assert html.count('class="notification notification--unread"') == 1
    assert f'href="/community/t/{visible.pk}/#post-1"' in html
    # and what was shown is now read; the invisible one is untouched
    assert Notification.objects.get(topic=visible).read_at is not None
    assert Notification.objects.get(topic=hidden).read_at is None
    # and the unread count leaves out what they cannot see
    request = response.wsgi_request
    assert community_context(request)["community_unread"] == 0
    # and on the next visit nothing is highlighted
    again = client.get(reverse("community:notifications")).text
    assert again.count('class="notification notification--unread"') == 0
    assert again.count('class="notification"') == 1


def test_mark_all_read(client, member_b, inbox):
    # given unread notifications
    client.force_login(member_b)
    # when they mark all read
    response = client.post(reverse("community:notifications"))
    # then every one is read
    assert response.status_code == 302
    assert not Notification.objects.filter(user=member_b, read_at__isnull=True).exists()


def test_unread_count_is_zero_for_anonymous(rf):
    # given an anonymous request / then no count (and no query)
    request = rf.get("/")
    request.user = AnonymousUser()
    assert community_context(request)["community_unread"] == 0


def test_unread_count_counts_visible_unread(rf, member_b, inbox):
    # given member_b with one visible unread notification and one they cannot see
    request = rf.get("/")
    request.user = member_b
    # then the count is one
    assert community_context(request)["community_unread"] == 1


def test_navigation_badge_counts_visible_unread(client, member_b, inbox, unread_badge):
    # given one visible unread notification and one about a topic no longer visible
    client.force_login(member_b)
    # when they open another community page
    html = client.get(reverse("community:preferences")).text
    # then the navigation shows one unread
    assert '<span class="badge" aria-label="1 unread">1</span>' in html


def _subnav(html: str) -> str:
    start = html.index('<nav class="subnav community-nav"')
    return html[start : html.index("</nav>", start)]


def test_the_navigation_badge_follows_the_count_and_the_route(
    client, member_b, inbox, unread_badge
):
    # given a reader with one unread notification, on the community index
    client.force_login(member_b)
    index = _subnav(client.get(reverse("community:index")).text)
    assert '<span class="badge" aria-label="1 unread">1</span>' in index
    assert 'href="/community/" aria-current="page"' in index
    # when they mark it read and open the search page
    client.post(reverse("community:notifications"))
    search = _subnav(client.get(reverse("community:search")).text)
    # then the kept sub-navigation shows no count, and marks search, not the index
    assert 'class="badge"' not in search
    assert 'href="/community/search/" aria-current="page"' in search
    assert 'href="/community/" aria-current="page"' not in search


def test_list_page_queries_are_bounded(
    client, org_a, member_b, public_space, ask, unread_badge, django_assert_max_num_queries
):
    # given 25 notifications about different topics by different people
    for n in range(25):
        author = settled(person(org_a, f"author{n}@acme.example"))
        topic = ask(author, public_space, title=f"Question number {n}")
        Notification.objects.create(
            user=member_b,
            kind=NotificationKind.WATCHED,
            topic=topic,
            post=topic.posts.get(),
            actor=author,
        )
    client.force_login(member_b)
    # when the list is opened / then the number of queries does not depend on the rows
    # + 2: setting and restoring the request's row-level scope (portal/tenancy.py)
    with django_assert_max_num_queries(17):
        response = client.get(reverse("community:notifications"))
    assert response.status_code == 200
    assert response.text.count('class="notification notification--unread"') == 25


# --------------------------------------------------------------------------------------------
# Level forms and preferences
# --------------------------------------------------------------------------------------------


def test_topic_level_form(client, member_b, topic):
    # given a member of another organisation who can see the public topic
    client.force_login(member_b)
    # when they choose to watch it, coming from the topic page
    response = client.post(
        reverse("community:topic_level", kwargs={"topic_id": topic.pk}),
        {"level": Level.WATCHING, "next": f"/community/t/{topic.pk}/?page=2"},
    )
    # then they watch it and go back where they were
    assert response.status_code == 302
    assert response["Location"] == f"/community/t/{topic.pk}/?page=2"
    assert Subscription.objects.get(user=member_b, topic=topic).level == Level.WATCHING


def test_a_topic_level_can_be_cleared_from_the_preferences(client, member_b, topic):
    # given a member who muted a topic
    client.force_login(member_b)
    url = reverse("community:topic_level", kwargs={"topic_id": topic.pk})
    client.post(url, {"level": Level.MUTED})
    preferences = client.get(reverse("community:preferences")).content.decode()
    assert topic.title in preferences
    assert "Use the space" in preferences
    # when they hand the topic back to its space's level
    response = client.post(url, {"level": "inherit", "next": "/community/preferences/"})
    # then the topic's own level is gone and the preferences no longer list it
    assert response["Location"] == "/community/preferences/"
    assert not Subscription.objects.filter(user=member_b, topic=topic).exists()
    page = client.get(reverse("community:preferences")).content.decode()
    assert "now follow its space and tags" in page
    assert f'href="{topic.get_absolute_url()}"' not in page


def test_level_form_ignores_a_foreign_next(client, member_b, topic):
    client.force_login(member_b)
    # when `next` points to another site
    response = client.post(
        reverse("community:topic_level", kwargs={"topic_id": topic.pk}),
        {"level": Level.MUTED, "next": "https://evil.example/"},
    )
    # then they land on the topic instead
    assert response["Location"] == f"/community/t/{topic.pk}/"


def test_level_form_refuses_an_unknown_level(client, member_b, topic):
    client.force_login(member_b)
    # when the level is not one of the four
    response = client.post(
        reverse("community:topic_level", kwargs={"topic_id": topic.pk}), {"level": "loud"}
    )
    # then nothing changes and the message says what to choose
    assert response.status_code == 302
    assert not Subscription.objects.filter(user=member_b).exists()
    follow_up = client.get(response["Location"], follow=True)
    assert "Choose watching, tracking, normal or muted." in follow_up.text


def test_level_forms_hide_private_spaces_from_other_organisations(
    client, org_a, member_b, private_space, ask
):
    # given a topic in Acme's private space
    topic = ask(settled(person(org_a, "author@acme.example")), private_space, title="Private one")
    client.force_login(member_b)
    # when a Globex member tries to follow the topic or the space
    topic_response = client.post(
        reverse("community:topic_level", kwargs={"topic_id": topic.pk}), {"level": "watching"}
    )
    space_response = client.post(
        reverse("community:space_level", kwargs={"space_slug": private_space.slug}),
        {"level": "watching"},
    )
    # then neither exists for them and nothing is written
    assert (topic_response.status_code, space_response.status_code) == (404, 404)
    assert not Subscription.objects.filter(user=member_b).exists()


def test_level_forms_send_anonymous_visitors_to_sign_in(client, topic, public_space, tags):
    urls = [
        reverse("community:topic_level", kwargs={"topic_id": topic.pk}),
        reverse("community:space_level", kwargs={"space_slug": public_space.slug}),
        reverse("community:tag_level", kwargs={"tag_slug": "firmware"}),
    ]
    for url in urls:
        # when an anonymous visitor posts / then they are sent to sign in
        response = client.post(url, {"level": "watching"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not Subscription.objects.filter(space__isnull=False).exists()


def test_level_forms_only_take_post(client, member_b, topic):
    client.force_login(member_b)
    # when opened with GET / then 405 and nothing changes
    response = client.get(reverse("community:topic_level", kwargs={"topic_id": topic.pk}))
    assert response.status_code == 405


def test_space_and_tag_level_forms(client, member_b, public_space, tags):
    client.force_login(member_b)
    # when a member tracks a space and mutes a tag
    client.post(
        reverse("community:space_level", kwargs={"space_slug": public_space.slug}),
        {"level": Level.TRACKING},
    )
    response = client.post(
        reverse("community:tag_level", kwargs={"tag_slug": "储能"}), {"level": Level.MUTED}
    )
    # then both are stored and the tag form returns to the tag page
    assert Subscription.objects.get(user=member_b, space=public_space).level == Level.TRACKING
    assert Subscription.objects.get(user=member_b, tag=tags["储能"]).level == Level.MUTED
    assert response["Location"] == reverse("community:tag", kwargs={"tag_slug": "储能"})
    # and normal removes a space subscription
    client.post(
        reverse("community:space_level", kwargs={"space_slug": public_space.slug}),
        {"level": Level.NORMAL},
    )
    assert not Subscription.objects.filter(user=member_b, space=public_space).exists()


def test_preferences_list_visible_subscriptions_and_save_the_digest(
    client, org_a, org_b, member_b, public_space, private_space, tags
):
    # given subscriptions to a public space, a tag, and a private space Globex no longer sees
    follow(member_b, Level.WATCHING, space=public_space)
    follow(member_b, Level.MUTED, tag=tags["firmware"])
    follow(member_b, Level.WATCHING, space=private_space)
    client.force_login(member_b)
    # when they open their preferences
    html = client.get(reverse("community:preferences")).text
    # then the private space is not listed
    assert "Solar inverters" in html
    assert "#Firmware" in html
    assert "Acme private board" not in html
    # when they choose a daily digest
    response = client.post(reverse("community:preferences"), {"digest": "daily"})
    # then it is saved
    assert response.status_code == 302
    assert access.member_for(member_b).digest == "daily"
    # and an unknown choice is refused without a change
    response = client.post(reverse("community:preferences"), {"digest": "hourly"})
    assert response.status_code == 200
    assert access.member_for(member_b).digest == "daily"


def test_pages_need_sign_in(client):
    for name in ("community:notifications", "community:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.fixture
def a_request():
    """start() begins a request as Django's handler does: what it reads with the visibility
    tokens is kept until the request ends (at the test's end)."""
    from community import visibility

    yield visibility._request_started
    visibility._request_finished()


def test_marking_read_during_a_request_shows_in_its_own_count(member_b, inbox, a_request):
    # given a count of one kept from an earlier page, read with a request's visibility tokens
    from community import visibility

    assert notifications.unread_count(member_b) == 1
    a_request()
    visibility.visible_space_ids(member_b)
    # when the request marks everything read
    notifications.mark_read(member_b)
    # then the count it shows is zero
    assert notifications.unread_count(member_b) == 0


def test_a_content_change_during_a_request_gives_its_lists_a_new_generation(member_a, a_request):
    # given a request that read the pages' generation with its visibility tokens
    from community import page_cache, visibility

    page_cache.generation()
    a_request()
    visibility.visible_space_ids(member_a)
    before = page_cache.generation(member_a.pk)
    # when it changes something a list shows
    page_cache.content_changed()
    # then the lists it renders next are filed under a new generation
    assert page_cache.generation(member_a.pk) != before
