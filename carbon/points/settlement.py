"""Awards written and taken back on the ledger: an award's pending points, the reversal of a
cancelled or returned order, the re-settlement of an edited one (its award superseded and
reversed, a new one written) and the green-power part of an award whose declaration was
revoked. Built on the primitives of `carbon.points.ledger` (account lock, keyed entries, lots),
under the same invariants; callers outside the wing write through `carbon.points.actions`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from carbon.models import (
    CalculationSnapshot,
    EntryKind,
    LedgerEntry,
    Order,
    OrderStatus,
    PointsAccount,
    PointsAward,
    PointsPolicy,
)
from carbon.points import awards, lots
from carbon.points.events import POINTS_AWARDED, POINTS_REVERSED
from carbon.points.exceptions import IdempotencyConflict, PointsError
from carbon.points.ledger import (
    account_for,
    allocation,
    append_entry,
    earlier_entry,
    lock_account,
    publish_entry,
    request_fingerprint,
    require_key,
)
from portal.models import Organisation

if TYPE_CHECKING:
    from carbon.points.awards import AwardTerms


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
    pending = pending_of(award)
    # A green-power reward already taken back from available is not taken twice.
    taken_green = -(
        LedgerEntry.objects.filter(award=award, kind=EntryKind.REVERSE_GREEN).aggregate(
            a=Sum("available_delta")
        )["a"]
        or 0
    )
    available = max(0, lots_now.reversal_amount(award.pk) - taken_green)
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


def pending_of(award: PointsAward) -> int:
    """The award's points still pending (the sum of its entries' pending deltas)."""
    return LedgerEntry.objects.filter(award=award).aggregate(p=Sum("pending_delta"))["p"] or 0


def reverse_green_reward(
    award: PointsAward, points: int, *, key: str, reason: str, approved_by: Any
) -> LedgerEntry | None:
    """Take back `points` of `award` (its green-power reward, whose declaration was revoked):
    from its still-pending points first, the rest from available (which may go negative). At
    most once per award (a unique constraint; a repeat returns the first entry); nothing when
    the award was reversed in full already or `points` is 0."""
    require_key(key)
    account = account_for(award.order.organisation)
    fingerprint = request_fingerprint("reverse_green", award=award.pk, points=points)
    with transaction.atomic():
        account = lock_account(account)
        done = LedgerEntry.objects.filter(
            award=award, kind__in=[EntryKind.REVERSE_GREEN, EntryKind.REVERSE]
        ).first()
        if done is not None:
            return done if done.kind == EntryKind.REVERSE_GREEN else None
        if points <= 0:
            return None
        from_pending = min(pending_of(award), points)
        entry = append_entry(
            account,
            EntryKind.REVERSE_GREEN,
            points,
            key=key,
            fingerprint=fingerprint,
            pending=-from_pending,
            available=-(points - from_pending),
            order=award.order,
            award=award,
            reason=reason,
            approved_by=approved_by,
        )
        publish_entry(
            POINTS_REVERSED,
            account,
            entry,
            order=award.order.external_id,
            award_id=award.pk,
            already_expired=0,
        )
    return entry


# --- awards


def write_award(account: PointsAccount, order: Order, terms: AwardTerms) -> PointsAward:
    """The order's award: the change it makes to its settlement period's points (the period's
    total now less what the period's other live awards hold, at least 0), then the period
    brought in line (`settle_period`: an order that lowered the total takes points back from
    the period's newest awards). Inside the caller's transaction under the account's row lock
    (`lock_account`), so the total and the awards are read and written by one writer."""
    organisation = order.organisation
    total = awards.period_total(organisation, terms.policy, terms.period, include=order)
    others = sum(
        a.points
        for a in period_awards(organisation, terms.policy, terms.period)
        if a.order_id != order.pk
    )
    points = max(0, total.points - others)
    breakdown = terms.breakdown | {"period": total.as_json(), "points": points}
    award = _write(account, order, terms.policy, terms.snapshot, terms, points, breakdown)
    settle_period(account, organisation, terms.policy, terms.period)
    return award


def _write(
    account: PointsAccount,
    order: Order,
    policy: PointsPolicy,
    snapshot: CalculationSnapshot,
    terms: AwardTerms | PointsAward,
    points: int,
    breakdown: dict[str, Any],
) -> PointsAward:
    """A new award and its pending points (``earn:<order>:<policy>``, then ``:r<n>`` after
    re-settlements and period adjustments), under the account's row lock."""
    earlier = PointsAward.objects.filter(order=order, policy=policy).count()
    key = f"earn:{order.pk}:{policy.pk}" + (f":r{earlier}" if earlier else "")
    award = PointsAward.objects.create(
        order=order,
        policy=policy,
        snapshot=snapshot,
        avoided_logistics_kg=terms.avoided_logistics_kg,
        avoided_scope2_kg=terms.avoided_scope2_kg,
        points=points,
        breakdown=breakdown,
    )
    if points > 0:
        entry = append_entry(
            account,
            EntryKind.EARN_PENDING,
            points,
            key=key,
            fingerprint=request_fingerprint(
                "earn", order=order.pk, policy=policy.pk, revision=earlier
            )
            if earlier
            else request_fingerprint("earn", order=order.pk, policy=policy.pk),
            pending=points,
            order=order,
            award=award,
        )
        publish_entry(POINTS_AWARDED, account, entry, order=order.external_id, award_id=award.pk)
    return award


# --- settlement periods


def period_awards(
    organisation: Organisation, policy: PointsPolicy, period: tuple[dt.date, dt.date]
) -> list[PointsAward]:
    """The live, unreversed awards under `policy` of the orders that count in the period,
    newest first."""
    return list(
        awards.live_awards()
        .filter(
            policy=policy,
            order__in=awards.period_orders(organisation, policy, period),
        )
        .exclude(entries__kind=EntryKind.REVERSE)
        .select_related("order", "snapshot")
        .order_by("-id")
    )


def settle_period(
    account: PointsAccount,
    organisation: Organisation,
    policy: PointsPolicy,
    period: tuple[dt.date, dt.date],
) -> None:
    """Bring the period's live awards to the period's points, under the account's row lock:
    a shortfall (an order that emitted more than its baseline, a cap reached) is taken from the
    newest awards first, a surplus (an order cancelled whose excess had been netted) goes to
    the newest award. Each change supersedes an award (its points reversed) and writes its
    replacement, both on the ledger, keyed as every re-settlement; a repeat finds the period in
    line and writes nothing."""
    total = awards.period_total(organisation, policy, period)
    live = period_awards(organisation, policy, period)
    gap = total.points - sum(a.points for a in live)
    for award in live:
        if gap == 0:
            break
        if gap > 0:
            _adjust(account, award, award.points + gap, total)
            gap = 0
        elif award.points > 0:
            take = min(award.points, -gap)
            _adjust(account, award, award.points - take, total)
            gap += take


def _adjust(account: PointsAccount, award: PointsAward, points: int, total: Any) -> None:
    supersede_award(account, award)
    breakdown = dict(award.breakdown or {}) | {
        "period": total.as_json(),
        "points": points,
        "period_adjustment": True,
    }
    _write(account, award.order, award.policy, award.snapshot, award, points, breakdown)


def settle_period_of(order: Order, policy: PointsPolicy) -> None:
    """`settle_period` for the period `order` was delivered in (after its reversal), under the
    account's row lock."""
    if order.delivery_date is None:
        return
    period = awards.settlement_period(policy, order.delivery_date)
    with transaction.atomic():
        account = lock_account(account_for(order.organisation))
        settle_period(account, order.organisation, policy, period)


def supersede_award(account: PointsAccount, award: PointsAward) -> None:
    """Reverse a live award's points (key ``resettle:<award>``) and mark it superseded, under
    the account's row lock."""
    if award.points > 0:
        reverse_award(account, award, f"resettle:{award.pk}")
    award.superseded_at = timezone.now()
    award.save(update_fields=["superseded_at"])


def replace_award(order: Order, terms: AwardTerms | None) -> str:
    """Supersede the order's live award and write the award of `terms` (None: the order no
    longer earns, so the old award is only reversed), under the account's row lock, re-reading
    the live award so that retries and concurrent workers write each entry exactly once.
    Returns "resettled", "reversed", "already_awarded" or "already_reversed"."""
    with transaction.atomic():
        account = lock_account(account_for(order.organisation))
        live_now = awards.live_awards().filter(order=order).order_by("id").first()
        if live_now is None:
            if terms is None:
                return "already_reversed"
        elif terms is not None and (live_now.snapshot_id, live_now.policy_id) == (
            terms.snapshot.pk,
            terms.policy.pk,
        ):
            return "already_awarded"
        else:
            supersede_award(account, live_now)
        if terms is None:
            if live_now is not None and order.delivery_date is not None:
                settle_period(
                    account,
                    order.organisation,
                    live_now.policy,
                    awards.settlement_period(live_now.policy, order.delivery_date),
                )
            return "reversed"
        write_award(account, order, terms)
    return "resettled"


def reverse_green_rewards(declaration_id: int, reason: str, revoked_by: Any) -> list[LedgerEntry]:
    """One `reverse_green_reward` per live award whose footprint used the revoked declaration,
    keyed ``green-power-revoked:<declaration>:<award>``; a repeat writes nothing more."""
    written = []
    for award in awards.awards_using_declaration(declaration_id):
        key = f"green-power-revoked:{declaration_id}:{award.pk}"
        points = awards.green_power_reward(award)
        entry = reverse_green_reward(award, points, key=key, reason=reason, approved_by=revoked_by)
        written += [entry] if entry is not None else []
    return written
