"""The unread-notification count for the community's navigation."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from community.notifications import unread_count


def community(request: HttpRequest) -> dict:
    """`community_unread`: the signed-in person's unread notifications about topics they can
    still see. Lazy: one query, and only on pages that show it (0 for anonymous visitors)."""
    user = getattr(request, "user", None)

    def unread() -> int:
        if user is None or not user.is_authenticated:
            return 0
        return unread_count(user)

    return {"community_unread": SimpleLazyObject(unread)}
