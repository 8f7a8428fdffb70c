"""Redemptions (carbon/points/redemptions.py): request holds the points, fulfil spends them,
reject and cancel release them; balances, events, audit and e-mail after each; capacity per month
and eligibility by tier, country, site and active window; refusals write nothing; and, on
PostgreSQL, threads racing for the last places and the last points."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
    Redemption,
    RedemptionStatus,
)
from carbon.points import actions, ledger, redemptions
from carbon.points import permissions as points_permissions
from carbon.points.exceptions import IdempotencyConflict, InsufficientPoints
from portal.crm.delivery import run_pass
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent, Tier
from portal.staff_roles import StaffRole
from tests.carbon.factories import ServiceFactory, fund
from tests.concurrency import race
from tests.factories import OrganisationFactory, SiteFactory, UserFactory

TODAY = dt.date(2025, 6, 10)


def _balances(organisation) -> tuple[int, int, int]:
    account = PointsAccount.objects.get(organisation=organisation)
    return account.pending, account.available, account.held


def _written() -> dict[str, int]:
    """Everything a redemption action may write, counted."""
    from django.core import mail

    return {
        "accounts": PointsAccount.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "redemptions": Redemption.objects.count(),
        "events": OutboxEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "mail": len(mail.outbox),
    }


@pytest.fixture
def service(db):
    return ServiceFactory(name="Maintenance visit", slug="maintenance-visit", points_cost=300)


@pytest.fixture
def funded(org_a):
    return fund(org_a, 1000)


def _request(org, service, by, key="k1", **kw):
    return actions.request_redemption(org, service, by, key=key, today=TODAY, **kw)


# --- request


@pytest.mark.django_db
def test_request_holds_the_points_and_tells_everyone(
    org_a, member_a, service, funded, mailoutbox, django_capture_on_commit_callbacks
):
    # given 1000 available points and a 300-point service
    site = SiteFactory(organisation=org_a, name="Werk Hamburg")
    # when a member requests it
    with django_capture_on_commit_callbacks(execute=True):
        redemption, created = _request(
            org_a,
            service,
            member_a,
            site=site,
            preferred_date=dt.date(2025, 6, 20),
            note="  Gate 3  ",
        )
    # then 300 points are held for it
    assert created is True
    stored = Redemption.objects.get()
    assert (stored.pk, stored.status, stored.points) == (redemption.pk, "requested", 300)
    assert (stored.site, stored.customer_note, stored.capacity_month) == (
        site,
        "Gate 3",
        dt.date(2025, 6, 1),
    )
    assert stored.requested_by == member_a
    assert _balances(org_a) == (0, 700, 300)
    hold = LedgerEntry.objects.get(kind=EntryKind.HOLD)
    assert (hold.points, hold.redemption_id, hold.idempotency_key) == (300, stored.pk, "redeem:k1")
    # and the CRM event, the audit trail and an e-mail with a link record it
    event = OutboxEvent.objects.get(type="greenloop.carbon.redemption_requested")
    assert event.organisation == org_a
    assert event.subject == f"redemptions/{stored.pk}"
    assert event.data == {
        "redemption_id": stored.pk,
        "service": "maintenance-visit",
        "service_kind": "maintenance_visit",
        "points": 300,
        "status": "requested",
        "balances": {"pending": 0, "available": 700, "held": 300},
    }
    audit = AuditEvent.objects.get(action="carbon.redemption.requested")
    assert (audit.actor, audit.organisation, audit.object_id) == (member_a, org_a, str(stored.pk))
    # and the e-mail goes out from the outbox worker, not from the request
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        run_pass()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [member_a.email]
    assert mail.subject == "We received your request: Maintenance visit"
    link = reverse("carbon:redemption_detail", kwargs={"org_slug": "acme", "pk": stored.pk})
    assert link in mail.body
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_a_repeat_returns_the_first_and_another_request_under_the_key_is_refused(
    org_a, member_a, service, funded
):
    # given a request made with key k1 for tomorrow
    tomorrow = TODAY + dt.timedelta(days=1)
    first, _ = _request(org_a, service, member_a, note="Gate 3", preferred_date=tomorrow)
    before = _written()
    # when the same request arrives again, days later (its date would now be refused)
    again, created = actions.request_redemption(
        org_a,
        service,
        member_a,
        key="k1",
        note="Gate 3",
        preferred_date=tomorrow,
        today=TODAY + dt.timedelta(days=5),
    )
    # then it is the first redemption and nothing new is written
    assert (again.pk, created) == (first.pk, False)
    assert _written() == before
    # when a different request reuses the key
    with pytest.raises(IdempotencyConflict) as refused:
        _request(org_a, service, member_a, note="Gate 4", preferred_date=tomorrow)
    # then it is refused and nothing is written
    assert refused.value.field == "key"
    assert _written() == before
    assert _balances(org_a) == (0, 700, 300)


# --- fulfil, reject, cancel


@pytest.mark.django_db
def test_fulfil_spends_the_held_points(
    org_a,
    member_a,
    service,
    funded,
    staff_success,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    # given a request holding 300 points
    redemption, _ = _request(org_a, service, member_a)
    # when customer success fulfil it
    with django_capture_on_commit_callbacks(execute=True):
        done = actions.fulfil(
            redemption,
            staff_success,
            scheduled_for=dt.date(2025, 7, 1),
            assignee=" Li Wei ",
            note="Bring the site badge.",
        )
    # then the points are spent
    stored = Redemption.objects.get(pk=redemption.pk)
    assert stored.status == RedemptionStatus.FULFILLED
    assert (stored.scheduled_for, stored.assignee, stored.staff_note) == (
        dt.date(2025, 7, 1),
        "Li Wei",
        "Bring the site badge.",
    )
    assert (stored.decided_by, done.pk) == (staff_success, redemption.pk)
    assert stored.decided_at is not None
    assert _balances(org_a) == (0, 700, 0)
    capture = LedgerEntry.objects.get(kind=EntryKind.CAPTURE)
    assert (capture.points, capture.redemption_id) == (300, redemption.pk)
    event = OutboxEvent.objects.get(type="greenloop.carbon.redemption_fulfilled")
    assert event.data["scheduled_for"] == "2025-07-01"
    assert event.data["balances"] == {"pending": 0, "available": 700, "held": 0}
    audit = AuditEvent.objects.get(action="carbon.redemption.fulfilled")
    assert audit.actor == staff_success
    assert audit.details == {"scheduled_for": "2025-07-01", "assignee": "Li Wei"}
    [mail] = mailoutbox
    assert (mail.to, mail.subject) == ([member_a.email], "Confirmed: Maintenance visit")
    assert "2025-07-01" in mail.body
    assert "Li Wei" in mail.body
    assert "Bring the site badge." in mail.body
    assert reverse(
        "carbon:redemption_detail", kwargs={"org_slug": "acme", "pk": redemption.pk}
    ) in (mail.body)
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_reject_releases_the_points(
    org_a,
    member_a,
    service,
    funded,
    staff_success,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    redemption, _ = _request(org_a, service, member_a)
    # when customer success decline it with a reason
    with django_capture_on_commit_callbacks(execute=True):
        actions.reject(redemption, staff_success, reason="No engineer in the region in June.")
    # then the points are available again
    stored = Redemption.objects.get(pk=redemption.pk)
    assert stored.status == RedemptionStatus.REJECTED
    assert stored.staff_note == "No engineer in the region in June."
    assert _balances(org_a) == (0, 1000, 0)
    release = LedgerEntry.objects.get(kind=EntryKind.RELEASE)
    assert (release.points, release.redemption_id) == (300, redemption.pk)
    event = OutboxEvent.objects.get(type="greenloop.carbon.redemption_rejected")
    assert event.data["status"] == "rejected"
    assert AuditEvent.objects.get(action="carbon.redemption.rejected").details == {
        "reason": "No engineer in the region in June."
    }
    [mail] = mailoutbox
    assert mail.subject == "Declined: Maintenance visit"
    assert "No engineer in the region in June." in mail.body
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_reject_needs_a_reason(org_a, member_a, service, funded, staff_success):
    redemption, _ = _request(org_a, service, member_a)
    before = _written()
    with pytest.raises(actions.RedemptionError) as refused:
        actions.reject(redemption, staff_success, reason="  ")
    assert refused.value.field == "reason"
    assert _written() == before
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


@pytest.mark.django_db
def test_cancel_releases_the_points_and_a_repeat_changes_nothing(
    org_a, member_a, service, funded, mailoutbox, django_capture_on_commit_callbacks
):
    redemption, _ = _request(org_a, service, member_a)
    # when the member cancels it
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel(redemption, member_a)
    # then the points are released
    stored = Redemption.objects.get(pk=redemption.pk)
    assert stored.status == RedemptionStatus.CANCELLED
    assert (stored.cancelled_by, stored.cancelled_at is not None) == (member_a, True)
    assert _balances(org_a) == (0, 1000, 0)
    assert OutboxEvent.objects.filter(type="greenloop.carbon.redemption_cancelled").count() == 1
    assert AuditEvent.objects.filter(action="carbon.redemption.cancelled").count() == 1
    [mail] = mailoutbox
    assert mail.subject == "Cancelled: Maintenance visit"
    # when they cancel again
    before = _written()
    with django_capture_on_commit_callbacks(execute=True):
        again = actions.cancel(redemption, member_a)
    # then nothing changes
    assert again.status == RedemptionStatus.CANCELLED
    assert _written() == before
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_a_fulfilled_or_rejected_redemption_cannot_be_cancelled_or_decided_again(
    org_a, member_a, service, funded, staff_success
):
    fulfilled, _ = _request(org_a, service, member_a, key="a")
    actions.fulfil(fulfilled, staff_success, scheduled_for=dt.date(2025, 7, 1), assignee="Li")
    rejected, _ = _request(org_a, service, member_a, key="b")
    actions.reject(rejected, staff_success, reason="Not this month.")
    before = _written()
    for attempt in (
        lambda: actions.cancel(fulfilled, member_a),
        lambda: actions.cancel(rejected, member_a),
        lambda: actions.fulfil(fulfilled, staff_success, scheduled_for=TODAY, assignee="Li"),
        lambda: actions.reject(fulfilled, staff_success, reason="Too late"),
    ):
        with pytest.raises(actions.RedemptionError) as refused:
            attempt()
        assert refused.value.code == "redemption_closed"
    assert _written() == before


@pytest.mark.django_db
def test_only_customer_success_fulfil_or_reject(org_a, member_a, admin_a, service, funded):
    # given a request, a customer admin and a sustainability staff member
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    sustainability = UserFactory(is_staff=True)
    sustainability.groups.add(Group.objects.get(name=StaffRole.SUSTAINABILITY))
    redemption, _ = _request(org_a, service, member_a)
    before = _written()
    # when either tries to fulfil or reject it / then they are refused and nothing changes
    for user in (admin_a, sustainability):
        assert points_permissions.can_fulfil(user) is False
        with pytest.raises(PermissionDeniedError):
            actions.fulfil(redemption, user, scheduled_for=TODAY, assignee="Li")
        with pytest.raises(PermissionDeniedError):
            actions.reject(redemption, user, reason="No")
    assert _written() == before
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED
    assert _balances(org_a) == (0, 700, 300)


@pytest.mark.django_db
def test_a_viewer_cannot_cancel(org_a, member_a, viewer_a, service, funded):
    redemption, _ = _request(org_a, service, member_a)
    before = _written()
    with pytest.raises(PermissionDeniedError):
        actions.cancel(redemption, viewer_a)
    assert _written() == before
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


# --- refusals at request time


@pytest.mark.django_db
def test_too_few_points_are_refused_and_nothing_is_written(org_a, member_a, service):
    # given an organisation that has never earned a point (no account yet)
    before = _written()
    # when a member requests a 300-point service
    with pytest.raises(InsufficientPoints) as refused:
        _request(org_a, service, member_a)
    # then the refusal names the cost and the balance, and not even an account is created
    assert (refused.value.code, refused.value.field) == ("insufficient_points", "points")
    assert refused.value.message == "Maintenance visit costs 300 points; 0 are available."
    assert _written() == before


@pytest.mark.django_db
def test_a_negative_balance_blocks_redemptions(org_a, member_a, service):
    account = fund(org_a, 1000)
    actions.adjust(account, -1200, "Reversal of a returned order", UserFactory(is_staff=True), "n")
    before = _written()
    with pytest.raises(InsufficientPoints) as refused:
        _request(org_a, service, member_a)
    assert refused.value.message.endswith("0 are available.")
    assert _written() == before


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"note": "x" * (redemptions.MAX_NOTE + 1)}, "redemption_error", "note"),
        ({"preferred_date": TODAY - dt.timedelta(days=1)}, "redemption_error", "preferred_date"),
    ],
)
@pytest.mark.django_db
def test_invalid_requests_are_refused(org_a, member_a, service, funded, changes, code, field):
    before = _written()
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a, **changes)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert _written() == before


@pytest.mark.django_db
def test_the_site_must_be_the_organisations_own_and_given_when_required(
    org_a, org_b, member_a, funded
):
    service = ServiceFactory(requires_site=True)
    before = _written()
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a)
    assert refused.value.field == "site"
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a, site=SiteFactory(organisation=org_b))
    assert refused.value.message == "Choose one of your organisation's sites."
    assert _written() == before


# --- eligibility


@pytest.mark.django_db
def test_tier_eligibility(org_a, member_a, funded):
    # given a service for gold and strategic customers, and a standard customer
    service = ServiceFactory(eligible_tiers=[Tier.GOLD, Tier.STRATEGIC])
    before = _written()
    # when the standard customer asks / then it is refused with a message naming the tiers
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a)
    assert (refused.value.code, refused.value.field) == ("tier_not_eligible", "service")
    assert refused.value.message == (
        "This service is offered to Gold, Strategic customers; your organisation's tier is "
        "Standard."
    )
    assert _written() == before
    # when the customer becomes gold / then it may redeem
    org_a.tier = Tier.GOLD
    org_a.save()
    _, created = _request(org_a, service, member_a)
    assert created is True


@pytest.mark.django_db
def test_country_eligibility_uses_the_site_when_one_is_given(org_a, member_a, funded):
    # given a service offered in China only, for a German customer with a plant in Suzhou
    service = ServiceFactory(eligible_countries=["CN"], requires_site=True)
    hamburg = SiteFactory(organisation=org_a, country="DE")
    suzhou = SiteFactory(organisation=org_a, country="CN")
    plain = ServiceFactory(eligible_countries=["CN"])
    before = _written()
    # then a visit at the German site is refused, one at the Chinese site accepted
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a, site=hamburg)
    assert (refused.value.code, refused.value.message) == (
        "region_not_eligible",
        "This service is offered in China only.",
    )
    # and a service without a site follows the organisation's own country
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, plain, member_a, key="k2")
    assert refused.value.code == "region_not_eligible"
    assert _written() == before
    redemption, _ = _request(org_a, service, member_a, site=suzhou, key="k3")
    assert redemption.site == suzhou


@pytest.mark.parametrize(
    "window",
    [
        {"active_from": TODAY + dt.timedelta(days=1)},
        {"active_until": TODAY - dt.timedelta(days=1)},
        {"is_active": False},
    ],
    ids=["not-yet", "ended", "switched-off"],
)
@pytest.mark.django_db
def test_a_service_outside_its_active_window_is_refused(org_a, member_a, funded, window):
    service = ServiceFactory(**window)
    before = _written()
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a)
    assert (refused.value.code, refused.value.message) == (
        "service_not_offered",
        "This service is not offered at the moment.",
    )
    assert _written() == before


@pytest.mark.django_db
def test_the_active_window_includes_its_first_and_last_day(org_a, member_a, funded):
    service = ServiceFactory(active_from=TODAY, active_until=TODAY)
    _, created = _request(org_a, service, member_a)
    assert created is True


# --- capacity


@pytest.mark.django_db
def test_capacity_counts_requested_and_fulfilled_but_not_cancelled_or_rejected(
    org_a, org_b, member_a, member_b, staff_success
):
    # given a service with 2 places a month, shared by all customers
    service = ServiceFactory(points_cost=100, monthly_capacity=2)
    fund(org_a, 1000)
    fund(org_b, 1000)
    fulfilled, _ = _request(org_a, service, member_a, key="a1")
    actions.fulfil(fulfilled, staff_success, scheduled_for=TODAY, assignee="Li")
    _request(org_b, service, member_b, key="b1")
    before = _written()
    # when a third request arrives in the same month
    with pytest.raises(actions.RedemptionError) as refused:
        _request(org_a, service, member_a, key="a2")
    # then it is refused: a fulfilled and a requested place are both taken
    assert (refused.value.code, refused.value.field) == ("capacity_reached", "service")
    assert refused.value.message == (
        f"All 2 places for {service.name} this month are taken; places open again on 2025-07-01."
    )
    assert _written() == before
    offer = next(o for o in redemptions.offers(org_a, TODAY) if o.service == service)
    assert (offer.eligible, offer.remaining_this_month) == (False, 0)
    assert offer.reason == "This month's places are taken."
    # when the requested one is cancelled and the next one rejected, places free up again
    actions.cancel(Redemption.objects.get(organisation=org_b), member_b)
    second, _ = _request(org_a, service, member_a, key="a3")
    actions.reject(second, staff_success, reason="Engineer ill.")
    _request(org_a, service, member_a, key="a4")
    assert Redemption.objects.filter(status__in=redemptions.OPEN_STATUSES).count() == 2
    # and the next month starts with both places free
    next_month = dt.date(2025, 7, 1)
    offer = next(o for o in redemptions.offers(org_a, next_month) if o.service == service)
    assert offer.remaining_this_month == 2
    actions.request_redemption(org_b, service, member_b, key="b2", today=next_month)


# --- the catalogue as one organisation sees it


@pytest.mark.django_db
def test_offers_say_what_is_eligible_and_what_is_left(
    org_a, member_a, funded, django_assert_max_num_queries
):
    # given four services: open, gold-only, China-only with a site, capacity 3 with 1 taken
    open_service = ServiceFactory(name="Training seat", sort_order=1)
    gold = ServiceFactory(name="Extended warranty", sort_order=2, eligible_tiers=["gold"])
    china = ServiceFactory(
        name="Visit CN", sort_order=3, eligible_countries=["CN"], requires_site=True
    )
    limited = ServiceFactory(name="Visit", sort_order=4, monthly_capacity=3)
    ServiceFactory(name="Old", is_active=False)
    _request(org_a, limited, member_a)
    SiteFactory(organisation=org_a, country="CN")
    # when the catalogue is read
    # + 2: counting every organisation's places outside the row-level scope (portal/tenancy.py)
    with django_assert_max_num_queries(5):
        offers = redemptions.offers(org_a, TODAY)
    # then each service says whether the organisation may redeem it, and why not
    assert [(o.service, o.eligible, o.remaining_this_month) for o in offers] == [
        (open_service, True, None),
        (gold, False, None),
        (china, True, None),  # it has a site in China
        (limited, True, 2),
    ]
    assert offers[1].reason.startswith("This service is offered to Gold customers")


# --- races (PostgreSQL)

THREADS = 8


@pytest.mark.race
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_organisations_racing_for_the_last_three_places_never_overbook():
    # given 3 places left this month and 8 funded organisations
    service = ServiceFactory(points_cost=100, monthly_capacity=3)
    organisations = [OrganisationFactory() for _ in range(THREADS)]
    for organisation in organisations:
        fund(organisation, 500)
    # when all 8 request it at once
    results = race(
        lambda i: actions.request_redemption(
            organisations[i], service, None, key=f"race-{i}", today=TODAY
        ),
        THREADS,
    )
    assert results.overlapped, results.intervals
    # then exactly 3 are accepted and 5 refused for capacity
    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, actions.RedemptionError)]
    assert len(accepted) == 3, results
    assert len(refused) == 5, results
    assert {r.code for r in refused} == {"capacity_reached"}
    assert Redemption.objects.filter(service=service).count() == 3
    assert LedgerEntry.objects.filter(kind=EntryKind.HOLD).count() == 3
    assert ledger.reconcile() == []


@pytest.mark.race
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_requests_racing_for_the_last_points_never_overdraw():
    # given 1000 points and a 300-point service
    organisation = OrganisationFactory()
    service = ServiceFactory(points_cost=300)
    fund(organisation, 1000)
    # when all 8 request it at once, the last 4 repeating the first 4's keys
    results = race(
        lambda i: actions.request_redemption(
            organisation, service, None, key=f"race-{i % 4}", today=TODAY
        ),
        THREADS,
    )
    assert results.overlapped, results.intervals
    # then 3 redemptions hold 900 points, each repeat got its twin's redemption, and the
    # fourth key is refused in both its requests
    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [i for i, r in enumerate(results) if isinstance(r, InsufficientPoints)]
    assert len(accepted) == 6, results
    assert len(refused) == 2, results
    assert refused[0] % 4 == refused[1] % 4
    assert len({r[0].pk for r in accepted}) == 3
    assert sorted(created for _, created in accepted) == [False, False, False, True, True, True]
    assert Redemption.objects.count() == 3
    assert _balances(organisation) == (0, 100, 900)
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_the_statement_by_statement_hold_writes_what_the_one_statement_hold_writes(
    org_a, member_a, service, funded, monkeypatch
):
    # given the hold as the SQLite demo makes it, the balance update followed by each insert
    # (on PostgreSQL too: the same statements run there; the one-statement hold is what
    # test_request_holds_the_points_and_tells_everyone sees there)
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "sqlite")
    # when a member requests a 300-point service from 1,000 points
    redemption, created = _request(org_a, service, member_a, key="statement-by-statement")
    monkeypatch.undo()
    # then the hold, the event and the balances after it are those of the one-statement hold
    assert created is True
    hold = LedgerEntry.objects.get(kind="hold")
    assert (hold.points, hold.available_delta, hold.held_delta, hold.redemption_id) == (
        300,
        -300,
        300,
        redemption.pk,
    )
    event = OutboxEvent.objects.get(type="greenloop.carbon.redemption_requested")
    assert event.data["balances"] == {"pending": 0, "available": 700, "held": 300}
    account = PointsAccount.objects.get(organisation=org_a)
    assert (account.available, account.held) == (700, 300)
    assert ledger.reconcile() == []
    # and the request's audit row names the redemption
    trail = AuditEvent.objects.get(action="carbon.redemption.requested")
    assert (trail.organisation_id, trail.object_id) == (org_a.pk, str(redemption.pk))
