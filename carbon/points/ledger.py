"""The append-only points ledger: accounts, entries, holds, lots and balances (awards and their
reversals are written in `carbon.points.settlement`, on these primitives). These are the
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.db.models import Sum
from django.db.models.signals import post_save
from django.utils import timezone

from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
)
from carbon.points import lots
from carbon.points.exceptions import IdempotencyConflict, InsufficientPoints, PointsError
from portal import events
from portal.models import Organisation
from portal.rows import execute_prepared, several_statements

if TYPE_CHECKING:
    pass

EXPIRING_SOON_DAYS = 90
REMINDER_DAYS = 30  # the expiry reminder's horizon (carbon.points.actions.record_expiry_reminders)
FORMULA = (
    "period points = min(floor(max(0, sum over the period's legs of (reference t·km x baseline "
    "of the leg's service class - leg WTW kg) + sum of max(0, Scope 2 location kg - Scope 2 "
    "market kg)) x points per kg), cap per period); order points = the change the order makes "
    "to its period's points"
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


# An unsaved row to write with a hold, and the name of its JSON field that receives the balances
# after the hold under "balances" (an outbox event's data, an API response kept for replays).
BalanceRow = tuple[models.Model, str]


def hold_for_redemption(
    organisation: Organisation,
    points: int,
    key: str,
    redemption_id: int,
    *,
    rows: Sequence[BalanceRow] = (),
    writes: Sequence[models.Model] = (),
    commit: bool = False,
) -> HeldBalances:
    """Set `points` aside for a redemption inside the caller's transaction, locking the account
    row only now: one statement checks and moves the balance (`available >= points`), taking
    the row lock until commit, and writes `writes` (unsaved rows with their ids set, e.g. the
    redemption the entry points to), the hold's entry and `rows` (each with the balances after
    the hold), so that only COMMIT follows it while the lock is held and concurrent requests on
    one balance wait for nothing else. Refused with InsufficientPoints (its `available` says
    what there is) when the balance is short or negative; then nothing is written. The unique
    key constraint refuses a duplicate key with IntegrityError. On SQLite, which has no
    data-modifying WITH, `writes` are saved before the hold (the caller's transaction or
    savepoint takes them back with a refusal).

    `commit`: the hold is the last write of the caller's transaction, and its COMMIT is sent
    with the statement, in the same round trip (PostgreSQL, when that transaction is the
    outermost atomic block; a savepoint or a test's transaction is left to its own exit). The
    row lock then lasts only while the server runs the two: it is never held while this thread
    waits to be scheduled (for the GIL, under load) to send COMMIT after reading the result.
    The caller's atomic block then finds the transaction committed (its COMMIT does nothing)
    and runs its on-commit callbacks as usual; the caller writes nothing more in the block. A
    refusal (no row updated) commits a transaction that wrote nothing."""
    require_key(key)
    if points <= 0:
        raise PointsError("A hold must be for a positive number of points.", field="points")
    if not transaction.get_connection().in_atomic_block:
        raise PointsError("hold_for_redemption must run inside a transaction.")
    entry = LedgerEntry(
        kind=EntryKind.HOLD,
        points=points,
        available_delta=-points,
        held_delta=points,
        idempotency_key=key,
        request_fingerprint=request_fingerprint("hold", points=points, redemption=redemption_id),
        redemption_id=redemption_id,
    )
    update = (
        f"UPDATE {_quoted(PointsAccount)} SET available = available - %s, "  # noqa: S608
        "held = held + %s, updated_at = %s WHERE organisation_id = %s AND available >= %s "
        "RETURNING id, pending, available, held"
    )
    update_params: list[Any] = [points, points, timezone.now(), organisation.pk, points]
    if connection.vendor == "postgresql":
        row = _hold_in_one_statement(
            update, update_params, entry, rows, writes, commit=commit and _may_end_transaction()
        )
    else:
        # SQLite (the demo) has no data-modifying WITH; it serialises writers anyway.
        for obj in writes:
            obj.save(force_insert=True)
        with connection.cursor() as cursor:
            cursor.execute(update, update_params)
            row = cursor.fetchone()
        if row is not None:
            entry.account_id = row[0]
            entry.save(force_insert=True)
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
    held = HeldBalances(*row)
    balances = {"pending": held.pending, "available": held.available, "held": held.held}
    for obj, field in rows:
        getattr(obj, field)["balances"] = dict(balances)
        if connection.vendor != "postgresql":
            obj.save(force_insert=True)
    return held


def _quoted(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def next_id_sql(model: type[models.Model]) -> tuple[str, list[str]]:
    """The SQL expression (and its parameters) that draws a new primary key from `model`'s
    sequence (PostgreSQL), to select in a statement the caller runs anyway."""
    return "nextval(pg_get_serial_sequence(%s, %s))", [
        model._meta.db_table,
        str(model._meta.pk.column),
    ]


def next_id(model: type[models.Model]) -> int:
    """A new primary key from `model`'s sequence (PostgreSQL), for a row that `writes` of
    `hold_for_redemption` inserts and that other rows name before it is written."""
    expression, params = next_id_sql(model)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)
        return int(cursor.fetchone()[0])


def _may_end_transaction() -> bool:
    """Whether a statement may end the current transaction with COMMIT itself: it is the
    outermost atomic block (no savepoint of the caller's, not a test's wrapping transaction),
    which commits on exit and is not already doomed to roll back."""
    db = transaction.get_connection()
    return (
        several_statements(db)
        and len(db.atomic_blocks) == 1
        and not db.savepoint_ids
        and db.commit_on_exit
        and not db.needs_rollback
    )


def _hold_in_one_statement(
    update: str,
    update_params: list[Any],
    entry: LedgerEntry,
    rows: Sequence[BalanceRow],
    writes: Sequence[models.Model] = (),
    *,
    commit: bool = False,
) -> tuple[int, int, int, int] | None:
    """The guarded UPDATE and every insert in one statement (PostgreSQL): the inserts select
    from the UPDATE's RETURNING, so they write nothing when it changed no row. Foreign keys
    between them (the entry's redemption among `writes`) are checked at the statement's end,
    when every row of it is there. `commit`: COMMIT follows in the same query string (the
    simple query protocol of Django's client-side binding cursor runs both in one round trip;
    an error in the statement skips it and leaves the transaction to be rolled back)."""
    sql = [
        f"WITH held AS ({update}, jsonb_build_object('pending', pending, 'available', "
        "available, 'held', held) AS balances)"
    ]
    params = list(update_params)
    inserts: list[tuple[models.Model, dict[str, str]]] = [(obj, {}) for obj in writes]
    inserts.append((entry, {"account_id": "held.id"}))
    for obj, name in rows:
        column = str(obj._meta.get_field(name).column)  # type: ignore[union-attr]
        inserts.append((obj, {column: "jsonb_set(%s::jsonb, '{balances}', held.balances)"}))
    for n, (obj, expressions) in enumerate(inserts):
        insert, insert_params = _insert_from_held(obj, expressions)
        sql.append(f", write{n} AS ({insert})")
        params += insert_params
    sql.append(" SELECT id, pending, available, held FROM held")
    with connection.cursor() as cursor:
        if several_statements(connection):
            # Prepared per session: parsing, analysing and planning this statement cost the
            # server more than running it.
            execute_prepared(cursor, "".join(sql), params, then="; COMMIT" if commit else "")
        else:
            cursor.execute("".join(sql), params)
        row = cursor.fetchone()
    if row is None:
        return None
    entry.account_id = row[0]
    for obj, _ in inserts:
        # As the ORM leaves a saved row; receivers of post_save (checks, caches) see it too.
        obj._state.adding = False
        obj._state.db = connection.alias
    for obj, _ in inserts:
        post_save.send(
            sender=type(obj),
            instance=obj,
            created=True,
            update_fields=None,
            raw=False,
            using=connection.alias,
        )
    return row


# Per model and connection: the quoted table, and per concrete field its quoted column and
# whether it has a pre_save of its own (a default one only reads the attribute again).
_InsertPlan = tuple[str, list[tuple[models.Field, str, bool]]]
_insert_plans: dict[tuple[type[models.Model], str], _InsertPlan] = {}


def _insert_plan(model: type[models.Model], db: Any) -> _InsertPlan:
    key = (model, db.alias)
    if (plan := _insert_plans.get(key)) is None:
        plan = _insert_plans[key] = (
            db.ops.quote_name(model._meta.db_table),
            [
                (
                    field,
                    db.ops.quote_name(field.column),
                    type(field).pre_save is not models.Field.pre_save,
                )
                for field in model._meta.concrete_fields
            ],
        )
    return plan


def _insert_from_held(obj: models.Model, expressions: dict[str, str]) -> tuple[str, list[Any]]:
    """INSERT ... SELECT of `obj`'s column values FROM held, with `expressions` (column: SQL;
    a `%s` in it takes the field's own value) in place of plain values."""
    # The connection itself, not the thread-local proxy that every attribute read would pass.
    db = transaction.get_connection()
    table, fields = _insert_plan(type(obj), db)
    columns, values, params = [], [], []
    for field, column, own_pre_save in fields:
        if field.primary_key and getattr(obj, field.attname) is None:
            continue  # a serial id
        columns.append(column)
        expression = expressions.get(field.column, "%s")
        if "%s" in expression:
            value = getattr(obj, field.attname)
            if own_pre_save and not (getattr(field, "auto_now_add", False) and value is not None):
                # A creation time set already is kept: a response built before this statement
                # quotes it (a redemption's requested_at).
                value = field.pre_save(obj, add=True)
            value = field.get_db_prep_save(value, db)
            if expression == "%s" and (value is None or value == ""):
                # What psycopg would send for it; as a parameter it would only count towards
                # the 50 beyond which psycopg parses the statement again on every request.
                expression = "NULL" if value is None else "''"
            else:
                params.append(value)
        values.append(expression)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM held",
        params,
    )


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
