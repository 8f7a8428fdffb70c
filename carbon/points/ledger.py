"""The append-only points ledger: accounts, entries, holds, lots and reversals. These are the
primitives of the wing's writes; callers outside the wing write through `carbon.points.actions`.

Invariants (each backed by the database where it can be):

* Every balance is derived: `PointsAccount.pending/available/held` are a cache of the column sums
  of the account's `LedgerEntry` deltas, written in the same transaction as each entry
  (`check_ledger` proves it). See `carbon.models.ENTRY_RULES` for the sign convention.
* Every write locks the account row (`select_for_update`) first, so concurrent writers on
  PostgreSQL are serialised: a hold can never overdraw, whatever the timing.
* Every write carries an idempotency key, unique per account. A repeat of the same request
  returns the first entry unchanged; the same key with a different request raises
  `IdempotencyConflict`.
* Pending and held never go below zero (CHECK constraints). Available may go negative only by a
  reversal of points already spent, and then refuses every hold until it recovers.
* Points are tracked per lot (`carbon.points.lots`, replayed from the entries under the row
  lock): each activated award is a lot with its own expiry date, spending consumes the lots
  that expire first, a released hold gives its points back to the lots it took them from, and
  a reversal takes back what is left of the award's own lot (never its expired part again; its
  spent part comes out of the other lots, or makes available negative).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from carbon.models import (
    EntryKind,
    LedgerEntry,
    Order,
    OrderStatus,
    PointsAccount,
    PointsAward,
)
from carbon.points import lots
from carbon.points.events import POINTS_AWARDED, POINTS_REVERSED
from carbon.points.exceptions import IdempotencyConflict, InsufficientPoints, PointsError
from portal import events
from portal.models import Organisation

if TYPE_CHECKING:
    from carbon.points.awards import AwardTerms

EXPIRING_SOON_DAYS = 90
REMINDER_DAYS = 30  # the expiry reminder's horizon (carbon.points.actions.record_expiry_reminders)
FORMULA = (
    "points = min(floor((max(0, t·km x baseline - WTW kg) + max(0, Scope 2 location kg - "
    "Scope 2 market kg)) x points per kg), cap)"
)


# --- accounts and entries


def account_for(organisation: Organisation) -> PointsAccount:
    account, _ = PointsAccount.objects.get_or_create(organisation=organisation)
    return account


def lock_account(account: PointsAccount) -> PointsAccount:
    """The account read again with its row locked (`select_for_update`) until the caller's
    transaction ends. Every ledger write takes this lock first, so writers on one account are
    serialised; use the returned object, not the one passed in (its balances may be stale)."""
    return PointsAccount.objects.select_for_update().get(pk=account.pk)


def request_fingerprint(kind: str, **request: Any) -> str:
    """The SHA-256 of a write request (its kind and arguments, as sorted JSON), stored on the
    entry so that a repeat under the same idempotency key can be told from a different request."""
    payload = json.dumps({"kind": kind, **request}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def require_key(key: str) -> None:
    if not key or len(key) > 200:
        raise PointsError("An idempotency key of 1 to 200 characters is required.", field="key")


def earlier_entry(account: PointsAccount, key: str, fingerprint: str) -> LedgerEntry | None:
    """The entry already written under `key` (same request), or None; a conflict raises."""
    entry = LedgerEntry.objects.filter(account=account, idempotency_key=key).first()
    if entry is not None and entry.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "This idempotency key was already used for a different request.", field="key"
        )
    return entry


def append_entry(
    account: PointsAccount,
    kind: str,
    points: int,
    *,
    key: str,
    fingerprint: str,
    pending: int = 0,
    available: int = 0,
    held: int = 0,
    **fields: Any,
) -> LedgerEntry:
    """Write one entry under idempotency key `key` and move the account's cached balances by its
    deltas (`pending`, `available`, `held`; see `carbon.models.ENTRY_RULES`). `fields` are more
    LedgerEntry columns (order, award, expires_on, ...). The caller holds the row lock
    (`lock_account`) and has checked that the key is new, in the same transaction."""
    entry = LedgerEntry.objects.create(
        account=account,
        kind=kind,
        points=points,
        pending_delta=pending,
        available_delta=available,
        held_delta=held,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        **fields,
    )
    account.pending += pending
    account.available += available
    account.held += held
    account.save(update_fields=["pending", "available", "held", "updated_at"])
    return entry


def publish_entry(type_: str, account: PointsAccount, entry: LedgerEntry, **data: Any) -> None:
    """Publish event `type_` (see `carbon.points.events`) for a new entry: the entry's id, kind
    and points, the account's balances after it, and `data`."""
    events.publish(
        type_,
        account.organisation,
        f"points-accounts/{account.pk}",
        {
            "entry_id": entry.pk,
            "kind": entry.kind,
            "points": entry.points,
            "balances": {
                "pending": account.pending,
                "available": account.available,
                "held": account.held,
            },
            **data,
        },
    )


# --- dates


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


# --- holds for redemptions


@dataclass(frozen=True)
class HeldBalances:
    """An account's cached balances right after a hold, as the UPDATE returned them."""

    account_id: int
    pending: int
    available: int
    held: int


def hold_for_redemption(
    organisation: Organisation, points: int, key: str, redemption_id: int
) -> HeldBalances:
    """Set `points` aside for a redemption inside the caller's transaction, locking the account
    row only now: one UPDATE checks and moves the balance (`available >= points`) and takes the
    row lock until commit, so the caller does its own checks and inserts before it and holds the
    lock only for the entry written after it. Refused with InsufficientPoints (its `available`
    says what there is) when the balance is short or negative. The caller has checked that the
    key is new; the unique key constraint refuses a racing duplicate with IntegrityError."""
    require_key(key)
    if points <= 0:
        raise PointsError("A hold must be for a positive number of points.", field="points")
    if not transaction.get_connection().in_atomic_block:
        raise PointsError("hold_for_redemption must run inside a transaction.")
    table = connection.ops.quote_name(PointsAccount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET available = available - %s, held = held + %s, "  # noqa: S608
            "updated_at = %s WHERE organisation_id = %s AND available >= %s "
            "RETURNING id, pending, available, held",
            [points, points, timezone.now(), organisation.pk, points],
        )
        row = cursor.fetchone()
    if row is None:
        available = (
            PointsAccount.objects.filter(organisation=organisation)
            .values_list("available", flat=True)
            .first()
        ) or 0
        error = InsufficientPoints(
            f"{points} points requested, {max(available, 0)} available.", field="points"
        )
        error.available = available
        raise error
    account_id, pending, available, held = row
    LedgerEntry.objects.create(
        account_id=account_id,
        kind=EntryKind.HOLD,
        points=points,
        available_delta=-points,
        held_delta=points,
        idempotency_key=key,
        request_fingerprint=request_fingerprint("hold", points=points, redemption=redemption_id),
        redemption_id=redemption_id,
    )
    return HeldBalances(account_id, pending, available, held)


def _outstanding_hold(account: PointsAccount, redemption_id: int) -> int:
    total = LedgerEntry.objects.filter(account=account, redemption_id=redemption_id).aggregate(
        held=Sum("held_delta")
    )["held"]
    return total or 0


def _settle_hold(account: PointsAccount, redemption_id: int, key: str, kind: str) -> LedgerEntry:
    require_key(key)
    fingerprint = request_fingerprint(kind, redemption=redemption_id)
    with transaction.atomic():
        account = lock_account(account)
        if (entry := earlier_entry(account, key, fingerprint)) is not None:
            return entry
        held = _outstanding_hold(account, redemption_id)
        if held <= 0:
            raise PointsError("No points are held for this redemption.", code="no_hold")
        back = held if kind == EntryKind.RELEASE else 0
        return append_entry(
            account,
            kind,
            held,
            key=key,
            fingerprint=fingerprint,
            held=-held,
            available=back,
            redemption_id=redemption_id,
        )


def capture_hold(account: PointsAccount, redemption_id: int, key: str) -> LedgerEntry:
    """Spend the points held for a fulfilled redemption."""
    return _settle_hold(account, redemption_id, key, EntryKind.CAPTURE)


def release_hold(account: PointsAccount, redemption_id: int, key: str) -> LedgerEntry:
    """Give the points held for a rejected or cancelled redemption back to available."""
    return _settle_hold(account, redemption_id, key, EntryKind.RELEASE)


# --- lots and expiry (first in, first out)


def _movements(account: PointsAccount) -> list[lots.Movement]:
    rows = (
        LedgerEntry.objects.filter(account=account)
        .order_by("id")
        .values_list(
            "id", "kind", "points", "available_delta", "award_id", "redemption_id", "expires_on"
        )
    )
    return [
        lots.Movement(
            kind=kind,
            points=points,
            available_delta=available,
            award_id=award_id,
            redemption_id=redemption_id,
            expires_on=expires_on,
            entry_id=entry_id,
        )
        for entry_id, kind, points, available, award_id, redemption_id, expires_on in rows
    ]


def allocation(account: PointsAccount) -> lots.Allocation:
    """The account's lots replayed from its entries (see `carbon.points.lots`). Writers call it
    under
    the account's row lock, so no entry can arrive between the replay and their own write."""
    return lots.replay(_movements(account))


def expiring_lots(
    account: PointsAccount, within_days: int, today: dt.date | None = None
) -> list[tuple[dt.date, int]]:
    """[(expires_on, points)]: the available points that expire within `within_days` of `today`
    (FIFO, neither spent nor held), one row per date, earliest first. A lot whose date has
    passed but which the daily expiry has not reached yet is included."""
    today = today or timezone.localdate()
    return allocation(account).expiring(today + dt.timedelta(days=within_days))


# --- reversals


def reverse_order(order: Order, key: str) -> list[LedgerEntry]:
    """Take back a cancelled or returned order's points. One entry per award, keyed
    ``<key>:<award>``; an award is reversed at most once (a unique constraint).

    Per award: its still-pending points, or, once activated, its lot's amount less the part of
    the lot that has already expired (expired points are not taken twice). The part still in the
    lot (unspent or held) is removed from it; the part already spent is taken from the other
    lots, so the available balance may go negative. An award with nothing left to take (its lot
    expired in full) writes no entry."""
    require_key(key)
    if order.status not in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        raise PointsError("Only cancelled or returned orders are reversed.", code="order_active")
    account = account_for(order.organisation)
    fingerprint = request_fingerprint("reverse", order=order.pk)
    entries = []
    with transaction.atomic():
        account = lock_account(account)
        used = LedgerEntry.objects.filter(
            Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}:"), account=account
        )
        if any(e.request_fingerprint != fingerprint for e in used):
            raise IdempotencyConflict(
                "This idempotency key was already used for a different request.", field="key"
            )
        lots_now: lots.Allocation | None = None
        for award in order.points_awards.filter(points__gt=0).order_by("id"):
            done = LedgerEntry.objects.filter(award=award, kind=EntryKind.REVERSE).first()
            if done is not None:
                entries.append(done)
                continue
            if lots_now is None:
                lots_now = allocation(account)
            entry = _reverse_award(account, award, f"{key}:{award.pk}", fingerprint, lots_now)
            if entry is not None:
                entries.append(entry)
    return entries


def reverse_award(account: PointsAccount, award: PointsAward, key: str) -> LedgerEntry | None:
    """Take back one award's points (an order re-settled after an edit), as `reverse_order`
    does per award: its pending points, or what is left of its lot once activated. Inside the
    caller's transaction, which holds the account's row lock (`lock_account`). Exactly once:
    an award already reversed returns its entry, and a unique constraint backs it."""
    require_key(key)
    done = LedgerEntry.objects.filter(award=award, kind=EntryKind.REVERSE).first()
    if done is not None:
        return done
    fingerprint = request_fingerprint("resettle", award=award.pk)
    if (entry := earlier_entry(account, key, fingerprint)) is not None:
        return entry
    return _reverse_award(account, award, key, fingerprint, allocation(account))


def _reverse_award(
    account: PointsAccount,
    award: PointsAward,
    key: str,
    fingerprint: str,
    lots_now: lots.Allocation,
) -> LedgerEntry | None:
    """Write the reversal of one award not reversed yet (None when nothing is left to take),
    keeping `lots_now` in step; publishes greenloop.carbon.points_reversed."""
    pending = LedgerEntry.objects.filter(award=award).aggregate(p=Sum("pending_delta"))["p"] or 0
    available = lots_now.reversal_amount(award.pk)
    if pending + available <= 0:
        return None
    entry = append_entry(
        account,
        EntryKind.REVERSE,
        pending + available,
        key=key,
        fingerprint=fingerprint,
        pending=-pending,
        available=-available,
        order=award.order,
        award=award,
    )
    lots_now.apply(
        lots.Movement(
            kind=entry.kind,
            points=entry.points,
            available_delta=entry.available_delta,
            award_id=award.pk,
            entry_id=entry.pk,
        )
    )
    expired = award.points - pending - available if available else 0
    publish_entry(
        POINTS_REVERSED,
        account,
        entry,
        order=award.order.external_id,
        award_id=award.pk,
        already_expired=max(expired, 0),
    )
    return entry


# --- awards


def write_award(account: PointsAccount, order: Order, terms: AwardTerms) -> PointsAward:
    """The award of `terms` and its pending points (``earn:<order>:<policy>``, then
    ``:r<n>`` after re-settlements), inside the caller's transaction under the account's row
    lock (`lock_account`)."""
    earlier = PointsAward.objects.filter(order=order, policy=terms.policy).count()
    key = f"earn:{order.pk}:{terms.policy.pk}" + (f":r{earlier}" if earlier else "")
    award = PointsAward.objects.create(
        order=order,
        policy=terms.policy,
        snapshot=terms.snapshot,
        avoided_logistics_kg=terms.avoided_logistics_kg,
        avoided_scope2_kg=terms.avoided_scope2_kg,
        points=terms.points,
        breakdown=terms.breakdown,
    )
    if terms.points > 0:
        entry = append_entry(
            account,
            EntryKind.EARN_PENDING,
            terms.points,
            key=key,
            fingerprint=request_fingerprint(
                "earn", order=order.pk, policy=terms.policy.pk, revision=earlier
            )
            if earlier
            else request_fingerprint("earn", order=order.pk, policy=terms.policy.pk),
            pending=terms.points,
            order=order,
            award=award,
        )
        publish_entry(POINTS_AWARDED, account, entry, order=order.external_id, award_id=award.pk)
    return award


def supersede_award(account: PointsAccount, award: PointsAward) -> None:
    """Reverse a live award's points (key ``resettle:<award>``) and mark it superseded, under
    the account's row lock."""
    if award.points > 0:
        reverse_award(account, award, f"resettle:{award.pk}")
    award.superseded_at = timezone.now()
    award.save(update_fields=["superseded_at"])


# --- reading balances


@dataclass(frozen=True)
class Balances:
    pending: int
    available: int
    held: int
    expiring_soon: int  # available points in lots expiring within 90 days (FIFO)


def balances(account: PointsAccount, today: dt.date | None = None) -> Balances:
    """The account's balances summed from its entries (not from the cached columns);
    `expiring_soon` is what `expiring_lots(account, 90, today)` adds up to."""
    today = today or timezone.localdate()
    sums = LedgerEntry.objects.filter(account=account).aggregate(
        pending=Sum("pending_delta"), available=Sum("available_delta"), held=Sum("held_delta")
    )
    soon = allocation(account).due(today + dt.timedelta(days=EXPIRING_SOON_DAYS))
    return Balances(
        pending=sums["pending"] or 0,
        available=sums["available"] or 0,
        held=sums["held"] or 0,
        expiring_soon=soon,
    )


@dataclass(frozen=True)
class Mismatch:
    account_id: int
    organisation: str
    cached: tuple[int, int, int]
    summed: tuple[int, int, int]


def reconcile() -> list[Mismatch]:
    """Every account whose cached (pending, available, held) differ from its entries' sums."""
    sums = {
        row["account_id"]: (row["p"] or 0, row["a"] or 0, row["h"] or 0)
        for row in LedgerEntry.objects.values("account_id")
        .annotate(p=Sum("pending_delta"), a=Sum("available_delta"), h=Sum("held_delta"))
        .order_by()
    }
    mismatches = []
    for account in PointsAccount.objects.select_related("organisation").order_by("pk"):
        cached = (account.pending, account.available, account.held)
        summed = sums.get(account.pk, (0, 0, 0))
        if cached != summed:
            mismatches.append(Mismatch(account.pk, str(account.organisation), cached, summed))
    return mismatches


# --- balances as the customer's pages and the dashboard panel show them


@dataclass(frozen=True)
class Expiry:
    expires_on: dt.date
    points: int


@dataclass(frozen=True)
class BalanceSummary:
    pending: int
    available: int
    held: int
    expiring_soon: int
    next_expiry: Expiry | None

    @property
    def negative(self) -> bool:
        return self.available < 0


def balance_summary(organisation: Organisation, today: dt.date | None = None) -> BalanceSummary:
    """The organisation's balances from its ledger entries, and the next lot to expire within
    90 days. Zeros when it has no account yet (nothing is created)."""
    account = PointsAccount.objects.filter(organisation=organisation).first()
    if account is None:
        return BalanceSummary(0, 0, 0, 0, None)
    today = today or timezone.localdate()
    now = balances(account, today)
    lots = expiring_lots(account, EXPIRING_SOON_DAYS, today) if now.expiring_soon > 0 else []
    return BalanceSummary(
        pending=now.pending,
        available=now.available,
        held=now.held,
        expiring_soon=now.expiring_soon,
        next_expiry=Expiry(*lots[0]) if lots else None,
    )
