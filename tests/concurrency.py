"""Races against PostgreSQL from real threads, for tests marked `postgres` with
`django_db(transaction=True)` (each thread has its own connection, so row locks really
contend)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(worker: Callable[[int], Any], count: int) -> list:
    """Run `worker(index)` in `count` threads released together by a barrier; return what each
    returned or raised, in thread order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = worker(index)
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc
        finally:
            # Each thread opened its own connection; left open, it would block the test
            # database's teardown.
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results
