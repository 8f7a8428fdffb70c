"""Moderation: members flag posts, moderators decide on them and warn or suspend members.

A post is hidden (pending review) as soon as its open flags reach the flag threshold
(`community.app_settings`), until a moderator approves, hides or deletes it. Every moderator
action writes the audit trail; the people acted on are told in the community's notification
list (and a warning also by e-mail).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import F, Min, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community import access, actions, app_settings
from community.exceptions import CommunityError, PostingRefused
from community.models import (
    Flag,
    FlagReason,
    FlagStatus,
    Member,
    Notification,
    NotificationKind,
    Post,
    PostStatus,
    is_community_staff,
    is_moderator,
)
from portal import audit, events
from portal.models import User

MAX_NOTE = 500
# Notification.message holds at most 300 characters.
MAX_MESSAGE = 300
_FIELD_NAMES = {
    "note": gettext_lazy("note"),
    "message": gettext_lazy("warning"),
    "reason": gettext_lazy("reason"),
}


class Decision(models.TextChoices):
    APPROVE = "approve", gettext_lazy("Approve: the post is fine")
    HIDE = "hide", gettext_lazy("Hide the post")
    DELETE = "delete", gettext_lazy("Delete the post")


# What each decision does to the post and to its open flags.
DECISION_STATUS = {
    Decision.APPROVE: PostStatus.VISIBLE,
    Decision.HIDE: PostStatus.HIDDEN,
    Decision.DELETE: PostStatus.DELETED,
}
DECISION_FLAGS = {
    Decision.APPROVE: FlagStatus.DISAGREED,
    Decision.HIDE: FlagStatus.AGREED,
    Decision.DELETE: FlagStatus.AGREED,
}
DECISION_AUDIT = {
    Decision.APPROVE: "community.post_approved",
    Decision.HIDE: "community.post_hidden",
    Decision.DELETE: "community.post_deleted",
}


def review_queue() -> QuerySet[Post]:
    """Posts waiting for a moderator: hidden pending review, or still shown but flagged. Each is
    annotated with `first_flagged_at`, the oldest open flag (the queue is worked oldest first)."""
    return (
        Post.objects.filter(
            Q(status=PostStatus.PENDING_REVIEW)
            | (Q(open_flag_count__gt=0) & ~Q(status=PostStatus.DELETED))
        )
        .annotate(
            first_flagged_at=Min("flags__created_at", filter=Q(flags__status=FlagStatus.OPEN))
        )
        .order_by("first_flagged_at", "pk")
    )


def suspended_q(now: dt.datetime | None = None) -> Q:
    """Members whose posting is suspended right now."""
    return Q(suspended_until__gt=now or timezone.now())


def _text(value: str, *, field: str, limit: int, empty: str | None = None) -> str:
    """Stripped text within `limit` characters; `empty` is the message when it is required."""
    value = (value or "").strip()
    if empty and not value:
        raise CommunityError(empty, field=field, code=f"{field}_empty")
    if len(value) > limit:
        raise CommunityError(
            _("Keep the %(field)s to %(max)d characters; it has %(count)d.")
            % {"field": _FIELD_NAMES.get(field, field), "max": limit, "count": len(value)},
            field=field,
            code=f"{field}_too_long",
        )
    return value


def _require_moderator(user: User) -> None:
    if not is_moderator(user):
        raise PostingRefused(_("Only community moderators can do this."))


def _language(user: User) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


# --------------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------------


def flag_post(
    user: User, post: Post, *, reason: str, note: str = "", request: HttpRequest | None = None
) -> Flag:
    """Flag a post the person can read (once per person, never their own). When the open flags
    reach the threshold the post is hidden pending review; an opening post hides its topic."""
    post = access.visible_post(user, post.pk)
    if post.author_id == user.pk:
        raise CommunityError(
            _("You cannot flag your own post; edit or delete it instead."), code="own_post"
        )
    if reason not in FlagReason.values:
        raise CommunityError(
            _("Choose why you flag the post: %(reasons)s.")
            % {"reasons": ", ".join(str(label) for label in FlagReason.labels)},
            field="reason",
            code="invalid_reason",
        )
    note = _text(note, field="note", limit=MAX_NOTE)
    if reason == FlagReason.OTHER and not note:
        raise CommunityError(
            _("Tell the moderators what is wrong with the post."), field="note", code="note_needed"
        )
    topic = post.topic
    with transaction.atomic():
        # Flags of one post are counted one at a time: the flag that reaches the threshold is
        # the one that hides the post, however many arrive together.
        post = Post.objects.select_for_update().get(pk=post.pk)
        if Flag.objects.filter(post=post, flagged_by=user).exists():
            raise CommunityError(_("You already flagged this post."), code="already_flagged")
        flag = Flag.objects.create(post=post, flagged_by=user, reason=reason, note=note)
        open_flags = Flag.objects.filter(post=post, status=FlagStatus.OPEN).count()
        Post.objects.filter(pk=post.pk).update(open_flag_count=open_flags)
        post.open_flag_count = open_flags
        if open_flags >= app_settings.flag_threshold() and post.status == PostStatus.VISIBLE:
            actions.set_post_status(post, PostStatus.PENDING_REVIEW)
        events.publish(
            actions.POST_FLAGGED,
            access.organisation_of(user),
            f"community/topics/{topic.pk}",
            actions.event_data(topic, post, reason=reason, flag_count=open_flags),
        )
    return flag


# --------------------------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------------------------


def decide(
    moderator: User,
    post: Post,
    decision: str,
    *,
    note: str = "",
    request: HttpRequest | None = None,
) -> Post:
    """Approve (visible again, its flags disagreed with), hide or delete a post (flags agreed
    with). The author is told when their post is hidden or deleted."""
    _require_moderator(moderator)
    if decision not in Decision.values:
        raise CommunityError(
            _("Choose approve, hide or delete."), field="decision", code="invalid_decision"
        )
    decision = Decision(decision)
    note = _text(note, field="note", limit=MAX_NOTE)
    with transaction.atomic():
        post = (
            Post.objects.select_for_update(of=("self",))
            .select_related("topic", "author")
            .get(pk=post.pk)
        )
        previous = post.status
        if decision == Decision.APPROVE and previous == PostStatus.DELETED:
            raise CommunityError(
                _("This post was deleted, so it cannot be approved."), code="post_deleted"
            )
        status = DECISION_STATUS[decision]
        if status != previous:
            actions.set_post_status(post, status)
        now = timezone.now()
        resolved = Flag.objects.filter(post=post, status=FlagStatus.OPEN).update(
            status=DECISION_FLAGS[decision], resolved_by=moderator, resolved_at=now
        )
        Post.objects.filter(pk=post.pk).update(open_flag_count=0)
        post.open_flag_count = 0
        if decision != Decision.APPROVE and post.author is not None:
            _tell_author(moderator, post.author, post, decision, note)
        audit.record(
            DECISION_AUDIT[decision],
            actor=moderator,
            organisation=post.organisation,
            obj=post,
            request=request,
            details={
                "topic_id": post.topic_id,
                "number": post.number,
                "author_id": post.author_id,
                "previous_status": previous,
                "status": status,
                "flags_resolved": resolved,
                "note": note,
            },
        )
    return post


def _tell_author(
    moderator: User, author: User, post: Post, decision: Decision, note: str
) -> Notification:
    with translation.override(_language(author)):
        if decision == Decision.HIDE:
            message = _("A moderator hid your post in “%(topic)s”.")
        else:
            message = _("A moderator deleted your post in “%(topic)s”.")
        message = message % {"topic": post.topic.title}
        if note:
            message = _("%(message)s Reason: %(note)s") % {"message": message, "note": note}
    return Notification.objects.create(
        user=author,
        kind=NotificationKind.MODERATION,
        topic=post.topic,
        post=post,
        actor=moderator,
        message=_shorten(message),
    )


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


# --------------------------------------------------------------------------------------------
# Members: warnings and suspensions
# --------------------------------------------------------------------------------------------


def warn(
    moderator: User,
    user: User,
    message: str,
    *,
    post: Post | None = None,
    request: HttpRequest | None = None,
) -> Notification:
    """Send a member a moderator's warning (in-app and by e-mail) and count it."""
    _require_moderator(moderator)
    message = _text(
        message,
        field="message",
        limit=MAX_MESSAGE,
        empty=_("Write the warning the member will read."),
    )
    if user.pk == moderator.pk:
        raise CommunityError(_("You cannot warn yourself."), code="own_account")
    with transaction.atomic():
        member = access.member_for(user)
        Member.objects.filter(pk=member.pk).update(warning_count=F("warning_count") + 1)
        member.refresh_from_db(fields=["warning_count"])
        notification = Notification.objects.create(
            user=user,
            kind=NotificationKind.MODERATION,
            topic=post.topic if post else None,
            post=post,
            actor=moderator,
            message=message,
        )
        audit.record(
            "community.member_warned",
            actor=moderator,
            organisation=post.organisation if post else access.organisation_of(user),
            obj=member,
            request=request,
            details={
                "user_id": user.pk,
                "post_id": post.pk if post else None,
                "message": message,
                "warning_count": member.warning_count,
            },
        )
        notification_id = notification.pk
        transaction.on_commit(lambda: send_warning_email(notification_id), robust=True)
    return notification


def send_warning_email(notification_id: int) -> bool:
    """E-mail a moderator's warning to the member, in their language, once. Returns False when
    it was sent already or the notification is gone."""
    notification = (
        Notification.objects.select_related("user", "topic")
        .filter(pk=notification_id, kind=NotificationKind.MODERATION, emailed_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    user = notification.user
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    link = (
        notification.topic.get_absolute_url() if notification.topic else reverse("community:index")
    )
    with translation.override(_language(user)):
        subject = _("A message from the community moderators")
        body = "\n\n".join(
            [
                _("Hello,"),
                _("A moderator of the GreenLoop community sent you this warning:"),
                notification.message,
                _("Where it is about: %(url)s") % {"url": base + link},
                _(
                    "Please keep to the community guidelines. Members who keep breaking them "
                    "may have their posting suspended."
                ),
            ]
        )
    send_mail(subject, body, None, [user.email])
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True


def suspend(
    moderator: User,
    user: User,
    *,
    until: dt.datetime,
    reason: str,
    request: HttpRequest | None = None,
) -> Member:
    """Stop a member from posting until `until` (topics, replies and edits are refused with the
    date and the reason)."""
    _require_moderator(moderator)
    reason = _text(
        reason, field="reason", limit=MAX_MESSAGE, empty=_("Give the reason the member will see.")
    )
    if until is None or until <= timezone.now():
        raise CommunityError(
            _("Choose a date and time in the future for the suspension to end."),
            field="until",
            code="until_past",
        )
    if is_community_staff(user):
        raise CommunityError(
            _("Vendor staff cannot be suspended; remove their staff role instead."),
            code="staff_member",
        )
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=access.member_for(user).pk)
        previous = member.suspended_until
        member.suspended_until = until
        member.suspension_reason = reason
        member.save(update_fields=["suspended_until", "suspension_reason"])
        with translation.override(_language(user)):
            message = _("Your posting is suspended until %(until)s. Reason: %(reason)s") % {
                "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"),
                "reason": reason,
            }
        Notification.objects.create(
            user=user,
            kind=NotificationKind.MODERATION,
            actor=moderator,
            message=_shorten(message),
        )
        audit.record(
            "community.member_suspended",
            actor=moderator,
            organisation=access.organisation_of(user),
            obj=member,
            request=request,
            details={
                "user_id": user.pk,
                "until": until.isoformat(),
                "reason": reason,
                "previous_until": previous.isoformat() if previous else None,
            },
        )
    return member


def unsuspend(moderator: User, user: User, *, request: HttpRequest | None = None) -> Member:
    """Lift a member's posting suspension before it ends."""
    _require_moderator(moderator)
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(pk=user.pk).first()
        previous_until = member.suspended_until if member is not None else None
        if member is None or previous_until is None or not member.is_suspended():
            raise CommunityError(_("This member's posting is not suspended."), code="not_suspended")
        previous_reason = member.suspension_reason
        member.suspended_until = None
        member.suspension_reason = ""
        member.save(update_fields=["suspended_until", "suspension_reason"])
        audit.record(
            "community.member_unsuspended",
            actor=moderator,
            organisation=access.organisation_of(user),
            obj=member,
            request=request,
            details={
                "user_id": user.pk,
                "was_until": previous_until.isoformat(),
                "reason": previous_reason,
            },
        )
    return member
