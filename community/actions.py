"""Community actions: everything that changes topics, posts, reactions and answers.

Views and the API call these and nothing else writes the models, so the visibility and posting
rules, the audit trail, search indexing, notifications and CRM events hold on every path. Each
action checks what the person may see first (NotVisible, answered as 404), then what they may do;
both checks live in `community.access`, which the pages and the API read from too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.contrib.postgres.search import SearchVector
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F, Max, Q, Value
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from community import access, app_settings, search, tasks, topic_counts
from community import attachments as attachment_checks
from community.exceptions import CommunityError, PostingRefused
from community.markdown import POSTS
from community.models import (
    Attachment,
    Level,
    Member,
    Post,
    PostRevision,
    PostStatus,
    Reaction,
    ReactionKind,
    Space,
    Subscription,
    Tag,
    Topic,
    TopicKind,
    is_community_staff,
    is_moderator,
)
from portal import audit, events, images
from portal.markdown import mentioned_handles
from portal.models import User

TOPIC_CREATED = "greenloop.community.topic_created"
REPLY_POSTED = "greenloop.community.reply_posted"
ANSWER_ACCEPTED = "greenloop.community.answer_accepted"
POST_FLAGGED = "greenloop.community.post_flagged"

MAX_TAGS = 5
MAX_MENTIONS = 20
MAX_BODY = 30_000


def _refuse_if_cannot_post(user: User, space: Space, topic: Topic | None = None) -> Member:
    refusal = access.posting_refusal(user, space, topic)
    if refusal:
        raise PostingRefused(refusal)
    member = access.member_for(user)
    # Lock the member row: concurrent posts by one person queue here, so the hourly count and
    # the post counter stay exact.
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.is_suspended():
        raise PostingRefused(_("Your posting is suspended."))
    access.refuse_if_over_new_member_rate(user, member)
    return member


# --------------------------------------------------------------------------------------------
# Writing posts
# --------------------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise CommunityError(_("Write something first."), field="body", code="body_empty")
    if len(body) > MAX_BODY:
        raise CommunityError(
            _("Posts may be at most %(max)d characters; this one has %(count)d.")
            % {"max": MAX_BODY, "count": len(body)},
            field="body",
            code="body_too_long",
        )
    return body


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) < 5:
        raise CommunityError(
            _("Give the topic a title of at least 5 characters."), field="title", code="title"
        )
    if len(title) > 200:
        raise CommunityError(
            _("Titles may be at most 200 characters."), field="title", code="title"
        )
    return title


def _resolve_tags(slugs: Sequence[str]) -> list[Tag]:
    wanted = list(dict.fromkeys(slug.strip().lower() for slug in slugs if slug and slug.strip()))
    if len(wanted) > MAX_TAGS:
        raise CommunityError(
            _("Choose at most %(max)d tags.") % {"max": MAX_TAGS}, field="tags", code="tags"
        )
    tags = list(Tag.objects.filter(slug__in=wanted))
    unknown = sorted(set(wanted) - {tag.slug for tag in tags})
    if unknown:
        raise CommunityError(
            _("Unknown tag(s): %(tags)s. Choose from the tag list.") % {"tags": ", ".join(unknown)},
            field="tags",
            code="unknown_tag",
        )
    return tags


def mentionable(space: Space, handles: Iterable[str]) -> dict[str, User]:
    """handle -> person, for the handles that name someone who can see the space."""
    handles = list(dict.fromkeys(handles))[:MAX_MENTIONS]
    members = {
        member.user_id: member.handle
        for member in Member.objects.filter(handle__in=handles, user__is_active=True)
    }
    return {members[user.pk]: user for user in Space.objects.viewers(space, members)}


def preview(space: Space, body: str) -> str:
    """The sanitised HTML a post with this body would show, written nowhere."""
    return _render(space, body)[0]


def _render(space: Space, body: str) -> tuple[str, list[User]]:
    people = mentionable(space, mentioned_handles(body))
    return POSTS.render(body, mentions=people.keys()), list(people.values())


def _index(post: Post, title: str = "") -> None:
    post.search_document = search.document(title, post.body)
    Post.objects.filter(pk=post.pk).update(search_document=post.search_document)
    if connection.vendor == "postgresql":
        # Title terms rank above body terms.
        Post.objects.filter(pk=post.pk).update(
            search_vector=SearchVector(Value(search.document(title)), config="simple", weight="A")
            + SearchVector(Value(search.document(post.body)), config="simple", weight="B")
        )


def _store_attachments(
    post: Post, user: User, checked_uploads: Sequence[tuple[File, attachment_checks.CheckedFile]]
) -> None:
    for upload, checked in checked_uploads:
        name = (upload.name or "file").rsplit("/", 1)[-1][:200]
        attachment = Attachment(
            post=post,
            name=name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=user,
        )
        attachment.file.save(name, upload, save=False)
        if checked.content_type.startswith("image/"):
            # Made once here, so pages never decode a large original to show it.
            small = images.thumbnail(upload)
            if small is not None:
                attachment.thumbnail.save(small.name, small, save=False)
        attachment.save()


def _check_uploads(uploads: Sequence[File]) -> list[tuple[File, attachment_checks.CheckedFile]]:
    """Refuse bad files before anything is written; each file with what its content is."""
    if len(uploads) > app_settings.attachments_per_post():
        raise CommunityError(
            _("Attach at most %(max)d files to one post.")
            % {"max": app_settings.attachments_per_post()},
            field="attachments",
            code="too_many_attachments",
        )
    return [(upload, attachment_checks.check(upload)) for upload in uploads]


def event_data(topic: Topic, post: Post | None = None, **extra) -> dict:
    """CRM payload. Spaces not open to every customer reveal ids only: the CRM's readers may
    not be in the space's audience."""
    data = {
        "topic_id": topic.pk,
        "space_id": topic.space_id,
        "post_id": post.pk if post else None,
        "author_id": (post.author_id if post else topic.author_id),
        **extra,
    }
    if topic.space.is_public_to_customers():
        data.update(
            title=topic.title,
            kind=topic.kind,
            space=topic.space.slug,
            url=topic.get_absolute_url(),
        )
    return data


def _after_post(post: Post, mentioned: list[User]) -> None:
    post_id = post.pk
    mentioned_ids = [user.pk for user in mentioned]
    transaction.on_commit(lambda: tasks.notify_post.delay(post_id, mentioned_ids))


def create_topic(
    user: User,
    space: Space,
    *,
    title: str,
    body: str,
    kind: str = TopicKind.QUESTION,
    tags: Sequence[str] = (),
    attachments: Sequence = (),
    request: HttpRequest | None = None,
) -> Topic:
    space = access.visible_space(user, space.pk)
    title = _clean_title(title)
    body = _clean_body(body)
    if kind not in TopicKind.values:
        raise CommunityError(
            _("A topic is a question or a discussion."), field="kind", code="invalid_kind"
        )
    tag_objects = _resolve_tags(tags)
    checked_uploads = _check_uploads(attachments)
    html, mentioned = _render(space, body)
    with transaction.atomic():
        member = _refuse_if_cannot_post(user, space)
        now = timezone.now()
        organisation = access.organisation_of(user)
        topic = Topic.objects.create(
            space=space,
            kind=kind,
            title=title,
            author=user,
            organisation=organisation,
            created_at=now,
            last_activity_at=now,
            last_poster=user,
        )
        topic.tags.set(tag_objects)
        post = Post.objects.create(
            topic=topic,
            number=1,
            author=user,
            organisation=organisation,
            body=body,
            html=html,
            created_at=now,
        )
        _store_attachments(post, user, checked_uploads)
        _index(post, title)
        _count_post(member, now)
        # The asker follows their own topic.
        Subscription.objects.get_or_create(
            user=user, topic=topic, defaults={"level": Level.WATCHING}
        )
        events.publish(
            TOPIC_CREATED, organisation, f"community/topics/{topic.pk}", event_data(topic, post)
        )
        _after_post(post, mentioned)
    return topic


def _count_post(member: Member, now: dt.datetime) -> None:
    Member.objects.filter(pk=member.pk).update(
        post_count=F("post_count") + 1, first_post_at=member.first_post_at or now
    )


def reply(
    user: User,
    topic: Topic,
    *,
    body: str,
    reply_to: Post | None = None,
    attachments: Sequence = (),
    request: HttpRequest | None = None,
) -> Post:
    topic = access.visible_topic(user, topic.pk)
    body = _clean_body(body)
    if reply_to is not None and reply_to.topic_id != topic.pk:
        raise CommunityError(
            _("You can only reply to a post of this topic."), field="reply_to", code="reply_to"
        )
    checked_uploads = _check_uploads(attachments)
    html, mentioned = _render(topic.space, body)
    with transaction.atomic():
        # Lock the topic: numbers are assigned one at a time, and a lock or move made meanwhile
        # is seen.
        topic = Topic.objects.select_for_update().select_related("space").get(pk=topic.pk)
        if topic.merged_into_id:
            raise PostingRefused(_("This topic was merged into another; reply there."))
        member = _refuse_if_cannot_post(user, topic.space, topic)
        now = timezone.now()
        number = (topic.posts.aggregate(last=Max("number"))["last"] or 0) + 1
        organisation = access.organisation_of(user)
        post = Post.objects.create(
            topic=topic,
            number=number,
            author=user,
            organisation=organisation,
            body=body,
            html=html,
            reply_to=reply_to,
            created_at=now,
        )
        _store_attachments(post, user, checked_uploads)
        _index(post)
        _count_post(member, now)
        Topic.objects.filter(pk=topic.pk).update(
            reply_count=F("reply_count") + 1, last_activity_at=now, last_poster=user
        )
        events.publish(
            REPLY_POSTED,
            organisation,
            f"community/topics/{topic.pk}",
            event_data(topic, post, number=number),
        )
        _after_post(post, mentioned)
    return post


def edit_post(
    user: User,
    post: Post,
    *,
    body: str,
    title: str | None = None,
    tags: Sequence[str] | None = None,
    request: HttpRequest | None = None,
) -> Post:
    """Change a post's text (and, for an opening post, the title and tags). The previous text is
    kept as a revision that readers can open."""
    post = access.visible_post(user, post.pk)
    topic = post.topic
    own = post.author_id == user.pk
    if not (own or is_moderator(user)):
        raise PostingRefused(_("Only the author or a moderator can edit this post."))
    if own and not is_moderator(user):
        refusal = access.posting_refusal(user, topic.space, topic)
        if refusal:
            raise PostingRefused(refusal)
    body = _clean_body(body)
    new_title = _clean_title(title) if (title is not None and post.is_opening) else topic.title
    tag_objects = _resolve_tags(tags) if (tags is not None and post.is_opening) else None
    html, _mentioned = _render(topic.space, body)
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if body == post.body and new_title == topic.title and tag_objects is None:
            return post
        number = post.revisions.count() + 1
        PostRevision.objects.create(
            post=post,
            number=number,
            title=topic.title if post.is_opening else "",
            body=post.body,
            edited_by=user,
        )
        post.body = body
        post.html = html
        post.edited_at = timezone.now()
        post.edit_count = F("edit_count") + 1
        post.save(update_fields=["body", "html", "edited_at", "edit_count"])
        post.refresh_from_db(fields=["edit_count"])
        if post.is_opening:
            Topic.objects.filter(pk=topic.pk).update(title=new_title)
            topic.title = new_title
            if tag_objects is not None:
                topic.tags.set(tag_objects)
        _index(post, topic.title if post.is_opening else "")
        if not own:
            audit.record(
                "community.post_edited",
                actor=user,
                organisation=post.organisation,
                obj=post,
                request=request,
                details={"topic_id": topic.pk, "number": post.number},
            )
    return post


def delete_post(user: User, post: Post, *, request: HttpRequest | None = None) -> Post:
    """The author withdraws their post (or a moderator deletes it). An opening post takes its
    topic with it."""
    post = access.visible_post(user, post.pk)
    if not (post.author_id == user.pk or is_moderator(user)):
        raise PostingRefused(_("Only the author or a moderator can delete this post."))
    with transaction.atomic():
        set_post_status(post, PostStatus.DELETED)
        audit.record(
            "community.post_deleted",
            actor=user,
            organisation=post.organisation,
            obj=post,
            request=request,
            details={"topic_id": post.topic_id, "number": post.number},
        )
    return post


def set_post_status(post: Post, status: str) -> None:
    """Change a post's status and keep the topic's counters and hidden mark in step."""
    was_visible = post.status == PostStatus.VISIBLE
    Post.objects.filter(pk=post.pk).update(status=status)
    post.status = status
    now_visible = status == PostStatus.VISIBLE
    if post.is_opening:
        Topic.objects.filter(pk=post.topic_id).update(is_hidden=not now_visible)
        topic_counts.forget()
    elif was_visible != now_visible:
        delta = 1 if now_visible else -1
        Topic.objects.filter(pk=post.topic_id).update(reply_count=F("reply_count") + delta)
        if not now_visible:
            Topic.objects.filter(pk=post.topic_id, accepted_answer=post).update(
                accepted_answer=None, accepted_by=None
            )


# --------------------------------------------------------------------------------------------
# Reactions and answers
# --------------------------------------------------------------------------------------------


def react(user: User, post: Post, kind: str = ReactionKind.UPVOTE) -> bool:
    """Toggle a reaction; True when it is now on."""
    post = access.visible_post(user, post.pk)
    if kind not in ReactionKind.values:
        raise CommunityError(
            _("Unknown reaction %(kind)s; use one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(ReactionKind.values)},
            field="kind",
            code="invalid_reaction",
        )
    access.refuse_if_suspended(user)
    if post.author_id == user.pk:
        raise CommunityError(_("You cannot react to your own post."), code="own_post")
    if post.status != PostStatus.VISIBLE:
        raise CommunityError(_("This post is hidden."), code="post_hidden")
    with transaction.atomic():
        deleted, _rows = Reaction.objects.filter(post=post, user=user, kind=kind).delete()
        delta = -1 if deleted else 1
        if not deleted:
            Reaction.objects.create(post=post, user=user, kind=kind)
        Post.objects.filter(pk=post.pk).update(reaction_count=F("reaction_count") + delta)
        if post.is_opening:
            Topic.objects.filter(pk=post.topic_id).update(score=F("score") + delta)
    return not deleted


def accept_answer(user: User, post: Post, *, request: HttpRequest | None = None) -> Topic:
    """Mark a reply as the answer to its question (replacing any earlier choice)."""
    post = access.visible_post(user, post.pk)
    topic = post.topic
    if topic.kind != TopicKind.QUESTION:
        raise CommunityError(_("Only questions have accepted answers."), code="not_a_question")
    if not access.can_accept(user, topic):
        raise PostingRefused(_("Only the person who asked or vendor staff can accept an answer."))
    access.refuse_if_suspended(user)
    if post.is_opening:
        raise CommunityError(_("Accept a reply, not the question itself."), code="not_a_reply")
    if post.status != PostStatus.VISIBLE:
        raise CommunityError(_("A hidden post cannot be the answer."), code="post_hidden")
    if post.author_id == topic.author_id:
        raise CommunityError(
            _("The asker's own reply cannot be the accepted answer."), code="own_reply"
        )
    with transaction.atomic():
        topic = Topic.objects.select_for_update().select_related("space").get(pk=topic.pk)
        if topic.accepted_answer_id == post.pk:
            return topic
        topic.accepted_answer = post
        topic.accepted_by = user
        topic.last_activity_at = timezone.now()
        topic.save(update_fields=["accepted_answer", "accepted_by", "last_activity_at"])
        events.publish(
            ANSWER_ACCEPTED,
            topic.organisation,
            f"community/topics/{topic.pk}",
            event_data(
                topic,
                post,
                accepted_by_id=user.pk,
                answer_organisation_id=post.organisation_id,
            ),
        )
        topic_id = topic.pk
        transaction.on_commit(lambda: tasks.notify_accepted.delay(topic_id))
    return topic


def unaccept_answer(user: User, topic: Topic) -> Topic:
    topic = access.visible_topic(user, topic.pk)
    if not access.can_accept(user, topic):
        raise PostingRefused(_("Only the person who asked or vendor staff can change the answer."))
    Topic.objects.filter(pk=topic.pk).update(accepted_answer=None, accepted_by=None)
    topic.accepted_answer = None
    topic.accepted_by = None
    return topic


# --------------------------------------------------------------------------------------------
# Staff: pin, lock, move, merge
# --------------------------------------------------------------------------------------------


def _require_staff(user: User) -> None:
    if not is_community_staff(user):
        raise PostingRefused(_("Only vendor staff can do this."))


def set_pinned(
    user: User, topic: Topic, pinned: bool, *, request: HttpRequest | None = None
) -> Topic:
    return _staff_flag(user, topic, "is_pinned", pinned, "community.topic_pinned", request)


def set_locked(
    user: User, topic: Topic, locked: bool, *, request: HttpRequest | None = None
) -> Topic:
    return _staff_flag(user, topic, "is_locked", locked, "community.topic_locked", request)


def _staff_flag(
    user: User, topic: Topic, field: str, value: bool, action: str, request: HttpRequest | None
) -> Topic:
    topic = access.visible_topic(user, topic.pk)
    _require_staff(user)
    with transaction.atomic():
        Topic.objects.filter(pk=topic.pk).update(**{field: value})
        setattr(topic, field, value)
        audit.record(
            action,
            actor=user,
            organisation=topic.organisation,
            obj=topic,
            request=request,
            details={field: value},
        )
    return topic


def move_topic(
    user: User, topic: Topic, space: Space, *, request: HttpRequest | None = None
) -> Topic:
    topic = access.visible_topic(user, topic.pk)
    _require_staff(user)
    space = access.visible_space(user, space.pk)
    with transaction.atomic():
        previous = topic.space_id
        Topic.objects.filter(pk=topic.pk).update(space=space)
        topic_counts.forget()
        topic.space = space
        audit.record(
            "community.topic_moved",
            actor=user,
            organisation=topic.organisation,
            obj=topic,
            request=request,
            details={"from_space_id": previous, "to_space_id": space.pk},
        )
    return topic


def merge_topics(
    user: User, source: Topic, target: Topic, *, request: HttpRequest | None = None
) -> Topic:
    """Append the source topic's posts to the target (in their order) and leave the source as a
    pointer to it. Followers of the source follow the target."""
    source = access.visible_topic(user, source.pk)
    target = access.visible_topic(user, target.pk)
    _require_staff(user)
    if source.pk == target.pk:
        raise CommunityError(_("Choose another topic to merge into."), field="target")
    with transaction.atomic():
        locked = {
            t.pk: t for t in Topic.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
        }
        source, target = locked[source.pk], locked[target.pk]
        last = target.posts.aggregate(last=Max("number"))["last"] or 0
        moved = list(source.posts.order_by("number"))
        # Free the numbers first: (topic, number) is unique.
        Post.objects.filter(topic=source).update(number=F("number") + 1_000_000)
        for offset, post in enumerate(moved, start=1):
            Post.objects.filter(pk=post.pk).update(topic=target, number=last + offset)
        visible_moved = sum(1 for post in moved if post.status == PostStatus.VISIBLE)
        Topic.objects.filter(pk=target.pk).update(
            reply_count=F("reply_count") + visible_moved,
            last_activity_at=max(target.last_activity_at, source.last_activity_at),
        )
        Topic.objects.filter(pk=source.pk).update(
            merged_into=target, reply_count=0, accepted_answer=None, is_locked=True
        )
        topic_counts.forget()
        followers = Subscription.objects.filter(topic=source).exclude(
            user__in=Subscription.objects.filter(topic=target).values("user")
        )
        followers.update(topic=target)
        audit.record(
            "community.topics_merged",
            actor=user,
            organisation=source.organisation,
            obj=target,
            request=request,
            details={"source_topic_id": source.pk, "posts_moved": len(moved)},
        )
    target.refresh_from_db()
    return target


# --------------------------------------------------------------------------------------------
# Subscriptions and visits
# --------------------------------------------------------------------------------------------


def set_level(
    user: User,
    level: str,
    *,
    topic: Topic | None = None,
    space: Space | None = None,
    tag: Tag | None = None,
) -> Subscription | None:
    """Watch, track, normal or mute one topic, space or tag. Normal removes the row (it is the
    default), except on a topic, where it overrides a watched space."""
    if level not in Level.values:
        raise CommunityError(
            _("Choose watching, tracking, normal or muted."), field="level", code="invalid_level"
        )
    if [topic, space, tag].count(None) != 2:
        raise CommunityError(_("Choose one topic, space or tag."), code="invalid_target")
    if topic is not None:
        topic = access.visible_topic(user, topic.pk)
    if space is not None:
        space = access.visible_space(user, space.pk)
    target = Q(topic=topic) if topic else Q(space=space) if space else Q(tag=tag)
    if level == Level.NORMAL and topic is None:
        Subscription.objects.filter(target, user=user).delete()
        return None
    subscription, _created = Subscription.objects.update_or_create(
        user=user, topic=topic, space=space, tag=tag, defaults={"level": level}
    )
    return subscription


def clear_topic_level(user: User, topic: Topic) -> bool:
    """Drop the level chosen on a topic, so its space's and tags' levels apply again; True when
    there was one."""
    topic = access.visible_topic(user, topic.pk)
    deleted, _rows = Subscription.objects.filter(user=user, topic=topic).delete()
    return bool(deleted)


def touch(user: User) -> Member | None:
    """Note a visit (digests skip people who came back since the last one), at most every
    five minutes so page views do not write on every request. Returns the person's community
    record (None for anonymous visitors), for the page to read its other fields without asking
    again."""
    if not (user and user.is_authenticated):
        return None
    now = timezone.now()
    member = access.member_for(user)
    if member.last_seen_at is None or member.last_seen_at < now - dt.timedelta(minutes=5):
        Member.objects.filter(pk=member.pk).update(last_seen_at=now)
    return member
