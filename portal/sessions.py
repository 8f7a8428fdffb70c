"""The session engine (settings SESSION_ENGINE): Django's cached_db store, read from the cache
and written through to the database, which takes a cookie Django could not have issued for no
session at all instead of looking its value up."""

from __future__ import annotations

import re

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

# Django draws every session key as get_random_string(32, VALID_KEY_CHARS): 32 characters of
# [a-z0-9] (django.contrib.sessions.backends.base).
SESSION_KEY_SHAPE = re.compile(r"[a-z0-9]{32}")


class SessionStore(CachedDBStore):
    """cached_db sessions whose key must have the shape Django gives one.

    A forged cookie (spaces, control characters, non-ASCII, 250 characters) would otherwise
    become a cache key, which the cache backend warns about (CacheKeyWarning: memcached could
    not store it) and the cached_db store then swallows, and on the cache miss a database
    query. Django sets an invalid key to None, and a store without a key loads nothing: the
    request is anonymous, as with an unknown key, with neither lookup.
    """

    def _validate_session_key(self, key: str | None) -> bool:
        return isinstance(key, str) and SESSION_KEY_SHAPE.fullmatch(key) is not None
