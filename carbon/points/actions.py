"""The points wing's writes: the one place views, the API, the admin, tasks, the demo and the
management commands change points data. Each action is one transaction that locks what it
changes and writes its audit record and its events (to the outbox, `portal.events`) with it.

- Policies: drafting, editing a draft, submitting, and approval by a second person. The policy
  in force at an order's delivery decides its award.
- Awards: awarding a delivered order, activating due awards, settling an order after it changed.
- The ledger: manual adjustments, expiry, expiry reminders (primitives in carbon.points.ledger).
- Redemptions: request (points held), then fulfil (captured), reject or cancel (released).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from carbon.footprint.exceptions import CalculationError
from carbon.models import (
    EntryKind,
    ExpiryReminder,
    LedgerEntry,
    Order,
    OrderStatus,
    PointsAccount,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
    Service,
)

# tasks import this module too; both sides import the module, never its names, so the cycle
# resolves at call time.
from carbon.points import awards, ledger, policies, redemptions, settlement, tasks
from carbon.points.events import (
    POINTS_ACTIVATED,
    POINTS_EXPIRED,
    REDEMPTION_CANCELLED,
    REDEMPTION_FULFILLED,
    REDEMPTION_REJECTED,
)
from carbon.points.exceptions import (
    PointsError,
    PolicyError,
    RedemptionError,
    RetryWithSavepoint,
)
from carbon.points.permissions import PERM_REDEEM, can_fulfil
from portal import audit
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, Site, User
from portal.permissions import has_perm

logger = logging.getLogger(__name__)

# --- policies


def create_draft_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Store `policy` (its parameters filled in) as a new draft with the next version number.
    The unique version backs the numbering; a concurrent draft that took the number first makes
    this one retry with the next."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                latest = PointsPolicy.objects.aggregate(v=Max("version"))["v"] or 0
                policy.version = latest + 1
                policy.status = PolicyStatus.DRAFT
                policy.created_by = by
                policy.submitted_by = policy.approved_by = policy.approved_at = None
                policy.save()
                audit.record(
                    "carbon.points_policy.created",
                    actor=by,
                    obj=policy,
                    details={"version": policy.version},
                )
            return policy
        except IntegrityError:
            if attempt == 2:
                raise
            policy.pk = None
    return policy  # pragma: no cover - the loop returns or raises


def update_draft_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Save the edited parameters of a draft; refused once it has been submitted (checked under
    the row lock, so an edit cannot slip in after a submission)."""
    with transaction.atomic():
        policies.check_editable(PointsPolicy.objects.select_for_update().get(pk=policy.pk))
        policy.save(update_fields=policies.POLICY_FIELDS)
        audit.record(
            "carbon.points_policy.updated",
            actor=by,
            obj=policy,
            details={"version": policy.version},
        )
    return policy


def submit_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Send a draft policy for approval by another staff member."""
    with transaction.atomic():
        policy = PointsPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.status != PolicyStatus.DRAFT:
            raise PolicyError("Only a draft policy can be submitted.", code="policy_not_draft")
        policy.status = PolicyStatus.AWAITING_APPROVAL
        policy.submitted_by = by
        policy.save(update_fields=["status", "submitted_by"])
        audit.record("carbon.points_policy.submitted", actor=by, obj=policy)
    return policy


def approve_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Activate a submitted policy from its `effective_from`. Four eyes: the approver must be a
    staff member other than the submitter (a CHECK constraint backs this)."""
    with transaction.atomic():
        policy = PointsPolicy.objects.select_for_update().get(pk=policy.pk)
        policies.check_approval(policy, by)
        policy.status = PolicyStatus.ACTIVE
        policy.approved_by = by
        policy.approved_at = timezone.now()
        policy.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(
            "carbon.points_policy.approved",
            actor=by,
            obj=policy,
            details={"version": policy.version, "effective_from": str(policy.effective_from)},
        )
    return policy


# --- awards


def award_order(order: Order, *, policy: PointsPolicy | None = None) -> PointsAward:
    """Award points for a delivered order's current snapshot under the policy in force on its
    delivery date, as pending points. Idempotent per order and policy: a repeat returns the
    live award (its entry's key is ``earn:<order>:<policy>``, and ``earn:<order>:<policy>:r<n>``
    for the n-th award after re-settlements superseded earlier ones)."""
    terms = awards.award_terms(order, policy)
    account = ledger.account_for(order.organisation)
    with transaction.atomic():
        account = ledger.lock_account(account)
        existing = awards.live_awards().filter(order=order, policy=terms.policy).first()
        if existing is not None:
            return existing
        return settlement.write_award(account, order, terms)


def resettle_order(order: Order, live: PointsAward) -> str:
    """Bring a delivered order's award in line with the order as it is now: unchanged ("already
    awarded"), replaced by a new award when its footprint or policy changed ("resettled": the
    old points reversed and the new ones earned, both on the ledger), or taken back when its
    data no longer earns points ("reversed", e.g. a leg is now unverified customer data). Under
    the account's row lock, re-reading the live award, so retries and concurrent workers write
    each entry exactly once."""
    try:
        terms = awards.award_terms(order)
    except (PointsError, CalculationError) as refused:
        if refused.code != awards.UNATTESTED:
            logger.info("Order %s not re-settled: %s (%s)", order.pk, refused.code, refused.message)
            return refused.code
        terms = None
    if terms is not None and (live.snapshot_id, live.policy_id) == (
        terms.snapshot.pk,
        terms.policy.pk,
    ):
        return "already_awarded"
    return settlement.replace_award(order, terms)


def activate_due(today: dt.date) -> list[LedgerEntry]:
    """Move each award's pending points to available once `pending_days` after delivery have
    passed. The lot expires `expiry_months` after its due date (not after the run), so a late
    run never lengthens a lot's life. Key: ``activate:<award>``."""
    candidates = (
        awards.live_awards()
        .filter(points__gt=0, order__status=OrderStatus.DELIVERED)
        .exclude(entries__kind__in=[EntryKind.ACTIVATE, EntryKind.REVERSE])
        .select_related("order", "policy")
        .order_by("id")
    )
    written = []
    for award in candidates:
        delivered_on = award.order.delivery_date
        if delivered_on is None:
            # Stored again without a delivery date since the award: it waits for one, and the
            # other awards of the run go on.
            continue
        due = delivered_on + dt.timedelta(days=award.policy.pending_days)
        if due > today:
            continue
        account = ledger.account_for(award.order.organisation)
        key = f"activate:{award.pk}"
        with transaction.atomic():
            account = ledger.lock_account(account)
            if LedgerEntry.objects.filter(
                award=award, kind__in=[EntryKind.ACTIVATE, EntryKind.REVERSE]
            ).exists():
                continue  # another run, or a reversal, got there first
            # All of it, less a green-power reward taken back while pending (declaration revoked).
            remaining = settlement.pending_of(award)
            if remaining <= 0:
                continue
            entry = ledger.append_entry(
                account,
                EntryKind.ACTIVATE,
                remaining,
                key=key,
                fingerprint=ledger.request_fingerprint("activate", award=award.pk),
                pending=-remaining,
                available=remaining,
                order=award.order,
                award=award,
                expires_on=ledger.add_months(due, award.policy.expiry_months),
            )
            ledger.publish_entry(POINTS_ACTIVATED, account, entry, expires_on=entry.expires_on)
        written.append(entry)
    return written


def settle_order(order: Order) -> str:
    """Award a delivered order, re-settle an awarded one that changed (`resettle_order`) or
    reverse a cancelled/returned one, whichever applies; called after every change to an order
    or its footprint, so it must be safe to call any number of times. Returns what it did:
    "awarded", "resettled", "reversed" or why it did nothing ("already_awarded", "no_policy",
    "no_footprint", "unattested_data", ...). A missing policy or footprint is normal (the order is
    awarded once both exist), so it is logged at info and never raised."""
    if order.status == OrderStatus.DELIVERED:
        if order.delivery_date is None:
            return "no_delivery_date"
        live = awards.live_awards().filter(order=order).order_by("id").first()
        if live is not None:
            return resettle_order(order, live)
        try:
            award_order(order)
        except (PointsError, CalculationError) as refused:  # no policy, footprint, baseline
            logger.info("Order %s not awarded: %s (%s)", order.pk, refused.code, refused.message)
            return refused.code
        return "awarded"
    if order.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        # Its period is settled again either way: an order whose excess had been netted
        # against the others' savings gives the period its points back when it is cancelled.
        for policy in PointsPolicy.objects.filter(awards__order=order).distinct():
            settlement.settle_period_of(order, policy)
        earned = order.points_awards.filter(points__gt=0)
        if not earned.exists():
            return "no_award"
        if not earned.exclude(entries__kind=EntryKind.REVERSE).exists():
            return "already_reversed"
        written = settlement.reverse_order(order, key=f"reverse:{order.pk}")
        return "reversed" if written else "nothing_to_reverse"
    return "not_settled"


def reverse_green_power_rewards(declaration_id: int, revoked_by: User) -> list[LedgerEntry]:
    """Take back the green-power reward of every award whose footprint used the revoked
    declaration: one entry per award, keyed ``green-power-revoked:<declaration>:<award>``; a
    repeat (the event delivered twice, the task retried) writes nothing more."""
    reason = _("Green-power declaration #%(id)s was revoked.") % {"id": declaration_id}
    return settlement.reverse_green_rewards(declaration_id, reason, revoked_by)


# --- the ledger


def expire_due(today: dt.date) -> list[LedgerEntry]:
    """Expire the unspent, unheld points of every lot whose `expires_on` is today or earlier
    (lots tracked one by one, see `carbon.points.lots`). Key: ``expire:<date>`` (a second run on the
    same day writes nothing; points released after the run expire on the next day's run)."""
    # An account with nothing available has nothing to expire: while available is negative
    # every lot is empty (the deficit is paid first), and at zero there is nothing in them.
    account_ids = (
        LedgerEntry.objects.filter(
            kind=EntryKind.ACTIVATE, expires_on__lte=today, account__available__gt=0
        )
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    written = []
    for account_id in list(account_ids):
        key = f"expire:{today.isoformat()}"
        fingerprint = ledger.request_fingerprint("expire", date=today)
        with transaction.atomic():
            account = PointsAccount.objects.select_for_update().get(pk=account_id)
            if ledger.earlier_entry(account, key, fingerprint) is not None:
                continue
            amount = ledger.allocation(account).due(today)
            if amount <= 0:
                continue
            entry = ledger.append_entry(
                account,
                EntryKind.EXPIRE,
                amount,
                key=key,
                fingerprint=fingerprint,
                available=-amount,
            )
            ledger.publish_entry(POINTS_EXPIRED, account, entry)
        written.append(entry)
    return written


def adjust(
    account: PointsAccount, points: int, reason: str, approved_by: User | None, key: str
) -> LedgerEntry:
    """A manual correction of the available balance (+ or -), with a reason and the staff member
    who approved it, both kept on the entry and in the audit trail."""
    ledger.require_key(key)
    if not points:
        raise PointsError("An adjustment must change the balance.", field="points")
    if not (reason or "").strip():
        raise PointsError("An adjustment needs a reason.", field="reason")
    if approved_by is None or not approved_by.is_staff:
        raise PointsError("An adjustment needs a staff approver.", field="approved_by")
    fingerprint = ledger.request_fingerprint(
        "adjust", points=points, reason=reason, approver=approved_by.pk
    )
    with transaction.atomic():
        account = ledger.lock_account(account)
        if (entry := ledger.earlier_entry(account, key, fingerprint)) is not None:
            return entry
        entry = ledger.append_entry(
            account,
            EntryKind.ADJUST,
            abs(points),
            key=key,
            fingerprint=fingerprint,
            available=points,
            reason=reason,
            approved_by=approved_by,
        )
        audit.record(
            "carbon.points.adjusted",
            actor=approved_by,
            organisation=account.organisation,
            obj=entry,
            details={"points": points, "reason": reason},
        )
    return entry


def record_expiry_reminders(
    account: PointsAccount, today: dt.date, within_days: int = ledger.REMINDER_DAYS
) -> list[ExpiryReminder]:
    """One `ExpiryReminder` per date on which some of the account's available points expire in
    the next `within_days` days (after today), unless one was already recorded for that date.
    Runs under the account's row lock; the caller sends the e-mails after its transaction
    commits, so a reminder is recorded if and only if it is sent."""
    with transaction.atomic():
        account = ledger.lock_account(account)
        due = ledger.allocation(account).expiring(
            today + dt.timedelta(days=within_days), after=today
        )
        if not due:
            return []
        known = set(
            ExpiryReminder.objects.filter(
                account=account, expires_on__in=[day for day, _ in due]
            ).values_list("expires_on", flat=True)
        )
        return [
            ExpiryReminder.objects.create(account=account, expires_on=day, points=points)
            for day, points in due
            if day not in known
        ]


# --- redemptions


def _notify(redemption: Redemption, what: str) -> None:
    transaction.on_commit(lambda: tasks.send_redemption_email.delay(redemption.pk, what))


def request_redemption(
    organisation: Organisation,
    service: Service,
    by: User | None,
    *,
    key: str,
    site: Site | None = None,
    preferred_date: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
    remember: Callable[[Redemption], ledger.BalanceRow] | None = None,
    in_callers_transaction: bool = False,
    redemption_id: int | None = None,
) -> tuple[Redemption, bool]:
    """Hold the service's points and record the request. Returns (redemption, created): a repeat
    with the same key and the same request returns the first redemption; the same key with a
    different request raises IdempotencyConflict. Refusals (ineligible, capacity reached, too few
    points) raise before anything is written. `remember(redemption)` gives one more row for the
    hold to write with the balances after it (the API's record of its response).

    The ledger's key is looked up only when the request is refused or its hold's key is taken:
    a repeat gets the first answer even when the request's own rules would now refuse it (e.g.
    its preferred date has passed), and a new request costs no lookup.

    `in_callers_transaction`: write into the caller's open transaction without a savepoint of
    its own, and end it: the hold's statement carries the transaction's COMMIT in the same
    round trip (`ledger.hold_for_redemption(commit=True)`), so the account row, locked by that
    statement, is never held while this thread waits for its turn to send COMMIT (under load
    every such wait queues the other requests on one balance). The caller writes nothing after
    it in that transaction. A refusal or a key the ledger knows then raises
    RetryWithSavepoint: the caller rolls its transaction back (it may hold this request's rows,
    or be aborted by the key's clash) and asks again without the flag.

    `redemption_id`: an id the caller drew from the redemptions' sequence already
    (`catalogue.service_for_redemption`, with the service's lookup); one is drawn otherwise."""
    today = today or timezone.localdate()
    note = (note or "").strip()
    if not key:
        raise RedemptionError(_("An idempotency key is required."), field="key")
    hold_key = f"redeem:{key}"
    try:
        redemptions.check_request(organisation, service, site, preferred_date, note, today)
        with contextlib.nullcontext() if in_callers_transaction else transaction.atomic():
            redemption = redemptions.hold_and_record(
                organisation,
                service,
                by,
                hold_key,
                site,
                preferred_date,
                note,
                today,
                remember,
                redemption_id=redemption_id,
                commit=in_callers_transaction,
            )
    except (IntegrityError, PointsError) as exc:
        if in_callers_transaction:
            raise RetryWithSavepoint from exc
        # A repeat (the key is the ledger's already, perhaps raced in from another caller that
        # committed first) gets the first answer; anything else is this request's refusal.
        wanted = redemptions.request_fingerprint(service, by, site, preferred_date, note)
        if (earlier := redemptions.earlier_request(organisation, hold_key, wanted)) is not None:
            return earlier, False
        raise
    return redemption, True


def fulfil(
    redemption: Redemption,
    by: User,
    *,
    scheduled_for: dt.date,
    assignee: str,
    note: str = "",
) -> Redemption:
    """Staff confirm the service: the held points are spent and the customer is told when and
    by whom it will be delivered."""
    if not can_fulfil(by):
        raise PermissionDeniedError(_("Only customer success staff fulfil redemptions."))
    if scheduled_for is None:
        raise RedemptionError(_("Give the date of the service."), field="scheduled_for")
    if not (assignee or "").strip():
        raise RedemptionError(_("Name who delivers the service."), field="assignee")
    assignee = assignee.strip()
    return _close(
        redemption,
        by,
        RedemptionStatus.FULFILLED,
        fields={
            "scheduled_for": scheduled_for,
            "assignee": assignee,
            "staff_note": (note or "").strip(),
            "decided_by": by,
        },
        stamp="decided_at",
        details={"scheduled_for": scheduled_for.isoformat(), "assignee": assignee},
    )


def reject(redemption: Redemption, by: User, *, reason: str) -> Redemption:
    """Staff decline the request; its points go back to the available balance."""
    if not can_fulfil(by):
        raise PermissionDeniedError(_("Only customer success staff reject redemptions."))
    if not (reason or "").strip():
        raise RedemptionError(_("Tell the customer why the request is declined."), field="reason")
    return _close(
        redemption,
        by,
        RedemptionStatus.REJECTED,
        fields={"staff_note": reason.strip(), "decided_by": by},
        stamp="decided_at",
        details={"reason": reason.strip()},
    )


def cancel(redemption: Redemption, by: User | None) -> Redemption:
    """The customer withdraws a request before it is fulfilled; its points are released. A
    repeat on an already cancelled redemption returns it unchanged."""
    if by is not None and not has_perm(by, PERM_REDEEM, redemption.organisation):
        raise PermissionDeniedError(_("Only members and admins may cancel redemptions."))
    return _close(
        redemption,
        by,
        RedemptionStatus.CANCELLED,
        fields={"cancelled_by": by},
        stamp="cancelled_at",
        repeat_returns=True,
    )


_CLOSED_EVENTS: dict[str, str] = {
    RedemptionStatus.FULFILLED: REDEMPTION_FULFILLED,
    RedemptionStatus.REJECTED: REDEMPTION_REJECTED,
    RedemptionStatus.CANCELLED: REDEMPTION_CANCELLED,
}


def _close(
    redemption: Redemption,
    by: User | None,
    status: str,
    *,
    fields: dict[str, Any],
    stamp: str,
    details: dict[str, Any] | None = None,
    repeat_returns: bool = False,
) -> Redemption:
    """Settle an open request under the account and redemption row locks: a fulfilment captures
    its held points, a rejection or cancellation releases them; then the new status and `fields`
    (with `stamp` set to now), the event, the audit record and the e-mail to the requester.
    `repeat_returns`: a redemption already in `status` is returned unchanged."""
    with transaction.atomic():
        account, redemption = redemptions.lock_for_decision(redemption)
        if repeat_returns and redemption.status == status:
            return redemption
        redemptions.require_open(redemption)
        if status == RedemptionStatus.FULFILLED:
            ledger.capture_hold(account, redemption.pk, f"capture:{redemption.pk}")
        else:
            ledger.release_hold(account, redemption.pk, f"release:{redemption.pk}")
        account.refresh_from_db()
        redemption.status = status
        for name, value in fields.items():
            setattr(redemption, name, value)
        setattr(redemption, stamp, timezone.now())
        redemption.save()
        redemptions.publish_event(_CLOSED_EVENTS[status], redemption, account)
        audit.record(
            f"carbon.redemption.{status}",
            actor=by,
            organisation=redemption.organisation,
            obj=redemption,
            details=details,
        )
        _notify(redemption, str(status))
    return redemption
