"""The Redis cache backend of every environment that has Redis (settings `redis_caches`).

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` object for every cache call,
and each construction registers some 170 response callbacks: on the redemption API that was
about a tenth of a request's CPU (two cache calls per request). A `redis.Redis` object is safe to
share between threads (each command borrows a connection from its pool), so this client keeps
one per connection pool and otherwise behaves exactly as Django's.

Also `drawn_token`, for the generation tokens that cached entries are filed under.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedRedisClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one here; either is fine, both use the same pool.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedRedisClient


def drawn_token(key: str, timeout: float | None) -> str:
    """A new generation token stored at `key`, for a reader that found none there. add(): two
    processes drawing at once agree on whichever got there first."""
    token = uuid.uuid4().hex
    if not cache.add(key, token, timeout):
        token = cache.get(key) or token
    return token
