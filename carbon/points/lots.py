"""Which points are where: the FIFO lots of one points account, replayed from its ledger entries.
No ORM: the ledger loads the entries (`Movement`s, in the order they were written) and asks.

A lot is a batch of available points with one expiry date:

* each ACTIVATE opens the lot of its award (its `expires_on`);
* a positive ADJUST opens a lot that never expires, so it is spent last.

Debits of available (HOLD, negative ADJUST, REVERSE_GREEN, EXPIRE) consume the open lots first
in, first out: the earliest `expires_on` first, lots opened earlier first on the same day. A
RELEASE gives the points back to the lots its hold consumed (they can then still expire). A
CAPTURE makes the held points spent.

A REVERSE of an award closes that award's own lot: what is left of it (unspent and held) is
removed; its expired part is not taken again; its spent part is taken from the other lots, FIFO,
and what they cannot cover becomes a *deficit* (available below zero). Points held from the
reversed lot are held from the other lots instead (or on credit, as part of the deficit).

A deficit is paid by the next points that arrive (activations, positive adjustments, releases),
so while it lasts every open lot is empty and nothing expires. Identities kept after every step:

* available == sum of the open lots' `remaining` - `deficit`;
* for every lot: remaining + held + spent + expired + reversed == amount, all >= 0.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

# EntryKind values (carbon.models), repeated here so this module needs no Django.
ACTIVATE = "activate"
HOLD = "hold"
CAPTURE = "capture"
RELEASE = "release"
EXPIRE = "expire"
REVERSE = "reverse"
REVERSE_GREEN = "reverse_green"
ADJUST = "adjust"


@dataclass(frozen=True)
class Movement:
    """One ledger entry as the allocation needs it. `points` is the entry's size (> 0),
    `available_delta` its signed effect on the available balance."""

    kind: str
    points: int
    available_delta: int
    award_id: int | None = None
    redemption_id: int | None = None
    expires_on: dt.date | None = None
    entry_id: int | None = None


@dataclass(eq=False)
class Lot:
    """A batch of available points. `award_id` is set for an activated award, `entry_id` for a
    positive adjustment; `expires_on` is None for points that never expire."""

    amount: int
    expires_on: dt.date | None
    seq: int
    award_id: int | None = None
    entry_id: int | None = None
    remaining: int = 0  # available, unspent, not held
    held: int = 0  # set aside for redemptions not yet settled
    spent: int = 0  # captured, adjusted away, paid towards a deficit or a reversal
    expired: int = 0
    reversed: int = 0  # taken back by the reversal of this lot's own award
    closed: bool = False  # reversed: takes nothing more
    queued: bool = field(default=False, repr=False)  # in Allocation's FIFO heap

    def __lt__(self, other: Lot) -> bool:  # heap order: first to expire, then first opened
        return self.fifo_key < other.fifo_key

    def __post_init__(self) -> None:
        self.remaining = self.amount

    @property
    def fifo_key(self) -> tuple[dt.date, int]:
        return (self.expires_on or dt.date.max, self.seq)


@dataclass(eq=False)
class Share:
    """Points a hold took from one lot (`lot` None: held on credit, part of the deficit)."""

    lot: Lot | None
    points: int


@dataclass(eq=False)
class Payment:
    """Points one lot paid towards the deficit."""

    lot: Lot
    points: int


@dataclass
class Allocation:
    """The lots of one account after a replay; feed it more movements with `apply()`."""

    lots: list[Lot] = field(default_factory=list)
    deficit: int = 0
    # redemption id -> what its hold took, in the order taken
    holds: dict[int | None, list[Share]] = field(default_factory=dict)
    # what lots paid towards the deficit, in the order paid (given back last-in first-out)
    payers: list[Payment] = field(default_factory=list)
    # Lots that may have remaining points, first to expire on top. Spent lots leave it lazily
    # and come back when points return to them, so a long history costs O(log n) per take.
    _fifo: list[Lot] = field(default_factory=list)
    _by_award: dict[int, Lot] = field(default_factory=dict)

    # --- reading

    @property
    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots) - self.deficit

    def lot_for_award(self, award_id: int) -> Lot | None:
        return self._by_award.get(award_id)

    def due(self, by: dt.date) -> int:
        """Unspent, unheld points of open lots expiring on `by` or earlier."""
        return sum(lot.remaining for lot in self.lots if lot.expires_on and lot.expires_on <= by)

    def expiring(self, by: dt.date, after: dt.date | None = None) -> list[tuple[dt.date, int]]:
        """[(expires_on, points)] of the unspent, unheld points expiring on `by` or earlier (and
        after `after` when given), one row per date, earliest first."""
        rows: dict[dt.date, int] = {}
        for lot in self.lots:
            day = lot.expires_on
            if day is None or day > by or (after is not None and day <= after) or not lot.remaining:
                continue
            rows[day] = rows.get(day, 0) + lot.remaining
        return sorted(rows.items())

    def reversal_amount(self, award_id: int) -> int:
        """What reversing the award takes from available: its lot's amount less the part that has
        expired (0 when the award never activated or is already reversed)."""
        lot = self._by_award.get(award_id)
        if lot is None or lot.closed:
            return 0
        return lot.amount - lot.expired

    # --- replaying

    def apply(self, m: Movement) -> None:
        delta = m.available_delta
        if m.kind == ACTIVATE and delta > 0:
            lot = self._open_lot(delta, m.expires_on, award_id=m.award_id)
            if m.award_id is not None:
                self._by_award[m.award_id] = lot
            self._pay_deficit()
        elif m.kind == ADJUST and delta > 0:
            self._open_lot(delta, None, entry_id=m.entry_id)
            self._pay_deficit()
        elif m.kind in (ADJUST, REVERSE_GREEN) and delta < 0:
            # A green-power reward taken back from an activated award: its points may already
            # be spent or held, so it is taken like a debit, first in first out.
            self._spend(-delta)
        elif m.kind == HOLD:
            self._hold(m.redemption_id, -delta)
        elif m.kind == CAPTURE:
            self._capture(m.redemption_id)
        elif m.kind == RELEASE:
            self._release(m.redemption_id, delta)
        elif m.kind == EXPIRE:
            for lot, n in self._take(-delta):
                lot.expired += n
        elif m.kind == REVERSE and delta < 0:
            own = self._by_award.get(m.award_id) if m.award_id is not None else None
            if own is None or own.closed:
                self._spend(-delta)  # nothing of its own left to close
            else:
                self._reverse(own, -delta)
        # EARN_PENDING and the pending share of a reversal do not touch available.

    def _open_lot(
        self,
        amount: int,
        expires_on: dt.date | None,
        *,
        award_id: int | None = None,
        entry_id: int | None = None,
    ) -> Lot:
        lot = Lot(
            amount=amount,
            expires_on=expires_on,
            seq=len(self.lots),
            award_id=award_id,
            entry_id=entry_id,
        )
        self.lots.append(lot)
        self._refilled(lot)
        return lot

    def _refilled(self, lot: Lot) -> None:
        """Points were added to `lot`'s remaining: make sure the FIFO can take them."""
        if not lot.queued and lot.remaining > 0 and not lot.closed:
            lot.queued = True
            heapq.heappush(self._fifo, lot)

    def _take(self, points: int) -> list[tuple[Lot, int]]:
        """Take up to `points` from the open lots' remaining, FIFO; the rest joins the deficit.
        The caller decides what the taken points became (spent, held, expired)."""
        taken = []
        while points > 0 and self._fifo:
            lot = self._fifo[0]
            n = min(lot.remaining, points)
            if n:
                lot.remaining -= n
                points -= n
                taken.append((lot, n))
            if not lot.remaining:
                heapq.heappop(self._fifo)
                lot.queued = False
        self.deficit += max(points, 0)
        return taken

    def _spend(self, points: int) -> list[tuple[Lot, int]]:
        taken = self._take(points)
        for lot, n in taken:
            lot.spent += n
        return taken

    def _hold(self, redemption_id: int | None, points: int) -> None:
        self.holds.setdefault(redemption_id, []).extend(self._hold_from_lots(points))

    def _hold_from_lots(self, points: int) -> list[Share]:
        taken = self._take(points)
        shares = []
        for lot, n in taken:
            lot.held += n
            shares.append(Share(lot, n))
        covered = sum(n for _, n in taken)
        if covered < points:
            shares.append(Share(None, points - covered))
        return shares

    def _capture(self, redemption_id: int | None) -> None:
        for share in self.holds.pop(redemption_id, []):
            if share.lot is not None:
                share.lot.held -= share.points
                share.lot.spent += share.points
        # Points held on credit and then spent stay in the deficit.

    def _release(self, redemption_id: int | None, points: int) -> None:
        returned = 0
        for share in self.holds.pop(redemption_id, []):
            returned += share.points
            if share.lot is None:
                self._give_back(share.points)
            else:
                share.lot.held -= share.points
                share.lot.remaining += share.points
                self._refilled(share.lot)
        if points > returned:  # more released than was tracked: never written by the ledger
            self._give_back(points - returned)
        self._pay_deficit()

    def _reverse(self, lot: Lot, points: int) -> None:
        """Close the award's lot: remove what is left of it, hold elsewhere what was held from
        it, and take what was spent from it (the rest of `points`) from the other lots."""
        left = lot.remaining + lot.held
        lot.reversed += left
        lot.remaining = 0  # so the FIFO drops it when it reaches it
        lot.closed = True
        # Holds on the closed lot are re-sourced: the redemption keeps its points, from elsewhere.
        held, lot.held = lot.held, 0
        if held:
            for shares in self.holds.values():
                kept = [share for share in shares if share.lot is not lot]
                for share in shares:
                    if share.lot is lot:
                        kept.extend(self._hold_from_lots(share.points))
                shares[:] = kept
        # Deficit payments made by this lot are void: the claw-back below re-makes them.
        repaid = sum(p.points for p in self.payers if p.lot is lot)
        self.payers = [p for p in self.payers if p.lot is not lot]
        clawback = points - left
        if clawback < 0:  # never written by the ledger (it takes amount - expired)
            self._give_back(-clawback)
            return
        for payer, n in self._spend(clawback):
            paid = min(n, repaid)
            if paid:
                self.payers.append(Payment(payer, paid))
                repaid -= paid

    def _pay_deficit(self) -> None:
        if self.deficit <= 0:
            return
        owed, self.deficit = self.deficit, 0
        for lot, n in self._spend(owed):  # what the lots cannot cover goes back to the deficit
            self.payers.append(Payment(lot, n))

    def _give_back(self, points: int) -> None:
        """Points that no lot is waiting for come back: first they shrink the deficit, then they
        return to the lots that paid towards it (last payment first)."""
        n = min(self.deficit, points)
        self.deficit -= n
        points -= n
        while points and self.payers:
            payer = self.payers[-1]
            n = min(payer.points, points)
            payer.lot.spent -= n
            payer.lot.remaining += n
            self._refilled(payer.lot)
            payer.points -= n
            points -= n
            if not payer.points:
                self.payers.pop()
        if points:  # unreachable for ledgers this code wrote; keeps the balance identity anyway
            self._open_lot(points, None)


def replay(movements: Iterable[Movement]) -> Allocation:
    """The lots after `movements`, applied in order (the order the ledger wrote them)."""
    allocation = Allocation()
    for movement in movements:
        allocation.apply(movement)
    return allocation
