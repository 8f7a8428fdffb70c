"""Points journey in a real browser: a customer member sees the points a delivered order earned
and why, redeems a maintenance visit; a customer-success staff member fulfils it in the admin;
the customer sees the confirmed visit and the ledger reconciles."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from carbon.footprint.calculation import calculate_order
from carbon.models import (
    EntryKind,
    LedgerEntry,
    OrderStatus,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
    ServiceKind,
)
from carbon.points import actions, ledger
from portal.models import Role
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.carbon.factories import ServiceFactory, order_with_legs
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_journeys import sign_in, staff_page, url
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _policy() -> PointsPolicy:
    submitter = UserFactory(email="sus@greenloop.example", is_staff=True)
    approver = UserFactory(email="sus2@greenloop.example", is_staff=True)
    return PointsPolicy.objects.create(
        version=1,
        effective_from=dt.date(2025, 1, 1),
        points_per_kg=Decimal("0.1"),
        include_green_power=True,
        pending_days=14,
        expiry_months=24,
        explanation="You earn points for the emissions your deliveries avoid.",
        status=PolicyStatus.ACTIVE,
        submitted_by=submitter,
        approved_by=approver,
        approved_at=timezone.now(),
    )


def _staff_with_totp():
    from django.contrib.auth.models import Group

    ensure_staff_groups()
    staff = UserFactory(email="success@greenloop.example", is_staff=True)
    staff.groups.add(Group.objects.get(name=StaffRole.CUSTOMER_SUCCESS))
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff, secret


def test_customer_redeems_a_maintenance_visit_and_staff_fulfil_it(live_server, browser, page, snap):
    # given: the reference data, an approved points policy and a customer whose rail-and-sea
    # order was delivered two months ago, its points awarded and activated
    call_command("load_reference_data")
    _policy()
    organisation = OrganisationFactory(slug="huadong-pv", name="Huadong PV", country="CN")
    site = SiteFactory(organisation=organisation, name="Suzhou plant", country="CN", region="CN")
    member = UserFactory(email="zhang.min@huadong.example")
    MembershipFactory(user=member, organisation=organisation, role=Role.MEMBER)
    delivered = timezone.localdate() - dt.timedelta(days=60)
    order = order_with_legs(
        organisation,
        [
            # rail within 1,500 km is compared with road: 28,000 t·km x (0.12522 - 0.03470)
            {"category": "rail.freight", "mass_t": Decimal(20), "distance_km": Decimal(1400)},
            # a large container ship against the deep-sea average: 180,000 x (0.01977 - 0.01553)
            {
                "category": "sea.container.large",
                "mass_t": Decimal(20),
                "distance_km": Decimal(9000),
            },
        ],
        external_id="HD-2025-0042",
        status=OrderStatus.DELIVERED,
        delivery_date=delivered,
        delivery_site=site,
    )
    calculate_order(order)
    award = actions.award_order(order)
    actions.activate_due(timezone.localdate())
    earned = PointsAward.objects.get(pk=award.pk).points
    assert earned > 300, "the worked order must earn enough for the visit"
    service = ServiceFactory(
        name="On-site maintenance visit",
        slug="maintenance-visit",
        kind=ServiceKind.MAINTENANCE_VISIT,
        points_cost=300,
        requires_site=True,
        monthly_capacity=8,
    )
    staff, secret = _staff_with_totp()

    sign_in(page, live_server, member.email)
    expect(page).to_have_url(url(live_server, "/o/huadong-pv/"))
    snap("dashboard")

    # then: the dashboard shows the available points
    expect(page.get_by_text(f"{earned:,}").first).to_be_visible()

    # when: they open the order, they see why it earned its points
    page.goto(live_server.url + f"/o/huadong-pv/orders/{order.pk}/")
    why = page.get_by_text(f"Why did this order earn {earned:,} points?")
    expect(why).to_be_visible()
    expect(page.locator("body")).to_contain_text("t·km")
    snap("why-points")

    # when: they open Points, the statement lists the earned and activated entries
    # the Carbon menu of the top bar holds it
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.locator("summary", has_text="Carbon").click()
    main_nav.get_by_role("link", name="Points").click()
    expect(page).to_have_url(url(live_server, "/o/huadong-pv/points/"))
    expect(page.locator("body")).to_contain_text("HD-2025-0042")
    snap("statement")

    # when: they pick the maintenance visit in the catalogue and redeem it
    page.goto(live_server.url + reverse("carbon:catalogue", kwargs={"org_slug": "huadong-pv"}))
    card = page.locator("article, li, .card").filter(has_text="On-site maintenance visit").first
    expect(card).to_contain_text("300")
    card.get_by_role("link", name="Redeem").click()
    page.get_by_label("Site").select_option(label="Suzhou plant")
    page.get_by_label("Preferred date").fill(
        (timezone.localdate() + dt.timedelta(days=21)).isoformat()
    )
    page.get_by_role("button", name="Review request").click()
    confirm = page.get_by_role("button", name="Confirm and hold 300 points")
    expect(confirm).to_be_visible()
    snap("confirm")
    confirm.click()
    # the redemption's page has loaded, so the request that recorded it has finished
    expect(page).to_have_url(re.compile(r"/o/huadong-pv/points/redemptions/\d+/"))

    # then: the request is recorded with its points held, once
    redemption = Redemption.objects.get(organisation=organisation)
    expect(page).to_have_url(url(live_server, f"/o/huadong-pv/points/redemptions/{redemption.pk}/"))
    expect(page.locator("body")).to_contain_text("Requested")
    snap("requested")
    assert redemption.status == RedemptionStatus.REQUESTED
    assert redemption.site == site
    account = ledger.account_for(organisation)
    account.refresh_from_db()
    assert (account.available, account.held) == (earned - 300, 300)

    # when: a customer-success staff member signs in with their authenticator and fulfils it
    admin = staff_page(browser, live_server, staff.email, secret)
    admin.goto(live_server.url + reverse("points_redemptions:index"))
    expect(admin.locator("body")).to_contain_text("Huadong PV")
    admin.goto(live_server.url + reverse("points_redemptions:fulfil", args=[redemption.pk]))
    visit_day = timezone.localdate() + dt.timedelta(days=21)
    admin.get_by_label("Service date").fill(visit_day.isoformat())
    admin.get_by_label("Assignee").fill("Wang Lei, field engineer")
    admin.get_by_role("button", name="Fulfil").click()
    expect(admin.locator("body")).to_contain_text("Fulfilled")
    admin.screenshot(path=str(ARTIFACTS / "points-admin-fulfilled.png"), full_page=True)

    # then: the customer sees the confirmed visit, the points are spent, the ledger reconciles
    page.reload()
    expect(page.locator("body")).to_contain_text("Wang Lei, field engineer")
    snap("fulfilled")
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.FULFILLED
    assert redemption.scheduled_for == visit_day
    account.refresh_from_db()
    assert (account.available, account.held) == (earned - 300, 0)
    assert (
        LedgerEntry.objects.filter(redemption_id=redemption.pk, kind=EntryKind.CAPTURE).count() == 1
    )
    assert ledger.reconcile() == []
    assert service.redemptions.count() == 1
    admin.context.close()
