"""Redemptions: the literal refusals, repeats, audit rows and eligibility rules that the full
mutation run of the "redemptions" module (scripts/mutation.sh) found unpinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from carbon.models import Redemption, RedemptionStatus, Service
from carbon.points import actions, redemptions
from carbon.points.exceptions import IdempotencyConflict
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent
from tests.carbon.factories import ServiceFactory, fund
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 10)


@pytest.fixture
def funded(org_a):
    return fund(org_a, 1000)


def _request(org, service, by, key="k1", **kw):
    kw.setdefault("today", TODAY)
    return actions.request_redemption(org, service, by, key=key, **kw)


def _refusal(call) -> tuple:
    with pytest.raises((actions.RedemptionError, PermissionDeniedError)) as refused:
        call()
    return refused.value.code, refused.value.field, refused.value.message


# --- request: refusals, word for word


def test_request_refusals_give_their_field_and_message(org_a, org_b, member_a, funded):
    service = ServiceFactory(points_cost=100)
    on_site = ServiceFactory(points_cost=100, requires_site=True)
    assert _refusal(lambda: _request(org_a, service, member_a, key="")) == (
        "redemption_error",
        "key",
        "An idempotency key is required.",
    )
    assert _refusal(lambda: _request(org_a, service, member_a, note="x" * 2001)) == (
        "redemption_error",
        "note",
        "The note is 2001 characters long; at most 2000 are allowed.",
    )
    foreign = SiteFactory(organisation=org_b)
    assert _refusal(lambda: _request(org_a, service, member_a, site=foreign)) == (
        "redemption_error",
        "site",
        "Choose one of your organisation's sites.",
    )
    assert _refusal(lambda: _request(org_a, on_site, member_a)) == (
        "redemption_error",
        "site",
        "Choose the site where the service should take place.",
    )
    yesterday = dt.date(2025, 6, 9)
    assert _refusal(lambda: _request(org_a, service, member_a, preferred_date=yesterday)) == (
        "redemption_error",
        "preferred_date",
        "The preferred date cannot be in the past.",
    )
    assert Redemption.objects.count() == 0


def test_today_is_a_valid_preferred_date_and_a_missing_note_is_empty(org_a, member_a, funded):
    service = ServiceFactory(points_cost=100)
    redemption, created = _request(org_a, service, member_a, preferred_date=TODAY)
    assert created is True
    assert redemption.preferred_date == dt.date(2025, 6, 10)
    assert Redemption.objects.get().customer_note == ""
    none_note, _ = _request(org_a, service, member_a, key="k2", note=None)
    none_note.refresh_from_db()
    assert none_note.customer_note == ""


def test_the_request_is_audited_with_the_service_and_its_points(org_a, member_a, funded):
    service = ServiceFactory(slug="heat-pump-check", points_cost=120)
    redemption, _ = _request(org_a, service, member_a)
    row = AuditEvent.objects.get(action="carbon.redemption.requested")
    assert row.details == {"service": "heat-pump-check", "points": 120}
    assert (row.actor_id, row.organisation_id, row.object_id) == (
        member_a.pk,
        org_a.pk,
        str(redemption.pk),
    )


def test_the_returned_request_carries_the_balances_after_the_hold(org_a, member_a, funded):
    redemption, _ = _request(org_a, ServiceFactory(points_cost=100), member_a)
    after = redemption.balances_after
    assert (after.available, after.held) == (900, 100)


# --- request: repeats under one key


def test_a_repeat_with_a_site_and_no_date_or_user_returns_the_first(org_a, funded):
    # given a request made by the system (no user), at a site, without a preferred date
    service = ServiceFactory(points_cost=100, requires_site=True)
    plant = SiteFactory(organisation=org_a)
    first, created = _request(org_a, service, None, site=plant)
    assert created is True
    # when it is repeated with the same key / then the first one is returned, not created again
    again, created = _request(org_a, service, None, site=plant)
    assert (again.pk, created) == (first.pk, False)
    # and the same key at another site is a different request
    other = SiteFactory(organisation=org_a)
    with pytest.raises(IdempotencyConflict) as conflict:
        _request(org_a, service, None, site=other)
    assert (conflict.value.field, conflict.value.message) == (
        "key",
        "This idempotency key was already used for a different request.",
    )
    assert Redemption.objects.count() == 1


def test_a_repeat_gets_the_first_answer_after_its_date_has_passed(org_a, member_a, funded):
    service = ServiceFactory(points_cost=100)
    tomorrow = dt.date(2025, 6, 11)
    first, _ = _request(org_a, service, member_a, preferred_date=tomorrow)
    later = dt.date(2025, 6, 20)
    again, created = _request(org_a, service, member_a, preferred_date=tomorrow, today=later)
    assert (again.pk, created) == (first.pk, False)


def test_another_organisation_may_use_the_same_key(org_a, org_b, member_a, member_b, funded):
    fund(org_b, 1000)
    service = ServiceFactory(points_cost=100)
    first, _ = _request(org_a, service, member_a)
    theirs, created = _request(org_b, service, member_b)
    assert created is True
    assert theirs.pk != first.pk
    assert theirs.organisation_id == org_b.pk


@pytest.mark.parametrize("same", [True, False], ids=["same-request", "different-request"])
def test_a_key_committed_by_another_caller_after_the_check_answers_as_a_repeat(
    org_a, member_a, funded, monkeypatch, same
):
    # Two callers racing with one key, replayed in one thread: nothing looks the key up before
    # the hold (a new request costs no lookup), so the second caller's hold collides with the
    # first caller's committed key, and the one look, after the collision, answers.
    service = ServiceFactory(points_cost=100)
    first, _ = _request(org_a, service, member_a, note="first")
    looks = []
    real = redemptions.earlier_request

    def counted(*args):
        looks.append(args)
        return real(*args)

    monkeypatch.setattr(redemptions, "earlier_request", counted)
    if same:
        again, created = _request(org_a, service, member_a, note="first")
        assert (again.pk, created) == (first.pk, False)
    else:
        with pytest.raises(IdempotencyConflict):
            _request(org_a, service, member_a, note="second")
    assert len(looks) == 1
    assert Redemption.objects.count() == 1
    first.refresh_from_db()
    assert first.points == 100


# --- request: capacity


def test_capacity_counts_only_the_services_own_requests(org_a, member_a, funded):
    limited = ServiceFactory(points_cost=100, monthly_capacity=1)
    other = ServiceFactory(points_cost=100, monthly_capacity=5)
    _request(org_a, other, member_a, key="other")
    _, created = _request(org_a, limited, member_a, key="limited")
    assert created is True


def test_a_limited_service_is_read_afresh_from_the_database(org_a, member_a, funded):
    # given a service object loaded before its price changed
    stale = ServiceFactory(points_cost=100, monthly_capacity=3)
    Service.objects.filter(pk=stale.pk).update(points_cost=250)
    # when it is requested / then the locked row's price is held, not the stale one
    redemption, _ = _request(org_a, stale, member_a)
    assert redemption.points == 250


# --- eligibility


def test_a_tier_unknown_to_the_portal_is_named_as_stored(org_a):
    service = ServiceFactory(eligible_tiers=["gold", "legacy"])
    code, message = redemptions.ineligibility(service, org_a, TODAY)
    assert code == "tier_not_eligible"
    assert message == (
        "This service is offered to Gold, legacy customers; your organisation's tier is Standard."
    )


def test_a_site_service_counts_the_organisations_country_and_its_sites(org_a):
    # org_a is German; its only plant is in France
    SiteFactory(organisation=org_a, country="FR")
    german_only = ServiceFactory(eligible_countries=["DE"], requires_site=True)
    french_only = ServiceFactory(eligible_countries=["FR"], requires_site=True)
    assert redemptions.ineligibility(german_only, org_a, TODAY) is None
    assert redemptions.ineligibility(french_only, org_a, TODAY) is None
    elsewhere = ServiceFactory(eligible_countries=["CN", "JP"], requires_site=True)
    assert redemptions.ineligibility(elsewhere, org_a, TODAY) == (
        "region_not_eligible",
        "This service is offered in China, Japan only.",
    )


def test_the_eligible_countries_are_listed_in_the_readers_language(org_a):
    # given a service for China and Japan only, and a German organisation
    elsewhere = ServiceFactory(eligible_countries=["CN", "JP"])
    # when a Chinese reader is told why it may not redeem it
    with translation.override("zh-hans"):
        code, message = redemptions.ineligibility(elsewhere, org_a, TODAY)
    # then the countries are named in Chinese and joined with the Chinese list comma
    assert code == "region_not_eligible"
    assert "中国、日本" in message


# --- deciding


@pytest.fixture
def requested(org_a, member_a, funded):
    redemption, _ = _request(org_a, ServiceFactory(points_cost=100), member_a)
    return redemption


def test_a_closed_redemption_names_its_status(requested, staff_success):
    actions.fulfil(requested, staff_success, scheduled_for=TODAY, assignee="Li")
    assert _refusal(lambda: actions.reject(requested, staff_success, reason="No.")) == (
        "redemption_closed",
        "status",
        "This redemption is already fulfilled.",
    )


def test_fulfil_without_a_note_keeps_an_empty_note(requested, staff_success):
    done = actions.fulfil(requested, staff_success, scheduled_for=TODAY, assignee="Li", note=None)
    done.refresh_from_db()
    assert done.staff_note == ""
    assert done.assignee == "Li"


@pytest.mark.parametrize("decision", ["fulfilled", "rejected", "cancelled"])
def test_each_decision_is_audited_on_the_redemption_by_its_author(
    requested, org_a, member_a, staff_success, decision
):
    if decision == "fulfilled":
        actions.fulfil(requested, staff_success, scheduled_for=TODAY, assignee="Li")
        author = staff_success
    elif decision == "rejected":
        actions.reject(requested, staff_success, reason="Fully booked.")
        author = staff_success
    else:
        actions.cancel(requested, member_a)
        author = member_a
    row = AuditEvent.objects.get(action=f"carbon.redemption.{decision}")
    assert (row.actor_id, row.organisation_id, row.object_id) == (
        author.pk,
        org_a.pk,
        str(requested.pk),
    )
    assert row.object_type != ""


def test_a_rejection_is_stamped_with_its_decision_time(requested, staff_success):
    actions.reject(requested, staff_success, reason="Fully booked.")
    requested.refresh_from_db()
    assert requested.status == RedemptionStatus.REJECTED
    assert requested.decided_at is not None
    assert requested.decided_by_id == staff_success.pk


def test_a_cancellation_by_another_member_is_attributed_to_them(requested, org_a):
    colleague = UserFactory()
    from portal.models import Membership, Role

    Membership.objects.create(user=colleague, organisation=org_a, role=Role.MEMBER)
    actions.cancel(requested, colleague)
    requested.refresh_from_db()
    assert requested.cancelled_by_id == colleague.pk
