"""What the topic page reads on every view: the topic, the posts the reader may read with what
is shown beside each, the reader's notification level and the topic's tags.

Each read is a `community.statements.Statement`: its QuerySet (the read rule, written once) is
compiled once per shape and run again with the topic's and posts' ids, and its rows become the
few model instances the page needs (`Model.from_db`, as the ORM builds them): one User per
author rather than per post. A fixed number of queries, however many posts there are
(tests/community/test_request_costs.py counts).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from community import access
from community import models as community_models
from community.models import (
    Attachment,
    Post,
    PostStatus,
    Reaction,
    ReactionKind,
    Topic,
    is_moderator,
)
from community.statements import Statement, columns, instance
from community.visibility import known_space_ids, visible_space_ids
from portal.models import User

# --------------------------------------------------------------------------------------------
# The topic
# --------------------------------------------------------------------------------------------

_TOPIC = columns(Topic)
_SPACE = columns(community_models.Space)
_TOPICS = Statement(
    lambda spaces, *, topic: (
        Topic.objects.filter(space_id__in=spaces, pk=topic)
        .order_by()
        .values_list(
            *_TOPIC,
            *(f"space__{name}" for name in _SPACE),
            *(f"space__parent__{name}" for name in _SPACE),
        )
    )
)


def _visible_topic(user: User, topic_id: int) -> Topic | None:
    """The topic with its space and the space's parent, if it is in a space the reader sees."""
    spaces = visible_space_ids(user)
    rows = _TOPICS.rows(spaces, sorted(spaces), topic=topic_id)
    if not rows:
        return None
    row = rows[0]
    found = instance(Topic, _TOPIC, row, 0)
    space = instance(community_models.Space, _SPACE, row, len(_TOPIC))
    parent_start = len(_TOPIC) + len(_SPACE)
    parent = None
    if row[parent_start] is not None:
        parent = instance(community_models.Space, _SPACE, row, parent_start)
    community_models.Space.parent.field.set_cached_value(space, parent)
    Topic.space.field.set_cached_value(found, space)
    return found


def reader_topic(user: User, topic_id: int) -> Topic | None:
    """The topic as the topic page needs it, including a merged-away one (for its redirect) and
    a hidden one whose opening post the reader may still read (its author while it is under
    review, moderators)."""
    found = _visible_topic(user, topic_id)
    if found is None or not found.is_hidden:
        return found
    # Rare: asked only for a hidden topic, so the everyday page runs one statement less.
    opening_readable = Post.objects.readable_by(user).filter(topic=found, number=1).exists()
    return found if opening_readable else None


def reader_topic_or_404(user: User, topic_id: int) -> Topic:
    found = reader_topic(user, topic_id)
    if found is None:
        raise Http404(_("No such topic."))
    return found


# --------------------------------------------------------------------------------------------
# The posts
# --------------------------------------------------------------------------------------------

# What decorated_posts, includes/post.html and the quote in the composer read of a post; any
# other field would be loaded post by post (tests/community/test_request_costs.py counts).
_POST = columns(
    Post,
    (
        "id",
        "topic_id",
        "number",
        "status",
        "html",
        "body",
        "created_at",
        "edited_at",
        "reply_to_id",
        "author_id",
        "organisation_id",
    ),
)
# What the page prints of an author (User.get_full_name, the vendor badge).
_AUTHOR = columns(
    User, ("id", "first_name", "last_name", "is_staff", "erased_at", "preferred_language")
)
_POSTS = Statement(
    lambda user, *, topic: (
        Post.objects.readable_by(user)
        .filter(topic_id=topic)
        .order_by("number")
        .values_list(
            *_POST,
            "organisation__name",
            "author__community_member__handle",
            *(f"author__{name}" for name in _AUTHOR),
        )
    )
)
_FILES = Statement(
    lambda *, posts: (
        Attachment.objects.filter(post_id__in=posts)
        .order_by("pk")
        .values_list(*columns(Attachment))
    )
)
_REACTIONS = Statement(
    lambda *, posts, reader: (
        Reaction.objects.filter(post_id__in=posts)
        .order_by()
        .values("post_id", "kind")
        .annotate(count=Count("pk"), own=Count("pk", filter=Q(user_id=reader)))
        .values_list("post_id", "kind", "count", "own")
    )
)


def _readable_posts(user: User, topic: Topic) -> list[tuple]:
    spaces = known_space_ids(user)
    if spaces is None:
        # The rule is then a subquery built from the reader's memberships at this moment: not
        # a shape to keep.
        return list(_POSTS.build(user, topic=topic.pk))
    return _POSTS.rows((user.pk, is_moderator(user), spaces), user, topic=topic.pk)


def decorated_posts(user: User, topic: Topic) -> list[Post]:
    """The posts this reader may read, in order, with what the template shows beside each: the
    author (one User per person) and handle, reaction buttons (counts and the reader's own),
    and what they may do. A fixed number of queries, however many posts there are."""
    visible_space_ids(user)  # the reader's spaces known, so that the posts' read is kept
    rows = _readable_posts(user, topic)
    authors: dict[int, User] = {}
    posts = []
    extra = len(_POST)
    for row in rows:
        post = instance(Post, _POST, row, 0)
        organisation_name, handle = row[extra], row[extra + 1]
        author = None
        if post.author_id is not None:
            author = authors.get(post.author_id)
            if author is None:
                author = authors[post.author_id] = instance(User, _AUTHOR, row, extra + 2)
        Post.author.field.set_cached_value(post, author)
        post.handle = handle or ""
        post.organisation_shown = organisation_name
        posts.append(post)
    ids = [post.pk for post in posts]
    files: dict[int, list[Attachment]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    mine: dict[int, set[str]] = defaultdict(set)
    if ids:
        names = columns(Attachment)
        for row in _FILES.rows(None, posts=ids):
            file = Attachment.from_db("default", names, row)
            if file.post_id is not None:
                files[file.post_id].append(file)
        for post_id, kind, count, own in _REACTIONS.rows(None, posts=ids, reader=user.pk):
            counts[post_id][kind] = count
            if own:
                mine[post_id].add(kind)
    numbers = {post.pk: post.number for post in posts}
    moderator = is_moderator(user)
    accepting = access.can_accept(user, topic)
    # Translated once for the page: the labels are part of each post's cache key.
    labels = [(kind, str(label)) for kind, label in ReactionKind.choices]
    for post in posts:
        own = post.author_id == user.pk
        visible = post.status == PostStatus.VISIBLE
        post.files = files[post.pk]
        post.reply_to_number = numbers.get(post.reply_to_id) if post.reply_to_id else None
        post.is_accepted = post.pk == topic.accepted_answer_id
        post.reactions_shown = [
            {
                "kind": kind,
                "label": label,
                "count": counts[post.pk].get(kind, 0),
                "on": kind in mine[post.pk],
            }
            for kind, label in labels
        ]
        post.can_react = visible and not own
        post.can_edit = own or moderator
        post.can_flag = visible and not own
        # The asker's own replies (a thank-you, a follow-up) are not answers to accept.
        post.can_accept = (
            accepting and visible and not post.is_opening and post.author_id != topic.author_id
        )
    return posts


# --------------------------------------------------------------------------------------------
# The reader's level and the tags
# --------------------------------------------------------------------------------------------

_LEVEL = Statement(
    lambda *, reader, topic: (
        community_models.Subscription.objects.filter(user_id=reader, topic_id=topic)
        .order_by()
        .values_list("level")[:1]
    )
)
_TAGS = Statement(
    lambda *, topic: (
        community_models.Tag.objects.filter(topics=topic)
        .order_by("name")
        .values_list("name", "slug")
    )
)


def notification_level(user: User, topic: Topic) -> str | None:
    rows = _LEVEL.rows(None, reader=user.pk, topic=topic.pk)
    return rows[0][0] if rows else None


def tags(topic: Topic) -> list[dict[str, str]]:
    return [{"name": name, "slug": slug} for name, slug in _TAGS.rows(None, topic=topic.pk)]
