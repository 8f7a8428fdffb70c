"""Races on PostgreSQL: real threads holding points against one balance at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from carbon import ledger
from carbon.exceptions import InsufficientPoints
from carbon.models import EntryKind, LedgerEntry, PointsAccount
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(worker, count: int = THREADS) -> list:
    """Run `worker(index)` in `count` threads released together; return what each returned or
    raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = worker(index)
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def account():
    account = ledger.account_for(OrganisationFactory())
    ledger.adjust(account, 100, "Opening balance", UserFactory(is_staff=True), "fund")
    return account


def test_eight_threads_with_repeated_keys_never_overdraw_nor_duplicate(account):
    # given 100 points, and 4 redemptions of 30 points each sent twice (8 threads)
    # when all 8 requests arrive at once
    results = _race(lambda i: ledger.hold_points(account, 30, f"redeem-{i % 4}", i % 4))
    # then 3 redemptions are held once each, and the fourth is refused in both its requests
    entries = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [i for i, r in enumerate(results) if isinstance(r, InsufficientPoints)]
    assert len(entries) == 6, results
    assert len(refused) == 2, results
    assert refused[0] % 4 == refused[1] % 4
    for index, result in enumerate(results):
        twin = results[(index + 4) % THREADS]
        if isinstance(result, LedgerEntry):
            assert result.pk == twin.pk  # a repeat got the first entry
    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.HOLD).count() == 3
    stored = PointsAccount.objects.get(pk=account.pk)
    assert (stored.available, stored.held) == (10, 90)
    assert ledger.reconcile() == []


def test_many_small_holds_from_eight_threads_stop_exactly_at_zero(account):
    # given 100 points and 8 threads each trying 20 holds of 7 points
    def worker(index: int) -> list:
        outcomes = []
        for n in range(20):
            try:
                ledger.hold_points(account, 7, f"t{index}-{n}", index * 100 + n)
                outcomes.append(True)
            except InsufficientPoints:
                outcomes.append(False)
        return outcomes

    results = _race(worker)
    # then exactly floor(100 / 7) = 14 holds succeed and 2 points stay available
    assert all(isinstance(r, list) for r in results), results
    assert sum(sum(r) for r in results) == 14
    stored = PointsAccount.objects.get(pk=account.pk)
    assert (stored.available, stored.held) == (2, 98)
    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.HOLD).count() == 14
    assert ledger.reconcile() == []
