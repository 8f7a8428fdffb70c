"""The points ledger (carbon/ledger.py): the literal refusals, audit rows, event payloads,
breakdowns, boundaries and lot states that the full mutation run of the "points-ledger" module
(scripts/mutation.sh) found unpinned. Values are written out, never taken from the ledger's own
constants, so that a changed message, key or payload fails here."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from types import SimpleNamespace

import pytest

from carbon.models import (
    CalculationSnapshot,
    ExpiryReminder,
    LedgerEntry,
    LegSource,
    OrderStatus,
    PointsAccount,
    PointsAward,
    PointsPolicy,
)
from carbon.points import actions, awards, ledger, settlement
from carbon.points.exceptions import InsufficientPoints, PointsError
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import (
    LegFactory,
    OrderFactory,
    ShipmentFactory,
    fund,
    hold,
)
from tests.carbon.test_points_ledger import delivered_order, draft_policy, make_policy
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

FORMULA = (
    "period points = min(floor(max(0, sum over the period's legs of (reference t·km x baseline "
    "of the leg's service class - leg WTW kg) + sum of max(0, Scope 2 location kg - Scope 2 "
    "market kg)) x points per kg), cap per period); order points = the change the order makes "
    "to its period's points"
)


def _refusal(call) -> tuple:
    with pytest.raises(PointsError) as refused:
        call()
    return type(refused.value).__name__, refused.value.code, refused.value.field, str(refused.value)


def _fingerprint(payload: str) -> str:
    """The SHA-256 of the request as the ledger serialises it (sorted keys, default str)."""
    return hashlib.sha256(payload.encode()).hexdigest()


def _fields(obj, names: str) -> tuple:
    """The fields of a row as stored, named in one space-separated string."""
    obj.refresh_from_db()
    return tuple(getattr(obj, name) for name in names.split())


def _state(account: PointsAccount) -> tuple[int, int, int]:
    account.refresh_from_db()
    return account.pending, account.available, account.held


def _audit(action: str) -> tuple:
    event = AuditEvent.objects.get(action=action)
    return (
        event.actor,
        event.organisation,
        event.object_type,
        event.object_id,
        event.details,
    )


def _events(type_: str) -> list[tuple[str, int | None, dict]]:
    return [
        (e.subject, e.organisation_id, e.data)
        for e in OutboxEvent.objects.filter(type=type_).order_by("time", "created_at")
    ]


def _only_event(type_: str, account: PointsAccount) -> dict:
    """The data of the one event of `type_`, published about `account` to its organisation."""
    [(subject, organisation_id, data)] = _events(type_)
    assert (subject, organisation_id) == (f"points-accounts/{account.pk}", account.organisation_id)
    return data


# --- policies


def test_submitting_a_policy_stores_and_audits_the_submitter():
    staff = UserFactory(is_staff=True)
    draft = draft_policy()
    returned = actions.submit_policy(draft, staff)
    stored = PointsPolicy.objects.get(pk=draft.pk)
    assert (stored.status, stored.submitted_by) == ("awaiting_approval", staff)
    assert (returned.status, returned.submitted_by) == ("awaiting_approval", staff)
    assert _audit("carbon.points_policy.submitted") == (
        staff,
        None,
        "carbon.pointspolicy",
        str(draft.pk),
        {},
    )


def test_policy_refusals_give_their_code_and_message():
    staff = UserFactory(is_staff=True)
    active = make_policy()
    assert _refusal(lambda: actions.submit_policy(active, staff)) == (
        "PolicyError",
        "policy_not_draft",
        None,
        "Only a draft policy can be submitted.",
    )
    draft = draft_policy(version=2)
    assert _refusal(lambda: actions.approve_policy(draft, staff)) == (
        "PolicyError",
        "policy_not_submitted",
        None,
        "Only a submitted policy can be approved.",
    )
    actions.submit_policy(draft, staff)
    customer = UserFactory(is_staff=False)
    assert _refusal(lambda: actions.approve_policy(draft, customer)) == (
        "PolicyError",
        "policy_not_staff",
        None,
        "Only staff can approve a points policy.",
    )
    assert _refusal(lambda: actions.approve_policy(draft, staff)) == (
        "PolicyError",
        "policy_four_eyes",
        None,
        "A policy must be approved by someone other than its submitter.",
    )
    assert PointsPolicy.objects.get(pk=draft.pk).status == "awaiting_approval"


def test_an_approver_without_a_staff_flag_is_refused():
    # a principal that is not a user account (no is_staff at all) is not staff either
    draft = draft_policy()
    actions.submit_policy(draft, UserFactory(is_staff=True))
    service = SimpleNamespace(pk=10**6)
    assert _refusal(lambda: actions.approve_policy(draft, service))[1] == "policy_not_staff"


def test_approving_stores_the_approver_and_the_time_and_audits_them():
    submitter = UserFactory(is_staff=True)
    approver = UserFactory(is_staff=True)
    draft = draft_policy(version=3)
    actions.submit_policy(draft, submitter)
    returned = actions.approve_policy(draft, approver)
    stored = PointsPolicy.objects.get(pk=draft.pk)
    assert (stored.status, stored.approved_by, stored.submitted_by) == (
        "active",
        approver,
        submitter,
    )
    assert stored.approved_at is not None
    assert stored.approved_at == returned.approved_at
    assert _audit("carbon.points_policy.approved") == (
        approver,
        None,
        "carbon.pointspolicy",
        str(draft.pk),
        {"version": 3, "effective_from": "2026-01-01"},
    )


# --- idempotency keys


def test_a_key_of_1_to_200_characters_is_accepted_and_others_refused():
    account = ledger.account_for(OrganisationFactory())
    staff = UserFactory(is_staff=True)
    message = "An idempotency key of 1 to 200 characters is required."
    for key in ("", "k" * 201):
        assert _refusal(lambda key=key: actions.adjust(account, 5, "Goodwill", staff, key)) == (
            "PointsError",
            "points_error",
            "key",
            message,
        )
    assert actions.adjust(account, 5, "Goodwill", staff, "k" * 200).idempotency_key == "k" * 200
    assert actions.adjust(account, 5, "Goodwill", staff, "k").idempotency_key == "k"
    assert _state(account) == (0, 10, 0)


def test_a_key_reused_for_another_request_is_refused_word_for_word():
    account = ledger.account_for(OrganisationFactory())
    staff = UserFactory(is_staff=True)
    actions.adjust(account, 5, "Goodwill", staff, "adj")
    assert _refusal(lambda: actions.adjust(account, 6, "Goodwill", staff, "adj")) == (
        "IdempotencyConflict",
        "idempotency_conflict",
        "key",
        "This idempotency key was already used for a different request.",
    )


def test_the_same_key_on_another_account_is_a_new_request():
    staff = UserFactory(is_staff=True)
    first = ledger.account_for(OrganisationFactory())
    second = ledger.account_for(OrganisationFactory())
    actions.adjust(first, 5, "Goodwill", staff, "adj")
    entry = actions.adjust(second, 7, "Welcome", staff, "adj")
    assert (entry.account_id, entry.points) == (second.pk, 7)
    assert (_state(first), _state(second)) == ((0, 5, 0), (0, 7, 0))


# --- awards


def test_the_policy_s_one_baseline_applies_to_every_service_class():
    policy = make_policy(baseline_kg_per_tkm=Decimal("0.75"))
    settings = awards.policy_baselines(policy)
    assert {(b.service_class, b.kg_per_tkm, b.source) for b in settings.classes.values()} == {
        ("road", Decimal("0.75"), "policy"),
        ("rail", Decimal("0.75"), "policy"),
        ("short_sea", Decimal("0.75"), "policy"),
        ("deep_sea", Decimal("0.75"), "policy"),
        ("bulk_sea", Decimal("0.75"), "policy"),
        ("air", Decimal("0.75"), "policy"),
    }
    assert settings.modal_shift == ()


def test_without_one_baseline_each_class_has_its_cited_desnz_2025_row(db):
    policy = make_policy(baseline_kg_per_tkm=None)
    settings = awards.policy_baselines(policy)
    assert {name: b.kg_per_tkm for name, b in settings.classes.items()} == {
        "road": Decimal("0.12522"),
        "rail": Decimal("0.03470"),
        "short_sea": Decimal("0.01977"),
        "deep_sea": Decimal("0.01977"),
        "bulk_sea": Decimal("0.00433"),
        # 0.66646 / 1.08: the DESNZ row on the footprint's footing (its uplift taken off)
        "air": Decimal("0.61709"),
    }
    assert "27_320_3235_14_1" in settings.classes["deep_sea"].source
    assert "0.66646 / 1.08" in settings.classes["air"].source
    assert settings.modal_shift == (
        ("rail", "road", Decimal(1500)),
        ("short_sea", "road", Decimal(2000)),
    )


def _snapshot(order, **figures) -> CalculationSnapshot:
    values = {"tkm": 0, "ttw_kg": 0, "wtt_kg": 0, "wtw_kg": 0, **figures}
    return CalculationSnapshot.objects.create(
        order=order, method_version="test", default_share=1, **values
    )


def test_an_award_keeps_its_full_breakdown_and_writes_a_pending_entry(db):
    # given 1,000 t·km at 120 kg WTW against the policy's 0.2 kg/t·km (80 kg avoided), and
    # Scope 2 of 50 kg location / 20 kg market (30 kg avoided), at 0.5 point per kg, cap 1,000
    organisation = OrganisationFactory()
    policy = make_policy(
        version=4,
        baseline_kg_per_tkm=Decimal("0.2"),
        points_per_kg=Decimal("0.5"),
        per_period_cap=1000,
    )
    order = OrderFactory(
        organisation=organisation,
        external_id="PO-7001",
        status=OrderStatus.DELIVERED,
        delivery_date=dt.date(2025, 3, 1),
    )
    snapshot = _snapshot(
        order,
        tkm=Decimal(1000),
        wtw_kg=Decimal(120),
        scope2_location_kg=Decimal(50),
        scope2_market_kg=Decimal(20),
    )
    # an older, superseded snapshot is not the one awarded
    _snapshot(order, tkm=Decimal(5000), is_current=False)
    # when the order is awarded
    award = actions.award_order(order)
    # then (80 + 30) x 0.5 = 55 points, with every input and step kept
    award.refresh_from_db()
    assert (award.order, award.policy, award.snapshot, award.points) == (
        order,
        policy,
        snapshot,
        55,
    )
    assert (award.avoided_logistics_kg, award.avoided_scope2_kg) == (Decimal(80), Decimal(30))
    assert award.breakdown == {
        "policy_version": 4,
        "snapshot_id": snapshot.pk,
        "inputs": {
            "tkm": "1000",
            "wtw_kg": "120",
            "scope2_location_kg": "50",
            "scope2_market_kg": "20",
        },
        "legs": [
            {
                "service_class": "road",
                "baseline_class": "road",
                "baseline_kg_per_tkm": "0.2",
                "baseline_source": "policy",
                "reference_km": "1000",
                # a snapshot without per-leg results: its declared t·km, no place known
                "reference_basis": "declared",
                "reference_tkm": "1000",
                "wtw_kg": "120",
                "avoided_kg": "80",
            }
        ],
        "include_green_power": True,
        "avoided_logistics_kg": "80",
        "avoided_scope2_kg": "30",
        "points_per_kg": "0.5",
        "period": {
            "start": "2025-03-01",
            "end": "2025-03-31",
            "orders": 1,
            "avoided_kg": "110",
            "uncapped_points": 55,
            "points": 55,
            "cap": 1000,
        },
        "points": 55,
        "formula": FORMULA,
    }
    # and one pending entry keyed by order and policy
    account = PointsAccount.objects.get(organisation=organisation)
    entry = LedgerEntry.objects.get(account=account)
    assert _fields(entry, "kind points pending_delta available_delta held_delta order award") == (
        "earn_pending",
        55,
        55,
        0,
        0,
        order,
        award,
    )
    assert entry.idempotency_key == f"earn:{order.pk}:{policy.pk}"
    assert entry.request_fingerprint == _fingerprint(
        f'{{"kind": "earn", "order": {order.pk}, "policy": {policy.pk}}}'
    )
    assert _state(account) == (55, 0, 0)
    # and one event with the balances after it
    assert _only_event("greenloop.carbon.points_awarded", account) == {
        "entry_id": entry.pk,
        "kind": "earn_pending",
        "points": 55,
        "balances": {"pending": 55, "available": 0, "held": 0},
        "order": "PO-7001",
        "award_id": award.pk,
    }


def test_the_cap_limits_the_points_but_not_the_uncapped_figure():
    organisation = OrganisationFactory()
    make_policy(points_per_kg=Decimal(2), per_period_cap=30, include_green_power=False)
    # the snapshot: 20 t·km against a 1 kg/t·km baseline at 0 kg WTW: 20 kg avoided
    order = delivered_order(organisation, 20)
    CalculationSnapshot.objects.filter(order=order).update(
        scope2_location_kg=Decimal(50), scope2_market_kg=Decimal(0)
    )
    award = actions.award_order(order)
    # 20 kg x 2 = 40 points, capped at 30; green power is left out by the policy
    assert (award.points, award.avoided_scope2_kg) == (30, Decimal(0))
    assert (award.breakdown["period"]["uncapped_points"], award.breakdown["period"]["cap"]) == (
        40,
        30,
    )
    assert award.breakdown["points"] == 30
    assert award.breakdown["include_green_power"] is False
    assert (
        award.breakdown["legs"][0]["baseline_kg_per_tkm"],
        award.breakdown["legs"][0]["baseline_source"],
    ) == ("1", "policy")
    assert LedgerEntry.objects.get().points == 30


def test_green_power_adds_location_less_market_scope2():
    organisation = OrganisationFactory()
    make_policy(points_per_kg=Decimal(1))
    order = delivered_order(organisation, 10)
    CalculationSnapshot.objects.filter(order=order).update(
        scope2_location_kg=Decimal(50), scope2_market_kg=Decimal(20)
    )
    award = actions.award_order(order)
    assert (award.points, award.avoided_logistics_kg, award.avoided_scope2_kg) == (
        40,
        Decimal(10),
        Decimal(30),
    )


def test_one_point_is_enough_for_an_entry():
    organisation = OrganisationFactory()
    make_policy()
    award = actions.award_order(delivered_order(organisation, 1))
    assert award.points == 1
    assert LedgerEntry.objects.get().points == 1
    assert _state(PointsAccount.objects.get(organisation=organisation)) == (1, 0, 0)


def test_award_refusals_give_their_code_and_message():
    organisation = OrganisationFactory()
    open_order = OrderFactory(organisation=organisation, status=OrderStatus.SHIPPED)
    assert _refusal(lambda: actions.award_order(open_order)) == (
        "PointsError",
        "order_not_delivered",
        None,
        "Only delivered orders earn points.",
    )
    undated = OrderFactory(
        organisation=organisation, status=OrderStatus.DELIVERED, delivery_date=None
    )
    assert _refusal(lambda: actions.award_order(undated))[1] == "order_not_delivered"
    order = OrderFactory(
        organisation=organisation,
        status=OrderStatus.DELIVERED,
        delivery_date=dt.date(2025, 3, 1),
    )
    assert _refusal(lambda: actions.award_order(order)) == (
        "PolicyError",
        "no_policy",
        None,
        "No active points policy applies to this order.",
    )
    make_policy()
    assert _refusal(lambda: actions.award_order(order)) == (
        "PointsError",
        "no_footprint",
        None,
        "The order has no calculated footprint yet.",
    )
    # only a superseded snapshot is no footprint either
    _snapshot(order, tkm=Decimal(10), is_current=False)
    assert _refusal(lambda: actions.award_order(order))[1] == "no_footprint"
    assert LedgerEntry.objects.count() == 0


def test_a_policy_that_is_not_active_is_refused_even_when_given():
    organisation = OrganisationFactory()
    order = delivered_order(organisation, 10)
    draft = draft_policy()
    assert _refusal(lambda: actions.award_order(order, policy=draft))[1] == "no_policy"


def test_a_given_policy_is_used_instead_of_the_one_in_force():
    organisation = OrganisationFactory()
    in_force = make_policy(version=1)
    other = make_policy(version=2, effective_from=dt.date(2030, 1, 1), points_per_kg=Decimal(3))
    order = delivered_order(organisation, 10)
    award = actions.award_order(order, policy=other)
    assert (award.policy, award.points) == (other, 30)
    # and the repeat for the policy in force is a separate award
    assert actions.award_order(order).policy == in_force
    assert LedgerEntry.objects.get(award__policy=other).idempotency_key == (
        f"earn:{order.pk}:{other.pk}"
    )


def test_a_repeat_award_returns_the_first_for_the_same_order_only():
    organisation = OrganisationFactory()
    make_policy()
    first_order = delivered_order(organisation, 10)
    second_order = delivered_order(organisation, 20)
    first = actions.award_order(first_order)
    second = actions.award_order(second_order)
    assert (second.order, second.points) == (second_order, 20)
    assert actions.award_order(first_order).pk == first.pk
    assert _state(PointsAccount.objects.get(organisation=organisation)) == (30, 0, 0)
    assert PointsAward.objects.count() == 2


# --- holds for redemptions (the API's single-UPDATE hold)


def test_hold_for_redemption_moves_the_points_and_returns_the_new_balances():
    organisation = OrganisationFactory()
    account = fund(organisation, 1000)
    held = ledger.hold_for_redemption(organisation, 300, "redeem-7", redemption_id=7)
    assert (held.account_id, held.pending, held.available, held.held) == (account.pk, 0, 700, 300)
    entry = LedgerEntry.objects.get(account=account, kind="hold")
    assert _fields(
        entry, "points available_delta held_delta pending_delta redemption_id idempotency_key"
    ) == (300, -300, 300, 0, 7, "redeem-7")
    assert entry.request_fingerprint == _fingerprint(
        '{"kind": "hold", "points": 300, "redemption": 7}'
    )
    assert _state(account) == (0, 700, 300)


def test_hold_for_redemption_takes_one_point_and_refuses_zero():
    organisation = OrganisationFactory()
    fund(organisation, 10)
    assert ledger.hold_for_redemption(organisation, 1, "one", redemption_id=1).held == 1
    for points in (0, -5):
        assert _refusal(
            lambda points=points: ledger.hold_for_redemption(organisation, points, "x", 2)
        ) == (
            "PointsError",
            "points_error",
            "points",
            "A hold must be for a positive number of points.",
        )


def test_hold_for_redemption_refuses_to_run_outside_a_transaction(monkeypatch):
    organisation = OrganisationFactory()
    fund(organisation, 10)
    # the test itself runs in a transaction: pretend the caller did not open one
    monkeypatch.setattr(
        ledger.transaction, "get_connection", lambda: SimpleNamespace(in_atomic_block=False)
    )
    refusal = _refusal(lambda: ledger.hold_for_redemption(organisation, 5, "k", 1))
    monkeypatch.undo()
    assert refusal == (
        "PointsError",
        "points_error",
        None,
        "hold_for_redemption must run inside a transaction.",
    )
    assert LedgerEntry.objects.filter(kind="hold").count() == 0


def _short(call) -> tuple[str, int]:
    with pytest.raises(InsufficientPoints) as refused:
        call()
    assert (refused.value.code, refused.value.field) == ("insufficient_points", "points")
    return str(refused.value), refused.value.available


def test_a_short_hold_for_redemption_says_what_is_available():
    organisation = OrganisationFactory()
    # no account yet, then an empty one, then a short one, then a negative one
    assert _short(lambda: ledger.hold_for_redemption(organisation, 5, "a", 1)) == (
        "5 points requested, 0 available.",
        0,
    )
    ledger.account_for(organisation)
    assert _short(lambda: ledger.hold_for_redemption(organisation, 5, "a", 1)) == (
        "5 points requested, 0 available.",
        0,
    )
    account = fund(organisation, 4)
    assert _short(lambda: ledger.hold_for_redemption(organisation, 5, "a", 1)) == (
        "5 points requested, 4 available.",
        4,
    )
    actions.adjust(account, -24, "Correction", UserFactory(is_staff=True), "neg")
    assert _short(lambda: ledger.hold_for_redemption(organisation, 5, "a", 1)) == (
        "5 points requested, 0 available.",
        -20,
    )
    assert _state(account) == (0, -20, 0)


def test_a_hold_s_refusals_give_their_field_and_message():
    account = fund(OrganisationFactory(), 10)
    assert _refusal(lambda: hold(account, 0, "k", 1)) == (
        "PointsError",
        "points_error",
        "points",
        "A hold must be for a positive number of points.",
    )
    assert _refusal(lambda: hold(account, 11, "k", 1)) == (
        "InsufficientPoints",
        "insufficient_points",
        "points",
        "11 points requested, 10 available.",
    )
    assert _refusal(lambda: hold(account, 1, "", 1))[2] == "key"


# --- adjustments


def test_adjustment_refusals_give_their_field_and_message():
    account = ledger.account_for(OrganisationFactory())
    staff = UserFactory(is_staff=True)
    assert _refusal(lambda: actions.adjust(account, 0, "Goodwill", staff, "a")) == (
        "PointsError",
        "points_error",
        "points",
        "An adjustment must change the balance.",
    )
    for reason in ("", "   ", None):
        assert _refusal(lambda reason=reason: actions.adjust(account, 5, reason, staff, "a")) == (
            "PointsError",
            "points_error",
            "reason",
            "An adjustment needs a reason.",
        )
    for approver in (None, UserFactory(is_staff=False)):
        assert _refusal(
            lambda approver=approver: actions.adjust(account, 5, "Goodwill", approver, "a")
        ) == ("PointsError", "points_error", "approved_by", "An adjustment needs a staff approver.")
    assert _state(account) == (0, 0, 0)
    assert LedgerEntry.objects.count() == 0


def test_an_adjustment_is_kept_on_its_entry_and_audited():
    organisation = OrganisationFactory()
    account = ledger.account_for(organisation)
    staff = UserFactory(is_staff=True)
    entry = actions.adjust(account, 40, "Goodwill for ticket 7", staff, "adj-7")
    assert _fields(
        entry,
        "kind points available_delta pending_delta held_delta reason approved_by idempotency_key",
    ) == ("adjust", 40, 40, 0, 0, "Goodwill for ticket 7", staff, "adj-7")
    assert entry.request_fingerprint == _fingerprint(
        f'{{"approver": {staff.pk}, "kind": "adjust", "points": 40, '
        f'"reason": "Goodwill for ticket 7"}}'
    )
    assert _audit("carbon.points.adjusted") == (
        staff,
        organisation,
        "carbon.ledgerentry",
        str(entry.pk),
        {"points": 40, "reason": "Goodwill for ticket 7"},
    )
    # a repeat returns the entry and writes no second audit row
    assert actions.adjust(account, 40, "Goodwill for ticket 7", staff, "adj-7").pk == entry.pk
    assert AuditEvent.objects.filter(action="carbon.points.adjusted").count() == 1
    # a negative adjustment keeps its size as points and its sign in the delta
    minus = actions.adjust(account, -15, "Correction", staff, "adj-8")
    assert (minus.points, minus.available_delta) == (15, -15)
    assert _state(account) == (0, 25, 0)


# --- keeping awards in step with orders: the daily sweep's selection


def test_without_an_active_policy_no_delivered_order_is_unsettled():
    organisation = OrganisationFactory()
    delivered_order(organisation, 10)
    draft_policy()
    assert list(awards.unsettled_orders()) == []


def test_unsettled_orders_are_delivered_calculated_and_not_yet_awarded():
    organisation = OrganisationFactory()
    make_policy(effective_from=dt.date(2025, 3, 1))
    on_the_day = delivered_order(organisation, 10, dt.date(2025, 3, 1))
    delivered_order(organisation, 10, dt.date(2025, 2, 28))  # before the policy
    # delivered without a current footprint
    uncalculated = OrderFactory(
        organisation=organisation,
        status=OrderStatus.DELIVERED,
        delivery_date=dt.date(2025, 4, 1),
    )
    _snapshot(uncalculated, tkm=Decimal(5), is_current=False)
    # returned with a footprint but never awarded: nothing to award or reverse
    returned = delivered_order(organisation, 10, dt.date(2025, 4, 1))
    type(returned).objects.filter(pk=returned.pk).update(status=OrderStatus.RETURNED)
    assert list(awards.unsettled_orders()) == [on_the_day]


def test_cancelled_orders_with_points_not_yet_reversed_are_unsettled():
    organisation = OrganisationFactory()
    make_policy()
    one_point = delivered_order(organisation, 1)
    actions.award_order(one_point)
    nothing = delivered_order(organisation, 0)
    assert actions.award_order(nothing).points == 0
    reversed_ = delivered_order(organisation, 5)
    actions.award_order(reversed_)
    Order = type(one_point)
    Order.objects.filter(pk__in=[one_point.pk, nothing.pk, reversed_.pk]).update(
        status=OrderStatus.CANCELLED
    )
    reversed_.refresh_from_db()
    settlement.reverse_order(reversed_, "rev")
    assert list(awards.unsettled_orders()) == [one_point]


# --- reconciliation


def test_reconcile_names_the_account_its_organisation_and_both_figures():
    organisation = OrganisationFactory(name="Tampered Ltd")
    account = fund(organisation, 100)
    hold(account, 60, "h", redemption_id=1)
    healthy = fund(OrganisationFactory(), 50)
    hold(healthy, 20, "h", redemption_id=2)
    assert ledger.reconcile() == []
    PointsAccount.objects.filter(pk=account.pk).update(available=99)
    [mismatch] = ledger.reconcile()
    assert (mismatch.account_id, mismatch.organisation, mismatch.cached, mismatch.summed) == (
        account.pk,
        "Tampered Ltd",
        (0, 99, 60),
        (0, 40, 60),
    )


# --- activation


def _earned(organisation, points: int, delivered: dt.date = dt.date(2025, 3, 1)):
    """An awarded, still pending order under make_policy() (14 days pending, 12 months)."""
    order = delivered_order(organisation, points, delivered)
    return order, actions.award_order(order)


def _activated(organisation, points: int, delivered: dt.date = dt.date(2025, 3, 1)):
    """An awarded order whose points are available (activated on 2025-04-01):
    (order, award, account)."""
    order, award = _earned(organisation, points, delivered)
    actions.activate_due(dt.date(2025, 4, 1))
    return order, award, PointsAccount.objects.get(organisation=organisation)


def test_points_activate_on_the_due_day_itself_with_their_key_and_event():
    organisation = OrganisationFactory()
    make_policy()
    order, award = _earned(organisation, 50)
    # due 2025-03-01 + 14 days = 2025-03-15: not the day before, but on the day
    assert actions.activate_due(dt.date(2025, 3, 14)) == []
    [entry] = actions.activate_due(dt.date(2025, 3, 15))
    assert _fields(
        entry, "kind points pending_delta available_delta order award expires_on idempotency_key"
    ) == ("activate", 50, -50, 50, order, award, dt.date(2026, 3, 15), f"activate:{award.pk}")
    assert entry.request_fingerprint == _fingerprint(f'{{"award": {award.pk}, "kind": "activate"}}')
    account = PointsAccount.objects.get(organisation=organisation)
    assert _state(account) == (0, 50, 0)
    assert _only_event("greenloop.carbon.points_activated", account) == {
        "entry_id": entry.pk,
        "kind": "activate",
        "points": 50,
        "balances": {"pending": 0, "available": 50, "held": 0},
        "expires_on": "2026-03-15",
    }


def test_activation_takes_one_point_awards_in_order_and_skips_cancelled_orders():
    organisation = OrganisationFactory()
    make_policy()
    _, first = _earned(organisation, 1)
    _, second = _earned(organisation, 7)
    cancelled, _ = _earned(organisation, 5)
    # cancelled without its reversal yet (the sweep reverses it later): not activated
    type(cancelled).objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    written = actions.activate_due(dt.date(2025, 4, 1))
    assert [(e.award_id, e.points) for e in written] == [(first.pk, 1), (second.pk, 7)]
    assert _state(PointsAccount.objects.get(organisation=organisation)) == (5, 8, 0)


def test_activation_goes_on_past_an_award_reversed_after_the_listing(monkeypatch):
    # given two awards due, the first of which is reversed between this run's listing of the
    # due awards and its row lock on the account
    organisation = OrganisationFactory()
    make_policy()
    first_order, _ = _earned(organisation, 10)
    _, second = _earned(organisation, 20)
    real_account_for = ledger.account_for

    def account_for(org):
        monkeypatch.setattr(ledger, "account_for", real_account_for)
        first_order.status = OrderStatus.CANCELLED
        first_order.save()
        settlement.reverse_order(first_order, "rev")
        return real_account_for(org)

    monkeypatch.setattr(ledger, "account_for", account_for)
    written = actions.activate_due(dt.date(2025, 4, 1))
    # then the reversed one is skipped and the next one still activated
    assert [(e.award_id, e.points) for e in written] == [(second.pk, 20)]
    assert _state(PointsAccount.objects.get(organisation=organisation)) == (0, 20, 0)


# --- expiry


def test_expiry_writes_its_key_and_event_and_takes_a_single_point():
    organisation = OrganisationFactory()
    make_policy()
    _, _, account = _activated(organisation, 1)
    assert actions.expire_due(dt.date(2026, 3, 14)) == []
    [entry] = actions.expire_due(dt.date(2026, 3, 15))
    assert _fields(entry, "kind points available_delta pending_delta idempotency_key") == (
        "expire",
        1,
        -1,
        0,
        "expire:2026-03-15",
    )
    assert entry.request_fingerprint == _fingerprint('{"date": "2026-03-15", "kind": "expire"}')
    assert _state(account) == (0, 0, 0)
    assert _only_event("greenloop.carbon.points_expired", account) == {
        "entry_id": entry.pk,
        "kind": "expire",
        "points": 1,
        "balances": {"pending": 0, "available": 0, "held": 0},
    }


def test_points_released_after_the_day_s_expiry_run_wait_for_the_next_day():
    # given a lot of 100 expiring 2026-03-15, 60 of them held for a redemption
    organisation = OrganisationFactory()
    make_policy()
    _, _, account = _activated(organisation, 100)
    hold(account, 60, "h", redemption_id=3)
    # when the day's run expires the 40 unheld and the hold is released afterwards
    assert [e.points for e in actions.expire_due(dt.date(2026, 3, 15))] == [40]
    ledger.release_hold(account, 3, "r")
    # then a second run that day writes nothing; the next day's run expires the 60
    assert actions.expire_due(dt.date(2026, 3, 15)) == []
    assert _state(account) == (0, 60, 0)
    [entry] = actions.expire_due(dt.date(2026, 3, 16))
    assert (entry.points, entry.idempotency_key) == (60, "expire:2026-03-16")
    assert _state(account) == (0, 0, 0)


def test_expiry_runs_account_by_account_in_order():
    make_policy()
    organisations = [OrganisationFactory(), OrganisationFactory()]
    for points, organisation in zip((30, 20), organisations, strict=True):
        _earned(organisation, points)
    actions.activate_due(dt.date(2025, 4, 1))
    written = actions.expire_due(dt.date(2026, 3, 15))
    accounts = [PointsAccount.objects.get(organisation=o).pk for o in organisations]
    expected = sorted(zip(accounts, (30, 20), strict=True))
    assert [(e.account_id, e.points) for e in written] == expected


# --- reversals


def test_reversal_refusals_give_their_code_and_message():
    organisation = OrganisationFactory()
    make_policy()
    order, _ = _earned(organisation, 10)
    assert _refusal(lambda: settlement.reverse_order(order, "rev")) == (
        "PointsError",
        "order_active",
        None,
        "Only cancelled or returned orders are reversed.",
    )
    order.status = OrderStatus.RETURNED
    order.save()
    assert _refusal(lambda: settlement.reverse_order(order, ""))[2] == "key"
    assert LedgerEntry.objects.filter(kind="reverse").count() == 0


def test_reversing_pending_points_writes_its_key_and_event():
    organisation = OrganisationFactory()
    make_policy()
    order, award = _earned(organisation, 1)
    type(order).objects.filter(pk=order.pk).update(external_id="PO-9001")
    order.refresh_from_db()
    order.status = OrderStatus.CANCELLED
    order.save()
    [entry] = settlement.reverse_order(order, "cancel-1")
    assert _fields(
        entry, "kind points pending_delta available_delta order award idempotency_key"
    ) == ("reverse", 1, -1, 0, order, award, f"cancel-1:{award.pk}")
    assert entry.request_fingerprint == _fingerprint(f'{{"kind": "reverse", "order": {order.pk}}}')
    account = PointsAccount.objects.get(organisation=organisation)
    assert _state(account) == (0, 0, 0)
    assert _only_event("greenloop.carbon.points_reversed", account) == {
        "entry_id": entry.pk,
        "kind": "reverse",
        "points": 1,
        "balances": {"pending": 0, "available": 0, "held": 0},
        "order": "PO-9001",
        "award_id": award.pk,
        "already_expired": 0,
    }
    # and a repeat returns the same entry
    assert settlement.reverse_order(order, "cancel-1") == [entry]


def test_a_reversal_after_partial_expiry_reports_what_had_expired():
    # given a lot of 100 of which 70 are held when the other 30 expire
    organisation = OrganisationFactory()
    make_policy()
    order, award, account = _activated(organisation, 100)
    hold(account, 70, "h", redemption_id=4)
    actions.expire_due(dt.date(2026, 3, 15))
    # when the order is returned
    order.status = OrderStatus.RETURNED
    order.save()
    [entry] = settlement.reverse_order(order, "ret")
    # then the 70 not expired are taken back from available (held stays until settled)
    assert (entry.points, entry.pending_delta, entry.available_delta) == (70, 0, -70)
    assert _state(account) == (0, -70, 70)
    [event] = _events("greenloop.carbon.points_reversed")
    assert event[2]["already_expired"] == 30
    assert event[2]["balances"] == {"pending": 0, "available": -70, "held": 70}


def test_an_order_with_two_awards_reverses_each_in_award_order():
    # given an order awarded under two policies: the first award's lot expired in full
    # (nothing left to take), the second still pending
    organisation = OrganisationFactory()
    make_policy(version=1)
    later = make_policy(version=2, effective_from=dt.date(2030, 1, 1))
    order, first = _earned(organisation, 10)
    actions.activate_due(dt.date(2025, 4, 1))
    actions.expire_due(dt.date(2026, 3, 15))
    second = actions.award_order(order, policy=later)
    third_order, third = _earned(organisation, 5)
    # when the order is cancelled
    order.status = OrderStatus.CANCELLED
    order.save()
    entries = settlement.reverse_order(order, "rev")
    # then the expired award writes nothing and the pending one is reversed
    assert [(e.award_id, e.points, e.idempotency_key) for e in entries] == [
        (second.pk, 10, f"rev:{second.pk}")
    ]
    assert first.pk < second.pk
    # and another order's reversal is not mistaken for this one's
    third_order.status = OrderStatus.CANCELLED
    third_order.save()
    assert [e.award_id for e in settlement.reverse_order(third_order, "rev-3")] == [third.pk]


def test_a_reversal_key_is_scoped_to_its_account_and_request():
    make_policy()
    staff = UserFactory(is_staff=True)
    first_org, second_org = OrganisationFactory(), OrganisationFactory()
    first, _ = _earned(first_org, 10)
    second, _ = _earned(second_org, 20)
    third, _ = _earned(first_org, 30)
    for order in (first, second, third):
        order.status = OrderStatus.CANCELLED
        order.save()
    # the same key on another account is another request
    assert [e.points for e in settlement.reverse_order(first, "rev")] == [10]
    assert [e.points for e in settlement.reverse_order(second, "rev")] == [20]
    # on the same account, for another order, it is refused
    assert _refusal(lambda: settlement.reverse_order(third, "rev")) == (
        "IdempotencyConflict",
        "idempotency_conflict",
        "key",
        "This idempotency key was already used for a different request.",
    )
    # and so is a key another kind of request used as it is
    actions.adjust(ledger.account_for(first_org), 5, "Goodwill", staff, "adj-key")
    assert _refusal(lambda: settlement.reverse_order(third, "adj-key"))[1] == "idempotency_conflict"


# --- capture and release


def test_capture_and_release_write_their_keys_and_refuse_without_a_hold():
    account = fund(OrganisationFactory(), 100)
    hold(account, 1, "h1", redemption_id=1)
    hold(account, 30, "h2", redemption_id=2)
    captured = ledger.capture_hold(account, 1, "c1")
    assert _fields(
        captured, "kind points held_delta available_delta redemption_id idempotency_key"
    ) == ("capture", 1, -1, 0, 1, "c1")
    assert captured.request_fingerprint == _fingerprint('{"kind": "capture", "redemption": 1}')
    assert _state(account) == (0, 69, 30)
    released = ledger.release_hold(account, 2, "r2")
    assert (released.points, released.held_delta, released.available_delta) == (30, -30, 30)
    assert released.request_fingerprint == _fingerprint('{"kind": "release", "redemption": 2}')
    assert _state(account) == (0, 99, 0)
    # a repeat returns the entry; settling again under a new key finds nothing held
    assert ledger.capture_hold(account, 1, "c1").pk == captured.pk
    assert _refusal(lambda: ledger.release_hold(account, 1, "r1")) == (
        "PointsError",
        "no_hold",
        None,
        "No points are held for this redemption.",
    )
    assert _refusal(lambda: ledger.capture_hold(account, 9, ""))[2] == "key"


def test_a_hold_is_settled_from_its_own_account_only():
    first = fund(OrganisationFactory(), 100)
    second = fund(OrganisationFactory(), 100)
    hold(first, 10, "h", redemption_id=5)
    hold(second, 40, "h", redemption_id=5)
    assert ledger.release_hold(first, 5, "r").points == 10
    assert (_state(first), _state(second)) == ((0, 100, 0), (0, 60, 40))


# --- settling orders (the event subscriber's and the sweep's one call)


def test_settle_order_says_what_it_did_each_time(caplog):
    organisation = OrganisationFactory()
    undated = OrderFactory(
        organisation=organisation, status=OrderStatus.DELIVERED, delivery_date=None
    )
    assert actions.settle_order(undated) == "no_delivery_date"
    order = delivered_order(organisation, 1)
    type(order).objects.filter(pk=order.pk).update(external_id="PO-5")
    caplog.set_level("INFO", logger="carbon.points.awards")
    assert actions.settle_order(order) == "no_policy"
    assert caplog.messages == [
        f"Order {order.pk} not awarded: no_policy (No active points policy applies to this order.)"
    ]
    make_policy()
    assert actions.settle_order(order) == "awarded"
    assert actions.settle_order(order) == "already_awarded"
    assert PointsAward.objects.get(order=order).points == 1
    shipped = OrderFactory(organisation=organisation, status=OrderStatus.SHIPPED)
    assert actions.settle_order(shipped) == "not_settled"
    order.status = OrderStatus.CANCELLED
    order.save()
    assert actions.settle_order(order) == "reversed"
    assert LedgerEntry.objects.get(kind="reverse").idempotency_key.startswith(
        f"reverse:{order.pk}:"
    )
    assert actions.settle_order(order) == "already_reversed"
    # a cancelled order that earned nothing (no award, or an award of 0 points)
    never = OrderFactory(organisation=organisation, status=OrderStatus.CANCELLED)
    assert actions.settle_order(never) == "no_award"
    zero = delivered_order(organisation, 0)
    assert actions.settle_order(zero) == "awarded"
    zero.status = OrderStatus.CANCELLED
    zero.save()
    assert actions.settle_order(zero) == "no_award"


def test_an_awarded_order_whose_leg_turns_into_unverified_customer_data_is_reversed():
    organisation = OrganisationFactory()
    make_policy()
    order = delivered_order(organisation, 7)
    leg = LegFactory(shipment=ShipmentFactory(order=order))
    assert actions.settle_order(order) == "awarded"
    # then the leg is re-entered by the customer and no staff member has verified it yet
    type(leg).objects.filter(pk=leg.pk).update(source=LegSource.CUSTOMER, verified_at=None)
    assert actions.settle_order(order) == "reversed"
    assert list(LedgerEntry.objects.filter(kind="reverse").values_list("points", flat=True)) == [7]
    assert PointsAccount.objects.get(organisation=organisation).pending == 0
    # and settling again writes nothing more: the order simply earns nothing while unverified
    assert actions.settle_order(order) == "unattested_data"
    assert LedgerEntry.objects.filter(kind="reverse").count() == 1


def test_settle_order_reports_a_fully_expired_award_as_nothing_to_reverse():
    organisation = OrganisationFactory()
    make_policy()
    order, _ = _earned(organisation, 10)
    actions.activate_due(dt.date(2025, 4, 1))
    actions.expire_due(dt.date(2026, 3, 15))
    order.status = OrderStatus.RETURNED
    order.save()
    assert actions.settle_order(order) == "nothing_to_reverse"
    assert LedgerEntry.objects.filter(kind="reverse").count() == 0


# --- expiry reminders


def test_reminders_cover_the_next_30_days_after_today_once_per_date():
    organisation = OrganisationFactory()
    make_policy()
    # lots expiring 2026-03-15 (10), 2026-03-16 (20) and 2026-03-17 (40)
    for points, day in ((10, 1), (20, 2), (40, 3)):
        _earned(organisation, points, dt.date(2025, 3, day))
    actions.activate_due(dt.date(2025, 4, 1))
    account = PointsAccount.objects.get(organisation=organisation)
    # another account's reminder for a date does not count for this one
    other = fund(OrganisationFactory(), 5)
    ExpiryReminder.objects.create(account=other, expires_on=dt.date(2026, 3, 15), points=5)
    # on 2026-02-14 the next 30 days end on 2026-03-16: the 17th is not yet due
    reminders = actions.record_expiry_reminders(account, dt.date(2026, 2, 14))
    assert [(r.account_id, r.expires_on, r.points) for r in reminders] == [
        (account.pk, dt.date(2026, 3, 15), 10),
        (account.pk, dt.date(2026, 3, 16), 20),
    ]
    # the next day only the new date; the day of a lot's expiry is left to the expiry run
    reminders = actions.record_expiry_reminders(account, dt.date(2026, 2, 15))
    assert [(r.expires_on, r.points) for r in reminders] == [(dt.date(2026, 3, 17), 40)]
    assert actions.record_expiry_reminders(account, dt.date(2026, 3, 15)) == []
    assert ExpiryReminder.objects.filter(account=account).count() == 3
    stored = ExpiryReminder.objects.get(account=account, expires_on=dt.date(2026, 3, 16))
    assert stored.points == 20


def test_reminders_for_a_shorter_window_when_asked():
    organisation = OrganisationFactory()
    make_policy()
    _, _, account = _activated(organisation, 10, dt.date(2025, 3, 1))
    assert actions.record_expiry_reminders(account, dt.date(2026, 3, 5), within_days=9) == []
    [reminder] = actions.record_expiry_reminders(account, dt.date(2026, 3, 5), within_days=10)
    assert (reminder.expires_on, reminder.points) == (dt.date(2026, 3, 15), 10)


def test_a_second_expiry_run_on_a_day_still_expires_other_accounts_points():
    # given two accounts with lots expiring 2026-03-15; the first also has points that never
    # expire, the second has its whole lot held during the day's first run
    make_policy()
    staff = UserFactory(is_staff=True)
    first_org, second_org = OrganisationFactory(), OrganisationFactory()
    _earned(first_org, 10)
    _earned(second_org, 20)
    actions.activate_due(dt.date(2025, 4, 1))
    first = PointsAccount.objects.get(organisation=first_org)
    second = PointsAccount.objects.get(organisation=second_org)
    assert first.pk < second.pk
    actions.adjust(first, 5, "Never expires", staff, "keep")
    hold(second, 20, "h", redemption_id=8)
    assert [(e.account_id, e.points) for e in actions.expire_due(dt.date(2026, 3, 15))] == [
        (first.pk, 10)
    ]
    # when the second account's hold is released and the expiry runs again that day
    ledger.release_hold(second, 8, "r")
    written = actions.expire_due(dt.date(2026, 3, 15))
    # then the first account (already run today) is passed over and the second expires
    assert [(e.account_id, e.points) for e in written] == [(second.pk, 20)]
    # and the next day the first account, with nothing due, is passed over for a third one
    third_org = OrganisationFactory()
    _earned(third_org, 30, dt.date(2025, 3, 2))
    actions.activate_due(dt.date(2025, 4, 1))
    third = PointsAccount.objects.get(organisation=third_org)
    assert [(e.account_id, e.points) for e in actions.expire_due(dt.date(2026, 3, 16))] == [
        (third.pk, 30)
    ]
    assert (_state(first), _state(second), _state(third)) == ((0, 5, 0), (0, 0, 0), (0, 0, 0))


def test_balances_of_an_account_without_entries_are_zero():
    account = ledger.account_for(OrganisationFactory())
    assert ledger.balances(account, dt.date(2026, 1, 1)) == ledger.Balances(0, 0, 0, 0)


def test_a_hold_may_take_all_that_is_available_and_keys_its_entry():
    account = fund(OrganisationFactory(), 100)
    entry = hold(account, 100, "all", redemption_id=6)
    assert _fields(
        entry, "kind points available_delta held_delta redemption_id idempotency_key"
    ) == ("hold", 100, -100, 100, 6, "all")
    assert entry.request_fingerprint == _fingerprint(
        '{"kind": "hold", "points": 100, "redemption": 6}'
    )
    assert _state(account) == (0, 0, 100)
    # and while available is negative a hold is refused, saying 0 are available
    actions.adjust(account, -10, "Correction", UserFactory(is_staff=True), "neg")
    assert _refusal(lambda: hold(account, 1, "more", 7)) == (
        "InsufficientPoints",
        "insufficient_points",
        "points",
        "1 points requested, 0 available.",
    )


def test_a_second_reversal_returns_the_first_award_s_entry_and_reverses_a_newer_award():
    # given an order reversed once, then delivered again and awarded under a second policy
    organisation = OrganisationFactory()
    make_policy(version=1)
    later = make_policy(version=2, effective_from=dt.date(2030, 1, 1))
    order, first = _earned(organisation, 10)
    order.status = OrderStatus.CANCELLED
    order.save()
    [first_reversal] = settlement.reverse_order(order, "rev-1")
    order.status = OrderStatus.DELIVERED
    order.save()
    second = actions.award_order(order, policy=later)
    # when it is cancelled again and reversed under a new key
    order.status = OrderStatus.CANCELLED
    order.save()
    entries = settlement.reverse_order(order, "rev-2")
    # then the first award's reversal is returned as it was and the second award is reversed
    assert [(e.pk, e.award_id) for e in entries[:1]] == [(first_reversal.pk, first.pk)]
    assert [(e.award_id, e.points, e.idempotency_key) for e in entries[1:]] == [
        (second.pk, 10, f"rev-2:{second.pk}")
    ]
    assert _state(PointsAccount.objects.get(organisation=organisation)) == (0, 0, 0)


def test_no_reminder_for_points_expiring_today_or_earlier():
    # given a lot expiring 2026-03-15 that no reminder announced (the account had none)
    organisation = OrganisationFactory()
    make_policy()
    _, _, account = _activated(organisation, 10)
    # on its expiry day, and after it while the expiry run has not reached it, nothing is
    # recorded: those points are the expiry run's, not a reminder's
    assert actions.record_expiry_reminders(account, dt.date(2026, 3, 15)) == []
    assert actions.record_expiry_reminders(account, dt.date(2026, 3, 20)) == []
    assert not ExpiryReminder.objects.filter(account=account).exists()
    # while the day before, it is announced
    [reminder] = actions.record_expiry_reminders(account, dt.date(2026, 3, 14))
    assert (reminder.expires_on, reminder.points) == (dt.date(2026, 3, 15), 10)


def test_activation_skips_awards_of_0_points_and_goes_on_past_one_not_yet_due():
    # given, in award order: an order delivered on 2025-03-20 (due 2025-04-03), one that
    # earned 0 points, and one delivered on 2025-03-01 (due 2025-03-15)
    organisation = OrganisationFactory()
    make_policy()
    _, late = _earned(organisation, 30, dt.date(2025, 3, 20))
    _, nothing = _earned(organisation, 0)
    _, early = _earned(organisation, 20, dt.date(2025, 3, 1))
    assert late.pk < nothing.pk < early.pk
    # when the activation runs on 2025-03-20
    written = actions.activate_due(dt.date(2025, 3, 20))
    # then only the due one is activated; the others write nothing
    assert [(e.award_id, e.points) for e in written] == [(early.pk, 20)]
    assert LedgerEntry.objects.filter(award=nothing).count() == 0
    assert _state(PointsAccount.objects.get(organisation=organisation)) == (30, 20, 0)


def test_the_lots_know_which_redemption_holds_what_and_which_entry_opened_them():
    # given lot A (100, expiring 2026-03-15), lot B (100, expiring 2026-05-15) and 40 points
    # that never expire, with redemption 1 holding all of A and redemption 2 50 of B
    organisation = OrganisationFactory()
    make_policy()
    _earned(organisation, 100, dt.date(2025, 3, 1))
    _earned(organisation, 100, dt.date(2025, 5, 1))
    actions.activate_due(dt.date(2025, 6, 1))
    account = PointsAccount.objects.get(organisation=organisation)
    kept = actions.adjust(account, 40, "Welcome", UserFactory(is_staff=True), "welcome")
    hold(account, 100, "h1", redemption_id=1)
    hold(account, 50, "h2", redemption_id=2)
    # when redemption 2 is released
    ledger.release_hold(account, 2, "r2")
    # then its 50 go back to lot B only: A stays held by redemption 1
    assert ledger.expiring_lots(account, 400, dt.date(2026, 1, 1)) == [(dt.date(2026, 5, 15), 100)]
    # and the lot that never expires names the adjustment that opened it
    [never] = [lot for lot in ledger.allocation(account).lots if lot.expires_on is None]
    assert (never.entry_id, never.award_id, never.remaining) == (kept.pk, None, 40)
