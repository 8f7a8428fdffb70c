"""Ideas rolled up by account (staff only): asking organisations with tier, contract value and
strongest importance; the weighted value in the reporting currency through the staff's rate
table (a missing rate counts 0 and is flagged); bounded queries; customers never see values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from beta_program.boards import accounts, actions
from beta_program.boards.models import Board, Idea, IdeaMerge, IdeaStatus, Vote
from beta_program.boards.value_models import ReportingRate
from portal.models import AuditEvent
from tests.factories import MembershipFactory, OrganisationFactory


@pytest.fixture
def contracts(org_a, org_b):
    org_a.tier, org_a.contract_value, org_a.contract_currency = "gold", Decimal("100000"), "EUR"
    org_a.save()
    org_b.tier, org_b.contract_value, org_b.contract_currency = (
        "strategic",
        Decimal("800000"),
        "CNY",
    )
    org_b.save()
    return org_a, org_b


@pytest.fixture
def cny_rate(product):
    return ReportingRate.objects.create(currency="CNY", rate=Decimal("0.13"), set_by=product)


def test_weighted_value_converts_and_multiplies_by_strongest_importance(
    public_board, contracts, cny_rate, org_a, org_b, admin_a, member_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_a, admin_a, 3)
    actions.vote(idea, org_a, member_a, 1)  # Acme's strongest stays critical
    actions.vote(idea, org_b, admin_b, 2)
    rollup = accounts.by_account(idea)
    assert rollup.currency == "EUR"
    assert [(r.organisation.slug, r.importance, r.weighted) for r in rollup.rows] == [
        ("acme", 3, Decimal("300000.00")),
        ("globex", 2, Decimal("208000.00")),
    ]
    assert rollup.weighted == Decimal("508000.00")
    assert rollup.missing_rates == []
    acme = rollup.rows[0]
    assert acme.proposed
    assert acme.tier == "gold"
    assert acme.currency == "EUR"
    assert len(acme.voters) == 2
    [value] = accounts.ideas_by_value(Idea.objects.filter(pk=idea.pk))
    assert (value.weighted, value.organisations) == (Decimal("508000.00"), 2)
    assert value.top_tiers == [("Strategic", 1), ("Gold", 1)]


def test_currency_without_rate_counts_zero_and_is_flagged(
    public_board, contracts, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_a, admin_a, 3)
    actions.vote(idea, org_b, admin_b, 3)
    rollup = accounts.by_account(idea)
    globex = next(r for r in rollup.rows if r.organisation.slug == "globex")
    assert globex.weighted == Decimal("0.00")
    assert globex.weighing.missing_rate == "CNY"
    assert rollup.missing_rates == ["CNY"]
    assert rollup.weighted == Decimal("300000.00")
    [value] = accounts.ideas_by_value(Idea.objects.filter(pk=idea.pk))
    assert value.missing_rates == {"CNY"}
    assert value.weighted == Decimal("300000.00")


def test_author_organisation_without_a_vote_asks_as_important(
    public_board, contracts, org_a, admin_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    [row] = accounts.by_account(idea).rows
    assert (row.importance, row.proposed, row.voters) == (2, True, [])
    assert row.weighted == Decimal("200000.00")


def test_suppressed_votes_do_not_count(
    public_board, contracts, cny_rate, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    duplicate = propose(public_board, org_a, admin_a, title="CSV export please")
    actions.vote(idea, org_b, admin_b, 3)
    merge = IdeaMerge.objects.create(
        duplicate=duplicate, primary=idea, previous_status=IdeaStatus.objects.initial()
    )
    Vote.objects.filter(idea=idea, organisation=org_b).update(suppressed_by=merge)
    rollup = accounts.by_account(idea)
    assert [r.organisation.slug for r in rollup.rows] == ["acme"]
    assert rollup.weighted == Decimal("200000.00")
    [value] = accounts.ideas_by_value(Idea.objects.filter(pk=idea.pk))
    assert (value.organisations, value.weighted) == (1, Decimal("200000.00"))


def test_listing_sorts(public_board, contracts, cny_rate, org_a, org_b, admin_a, admin_b, propose):
    old = propose(public_board, org_b, admin_b, title="Old and valuable")
    Idea.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    actions.vote(old, org_b, admin_b, 3)  # 312,000.00
    Vote.objects.filter(idea=old).update(created_at=timezone.now() - dt.timedelta(days=20))
    new = propose(public_board, org_a, admin_a, title="New and popular")
    actions.vote(new, org_a, admin_a, 1)  # 100,000.00
    actions.vote(new, org_b, admin_b, 1)  # + 104,000.00
    ideas = Idea.objects.all()

    def order(sort):
        return [v.idea.title for v in accounts.ideas_by_value(ideas, sort)]

    assert order("weighted") == ["Old and valuable", "New and popular"]
    assert order("votes") == ["New and popular", "Old and valuable"]
    assert order("organisations") == ["New and popular", "Old and valuable"]
    assert order("trending") == ["New and popular", "Old and valuable"]
    assert order("newest") == ["New and popular", "Old and valuable"]
    assert [v.weighted for v in accounts.ideas_by_value(ideas, "weighted")] == [
        Decimal("312000.00"),
        Decimal("204000.00"),
    ]


def test_customer_pages_never_show_contract_values(
    client, public_board, contracts, cny_rate, org_a, org_b, admin_a, admin_b, propose
):
    org_b.contract_value = Decimal("812345.67")
    org_b.save()
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_b, admin_b, 3)
    for person, org in ((admin_a, org_a), (admin_b, org_b)):
        client.force_login(person)
        for url in (
            reverse("beta:idea", kwargs={"org_slug": org.slug, "idea_id": idea.pk}),
            reverse("beta:ideas", kwargs={"org_slug": org.slug}),
        ):
            response = client.get(url)
            assert response.status_code == 200
            page = response.content.decode()
            for shown in ("812345", "812,345", "812 345", "316814", "316,814", "Weighted"):
                assert shown not in page, (url, shown)


def _thirty_ideas_by_five_organisations(public_board, propose):
    organisations, people = [], []
    for n in range(5):
        org = OrganisationFactory(
            slug=f"account-{n}", contract_value=Decimal(1000 * (n + 1)), contract_currency="EUR"
        )
        organisations.append(org)
        people.append(MembershipFactory(organisation=org).user)
    for n in range(30):
        idea = propose(public_board, organisations[0], people[0], title=f"Idea {n}")
        for org, person in zip(organisations, people, strict=True):
            Vote.objects.create(idea=idea, voter=person, organisation=org, importance=1 + n % 3)
        actions.recount(idea.pk)
    return organisations


def test_queries_are_bounded_at_thirty_ideas_by_five_organisations(
    client, public_board, product, propose, django_assert_max_num_queries
):
    _thirty_ideas_by_five_organisations(public_board, propose)
    with django_assert_max_num_queries(4):
        values = accounts.ideas_by_value(Idea.objects.all())
    assert len(values) == 30
    # 15,000 (1,000 + ... + 5,000) times importance 1, 2 or 3
    assert {v.weighted for v in values} == {
        Decimal("15000.00"),
        Decimal("30000.00"),
        Decimal("45000.00"),
    }
    idea = Idea.objects.first()
    with django_assert_max_num_queries(3):
        assert len(accounts.by_account(idea).rows) == 5
    client.force_login(product)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("idea_accounts:index") + "?sort=trending")
    assert response.status_code == 200
    assert response.content.decode().count("/admin/ideas-by-account/") >= 30
    with django_assert_max_num_queries(22):
        assert client.get(reverse("idea_accounts:idea", args=[idea.pk])).status_code == 200


def test_admin_screens_open_for_board_staff_and_not_for_customers(
    client, public_board, contracts, cny_rate, org_a, admin_a, product, staff_success, propose
):
    idea = propose(public_board, org_a, admin_a, title="Carbon per SKU")
    index = "/admin/ideas-by-account/"
    detail = f"/admin/ideas-by-account/{idea.pk}/"
    for staff in (product, staff_success):
        client.force_login(staff)
        page = client.get(index).content.decode()
        assert "Carbon per SKU" in page
        assert "200,000.00" in page
        page = client.get(detail).content.decode()
        assert "Acme Solar" in page
        assert "100,000.00 EUR" in page
    assert client.get("/admin/ideas-by-account/999999/").status_code == 404
    other = Board.objects.create(name="Hardware", slug="hardware")
    assert "Carbon per SKU" not in client.get(f"{index}?board=hardware").content.decode()
    assert "Carbon per SKU" in client.get(f"{index}?board=product-ideas").content.decode()
    other.archived = True
    other.save()
    assert "Hardware" not in client.get(index).content.decode()
    client.force_login(admin_a)
    for url in (index, detail, "/admin/reporting-rates/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(("/accounts/login/", "/admin/login/"))


def test_staff_without_second_factor_are_refused(client, public_board, org_a, admin_a, propose):
    from tests.conftest import _staff

    idea = propose(public_board, org_a, admin_a)
    bare = _staff("pm.bare@greenloop.example", "Product")
    client.force_login(bare)
    response = client.get(f"/admin/ideas-by-account/{idea.pk}/")
    assert response.status_code == 302
    assert "Acme" not in response.content.decode()


def test_product_and_success_staff_keep_the_rates(client, product, staff_success):
    for staff, currency in ((product, "CNY"), (staff_success, "USD")):
        client.force_login(staff)
        add = client.get("/admin/reporting-rates/")
        assert add.status_code == 200
        response = client.post(
            "/admin/reporting-rates/new/", {"currency": currency, "rate": "0.13"}
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        rate = ReportingRate.objects.get(currency=currency)
        assert rate.set_by == staff
    assert str(ReportingRate.objects.get(currency="CNY")) == "1 CNY = 0.13 EUR"
    cny = ReportingRate.objects.get(currency="CNY")
    response = client.post(
        f"/admin/reporting-rates/edit/{cny.pk}/", {"currency": "CNY", "rate": "0.128"}
    )
    assert response.status_code == 302
    cny.refresh_from_db()
    assert (cny.rate, cny.set_by) == (Decimal("0.128"), staff_success)
    assert AuditEvent.objects.filter(action="boards.reporting_rate_set").count() == 3
    assert client.post(f"/admin/reporting-rates/delete/{cny.pk}/").status_code == 302
    assert ReportingRate.objects.filter(pk=cny.pk).exists()
    response = client.post("/admin/reporting-rates/new/", {"currency": "EUR", "rate": "1"})
    assert response.status_code == 200
    assert not ReportingRate.objects.filter(currency="EUR").exists()
