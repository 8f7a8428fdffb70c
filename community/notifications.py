"""Community notifications: who hears about a new post or an accepted answer, and the digests.

Levels (`Subscription`) apply per topic, space and tag. A topic-level choice overrides its space
and tags; otherwise a muted space or tag mutes, and the most attentive remaining level applies
(`effective_level`). Watching sends every new post in the app and by e-mail, tracking in the app
only, normal only mentions and replies to you, muted nothing at all (digests included).

Access is checked again when the work runs, not when the post was written: a person who has
lost access to the space since hears nothing. Recipients are worked out with a fixed number of
queries whatever the number of followers (`Space.objects.viewers` answers for a set of people
at once).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from community import visibility
from community.access import member_for
from community.exceptions import CommunityError
from community.models import (
    UNANSWERED,
    Digest,
    Level,
    Member,
    Notification,
    NotificationKind,
    Post,
    PostStatus,
    Space,
    Subscription,
    Topic,
    public_name,
)
from community.visibility import cache_namespace
from portal.models import Membership, User

logger = logging.getLogger(__name__)

# Mentions are capped when a post is written (actions.MAX_MENTIONS); the task repeats the cap
# so a hand-queued task cannot fan out further.
MAX_MENTIONS = 20
EXCERPT_CHARS = 400
# The unread count on every page is kept this long at most (seconds).
UNREAD_TIMEOUT = 60

# Watching outranks tracking outranks normal when a space and tags disagree (and none mutes).
_ATTENTION: dict[str, int] = {Level.NORMAL: 0, Level.TRACKING: 1, Level.WATCHING: 2}

POST_KINDS = (NotificationKind.MENTION, NotificationKind.REPLY, NotificationKind.WATCHED)

DIGEST_PERIODS: dict[str, dt.timedelta] = {
    Digest.DAILY: dt.timedelta(days=1),
    Digest.WEEKLY: dt.timedelta(days=7),
}
# Beat starts each run a little late or early: a digest sent up to this long before the period
# began still counts as the previous period's, so the next scheduled run is not skipped.
DIGEST_SLACK = dt.timedelta(hours=1)
DIGEST_SECTION_SIZE = 5


# --------------------------------------------------------------------------------------------
# Levels and audiences
# --------------------------------------------------------------------------------------------


def effective_level(
    topic_level: str | None,
    space_level: str | None,
    parent_level: str | None,
    tag_levels: Iterable[str],
) -> str:
    """One person's level for a topic, from their choices on it, its space, the space's parent
    and its tags (None: no choice). A topic choice wins; a sub-space's own choice replaces its
    parent's; then any mute mutes and otherwise the most attentive level applies."""
    if topic_level:
        return topic_level
    levels = [level for level in (space_level or parent_level, *tag_levels) if level]
    if Level.MUTED in levels:
        return Level.MUTED
    return max(levels, key=_ATTENTION.__getitem__, default=Level.NORMAL)


def topic_levels(topic: Topic, user_ids: Iterable[int] | None = None) -> dict[int, str]:
    """user id -> effective level for everyone with a choice on the topic, its space (and
    parent) or its tags, in one query. People without any choice are absent (normal)."""
    targets = (
        Q(topic_id=topic.pk)
        | Q(space_id__in=[pk for pk in (topic.space_id, topic.space.parent_id) if pk])
        | Q(tag_id__in=Topic.tags.through.objects.filter(topic_id=topic.pk).values("tag_id"))
    )
    subscriptions = Subscription.objects.filter(targets)
    if user_ids is not None:
        subscriptions = subscriptions.filter(user_id__in=list(user_ids))
    choices: dict[int, dict] = defaultdict(lambda: {"topic": None, "space": None, "parent": None})
    tags: dict[int, list[str]] = defaultdict(list)
    rows = subscriptions.values_list("user_id", "level", "topic_id", "space_id", "tag_id")
    for user_id, level, topic_id, space_id, tag_id in rows:
        if topic_id:
            choices[user_id]["topic"] = level
        elif space_id == topic.space_id:
            choices[user_id]["space"] = level
        elif space_id:
            choices[user_id]["parent"] = level
        elif tag_id:
            tags[user_id].append(level)
    return {
        user_id: effective_level(
            choices[user_id]["topic"],
            choices[user_id]["space"],
            choices[user_id]["parent"],
            tags[user_id],
        )
        for user_id in set(choices) | set(tags)
    }


# --------------------------------------------------------------------------------------------
# New posts and accepted answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    kind: str
    email: bool


def post_created(post_id: int, mentioned_user_ids: Iterable[int]) -> int:
    """Notify about a new post: mentioned people (with e-mail), the author of the post it
    replies to (with e-mail), and people watching (with e-mail) or tracking the topic, its space
    or its tags. One notification per person per post (mention over reply over watched); never
    the post's author, nobody muted, nobody who cannot see the space now, nothing for a post
    that readers do not see. Safe to run twice: people already notified about the post get no
    second notification, only the e-mail that a failed run did not send. Returns the number of
    notifications created."""
    post = (
        Post.objects.select_related("topic__space__parent", "reply_to").filter(pk=post_id).first()
    )
    if post is None or not _is_live(post.topic, post):
        return 0
    topic = post.topic
    mentioned = list(dict.fromkeys(mentioned_user_ids))[:MAX_MENTIONS]
    reply_target = post.reply_to.author_id if post.reply_to_id and post.reply_to else None
    levels = topic_levels(topic)
    for user_id in [*mentioned, reply_target]:
        if user_id is not None and user_id not in levels:
            levels[user_id] = Level.NORMAL

    plan: dict[int, _Planned] = {}
    for user_id, level in levels.items():
        if level in (Level.WATCHING, Level.TRACKING):
            plan[user_id] = _Planned(NotificationKind.WATCHED, email=level == Level.WATCHING)
    if reply_target is not None:
        plan[reply_target] = _Planned(NotificationKind.REPLY, email=True)
    for user_id in mentioned:
        plan[user_id] = _Planned(NotificationKind.MENTION, email=True)
    plan = {
        user_id: planned
        for user_id, planned in plan.items()
        if user_id != post.author_id and levels[user_id] != Level.MUTED
    }
    return _deliver(topic, post, post.author_id, plan, kinds=POST_KINDS, at=post.created_at)


def answer_accepted(topic_id: int) -> int:
    """Tell the author of a topic's accepted answer (in the app and by e-mail), unless they
    accepted it themselves, have muted the topic or can no longer see it. Safe to run twice.
    Returns the number of notifications created (0 or 1)."""
    topic = (
        Topic.objects.select_related("space__parent", "accepted_answer").filter(pk=topic_id).first()
    )
    if topic is None or topic.accepted_answer is None:
        return 0
    answer = topic.accepted_answer
    if answer.author_id is None or answer.author_id == topic.accepted_by_id:
        return 0
    if not _is_live(topic, answer):
        return 0
    if topic_levels(topic, [answer.author_id]).get(answer.author_id) == Level.MUTED:
        return 0
    plan = {answer.author_id: _Planned(NotificationKind.ACCEPTED, email=True)}
    # Accepting touched the topic's last activity; that is when it happened.
    return _deliver(
        topic,
        answer,
        topic.accepted_by_id,
        plan,
        kinds=[NotificationKind.ACCEPTED],
        at=topic.last_activity_at,
    )


def _is_live(topic: Topic, post: Post) -> bool:
    return (
        post.status == PostStatus.VISIBLE
        and not topic.is_hidden
        and topic.merged_into_id is None
        and post.topic_id == topic.pk
    )


def _deliver(
    topic: Topic,
    post: Post,
    actor_id: int | None,
    plan: dict[int, _Planned],
    *,
    kinds: Iterable[str],
    at: dt.datetime | None = None,
) -> int:
    """`at`: when the reported thing happened. A notification carries that time, not the time
    the fan-out ran (a queue's delay, or the demo's backdated posts, made every notification
    "5 minutes ago")."""
    if not plan:
        return 0
    recipients = {
        user.pk: user
        for user in Space.objects.viewers(topic.space, plan).only(
            "pk", "email", "preferred_language"
        )
    }
    plan = {user_id: planned for user_id, planned in plan.items() if user_id in recipients}
    if not plan:
        return 0
    existing = dict(
        Notification.objects.filter(
            post=post, user_id__in=list(plan), kind__in=list(kinds)
        ).values_list("user_id", "emailed_at")
    )
    now = min(at, timezone.now()) if at is not None else timezone.now()
    created = [
        Notification(
            user_id=user_id,
            kind=planned.kind,
            topic=topic,
            post=post,
            actor_id=actor_id,
            created_at=now,
        )
        for user_id, planned in plan.items()
        if user_id not in existing
    ]
    Notification.objects.bulk_create(created, ignore_conflicts=True)
    forget_unread(n.user_id for n in created)
    to_email = [
        (recipients[user_id], planned.kind)
        for user_id, planned in plan.items()
        if planned.email and existing.get(user_id) is None and recipients[user_id].email
    ]
    if to_email:
        actor = _public_name(actor_id)
        messages = {
            user.pk: _notification_email(user, kind, topic, post, actor) for user, kind in to_email
        }
        sent = _send(messages)
        Notification.objects.filter(post=post, user_id__in=sent, kind__in=kinds).update(
            emailed_at=timezone.now()
        )
        if len(sent) < len(messages):
            # The task retries; notifications already e-mailed are not e-mailed again.
            raise smtplib.SMTPException(
                f"{len(messages) - len(sent)} of {len(messages)} notification e-mails failed"
            )
    return len(created)


def _public_name(user_id: int | None) -> str:
    """The actor's name as the pages show it; "" when unknown."""
    if user_id is None:
        return ""
    user = User.objects.select_related("community_member").filter(pk=user_id).first()
    return public_name(user) if user is not None else ""


def _absolute(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _notification_email(
    user: User, kind: str, topic: Topic, post: Post, actor: str
) -> EmailMultiAlternatives:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        someone = actor or _("Someone")
        subjects: dict[str, str] = {
            NotificationKind.MENTION: _("%(actor)s mentioned you in “%(title)s”"),
            NotificationKind.REPLY: _("%(actor)s replied to you in “%(title)s”"),
            NotificationKind.WATCHED: _("New post in “%(title)s”")
            if not post.is_opening
            else _("New topic: “%(title)s”"),
            NotificationKind.ACCEPTED: _("Your answer in “%(title)s” was accepted"),
        }
        subject = subjects[kind] % {"actor": someone, "title": topic.title}
        context = {
            "kind": kind,
            "actor": someone,
            "topic": topic,
            "post": post,
            "excerpt": Truncator(post.body).chars(EXCERPT_CHARS),
            "url": _absolute(post.get_absolute_url()),
            "preferences_url": _absolute(reverse("community:preferences")),
        }
        text = render_to_string("community/email/notification.txt", context)
        html = render_to_string("community/email/notification.html", context)
    message = EmailMultiAlternatives(subject, text, None, [user.email])
    message.attach_alternative(html, "text/html")
    return message


def _send(messages: dict[int, EmailMultiAlternatives]) -> list[int]:
    """Send each message on one connection; returns the keys of those sent. One failure does
    not stop the others."""
    sent = []
    with get_connection() as connection:
        for key, message in messages.items():
            message.connection = connection
            try:
                message.send()
            except (smtplib.SMTPException, OSError):
                logger.exception("Community e-mail to user %s failed", key)
                continue
            sent.append(key)
    return sent


# --------------------------------------------------------------------------------------------
# The in-app list and the person's settings
# --------------------------------------------------------------------------------------------


def listed_for(user: User) -> QuerySet[Notification]:
    """The person's notifications that the list shows: those about topics they can still see
    (and those about no topic). A post's topic is where the post is now (merges move posts)."""
    visible = Topic.objects.visible_to(user)
    return Notification.objects.filter(user=user).filter(
        Q(post__isnull=False, post__topic__in=visible)
        | Q(post__isnull=True, topic__isnull=True)
        | Q(post__isnull=True, topic__in=visible)
    )


def _unread_key(user_id: int) -> str:
    return f"{cache_namespace()}:unread:{user_id}"


# Every community page shows the count: read in the same round trip as the visibility tokens.
_UNREAD_ALONG = "unread"
visibility.read_along(_UNREAD_ALONG, _unread_key)


def unread_count(user: User) -> int:
    """How many of `listed_for(user)` are unread. Every community page shows it, so it is kept
    in the cache with the visibility generation it was counted under: a new notification or
    marking read forgets it (forget_unread), a change of what the person may see makes it stale,
    and a topic hidden or merged since shows within UNREAD_TIMEOUT."""
    key = _unread_key(user.pk)
    current = visibility.version(user)
    read, kept = visibility.along(user.pk, _UNREAD_ALONG)
    if not read:
        kept = cache.get(key)
    if kept is not None and kept[0] == current:
        return kept[1]
    count = listed_for(user).filter(read_at__isnull=True).count()
    cache.set(key, (current, count), UNREAD_TIMEOUT)
    return count


def forget_unread(user_ids: Iterable[int]) -> None:
    """Drop the kept unread counts of these people, now and again when the transaction commits
    (a page counted in between would otherwise keep the count from before the change)."""
    keys = [_unread_key(pk) for pk in set(user_ids)]
    if not keys:
        return
    cache.delete_many(keys)
    visibility.drop_along(_UNREAD_ALONG)
    transaction.on_commit(lambda: cache.delete_many(keys))


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's unread notifications read (all of them, or those listed). Returns how
    many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    changed = unread.update(read_at=timezone.now())
    forget_unread([user.pk])
    return changed


def _notification_changed(instance: Notification, **_kwargs) -> None:
    forget_unread([instance.user_id])


# Single notifications (moderation's) are saved one by one; the fan-out above uses bulk_create
# and forgets the counts itself.
post_save.connect(_notification_changed, sender=Notification, dispatch_uid="unread-saved")
post_delete.connect(_notification_changed, sender=Notification, dispatch_uid="unread-deleted")


def set_digest(user: User, digest: str) -> Member:
    """Choose the digest e-mail: daily, weekly or never."""
    if digest not in Digest.values:
        raise CommunityError(
            _("Choose a daily or weekly digest, or none."), field="digest", code="invalid_digest"
        )
    member = member_for(user)
    Member.objects.filter(pk=member.pk).update(digest=digest)
    member.digest = digest
    return member


# --------------------------------------------------------------------------------------------
# Digests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestContent:
    popular: list[Topic]
    unanswered: list[Topic]

    def __bool__(self) -> bool:
        return bool(self.popular or self.unanswered)


def digest_recipients(frequency: str, now: dt.datetime) -> QuerySet[Member]:
    """Members due a digest of this frequency: active people with an e-mail address, a
    membership of an active organisation or a staff account, who have not visited the community
    since the period began and have not had a digest within it."""
    start = now - DIGEST_PERIODS[frequency]
    memberships = Membership.objects.filter(
        user_id=OuterRef("user_id"), organisation__is_active=True
    )
    return (
        Member.objects.filter(digest=frequency, user__is_active=True)
        .exclude(user__email="")
        .filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=start))
        .filter(Q(digest_sent_at__isnull=True) | Q(digest_sent_at__lt=start + DIGEST_SLACK))
        .filter(Q(user__is_staff=True) | Exists(memberships))
        .select_related("user")
        .order_by("pk")
    )


def digest_for(user: User, since: dt.datetime) -> DigestContent:
    """What a digest holds for one person: topics created or active since `since` in spaces they
    may see now, not their own, nothing they muted. Unanswered questions (no reply yet, opened
    in the period) first, then the other topics with the most replies and reactions."""
    topics = (
        Topic.objects.visible_to(user)
        .filter(Q(created_at__gte=since) | Q(last_activity_at__gte=since))
        .exclude(author=user)
        .select_related("space")
    )
    muted = _muted(user)
    if muted is not None:
        topics = topics.exclude(muted)
    unanswered = list(
        topics.unanswered()
        .filter(created_at__gte=since)
        .order_by("-created_at", "-pk")[:DIGEST_SECTION_SIZE]
    )
    popular = list(
        topics.exclude(pk__in=[topic.pk for topic in unanswered])
        .exclude(UNANSWERED)
        .annotate(activity=F("reply_count") + F("score"))
        .order_by("-activity", "-last_activity_at", "-pk")[:DIGEST_SECTION_SIZE]
    )
    return DigestContent(popular=popular, unanswered=unanswered)


def _muted(user: User) -> Q | None:
    """Topics the person muted, directly or through a space or tag (as `effective_level`)."""
    rows = list(
        Subscription.objects.filter(user=user).values_list(
            "level", "topic_id", "space_id", "tag_id"
        )
    )
    chosen_topics = {topic for _level, topic, _space, _tag in rows if topic}
    muted_topics = {topic for level, topic, _s, _t in rows if topic and level == Level.MUTED}
    chosen_spaces = {space for _level, _topic, space, _tag in rows if space}
    muted_spaces = {space for level, _t, space, _g in rows if space and level == Level.MUTED}
    muted_tags = {tag for level, _t, _s, tag in rows if tag and level == Level.MUTED}
    inherited = None
    if muted_spaces:
        inherited = Q(space_id__in=muted_spaces) | (
            Q(space__parent_id__in=muted_spaces) & ~Q(space_id__in=chosen_spaces)
        )
    if muted_tags:
        tagged = Q(
            pk__in=Topic.tags.through.objects.filter(tag_id__in=muted_tags).values("topic_id")
        )
        inherited = tagged if inherited is None else inherited | tagged
    muted = Q(pk__in=muted_topics) if muted_topics else None
    if inherited is not None:
        if chosen_topics:
            inherited &= ~Q(pk__in=chosen_topics)
        muted = inherited if muted is None else muted | inherited
    return muted


def send_digests(frequency: str, now: dt.datetime | None = None) -> int:
    """Send the daily or weekly digest to everyone due one (`digest_recipients`) whose digest is
    not empty, in their language, and note when it was sent. A second run in the same period
    sends nothing. Returns the number of digests sent."""
    if frequency not in DIGEST_PERIODS:
        raise ValueError(f"Digest frequency must be daily or weekly, not {frequency!r}")
    now = now or timezone.now()
    start = now - DIGEST_PERIODS[frequency]
    sent = 0
    for member in digest_recipients(frequency, now).iterator(chunk_size=200):
        since = max(start, member.digest_sent_at) if member.digest_sent_at else start
        content = digest_for(member.user, since)
        if not content:
            continue
        message = _digest_email(member.user, frequency, content)
        if not _send({member.pk: message}):
            continue
        Member.objects.filter(pk=member.pk).update(digest_sent_at=now)
        sent += 1
    return sent


def _digest_email(user: User, frequency: str, content: DigestContent) -> EmailMultiAlternatives:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = (
            _("Your daily GreenLoop community digest")
            if frequency == Digest.DAILY
            else _("Your weekly GreenLoop community digest")
        )
        context = {
            "frequency": frequency,
            "popular": [(topic, _absolute(topic.get_absolute_url())) for topic in content.popular],
            "unanswered": [
                (topic, _absolute(topic.get_absolute_url())) for topic in content.unanswered
            ],
            "community_url": _absolute(reverse("community:index")),
            "preferences_url": _absolute(reverse("community:preferences")),
        }
        text = render_to_string("community/email/digest.txt", context)
        html = render_to_string("community/email/digest.html", context)
    message = EmailMultiAlternatives(subject, text, None, [user.email])
    message.attach_alternative(html, "text/html")
    return message
