"""Comments on ideas: adding one (with @mentions) and hiding one (product staff).

A comment lands in one transaction with the idea's `comment_count` (recounted under the idea's
row lock, like the votes), its author's subscription and its notifications: the people it
mentions (`boards.mention`) and the idea's other subscribers (`boards.comment`), each filtered by
`notifications.notify_about`, so a mention of someone outside a private board reaches nobody.
Handles belong to the community, which the boards may not import: they are resolved through
`portal.people`. Comments publish no domain event (the CRM hears ideas and votes only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.boards import notifications
from beta_program.boards.access import can_manage, ideas_for, may_participate
from beta_program.boards.actions import clean_text, recount, subscriber_ids
from beta_program.boards.exceptions import BoardError
from beta_program.boards.models import Comment, Idea, Subscription
from portal import audit, people
from portal.exceptions import PermissionDeniedError
from portal.markdown import mentioned_handles
from portal.models import Organisation, User

MENTION = "boards.mention"
COMMENT = "boards.comment"
# One comment notifies at most this many mentioned people.
MAX_MENTIONS = 20


def add_comment(
    idea: Idea,
    organisation: Organisation | None,
    user: User,
    body: str,
    *,
    request: HttpRequest | None = None,
) -> Comment:
    """`user`'s comment on `idea`, written while acting for `organisation` (a member of it), or
    for the vendor (product staff; the comment then carries no organisation). The author joins
    the subscribers unless they left before; mentioned people who may see the idea and the
    other subscribers are notified once per comment."""
    member = may_participate(user, organisation)
    if not member and not can_manage(user):
        raise PermissionDeniedError(_("You cannot comment for this organisation."))
    if not ideas_for(user, organisation).filter(pk=idea.pk).exists():
        raise PermissionDeniedError(_("You cannot comment on this idea."))
    body = clean_text(body, "body", required=True)
    handles = sorted(mentioned_handles(body))[:MAX_MENTIONS]
    mentioned = set(people.resolve_handles(set(handles)).values()) - {user.pk}
    now = timezone.now()
    with transaction.atomic():
        locked = Idea.objects.select_for_update().select_related("board").get(pk=idea.pk)
        if locked.merged_into_id is not None:
            raise BoardError(
                _("This idea was merged into #%(id)s: comment there.")
                % {"id": locked.merged_into_id},
                code="idea_merged",
            )
        comment = Comment.objects.create(
            idea=locked,
            author=user,
            organisation=organisation if member else None,
            body=body,
            created_at=now,
        )
        recount(locked.pk)
        Idea.objects.filter(pk=locked.pk).update(last_activity_at=now)
        # The author joins the subscribers, unless they left them before (as voters do).
        Subscription.objects.get_or_create(idea=locked, user=user)
        params = {"comment_id": comment.pk}
        told = notifications.notify_about(
            locked,
            mentioned,
            MENTION,
            dedupe_key=f"boards.mention.{comment.pk}",
            params=params,
            exclude={user.pk},
        )
        notifications.notify_about(
            locked,
            subscriber_ids(locked),
            COMMENT,
            dedupe_key=f"boards.comment.{comment.pk}",
            params=params,
            # A mentioned subscriber hears about the comment once, as a mention.
            exclude={user.pk} | mentioned,
        )
        audit.record(
            "boards.comment_added",
            actor=user,
            organisation=comment.organisation,
            obj=locked,
            request=request,
            details={"comment_id": comment.pk, "mentions_notified": told},
        )
    return comment


def hide_comment(comment: Comment, by: User, *, request: HttpRequest | None = None) -> Comment:
    """Hide a comment from the idea's page (product staff only); the idea's comment count drops.
    Hiding twice changes nothing."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff hide comments."))
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=comment.idea_id)
        changed = Comment.objects.filter(pk=comment.pk, hidden=False).update(hidden=True)
        if changed:
            recount(locked.pk)
            audit.record(
                "boards.comment_hidden",
                actor=by,
                organisation=comment.organisation,
                obj=locked,
                request=request,
                details={"comment_id": comment.pk},
            )
    comment.hidden = True
    return comment


def mention_message(params: Mapping[str, Any]) -> str:
    return _("You were mentioned in a comment on %(idea)s") % {
        "idea": notifications.idea_label(params)
    }


def comment_message(params: Mapping[str, Any]) -> str:
    return _("New comment on %(idea)s") % {"idea": notifications.idea_label(params)}


notifications.WORDING[MENTION] = mention_message
notifications.WORDING[COMMENT] = comment_message
