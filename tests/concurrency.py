"""Races against PostgreSQL from real threads, for tests marked `postgres` with
`django_db(transaction=True)` (each thread has its own connection, so row locks really
contend).

A race test that passes only proves something if the calls really ran at the same time, so
`race` records when each call started and ended and the test asserts `.overlapped`. Tests marked
`race` run `settings.GREENLOOP_RACE_REPEATS` times (see `pytest_generate_tests` in
tests/conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection


class RaceResults(list):
    """What each thread returned or raised, in thread order, with the monotonic
    `(start, end)` of each thread's call in `intervals`."""

    def __init__(self, results: list, intervals: list[tuple[float, float]]) -> None:
        super().__init__(results)
        self.intervals = intervals

    @property
    def overlapped(self) -> bool:
        """Whether at least two calls were running at the same moment: then some call started
        before another had finished, so their critical sections really contended."""
        return any(
            start_a < end_b and start_b < end_a
            for index, (start_a, end_a) in enumerate(self.intervals)
            for start_b, end_b in self.intervals[index + 1 :]
        )


def race(worker: Callable[[int], Any], count: int) -> RaceResults:
    """Run `worker(index)` in `count` threads released together by a barrier; return what each
    returned or raised, in thread order, and when each call ran."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    intervals: list[tuple[float, float]] = [(0.0, 0.0)] * count

    def run(index: int) -> None:
        try:
            # Connect before the barrier: opening a connection takes milliseconds, long enough
            # for the first thread to finish before the last has started.
            connection.ensure_connection()
            barrier.wait(timeout=10)
            start = time.monotonic()
            try:
                results[index] = worker(index)
            finally:
                intervals[index] = (start, time.monotonic())
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
    return RaceResults(results, intervals)
