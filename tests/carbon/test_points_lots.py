"""Per-lot FIFO tracking (`carbon.points.lots`), without a database: worked examples in the ledger's
words, and random histories that keep the balance identities."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.points.lots import Movement, replay
from tests.properties import examples

MAR = dt.date(2026, 3, 15)
MAY = dt.date(2026, 5, 15)


def activate(award: int, points: int, expires_on: dt.date) -> Movement:
    return Movement("activate", points, points, award_id=award, expires_on=expires_on)


def hold(redemption: int, points: int) -> Movement:
    return Movement("hold", points, -points, redemption_id=redemption)


def capture(redemption: int, points: int) -> Movement:
    return Movement("capture", points, 0, redemption_id=redemption)


def release(redemption: int, points: int) -> Movement:
    return Movement("release", points, points, redemption_id=redemption)


def expire(points: int) -> Movement:
    return Movement("expire", points, -points)


def reverse(award: int, points: int) -> Movement:
    return Movement("reverse", points, -points, award_id=award)


def adjust(points: int, entry: int = 0) -> Movement:
    return Movement("adjust", abs(points), points, entry_id=entry)


def test_spending_takes_the_lot_that_expires_first():
    # given a lot of 50 expiring in May activated before one of 100 expiring in March
    lots = replay([activate(2, 50, MAY), activate(1, 100, MAR), hold(1, 70), capture(1, 70)])
    # then the 70 spent came out of March's lot
    march, may = lots.lot_for_award(1), lots.lot_for_award(2)
    assert (march.remaining, march.spent, may.remaining) == (30, 70, 50)
    assert lots.due(MAR) == 30
    assert lots.expiring(MAY) == [(MAR, 30), (MAY, 50)]
    assert lots.available == 80


def test_adjusted_points_never_expire_and_are_spent_last():
    lots = replay([adjust(40), activate(1, 100, MAR), hold(1, 120)])
    assert lots.lot_for_award(1).remaining == 0
    assert lots.due(dt.date(2100, 1, 1)) == 0
    assert lots.available == 20


def test_a_released_hold_returns_to_its_own_lot_and_can_then_expire():
    lots = replay([activate(1, 100, MAR), activate(2, 50, MAY), hold(7, 120), release(7, 120)])
    assert lots.lot_for_award(1).remaining == 100
    assert lots.lot_for_award(2).remaining == 50
    assert lots.due(MAR) == 100


def test_a_reversal_after_partial_expiry_leaves_out_the_expired_part():
    # given March's 100 (70 spent, 30 expired) and May's 50
    lots = replay(
        [activate(1, 100, MAR), activate(2, 50, MAY), hold(1, 70), capture(1, 70), expire(30)]
    )
    assert lots.lot_for_award(1).expired == 30
    # then reversing March's award takes 100 - 30 = 70: May's 50 and 20 below zero
    assert lots.reversal_amount(1) == 70
    lots.apply(reverse(1, 70))
    march = lots.lot_for_award(1)
    assert (march.spent, march.expired, march.reversed, march.closed) == (70, 30, 0, True)
    assert (lots.available, lots.deficit, lots.due(MAY)) == (-20, 20, 0)
    assert lots.reversal_amount(1) == 0  # at most once
    # and the next lot pays the deficit before anything of it can expire
    lots.apply(activate(3, 35, dt.date(2026, 9, 1)))
    assert (lots.available, lots.deficit) == (15, 0)
    assert lots.expiring(dt.date(2026, 12, 31)) == [(dt.date(2026, 9, 1), 15)]


def test_a_reversal_removes_only_its_own_lot():
    lots = replay([activate(1, 100, MAR), activate(2, 50, MAY), reverse(2, 50)])
    assert lots.due(MAR) == 100
    assert lots.lot_for_award(2).reversed == 50
    assert lots.available == 100


def test_held_points_of_a_reversed_lot_are_held_from_the_next_lots_or_on_credit():
    lots = replay([activate(1, 100, MAR), activate(2, 50, MAY), hold(9, 60), reverse(1, 100)])
    may = lots.lot_for_award(2)
    assert (may.remaining, may.held, lots.deficit, lots.available) == (0, 50, 10, -10)
    lots.apply(capture(9, 60))
    assert (may.spent, may.held, lots.deficit, lots.available) == (50, 0, 10, -10)


# --- random histories


# Ledger-like histories: the test turns each step into the amount the ledger would write (holds
# never beyond available, expiries of what is due, reversals of a lot's amount less its expired
# part), plus negative adjustments that can push available below zero.
HISTORIES = st.lists(
    st.tuples(
        st.sampled_from(
            ["activate", "adjust+", "adjust-", "hold", "capture", "release", "expire", "reverse"]
        ),
        st.integers(min_value=1, max_value=300),
        st.integers(min_value=0, max_value=10_000),
    ),
    max_size=60,
)


@settings(max_examples=examples(300))
@given(HISTORIES)
def test_random_histories_keep_the_balance_identities(steps):
    lots = replay([])
    available = 0
    today = dt.date(2025, 1, 1)
    awards, holds = [], {}
    for n, (action, points, pick) in enumerate(steps):
        movement = None
        if action == "activate":
            awards.append(n)
            movement = activate(n, points, today + dt.timedelta(days=pick % 400))
        elif action == "adjust+":
            movement = adjust(points, n)
        elif action == "adjust-":
            movement = adjust(-points, n)
        elif action == "hold" and lots.available >= points:
            holds[n] = points
            movement = hold(n, points)
        elif action in ("capture", "release") and holds:
            redemption = sorted(holds)[pick % len(holds)]
            amount = holds.pop(redemption)
            movement = (capture if action == "capture" else release)(redemption, amount)
        elif action == "expire":
            today += dt.timedelta(days=pick % 200)
            if due := lots.due(today):
                movement = expire(due)
        elif action == "reverse" and awards:
            award = awards.pop(pick % len(awards))
            if amount := lots.reversal_amount(award):
                movement = reverse(award, amount)
        if movement is None:
            continue
        lots.apply(movement)
        available += movement.available_delta
        # available is what the lots hold less the deficit, and a deficit leaves them empty
        assert lots.available == available
        assert lots.deficit >= 0
        assert lots.deficit == 0 or all(lot.remaining == 0 for lot in lots.lots)
        # held points are all accounted for, in lots or on credit
        on_credit = sum(
            share.points for shares in lots.holds.values() for share in shares if share.lot is None
        )
        assert sum(lot.held for lot in lots.lots) + on_credit == sum(holds.values())
        for lot in lots.lots:
            parts = (lot.remaining, lot.held, lot.spent, lot.expired, lot.reversed)
            assert min(parts) >= 0, lot
            assert sum(parts) == lot.amount, lot
            assert lot.expired + lot.spent + lot.reversed <= lot.amount
            assert not lot.closed or lot.remaining == lot.held == 0


def test_reversing_a_lot_that_paid_a_deficit_takes_that_payment_from_the_next_lot():
    # given a deficit of 30 (50 points, 80 adjusted away) paid by award 2's lot of 40, and a
    # later lot of 100
    later = dt.date(2026, 9, 15)
    lots = replay(
        [
            activate(1, 50, MAR),
            adjust(-80, entry=7),
            activate(2, 40, MAY),
            activate(3, 100, later),
        ]
    )
    assert (lots.lot_for_award(2).remaining, lots.available) == (10, 110)
    # when award 2 is reversed in full
    lots.apply(reverse(2, 40))
    # then its 10 left are reversed and the 30 it paid are paid again by the lot of 100
    second, third = lots.lot_for_award(2), lots.lot_for_award(3)
    assert (second.reversed, second.closed) == (10, True)
    assert (third.remaining, third.spent) == (70, 30)
    assert lots.available == 70
    # and reversing award 3 later gives that payment back to the deficit, not to nowhere
    lots.apply(reverse(3, 100))
    assert lots.available == -30
