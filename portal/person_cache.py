"""What every page of a signed-in person needs, kept in the shared cache per person rather than
read on every request: their own User row (`signed_in`, for the authentication middleware), the
organisations of the top bar's switcher, the organisation (if any) whose policy requires
two-factor authentication (`portal.middleware`), and the top bar itself as rendered
(`portal.templatetags.personal_header`). All of them are read in one round trip, once per
request.

They depend only on the person's own row, their memberships and those organisations' own
fields, so a write to any of these forgets the entries of everyone concerned (`forget`,
connected below to every save and delete of a Membership or an Organisation and to every save
and delete of a User; `User.objects...update()` and `bulk_update()` call it themselves,
`portal.models.users.UserQuerySet`), at once and again after the transaction commits.

The User row and the rendered top bar are filed under a generation token that `forget` throws
away, read in the same round trip before the row is read from the database: an entry built
from rows read before a change committed carries a token that no longer exists once the change
has committed, and is never used (no window in which a password change or a deactivation could
be undone by a slow request putting the old row back).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal.cache import drawn_token
from portal.models import Membership, Organisation, User

# Entries are forgotten when their rows change; the timeout only bounds what an unseen write
# (a bulk update, a change made in the database by hand) could leave behind.
TIMEOUT_SECONDS = 15 * 60
_SWITCHER = "greenloop:person:{}:switcher"
_MFA_REQUIRED_BY = "greenloop:person:{}:mfa-required-by"
_GENERATION = "greenloop:person:{}:generation"
_HEADER = "greenloop:person:{}:header"
_USER_GENERATION = "greenloop:person:{}:user-generation"
_USER = "greenloop:person:{}:user"
_ROW_PATTERNS = (_USER_GENERATION, _USER)
_PATTERNS = (_SWITCHER, _MFA_REQUIRED_BY, _GENERATION, _HEADER, *_ROW_PATTERNS)
# Rendered top bars kept per person (organisations x languages x current menu entries); past
# this many the set starts again rather than grow.
HEADER_VARIANTS_MAX = 24
# A person's fields the top bar shows (their name is their full name or else their e-mail);
# a save of other fields only (the last login) forgets their row, not their top bar.
_SHOWN_FIELDS = frozenset({"first_name", "last_name", "email", "is_staff", "is_active"})

# Within a request, what was read from the cache, per person: {user id: (forgets seen, entries)}.
# None outside requests (every call reads the cache). A `forget` in this process (the request's
# own write, say) makes the next call read again.
_request_memo: ContextVar[dict[int, tuple[int, dict[str, Any]]] | None] = ContextVar(
    "person_cache_memo", default=None
)
_forgets = 0


@dataclass(frozen=True)
class OrganisationChoice:
    """An organisation as the switcher shows it."""

    name: str
    slug: str

    def __str__(self) -> str:
        return self.name


def _entries(user_id: int) -> dict[str, Any]:
    """The person's cached entries by pattern (None where missing): one round trip per request."""
    memo = _request_memo.get()
    if memo is not None:
        known = memo.get(user_id)
        if known is not None and known[0] == _forgets:
            return known[1]
    forgets = _forgets
    found = cache.get_many([pattern.format(user_id) for pattern in _PATTERNS])
    entries = {pattern: found.get(pattern.format(user_id)) for pattern in _PATTERNS}
    if memo is not None:
        memo[user_id] = (forgets, entries)
    return entries


def _keep(user_id: int, pattern: str, value: Any) -> None:
    cache.set(pattern.format(user_id), value, TIMEOUT_SECONDS)
    known = (_request_memo.get() or {}).get(user_id)
    if known is not None:
        known[1][pattern] = value


def switcher_organisations(user_id: int) -> list[OrganisationChoice]:
    """The active organisations `user_id` is a member of, by name (as the switcher lists them)."""
    choices = _entries(user_id)[_SWITCHER]
    if choices is None:
        choices = [
            OrganisationChoice(name, slug)
            for name, slug in Organisation.objects.filter(
                is_active=True, memberships__user_id=user_id
            )
            .distinct()
            .order_by("name", "pk")
            .values_list("name", "slug")
        ]
        _keep(user_id, _SWITCHER, choices)
    return choices


def mfa_required_by(user_id: int) -> str | None:
    """The name of an organisation of `user_id` that requires two-factor authentication, or
    None."""
    name = _entries(user_id)[_MFA_REQUIRED_BY]
    if name is None:
        name = (
            Membership.objects.filter(user_id=user_id, organisation__require_mfa=True)
            .order_by("organisation__name", "organisation_id")
            .values_list("organisation__name", flat=True)
            .first()
        ) or ""
        _keep(user_id, _MFA_REQUIRED_BY, name)
    return name or None


@dataclass(frozen=True)
class KeptHeaders:
    """The person's rendered top bars (by variant) under the generation current for them."""

    generation: str
    variants: dict[str, str]


def _generation(user_id: int, entries: dict[str, Any], pattern: str = _GENERATION) -> str:
    generation = entries[pattern]
    if generation is None:
        generation = drawn_token(pattern.format(user_id), TIMEOUT_SECONDS)
        entries[pattern] = generation
    return generation


def kept_headers(user_id: int) -> KeptHeaders:
    """The person's kept top bars: none when they were rendered under an older generation."""
    entries = _entries(user_id)
    generation = _generation(user_id, entries)
    kept = entries[_HEADER]
    if kept is None or kept[0] != generation:
        return KeptHeaders(generation, {})
    return KeptHeaders(generation, kept[1])


def keep_header(user_id: int, kept: KeptHeaders, variant: str, html: str) -> None:
    """File a top bar rendered for `variant` beside the others read under the same generation."""
    variants = {} if len(kept.variants) >= HEADER_VARIANTS_MAX else dict(kept.variants)
    variants[variant] = html
    _keep(user_id, _HEADER, (kept.generation, variants))


@dataclass(frozen=True)
class SignedIn:
    """A person's User row as the authentication middleware needs it. `user` comes from the
    cache without its password hash (loaded from the database only if something reads it: the
    cache never holds the hash); the session check compares with `session_auth_hash`, which is
    what Django derives from the hash and stores in every session of the person anyway."""

    user: User
    session_auth_hash: str
    fallback_auth_hashes: tuple[str, ...]


@lru_cache(maxsize=4)
def _secrets(secret_key: str, fallbacks: tuple[str, ...]) -> str:
    # The session hashes are keyed with the secrets: entries made under other secrets (before a
    # rotation) are not used. An HMAC, so the cache learns nothing about the secrets.
    from django.utils.crypto import salted_hmac

    return salted_hmac("portal.person_cache.secrets", repr(fallbacks), secret_key).hexdigest()


def signed_in(user_id: int) -> SignedIn | None:
    """`user_id`'s current row and session hashes (None when there is no such user), from the
    cache when it was filed under the person's current generation, else from the database."""
    entries = _entries(user_id)
    # Read (drawn) before the row: see the module's docstring.
    generation = _generation(user_id, entries, _USER_GENERATION)
    secrets = _secrets(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    kept = entries[_USER]
    if kept is not None and kept[0] == generation and kept[1] == secrets:
        return kept[2]
    try:
        user = User._default_manager.get(pk=user_id)
    except User.DoesNotExist:
        return None
    hashes = (user.get_session_auth_hash(), tuple(user.get_session_auth_fallback_hash()))
    stored = copy.copy(user)
    del stored.__dict__["password"]  # deferred: read from the database if anything asks
    _keep(user_id, _USER, (generation, secrets, SignedIn(stored, *hashes)))
    return SignedIn(user, *hashes)


def forget(user_ids: Iterable[int], patterns: tuple[str, ...] = _PATTERNS) -> None:
    """Drop the entries of these people, now and once the current transaction commits."""
    global _forgets
    keys = [pattern.format(pk) for pk in set(user_ids) for pattern in patterns]
    if not keys:
        return
    _forgets += 1
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


@receiver(request_started, dispatch_uid="person_cache.request_started")
def _request_started(**_kwargs: Any) -> None:
    _request_memo.set({})


@receiver(request_finished, dispatch_uid="person_cache.request_finished")
def _request_finished(**_kwargs: Any) -> None:
    _request_memo.set(None)


@receiver([post_save, post_delete], sender=User, dispatch_uid="person_cache.user")
def _person_changed(
    sender: Any, instance: User, update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    # Any field forgets the kept row (the session hash, is_active, flags, language ...); the
    # top bar only goes with the fields it shows.
    if update_fields is None or _SHOWN_FIELDS & set(update_fields):
        forget([instance.pk])
    else:
        forget([instance.pk], _ROW_PATTERNS)


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="person_cache.membership")
def _membership_changed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    forget([instance.user_id])


@receiver([post_save, post_delete], sender=Organisation, dispatch_uid="person_cache.organisation")
def _organisation_changed(sender: Any, instance: Organisation, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    forget(Membership.objects.filter(organisation_id=instance.pk).values_list("user_id", flat=True))
