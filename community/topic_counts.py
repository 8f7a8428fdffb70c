"""Live topics per space (not merged away, not hidden), kept in the cache for the pages that
print a total: the space cards of the index and the topic count above an unfiltered list.

One GROUP BY over the topics answers every space at once; pages then add up the spaces the
reader may see instead of counting their topics again. A topic created, deleted, hidden or shown,
moved or merged forgets the kept answer (`forget`), now and when the transaction commits; the
answer also expires after TIMEOUT, which bounds how long a change made by a bulk load or by hand
in the database shows the old total. Counts never include a space the reader cannot see: they
are looked up by visible space id.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.db.models.signals import post_delete, post_save

from community.models import Topic
from community.visibility import cache_namespace

TIMEOUT = 5 * 60


def _key() -> str:
    return f"{cache_namespace()}:topic-counts"


def per_space() -> dict[int, int]:
    """space id -> number of live topics in it (sub-spaces count separately)."""
    key = _key()
    counts = cache.get(key)
    if counts is None:
        counts = dict(
            Topic.objects.filter(merged_into__isnull=True, is_hidden=False)
            .order_by()
            .values_list("space_id")
            .annotate(n=Count("pk"))
            .values_list("space_id", "n")
        )
        cache.set(key, counts, TIMEOUT)
    return counts


def total(space_ids) -> int:
    counts = per_space()
    return sum(counts.get(pk, 0) for pk in space_ids)


def forget(**_kwargs) -> None:
    key = _key()
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


post_save.connect(forget, sender=Topic, dispatch_uid="topic-counts-saved")
post_delete.connect(forget, sender=Topic, dispatch_uid="topic-counts-deleted")
