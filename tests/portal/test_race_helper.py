"""The race helper itself: a race test is only worth something if `overlapped` can say no."""

from __future__ import annotations

import threading

import pytest

from tests.concurrency import RaceResults, race


def test_intervals_that_share_a_moment_overlap():
    # given two calls where the second started before the first had finished
    results = RaceResults(["a", "b"], [(1.0, 3.0), (2.0, 4.0)])
    # then they overlapped
    assert results.overlapped is True
    assert list(results) == ["a", "b"]


def test_intervals_one_after_another_do_not_overlap():
    # given three calls each starting only after the previous one ended
    results = RaceResults([1, 2, 3], [(1.0, 2.0), (2.0, 3.0), (3.5, 4.0)])
    # then no two overlapped
    assert results.overlapped is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_calls_that_wait_for_each_other_are_reported_as_overlapping():
    # given workers that each wait until all of them have started
    started = threading.Barrier(3)

    def worker(index: int) -> int:
        started.wait(timeout=10)
        return index

    # when they race
    results = race(worker, 3)
    # then the helper saw them run at the same moment
    assert list(results) == [0, 1, 2]
    assert results.overlapped is True
