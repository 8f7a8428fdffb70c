"""Customer portal pages of carbon points: statement and CSV, how points work, the award
explanation on the order page, catalogue, the redeem flow, redemption history and cancel, the
dashboard panel; permissions per role and organisation, refusals that change nothing, bounded
queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
    Redemption,
    RedemptionStatus,
)
from carbon.points import actions, settlement
from portal.models import Tier
from tests.carbon.factories import ServiceFactory, fund
from tests.carbon.test_points_ledger import delivered_order, make_policy
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

VIEW_PAGES = ["points", "points_csv", "points_policy", "catalogue", "redemptions"]


def url(name: str, org, **kwargs) -> str:
    return reverse(f"carbon:{name}", kwargs={"org_slug": org.slug, **kwargs})


def state(org) -> tuple:
    """Everything a refused request must leave alone."""
    account = PointsAccount.objects.filter(organisation=org).first()
    balances = (account.pending, account.available, account.held) if account else None
    return balances, LedgerEntry.objects.count(), Redemption.objects.count()


@pytest.fixture
def site(org_a):
    return SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE")


@pytest.fixture
def visit(site):
    return ServiceFactory(
        name="Maintenance visit",
        slug="maintenance-visit",
        points_cost=500,
        requires_site=True,
        monthly_capacity=3,
    )


@pytest.fixture
def funded(org_a):
    return fund(org_a, 1200)


@pytest.fixture
def redemption(org_a, member_a, visit, site, funded):
    redemption, _ = actions.request_redemption(org_a, visit, member_a, key="fixture", site=site)
    return redemption


def _confirm_payload(page: str) -> dict:
    """The hidden fields of the confirmation form, as the browser would send them back."""
    form = page[page.index('name="key"') - 200 :]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields["step"] = "confirm"
    return fields


# --- who sees what


@pytest.mark.parametrize("role", ["viewer_a", "member_a", "admin_a"])
def test_every_points_page_renders_for_each_role(client, request, role, redemption):
    # given a viewer, member or admin of Acme
    client.force_login(request.getfixturevalue(role))
    org = redemption.organisation
    # when they open each page / then it renders
    for name in VIEW_PAGES:
        assert client.get(url(name, org)).status_code == 200, name
    assert client.get(url("redemption_detail", org, pk=redemption.pk)).status_code == 200
    redeem = client.get(url("redeem", org, service_slug=redemption.service.slug))
    assert redeem.status_code == (403 if role == "viewer_a" else 200)


def test_a_member_of_another_organisation_gets_404_and_changes_nothing(
    client, member_b, org_b, redemption, visit
):
    org = redemption.organisation
    client.force_login(member_b)
    before = state(org)
    for name in VIEW_PAGES:
        assert client.get(url(name, org)).status_code == 404, name
    assert client.get(url("redemption_detail", org, pk=redemption.pk)).status_code == 404
    assert client.post(url("redemption_cancel", org, pk=redemption.pk)).status_code == 404
    assert client.post(url("redeem", org, service_slug=visit.slug), {}).status_code == 404
    # nor does Acme's redemption exist under Globex's own address
    assert client.get(url("redemption_detail", org_b, pk=redemption.pk)).status_code == 404
    assert client.post(url("redemption_cancel", org_b, pk=redemption.pk)).status_code == 404
    assert state(org) == before
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


def test_anonymous_visitors_are_sent_to_sign_in(client, redemption):
    org = redemption.organisation
    urls = [url(name, org) for name in VIEW_PAGES] + [
        url("redemption_detail", org, pk=redemption.pk),
        url("redeem", org, service_slug=redemption.service.slug),
    ]
    for address in urls:
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith("/accounts/login/")
    response = client.post(url("redemption_cancel", org, pk=redemption.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_dashboard_shows_the_balance_panel_and_the_nav_links_to_points(
    client, org_a, viewer_a, funded
):
    client.force_login(viewer_a)
    response = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}))
    page = response.content.decode()
    assert 'id="panel-carbon-points"' in page
    assert "1,200" in page
    assert f'href="{url("points", org_a)}"' in page
    assert f'href="{url("catalogue", org_a)}"' in page


# --- statement


def test_the_statement_lists_entries_with_their_effects_and_links(
    client, org_a, member_a, redemption
):
    client.force_login(member_a)
    response = client.get(url("points", org_a))
    page = response.content.decode()
    # given 1,200 funded then 500 held / then the balances and both entries show
    balance = response.context["balance"]
    assert (balance.available, balance.held, balance.pending) == (700, 500, 0)
    assert [e.kind for e in response.context["page"]] == [EntryKind.HOLD, EntryKind.ADJUST]
    assert "Test funding" in page
    assert url("redemption_detail", org_a, pk=redemption.pk) in page
    assert '<span class="delta--minus">-500</span>' in page
    assert '<span class="delta--plus">+500</span>' in page


def test_the_statement_shows_the_running_available_balance(client, org_a, org_b, member_a):
    # given 1,200 funded, 250 taken back and 300 added, and another organisation's 5,000
    account = fund(org_a, 1200)
    staff = UserFactory(is_staff=True)
    actions.adjust(account, -250, "Returned order", staff, key="minus")
    actions.adjust(account, 300, "Goodwill", staff, key="plus")
    fund(org_b, 5000)
    client.force_login(member_a)
    # when the statement is read, whole and filtered by kind
    whole = client.get(url("points", org_a))
    adjustments = client.get(url("points", org_a), {"kind": "adjust"})
    # then each row carries the balance after it, newest first, from this account only
    assert [e.available_after for e in whole.context["page"]] == [1250, 950, 1200]
    assert [e.available_after for e in adjustments.context["page"]] == [1250, 950, 1200]
    assert '<td data-label="Available balance" class="num nowrap running-balance">1,250</td>' in (
        whole.content.decode()
    )


def test_the_running_balance_continues_across_pages(client, org_a, member_a):
    # given 55 additions of 1 point after a funding of 100 (the statement shows 50 a page)
    account = fund(org_a, 100)
    staff = UserFactory(is_staff=True)
    for i in range(55):
        actions.adjust(account, 1, "Bonus", staff, key=f"bonus-{i}")
    client.force_login(member_a)
    # then page 2 starts where page 1 ended: 105 ... then the funding's 100
    first = client.get(url("points", org_a)).context["page"]
    second = client.get(url("points", org_a), {"page": 2}).context["page"]
    assert first[0].available_after == 155
    assert first[49].available_after == 106
    assert [e.available_after for e in second] == [105, 104, 103, 102, 101, 100]


def test_the_statement_filters_by_kind_date_and_order(client, org_a, member_a, funded):
    # given a delivered order's award beside the funding
    make_policy()
    order = delivered_order(org_a, 132)
    actions.award_order(order)
    client.force_login(member_a)
    # when filtering by kind / order number / a period with no entries
    by_kind = client.get(url("points", org_a), {"kind": "earn_pending"}).context["page"]
    by_order = client.get(url("points", org_a), {"order": order.external_id[-4:]}).context["page"]
    empty = client.get(url("points", org_a), {"date_to": "2000-01-01"}).context["page"]
    today = timezone.localdate().isoformat()
    today_only = client.get(url("points", org_a), {"date_from": today, "date_to": today})
    # then
    assert [(e.kind, e.points) for e in by_kind] == [(EntryKind.EARN_PENDING, 132)]
    assert [e.order_id for e in by_order] == [order.pk]
    assert list(empty) == []
    assert len(today_only.context["page"]) == 2


def test_a_negative_balance_is_explained(client, org_a, viewer_a):
    account = fund(org_a, 100)
    actions.adjust(
        account,
        -250,
        "Order returned after its points were spent",
        UserFactory(is_staff=True),
        key="neg",
    )
    client.force_login(viewer_a)
    for name in ("points", "catalogue"):
        page = client.get(url(name, org_a)).content.decode()
        assert "-150" in page
        assert "Redemptions are blocked until the balance is above zero again" in page


def test_the_balance_card_names_the_next_expiry(client, org_a, viewer_a):
    # given 132 points activated on 2025-03-15 that expire a month later
    make_policy(expiry_months=1)
    actions.award_order(delivered_order(org_a, 132))
    actions.activate_due(dt.date(2025, 3, 15))
    client.force_login(viewer_a)
    # when / then the statement and the dashboard say how many expire, and when
    statement = client.get(url("points", org_a))
    dashboard = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}))
    assert statement.context["balance"].expiring_soon == 132
    assert "next: 132 on 2025-04-15" in statement.content.decode()
    assert "next: 132 on 2025-04-15" in dashboard.content.decode()


def test_the_csv_export_streams_the_filtered_entries(client, org_a, member_a, redemption):
    client.force_login(member_a)
    # when exporting everything, then only the holds
    response = client.get(url("points_csv", org_a))
    holds = client.get(url("points_csv", org_a), {"kind": "hold"})
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "date",
        "kind",
        "points",
        "pending_delta",
        "available_delta",
        "held_delta",
        "order",
        "redemption",
        "expires_on",
        "reason",
    ]
    assert [r[1:] for r in rows[1:]] == [
        ["hold", "500", "0", "-500", "500", "", str(redemption.pk), "", ""],
        ["adjust", "1200", "0", "1200", "0", "", "", "", "Test funding"],
    ]
    hold_rows = list(csv.reader(io.StringIO(b"".join(holds.streaming_content).decode())))
    assert [r[1] for r in hold_rows[1:]] == ["hold"]


def test_the_csv_export_quotes_text_a_spreadsheet_would_run(client, org_a, member_a):
    account = fund(org_a, 10)
    actions.adjust(account, 5, '=HYPERLINK("x")', UserFactory(is_staff=True), key="formula")
    client.force_login(member_a)
    body = b"".join(client.get(url("points_csv", org_a)).streaming_content).decode()
    assert "'=HYPERLINK" in body


# --- how points work


def test_the_policy_page_writes_out_the_formula_with_the_policy_parameters(client, org_a, viewer_a):
    make_policy(
        version=3,
        baseline_kg_per_tkm=Decimal("0.0815"),
        points_per_kg=Decimal("0.5"),
        per_period_cap=1000,
        pending_days=30,
        expiry_months=24,
        explanation="You earn points for the emissions your deliveries avoid.",
        explanation_zh="您的交付所避免的排放可为您赢得积分。",
    )
    client.force_login(viewer_a)
    page = client.get(url("points_policy", org_a)).content.decode()
    assert "Policy version 3" in page
    assert "You earn points for the emissions your deliveries avoid." in page
    assert (
        "period points = min(floor(max(0, Σ over the period&#x27;s legs of (reference t·km × the "
        "baseline of the leg&#x27;s service class − actual WTW kg CO₂e) + green-power reward "
        "basis max(0, Scope 2 location-based kg − Scope 2 market-based kg)) × 0.5 points per "
        "kg), 1000)"
    ) in page
    assert "30 days after delivery" in page
    assert "24 months after the points become available" in page
    assert (
        '<td class="nowrap stack-head">deep-sea shipping</td>'
        '<td class="num nowrap" data-label="kg\u00a0CO₂e/t·km">0.0815</td>'
    ) in page
    assert "Set by this policy for every class." in page
    assert "Calendar month of delivery" in page
    assert "At most 1,000 points per settlement period." in page
    assert "not carbon offsets" in page
    # in Chinese, the Chinese sentence
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page_zh = client.get(url("points_policy", org_a)).content.decode()
    assert "您的交付所避免的排放可为您赢得积分。" in page_zh
    # and the baselines' unit names the tonne-kilometre as Chinese reports do, t·km nowhere
    assert '<th scope="col" class="num nowrap">kg\u00a0CO₂e/吨公里</th>' in page_zh
    assert '<td class="num nowrap" data-label="kg\u00a0CO₂e/吨公里">0.0815</td>' in page_zh
    assert "t·km" not in page_zh


def test_the_policy_page_without_a_policy_says_so(client, org_a, viewer_a):
    client.force_login(viewer_a)
    response = client.get(url("points_policy", org_a))
    assert response.status_code == 200
    assert "No points policy is in force" in response.content.decode()


# --- why did this order earn N points?


def test_the_order_page_explains_the_award(client, org_a, viewer_a):
    # given 200 t·km at a 1 kg/t·km baseline with 68 kg actual, 1 point per kg
    make_policy(pending_days=14)
    order = delivered_order(org_a, 200)
    order.snapshots.update(wtw_kg=Decimal(68), ttw_kg=Decimal(60), wtt_kg=Decimal(8))
    award = actions.award_order(order)
    client.force_login(viewer_a)
    # when
    page = client.get(url("order_detail", org_a, order_id=order.pk)).content.decode()
    # then the 132 points are explained from the stored breakdown
    assert award.points == 132
    assert "Why did this order earn 132 points?" in page
    # each figure with its unit, in the unit and precision a reader expects
    assert (
        '<td class="num nowrap" data-label="Baseline">1,000.0\u00a0g\u00a0CO₂e/t·km</td>'
        '<td class="num" data-label="Reference distance"><span class="nowrap">200\u00a0km</span>'
        '<br><span class="small muted">declared: a place is not known</span></td>'
        '<td class="num nowrap" data-label="Transport work">200\u00a0t·km</td>'
        '<td class="num nowrap" data-label="Actual WTW">68.0\u00a0kg\u00a0CO₂e</td>'
        '<td class="num nowrap" data-label="Avoided">132\u00a0kg\u00a0CO₂e</td></tr>'
    ) in page
    assert "2025-03-01 – 2025-03-31: 1 delivered orders with attested data" in page
    assert "<strong>132\u00a0kg\u00a0CO₂e</strong>" in page
    assert "Pending until 2025-03-15" in page
    assert "version 1" in page
    # and once activated, the status follows the ledger
    actions.activate_due(dt.date(2025, 3, 15))
    page = client.get(url("order_detail", org_a, order_id=order.pk)).content.decode()
    assert "Available since" in page
    assert "expire on 2026-03-15" in page


def test_the_order_page_shows_an_applied_cap_and_a_reversal(client, org_a, viewer_a):
    make_policy(per_period_cap=100)
    order = delivered_order(org_a, 250)
    actions.award_order(order)
    order.status = "returned"
    order.save(update_fields=["status"])
    settlement.reverse_order(order, key="return-1")
    client.force_login(viewer_a)
    page = client.get(url("order_detail", org_a, order_id=order.pk)).content.decode()
    assert "Why did this order earn 100 points?" in page
    assert "100 (before the cap: 250)" in page
    assert "Reversed on" in page


# --- catalogue and redeem


def test_the_catalogue_shows_cost_places_eligibility_and_the_redeem_button(
    client, org_a, member_a, viewer_a, visit, funded
):
    gold_only = ServiceFactory(name="Training seat", points_cost=300, eligible_tiers=[Tier.GOLD])
    too_dear = ServiceFactory(name="Extended warranty", points_cost=5000)
    client.force_login(member_a)
    response = client.get(url("catalogue", org_a))
    page = response.content.decode()
    # then each card says what is possible
    assert "3 places left this month" in page
    assert "Your available balance covers it." in page
    assert "this service is offered to gold customers" in page.lower()
    assert "You have 1,200 available points; it costs 5,000." in page
    assert url("redeem", org_a, service_slug=visit.slug) in page
    assert url("redeem", org_a, service_slug=gold_only.slug) not in page
    assert url("redeem", org_a, service_slug=too_dear.slug) not in page
    # a viewer sees the catalogue without any redeem button
    client.force_login(viewer_a)
    page = client.get(url("catalogue", org_a)).content.decode()
    assert "Maintenance visit" in page
    assert url("redeem", org_a, service_slug=visit.slug) not in page
    assert "members and admins of your organisation can redeem" in page


def test_redeem_end_to_end_holds_the_points_once(client, org_a, member_a, visit, site, funded):
    client.force_login(member_a)
    address = url("redeem", org_a, service_slug=visit.slug)
    # the form offers Acme's sites only
    SiteFactory(name="Someone else's plant")
    form = client.get(address)
    assert list(form.context["form"].fields["site"].queryset) == [site]
    # when reviewing the request
    preferred = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    review = client.post(
        address, {"step": "review", "site": site.pk, "preferred_date": preferred, "note": "Gate 3"}
    )
    # then a summary with the balance after, and nothing written yet
    assert review.status_code == 200
    assert review.context["step"] == "confirm"
    assert review.context["after"] == 700
    assert Redemption.objects.count() == 0
    payload = _confirm_payload(review.content.decode())
    assert payload["site"] == str(site.pk)
    assert payload["preferred_date"] == preferred
    # when confirming
    confirmed = client.post(address, payload)
    # then one redemption, its points held, and its page
    redemption = Redemption.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == url("redemption_detail", org_a, pk=redemption.pk)
    assert (redemption.site, redemption.customer_note, redemption.points) == (site, "Gate 3", 500)
    account = PointsAccount.objects.get(organisation=org_a)
    assert (account.available, account.held) == (700, 500)
    # when the confirmation is sent again (double click, reload)
    again = client.post(address, payload)
    # then it leads to the same redemption and holds nothing more
    assert again["Location"] == confirmed["Location"]
    assert Redemption.objects.count() == 1
    account.refresh_from_db()
    assert (account.available, account.held) == (700, 500)
    detail = client.get(confirmed["Location"]).content.decode()
    assert "Waiting for confirmation" in detail


def test_change_goes_back_to_the_form_with_the_values(client, org_a, member_a, visit, site, funded):
    client.force_login(member_a)
    address = url("redeem", org_a, service_slug=visit.slug)
    response = client.post(address, {"step": "edit", "site": site.pk, "note": "Gate 3"})
    assert response.context["step"] == "form"
    assert "Gate 3" in response.content.decode()
    assert not response.context["form"].errors


def test_too_few_points_are_refused_with_a_message_and_nothing_written(
    client, org_a, member_a, visit, site
):
    fund(org_a, 200)
    client.force_login(member_a)
    address = url("redeem", org_a, service_slug=visit.slug)
    before = state(org_a)
    # at the review step
    review = client.post(address, {"step": "review", "site": site.pk})
    assert review.status_code == 422
    assert "costs 500 points; 200 are available" in review.content.decode()
    # and at a confirmation sent anyway
    confirm = client.post(
        address,
        {"step": "confirm", "site": site.pk, "key": "6f1c2f9e-8a9e-4c59-9a53-0f6f2f9b1f00"},
    )
    assert confirm.status_code == 422
    assert "costs 500 points; 200 are available" in confirm.content.decode()
    assert state(org_a) == before


def test_a_refusal_highlights_its_field(client, org_a, member_a, funded):
    # a service offered in China only, requested for a German site
    cn_only = ServiceFactory(requires_site=True, eligible_countries=["CN"])
    site = SiteFactory(organisation=org_a, name="Werk Köln", country="DE")
    client.force_login(member_a)
    before = state(org_a)
    response = client.post(
        url("redeem", org_a, service_slug=cn_only.slug),
        {"step": "confirm", "site": site.pk, "key": "6f1c2f9e-8a9e-4c59-9a53-0f6f2f9b1f01"},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert form.non_field_errors() == ["This service is offered in China only."]
    # a past preferred date is refused on its field
    response = client.post(
        url("redeem", org_a, service_slug=cn_only.slug),
        {"step": "review", "site": site.pk, "preferred_date": "2020-01-01"},
    )
    assert "preferred_date" in response.context["form"].errors
    assert 'class="field field--error"' in response.content.decode()
    assert state(org_a) == before


def test_full_capacity_is_refused_at_confirmation(client, org_a, org_b, member_a, site, funded):
    one_place = ServiceFactory(monthly_capacity=1)
    fund(org_b, 1000)
    actions.request_redemption(org_b, one_place, None, key="first")
    client.force_login(member_a)
    before = state(org_a)
    response = client.post(
        url("redeem", org_a, service_slug=one_place.slug),
        {"step": "confirm", "key": "6f1c2f9e-8a9e-4c59-9a53-0f6f2f9b1f02"},
    )
    assert response.status_code == 422
    assert "this month are taken" in response.content.decode()
    assert state(org_a) == before


def test_a_viewer_cannot_redeem(client, org_a, viewer_a, visit, site, funded):
    client.force_login(viewer_a)
    before = state(org_a)
    response = client.post(
        url("redeem", org_a, service_slug=visit.slug),
        {"step": "confirm", "site": site.pk, "key": "6f1c2f9e-8a9e-4c59-9a53-0f6f2f9b1f03"},
    )
    assert response.status_code == 403
    assert state(org_a) == before


def test_an_unknown_or_withdrawn_service_is_404(client, org_a, member_a):
    withdrawn = ServiceFactory(is_active=False)
    client.force_login(member_a)
    assert client.get(url("redeem", org_a, service_slug="nope")).status_code == 404
    assert client.get(url("redeem", org_a, service_slug=withdrawn.slug)).status_code == 404


# --- history, detail, cancel


def test_the_history_filters_by_status(client, org_a, member_a, redemption, visit, site):
    other, _ = actions.request_redemption(org_a, visit, member_a, key="second", site=site)
    actions.cancel(other, member_a)
    client.force_login(member_a)
    everything = client.get(url("redemptions", org_a)).context["page"]
    cancelled = client.get(url("redemptions", org_a), {"status": "cancelled"}).context["page"]
    assert {r.pk for r in everything} == {redemption.pk, other.pk}
    assert [r.pk for r in cancelled] == [other.pk]


def test_the_detail_shows_the_timeline_of_a_fulfilled_redemption(
    client, org_a, viewer_a, redemption, staff_success
):
    actions.fulfil(redemption, staff_success, scheduled_for=dt.date(2030, 5, 6), assignee="Li Wei")
    client.force_login(viewer_a)
    response = client.get(url("redemption_detail", org_a, pk=redemption.pk))
    page = response.content.decode()
    assert "Service date 2030-05-06, delivered by Li Wei." in page
    assert "500 points redeemed." in page
    assert not response.context["can_cancel"]


def test_a_member_cancels_a_request_and_the_points_come_back(
    client, org_a, member_a, viewer_a, redemption
):
    address = url("redemption_cancel", org_a, pk=redemption.pk)
    # a viewer sees no cancel button and may not post it
    client.force_login(viewer_a)
    detail = client.get(url("redemption_detail", org_a, pk=redemption.pk)).content.decode()
    assert address not in detail
    before = state(org_a)
    assert client.post(address).status_code == 403
    assert state(org_a) == before
    # a member sees the confirmation and cancels
    client.force_login(member_a)
    detail = client.get(url("redemption_detail", org_a, pk=redemption.pk)).content.decode()
    assert address in detail
    assert client.get(address).status_code == 405
    response = client.post(address)
    assert response.status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    account = PointsAccount.objects.get(organisation=org_a)
    assert (account.available, account.held) == (1200, 0)
    # cancelling again changes nothing
    entries = LedgerEntry.objects.count()
    client.post(address)
    assert LedgerEntry.objects.count() == entries


# --- bounded queries


def _count(client, address) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_statement_and_history_queries_do_not_grow_with_rows(
    client, org_a, member_a, site, django_assert_max_num_queries
):
    # given a few entries and redemptions, then many
    cheap = ServiceFactory(points_cost=1, requires_site=False)
    fund(org_a, 10_000)
    client.force_login(member_a)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            actions.request_redemption(org_a, cheap, member_a, key=f"bulk-{i}")

    add(3, 0)
    statement_few = _count(client, url("points", org_a))
    history_few = _count(client, url("redemptions", org_a))
    add(60, 3)
    with django_assert_max_num_queries(statement_few):
        response = client.get(url("points", org_a))
    assert len(response.context["page"]) == 50
    with django_assert_max_num_queries(history_few):
        response = client.get(url("redemptions", org_a))
    assert len(response.context["page"]) == 25


def _image(title: str):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    return Image.objects.create(title=title, file=get_test_image_file())


def test_the_catalogue_queries_do_not_grow_with_services(
    client, org_a, member_a, funded, django_assert_max_num_queries
):
    # given services with images whose renditions exist (the first view creates them)
    ServiceFactory.create_batch(2, image=_image("few"))
    client.force_login(member_a)
    client.get(url("catalogue", org_a))
    few = _count(client, url("catalogue", org_a))
    for n in range(20):
        ServiceFactory(monthly_capacity=5, image=_image(f"more {n}"))
    client.get(url("catalogue", org_a))
    with django_assert_max_num_queries(few):
        response = client.get(url("catalogue", org_a))
    assert len(response.context["cards"]) == 22
    assert response.content.decode().count('loading="lazy"') == 22


def test_the_policy_page_gives_a_baselines_note_in_the_readers_language(client, org_a, viewer_a):
    # given a policy with the per-class baselines (the demo's): air's note in both languages
    make_policy(version=4, baseline_kg_per_tkm=None)
    client.force_login(viewer_a)
    # when an English and a Chinese reader open the policy page
    page = client.get(url("points_policy", org_a)).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page_zh = client.get(url("points_policy", org_a)).content.decode()
    # then each reads the note in their language; the cited rows keep their published names
    assert "radiative forcing is reported apart and never earns or costs points." in page
    assert "辐射强迫单独报告，既不计入也不扣减积分。" in page_zh
    assert "radiative forcing" not in page_zh
    assert "Without RF &gt; tonne.km, 0.66646 / 1.08" in page_zh
