"""The community's part of a person's personal data (portal.privacy): what the export holds and
what erasure removes. Registered as Wagtail hooks in community.portal_hooks.

Erasure keeps the person's posts, edit history, attachments, reactions and flags (the
conversations and moderation records need them); the portal anonymises the user row, so they
read as by "Deleted user". The community record (@handle, last visit, digest choice, posting
suspension), notification levels and the person's notifications are deleted. Mentions: other
people's text is not rewritten (an `@handle` they typed stays as typed), but every post that
linked the released handle is rendered again without the link, so the handle, if someone else
gets it later, never points old mentions at them.
"""

from __future__ import annotations

import re
from typing import Any

from community.markdown import POSTS
from community.models import (
    Attachment,
    Flag,
    Member,
    Notification,
    Post,
    PostRevision,
    Reaction,
    Subscription,
    Topic,
)
from portal.models import User

# A mention link exactly as community.markdown.POSTS renders it.
_MENTION_LINK = re.compile(r'href="/community/people/([^/"]+)/" class="mention"')


def personal_data(user: User) -> dict[str, Any]:
    member = Member.objects.filter(user=user).first()
    return {
        "community": {
            "member": None
            if member is None
            else {
                "handle": member.handle,
                "digest": member.digest,
                "last_seen_at": member.last_seen_at,
                "post_count": member.post_count,
                "warning_count": member.warning_count,
                "suspended_until": member.suspended_until,
                "suspension_reason": member.suspension_reason,
            },
            "topics": [
                {
                    "id": t.pk,
                    "title": t.title,
                    "kind": t.kind,
                    "space": t.space.name,
                    "created_at": t.created_at,
                }
                for t in Topic.objects.filter(author=user).select_related("space").order_by("pk")
            ],
            # Replies carry the topic's id only: its title may be someone else's words.
            "posts": [
                {
                    "id": p.pk,
                    "topic_id": p.topic_id,
                    "number": p.number,
                    "body": p.body,
                    "status": p.status,
                    "created_at": p.created_at,
                    "edited_at": p.edited_at,
                }
                for p in Post.objects.filter(author=user).order_by("pk")
            ],
            "earlier_versions": [
                {
                    "post_id": r.post_id,
                    "version": r.number,
                    "title": r.title,
                    "body": r.body,
                    "created_at": r.created_at,
                }
                for r in PostRevision.objects.filter(post__author=user).order_by("pk")
            ],
            "attachments": [
                {
                    "post_id": a.post_id,
                    "name": a.name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "created_at": a.created_at,
                }
                for a in Attachment.objects.filter(uploaded_by=user).order_by("pk")
            ],
            "reactions": [
                {"post_id": r.post_id, "kind": r.kind, "created_at": r.created_at}
                for r in Reaction.objects.filter(user=user).order_by("pk")
            ],
            "flags": [
                {
                    "post_id": f.post_id,
                    "reason": f.reason,
                    "note": f.note,
                    "status": f.status,
                    "created_at": f.created_at,
                }
                for f in Flag.objects.filter(flagged_by=user).order_by("pk")
            ],
            "notification_levels": [
                {
                    "level": s.level,
                    "topic_id": s.topic_id,
                    "space": s.space.name if s.space is not None else None,
                    "tag": s.tag.name if s.tag is not None else None,
                }
                for s in Subscription.objects.filter(user=user)
                .select_related("space", "tag")
                .order_by("pk")
            ],
            # Who caused a notification is another person: left out.
            "notifications": [
                {
                    "kind": n.kind,
                    "topic_id": n.topic_id,
                    "post_id": n.post_id,
                    "message": n.message,
                    "created_at": n.created_at,
                    "read_at": n.read_at,
                    "emailed_at": n.emailed_at,
                }
                for n in Notification.objects.filter(user=user).order_by("pk")
            ],
        }
    }


def erase_personal_data(user: User) -> dict[str, int]:
    unlinked = 0
    member = Member.objects.filter(user=user).first()
    if member is not None:
        link = f'href="/community/people/{member.handle}/" class="mention"'
        for post in Post.objects.filter(html__contains=link).select_for_update():
            keep = set(_MENTION_LINK.findall(post.html)) - {member.handle}
            post.html = POSTS.render(post.body, mentions=keep)
            post.save(update_fields=["html"])
            unlinked += 1
        member.delete()
    return {
        "community_mentions_unlinked": unlinked,
        "community_notification_levels_deleted": Subscription.objects.filter(user=user).delete()[0],
        "community_notifications_deleted": Notification.objects.filter(user=user).delete()[0],
    }
