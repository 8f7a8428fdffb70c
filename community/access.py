"""Who someone is in the community and what they may see and do: the read side of the rules.

Views, the API, moderation and the actions all ask here. Nothing in this module writes a topic
or a post, and it imports no other community module that does, so the actions, the tasks and
the notifications can all use it without importing each other. Lookups answer NotVisible (a
404 to the client) for anything outside what the person may see; the posting checks return a
refusal message, or raise PostingRefused/RateLimited when a write is being attempted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from community import app_settings
from community.exceptions import NotVisible, PostingRefused, RateLimited
from community.models import (
    Member,
    Post,
    Space,
    Topic,
    TopicKind,
    is_community_staff,
)
from community.statements import Statement, columns, instance
from community.visibility import postable_space_ids
from portal.models import Membership, Organisation, User

# --------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------


# Read on every community page: compiled once (community.statements).
_MEMBER_COLUMNS = columns(Member)
_MEMBER = Statement(
    lambda *, user: Member.objects.filter(user_id=user).order_by().values_list(*_MEMBER_COLUMNS)
)


def member_for(user: User) -> Member:
    """The person's community record, created on first use with a unique @handle."""
    found = _MEMBER.rows(None, user=user.pk)
    if found:
        return instance(Member, _MEMBER_COLUMNS, found[0])
    base = slugify(user.email.split("@", 1)[0].replace(".", "-")).replace("-", ".")[:34] or "member"
    handle = base
    suffix = 1
    while Member.objects.filter(handle=handle).exists():
        suffix += 1
        handle = f"{base}{suffix}"
    member, _created = Member.objects.get_or_create(user=user, defaults={"handle": handle})
    return member


def handles_for(users: Iterable[User | None]) -> dict[int, str]:
    """user id -> handle for several people in one query (creating none)."""
    ids = [user.pk for user in users if user is not None]
    return dict(Member.objects.filter(user_id__in=ids).values_list("user_id", "handle"))


def organisation_of(user: User) -> Organisation | None:
    """The organisation a person speaks for here: their first active membership (the CRM files
    their posts, flags and events there); None for vendor staff without one."""
    membership = (
        Membership.objects.filter(user=user, organisation__is_active=True)
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    return membership.organisation if membership else None


# --------------------------------------------------------------------------------------------
# Lookups with visibility
# --------------------------------------------------------------------------------------------


def visible_space(user: User, space_id: int | None = None, *, slug: str | None = None) -> Space:
    spaces = Space.objects.visible_to(user)
    space = None
    if slug:
        space = spaces.filter(slug=slug).first()
    elif space_id is not None:
        space = spaces.filter(pk=space_id).first()
    if space is None:
        raise NotVisible(_("No such space."))
    return space


def visible_topic(user: User, topic_id: int) -> Topic:
    topic = Topic.objects.visible_to(user).select_related("space").filter(pk=topic_id).first()
    if topic is None:
        raise NotVisible(_("No such topic."))
    return topic


def visible_post(user: User, post_id: int) -> Post:
    post = Post.objects.readable_by(user).select_related("topic__space").filter(pk=post_id).first()
    if post is None:
        raise NotVisible(_("No such post."))
    return post


# --------------------------------------------------------------------------------------------
# Posting rules
# --------------------------------------------------------------------------------------------


def posting_refusal(
    user: User, space: Space, topic: Topic | None = None, *, member: Member | None = None
) -> str | None:
    """Why this person may not post here right now (None: they may). Checks suspension, the
    space's posting rule and a locked topic; the new-member rate limit is checked on write.
    `member`: the person's community record when the caller has just read it."""
    suspended = suspension_message(user, member=member)
    if suspended:
        return suspended
    if space.pk not in postable_space_ids(user):
        return _("You can read this space, but only people it invites can post in it.")
    if topic is not None and topic.is_locked and not is_community_staff(user):
        return _("This topic is locked: it takes no new replies.")
    return None


def suspension_message(user: User, *, member: Member | None = None) -> str | None:
    if member is None or member.user_id != user.pk:
        member = Member.objects.filter(user=user).first()
    if member is None or not member.is_suspended() or member.suspended_until is None:
        return None
    until = timezone.localtime(member.suspended_until)
    return _("Your posting is suspended until %(until)s. Reason: %(reason)s") % {
        "until": until.strftime("%Y-%m-%d %H:%M"),
        "reason": member.suspension_reason or _("none given"),
    }


def refuse_if_suspended(user: User) -> None:
    """Suspension stops every write, reactions and accepting answers included."""
    suspended = suspension_message(user)
    if suspended:
        raise PostingRefused(suspended)


def is_new_member(user: User, member: Member) -> bool:
    joined_recently = user.date_joined > timezone.now() - dt.timedelta(
        days=app_settings.new_member_days()
    )
    return joined_recently or member.post_count < app_settings.new_member_posts()


def refuse_if_over_new_member_rate(user: User, member: Member) -> None:
    """New members post a few times an hour at most (vendor staff are never limited)."""
    if is_community_staff(user) or not is_new_member(user, member):
        return
    limit = app_settings.new_member_posts_per_hour()
    since = timezone.now() - dt.timedelta(hours=1)
    recent = list(
        Post.objects.filter(author=user, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        retry = timezone.localtime(recent[0] + dt.timedelta(hours=1))
        raise RateLimited(
            _(
                "New members can post %(limit)d times an hour while they get started; "
                "you can post again at %(time)s."
            )
            % {"limit": limit, "time": retry.strftime("%H:%M")}
        )


def can_accept(user: User, topic: Topic) -> bool:
    """May this person mark (or change) the accepted answer of the topic?"""
    return topic.kind == TopicKind.QUESTION and (
        topic.author_id == user.pk or is_community_staff(user)
    )
