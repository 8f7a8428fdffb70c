"""Community's knobs: every setting the community reads, with its default, in one place.

Each is a function rather than a constant so a value changed at run time (a deployment's
settings, a test's `settings` fixture) is seen on the next call. Deployments override them in
Django settings under the names below.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, int] = {
    # Largest attachment, in bytes, and how many files one post may carry.
    "COMMUNITY_ATTACHMENT_MAX_BYTES": 5 * 1024 * 1024,
    "COMMUNITY_ATTACHMENTS_PER_POST": 5,
    # People whose account is younger than this many days, or who have fewer posts than this,
    # may post only COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR times an hour.
    "COMMUNITY_NEW_MEMBER_DAYS": 3,
    "COMMUNITY_NEW_MEMBER_POSTS": 5,
    "COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR": 3,
    # A post is hidden, pending a moderator's decision, once this many people have flagged it.
    "COMMUNITY_FLAG_THRESHOLD": 3,
}


def _setting(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


def attachment_max_bytes() -> int:
    return _setting("COMMUNITY_ATTACHMENT_MAX_BYTES")


def attachments_per_post() -> int:
    return _setting("COMMUNITY_ATTACHMENTS_PER_POST")


def new_member_days() -> int:
    return _setting("COMMUNITY_NEW_MEMBER_DAYS")


def new_member_posts() -> int:
    return _setting("COMMUNITY_NEW_MEMBER_POSTS")


def new_member_posts_per_hour() -> int:
    return _setting("COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR")


def flag_threshold() -> int:
    return _setting("COMMUNITY_FLAG_THRESHOLD")
