"""The ids of the spaces a person may see (or post in), worked out once and kept in the cache.

`Space.objects.visible_to(user)` is the rule; building and compiling it (a dozen EXISTS
clauses) cost more than running it, and every list, the unread count and each lookup asked for
it again. Here the rule runs once per person and the answer, a small set of space ids, is kept
in Django's default cache (shared by every worker in production) and on the user object for the
rest of the request. Lists then filter by `space_id IN (...)`.

Invalidation is by generation: a cached answer is filed under two generation tokens, one for
everything (spaces, their audiences, organisations' tiers and activity, staff groups) and one
per person (their memberships and groups). A change draws a fresh token, so older answers are
never read again and expire on their own. Tokens are drawn when the change is saved and again
when its transaction commits: a request that read the old rows between the two cannot leave an
answer under the token that readers use after the commit.

Vendor staff see every live space; whether someone is staff is checked on every call (it depends
on their second factor too), never cached here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from community.models import Space, is_community_staff
from portal.cache import drawn_token
from portal.models import Membership, Organisation, User

# Answers and tokens expire on their own too, so a cache that was written to by hand (or by a
# process with other code) heals within the hour.
TIMEOUT = 60 * 60
_MEMO = "_community_space_ids"
VISIBLE = "visible"
POSTABLE = "postable"

# One object per request (request_started), None outside requests: answers remembered on the
# user object are trusted without asking the cache again only within the request that
# remembered them. A change during the request draws a new object.
_request: ContextVar[object | None] = ContextVar("community_visibility_request", default=None)


def cache_namespace() -> str:
    # Several databases may share one Redis (test runs, benchmarks side by side): ids are only
    # meaningful within one database.
    return f"community:{settings.DATABASES['default']['NAME']}"


def _all_key() -> str:
    return f"{cache_namespace()}:visibility:all"


def _person_key(user_id: int) -> str:
    return f"{cache_namespace()}:visibility:user:{user_id}"


# Entries other modules read on nearly every page of a signed-in person, fetched in the same
# round trip as the generation tokens: {name: the person's key}. Values read are kept for the
# rest of the request (`along`) unless the module says they changed (`drop_along`).
_ALONG: dict[str, Callable[[int], str]] = {}
_along: ContextVar[dict[tuple[int, str], Any] | None] = ContextVar(
    "community_visibility_along", default=None
)


def read_along(name: str, key: Callable[[int], str]) -> None:
    """Fetch the entry `key(user_id)` with every read of the generation tokens."""
    _ALONG[name] = key


def along(user_id: int, name: str) -> tuple[bool, Any]:
    """(True, value) for the entry `name` read with this request's generation tokens (value
    None when it was missing), (False, None) when it was not read or has changed since."""
    memo = _along.get()
    if memo is None or (user_id, name) not in memo:
        return False, None
    return True, memo[(user_id, name)]


def drop_along(name: str) -> None:
    """The entry `name` changed during this request: the next `along` reads it again."""
    memo = _along.get()
    if memo:
        for key in [key for key in memo if key[1] == name]:
            del memo[key]


def generations(user_id: int) -> tuple[str, str]:
    """The current (everyone, person) generation tokens; missing ones are drawn now."""
    keys = [_all_key(), _person_key(user_id)]
    companions = {name: key(user_id) for name, key in _ALONG.items()}
    found = cache.get_many([*keys, *companions.values()])
    memo = _along.get()
    if memo is not None:
        for name, key in companions.items():
            memo[(user_id, name)] = found.get(key)
    tokens = []
    for key in keys:
        token = found.get(key)
        if token is None:
            token = drawn_token(key, TIMEOUT)
        tokens.append(token)
    return tokens[0], tokens[1]


def version(user) -> tuple[bool, str, str]:
    """(is staff, everyone's token, the person's token): what cached answers about `user` are
    filed under. Read once per request."""
    memo = _memo(user)
    request = _request.get()
    known = memo.get("version")
    if known is not None and request is not None and known[0] is request:
        return known[1]
    current = (is_community_staff(user), *generations(user.pk))
    memo["version"] = (request, current)
    return current


def _memo(user) -> dict:
    memo: dict | None = getattr(user, _MEMO, None)
    if memo is None:
        memo = {}
        setattr(user, _MEMO, memo)
    return memo


def _key(user, kind: str, current: tuple[bool, str, str]) -> str:
    # Staff answers do not depend on the person: one entry serves every staff member.
    who = "staff" if current[0] else str(user.pk)
    return f"{cache_namespace()}:spaces:{kind}:{who}:{current[1]}:{current[2]}"


def known_space_ids(user, kind: str = VISIBLE) -> frozenset[int] | None:
    """The ids if they are already worked out (this request or the cache), else None: callers
    then put the rule itself into their query, which costs no extra statement."""
    if not (user and user.is_authenticated and user.is_active):
        return frozenset()
    memo = _memo(user)
    remembered = memo.get(kind)
    request = _request.get()
    if remembered is not None and request is not None and remembered[0] is request:
        return remembered[2]
    current = version(user)
    if remembered is not None and remembered[1] == current:
        memo[kind] = (request, current, remembered[2])
        return remembered[2]
    # Both kinds in one round trip: the pages that ask for one mostly ask for the other too.
    keys = {each: _key(user, each, current) for each in (VISIBLE, POSTABLE)}
    found = cache.get_many(list(keys.values()))
    for each, key in keys.items():
        if found.get(key) is not None:
            memo[each] = (request, current, found[key])
    return found.get(keys[kind])


def space_ids(user, kind: str = VISIBLE) -> frozenset[int]:
    """Ids of the live spaces `user` may see (kind VISIBLE) or post in (POSTABLE), worked out
    (one query) and cached when not known yet."""
    ids = known_space_ids(user, kind)
    if ids is not None:
        return ids
    current = version(user)
    rule = Space.objects.visible_to_uncached if kind == VISIBLE else Space.objects.postable_by
    ids = frozenset(rule(user).values_list("pk", flat=True))
    cache.set(_key(user, kind, current), ids, TIMEOUT)
    _memo(user)[kind] = (_request.get(), current, ids)
    return ids


def visible_space_ids(user) -> frozenset[int]:
    return space_ids(user, VISIBLE)


def postable_space_ids(user) -> frozenset[int]:
    return space_ids(user, POSTABLE)


def _request_started(**_kwargs) -> None:
    _request.set(object())
    _along.set({})


def _request_finished(**_kwargs) -> None:
    _request.set(None)
    _along.set(None)


# --------------------------------------------------------------------------------------------
# Invalidation
# --------------------------------------------------------------------------------------------


def _redraw(keys: list[str]) -> None:
    cache.set_many({key: uuid.uuid4().hex for key in keys}, TIMEOUT)
    if _request.get() is not None:
        _request.set(object())


def _changed(keys: list[str]) -> None:
    _redraw(keys)
    transaction.on_commit(lambda: _redraw(keys))


def everyone_changed(**_kwargs) -> None:
    """A space, an audience list, an organisation or a group changed: every answer is stale."""
    _changed([_all_key()])


def people_changed(user_ids: Iterable[int]) -> None:
    """These people's memberships or groups changed."""
    keys = [_person_key(pk) for pk in set(user_ids) if pk is not None]
    if keys:
        _changed(keys)


def _membership_saved(instance: Membership, **_kwargs) -> None:
    people_changed([instance.user_id])


def _user_groups_changed(instance, action: str, reverse: bool, pk_set, **_kwargs) -> None:
    if not action.startswith("post_"):
        return
    if not reverse:  # user.groups.add(...): one person
        people_changed([instance.pk])
    else:  # group.user_set.add(...) or clear(): some or all of the group's people
        everyone_changed()


def connect() -> None:
    """Called from CommunityConfig.ready()."""
    request_started.connect(_request_started, dispatch_uid="vis-request-started")
    request_finished.connect(_request_finished, dispatch_uid="vis-request-finished")
    for model in (Space, Organisation, Group):
        post_save.connect(everyone_changed, sender=model, dispatch_uid=f"vis-save-{model}")
        post_delete.connect(everyone_changed, sender=model, dispatch_uid=f"vis-del-{model}")
    for through in (Space.organisations.through, Space.groups.through):
        m2m_changed.connect(everyone_changed, sender=through, dispatch_uid=f"vis-m2m-{through}")
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="vis-membership-save")
    post_delete.connect(_membership_saved, sender=Membership, dispatch_uid="vis-membership-del")
    m2m_changed.connect(
        _user_groups_changed, sender=User.groups.through, dispatch_uid="vis-user-groups"
    )
