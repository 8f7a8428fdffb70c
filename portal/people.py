"""People's @handles, for apps that let customers mention each other without owning the handles.

The community keeps the handles (its members' `handle`); a plugin may not import another, so an
app that renders @mentions (the R&D boards' comments) asks here and the owners answer through
the `greenloop_person_handles` hook:

    @hooks.register("greenloop_person_handles")
    def community_handles(handles: set[str], user_ids: set[int]) -> Handles: ...

A provider answers both directions in one call and only for active people; with no provider
installed nobody can be mentioned (the text still shows "@name", unlinked and notifying nobody).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wagtail import hooks

HANDLES_HOOK = "greenloop_person_handles"
# More handles than a comment could sensibly mention are ignored, so one text cannot make a
# lookup (or a notification) fan out to everyone.
MAX_HANDLES = 50


@dataclass(frozen=True)
class Handles:
    """What a provider knows: handle -> user id, user id -> handle, and handle -> the person's
    page (where mentions link to; a handle without one is shown unlinked)."""

    by_handle: dict[str, int] = field(default_factory=dict)
    by_user: dict[int, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


def lookup(handles: Iterable[str] = (), user_ids: Iterable[int] = ()) -> Handles:
    """Ask every provider about `handles` (lower-cased, at most MAX_HANDLES) and `user_ids`."""
    wanted = set(list(dict.fromkeys(h.lower() for h in handles))[:MAX_HANDLES])
    ids = {int(pk) for pk in user_ids}
    found = Handles()
    if not wanted and not ids:
        return found
    for provider in hooks.get_hooks(HANDLES_HOOK):
        answer = provider(set(wanted), set(ids))
        found.by_handle.update({h: pk for h, pk in answer.by_handle.items() if h in wanted})
        found.by_user.update({pk: h for pk, h in answer.by_user.items() if pk in ids})
        found.links.update({h: url for h, url in answer.links.items() if h in wanted})
    return found


def resolve_handles(handles: set[str]) -> dict[str, int]:
    """handle -> user id for the handles that name an active person."""
    return lookup(handles=handles).by_handle


def handles_of(user_ids: Iterable[int]) -> dict[int, str]:
    """user id -> handle for those of `user_ids` who have one."""
    return lookup(user_ids=user_ids).by_user
