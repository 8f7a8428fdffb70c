"""Community permission rules, registered with the portal's `has_perm`."""

from __future__ import annotations

from community.models import Space
from portal.permissions import register_rule

POST = "community.post"


def can_post(user, space) -> bool:
    """May the user start topics and reply in `space`? Hidden or archived spaces: no."""
    if space is None or not (user and user.is_authenticated and user.is_active):
        return False
    return Space.objects.postable_by(user).filter(pk=space.pk).exists()


register_rule(POST, can_post)
