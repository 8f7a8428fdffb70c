"""Programmes: audited status transitions, who sees which programme on the pages, and the
Wagtail landing page (404 outside the audience, "what to test" for participants only)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from wagtail.models import Page

from beta_program.programmes import actions
from beta_program.programmes.exceptions import TransitionRefused
from beta_program.programmes.models import (
    Application,
    ApplicationStatus,
    Programme,
    ProgrammeStatus,
    StatusChange,
)
from beta_program.programmes.pages import ProgrammePage
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent, Tier
from tests.conftest import _staff


def _index(client, org):
    return client.get(reverse("beta:index", kwargs={"org_slug": org.slug}))


def _detail(client, org, programme):
    return client.get(
        reverse("beta:programme", kwargs={"org_slug": org.slug, "programme_slug": programme.slug})
    )


# --- status transitions


def test_a_status_change_is_recorded_in_the_history_and_the_audit_trail(make_programme, product):
    # given a programme in planning
    programme = make_programme(status=ProgrammeStatus.PLANNING)
    # when product staff open recruiting
    actions.change_status(programme, ProgrammeStatus.RECRUITING, product, note="Go")
    # then
    programme.refresh_from_db()
    assert programme.status == "recruiting"
    change = StatusChange.objects.get(programme=programme)
    assert (change.from_status, change.to_status, change.note, change.changed_by) == (
        "planning",
        "recruiting",
        "Go",
        product,
    )
    event = AuditEvent.objects.get(action="beta.programme_status_changed")
    assert event.actor == product
    assert event.details == {"from": "planning", "to": "recruiting", "note": "Go"}


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("planning", "closed"),
        ("planning", "graduated"),
        ("recruiting", "graduated"),
        ("running", "graduated"),
        ("closed", "running"),
        ("recruiting", "recruiting"),
    ],
)
def test_a_transition_the_workflow_does_not_allow_is_refused_and_changes_nothing(
    make_programme, product, start, target
):
    programme = make_programme(status=start)
    history = StatusChange.objects.count()
    with pytest.raises(TransitionRefused):
        actions.change_status(programme, target, product)
    programme.refresh_from_db()
    assert programme.status == start
    assert StatusChange.objects.count() == history


def test_graduation_after_closing_publishes_an_event_with_ids_only(make_programme, product):
    programme = make_programme(status=ProgrammeStatus.CLOSED)
    actions.change_status(programme, ProgrammeStatus.GRADUATED, product)
    event = OutboxEvent.objects.get(type="greenloop.beta.programme_graduated")
    assert event.data == {"programme_id": programme.pk, "graduated_by": product.pk, "grants": []}
    assert event.organisation is None


def test_only_product_staff_change_a_programme_status(make_programme, staff_success, admin_a):
    programme = make_programme(status=ProgrammeStatus.PLANNING)
    for user in (staff_success, admin_a):
        with pytest.raises(PermissionDeniedError):
            actions.change_status(programme, ProgrammeStatus.RECRUITING, user)
    programme.refresh_from_db()
    assert programme.status == "planning"
    assert StatusChange.objects.count() == 0


# --- visibility on the pages


def test_customers_see_recruiting_programmes_their_rules_admit(
    client, make_programme, org_a, admin_a
):
    # given Acme (standard tier, DE) and programmes with different rules and states
    make_programme("open-to-all", name="Open to all")
    make_programme("gold-only", name="Gold only", eligible_tiers=[Tier.GOLD])
    make_programme("china-only", name="China only", eligible_countries=["CN"])
    make_programme("germany", name="Germany", eligible_countries=["DE"])
    make_programme("planned", name="Planned", status=ProgrammeStatus.PLANNING)
    make_programme("running", name="Running elsewhere", status=ProgrammeStatus.RUNNING)
    make_programme("gateway-owners", name="Gateway owners", required_skus=["MON-GW-4G"])
    client.force_login(admin_a)
    # when
    response = _index(client, org_a)
    # then only the recruiting ones that admit Acme are listed
    assert response.status_code == 200
    listed = [p.slug for p in response.context["open"]]
    assert listed == ["germany", "open-to-all"]
    assert response.context["mine"] == []
    for hidden in ("gold-only", "china-only", "planned", "running", "gateway-owners"):
        assert _detail(client, org_a, Programme.objects.get(slug=hidden)).status_code == 404


def test_the_sku_rule_reads_what_the_organisation_ordered_through_the_portal_hook(
    client, make_programme, org_a, admin_a
):
    from tests.carbon.factories import order_with_legs

    make_programme("gateway-owners", name="Gateway owners", required_skus=["MON-GW-4G"])
    client.force_login(admin_a)
    assert _index(client, org_a).context["open"] == []
    # given Acme orders a monitoring gateway
    order = order_with_legs(org_a, [{}])
    from carbon.models import OrderLine, Product

    gateway = Product.objects.create(sku="MON-GW-4G", name="Gateway")
    OrderLine.objects.create(order=order, product=gateway, quantity=2)
    # then the programme opens to it
    assert [p.slug for p in _index(client, org_a).context["open"]] == ["gateway-owners"]


def test_a_running_programme_is_visible_only_to_organisations_with_a_place(
    client, make_programme, org_a, org_b, admin_a, admin_b
):
    programme = make_programme(status=ProgrammeStatus.RUNNING)
    Application.objects.create(
        programme=programme, organisation=org_b, applicant=admin_b, status="accepted"
    )
    client.force_login(admin_b)
    assert [p.slug for p in _index(client, org_b).context["mine"]] == ["monitor-beta"]
    assert _detail(client, org_b, programme).status_code == 200
    client.force_login(admin_a)
    assert _index(client, org_a).context["mine"] == []
    assert _detail(client, org_a, programme).status_code == 404
    # and not through another organisation's URL either
    assert _detail(client, org_b, programme).status_code == 404


def test_the_index_runs_a_bounded_number_of_queries(
    client, make_programme, org_a, admin_a, django_assert_max_num_queries
):
    client.force_login(admin_a)
    for n in range(3):
        make_programme(f"beta-{n}", name=f"Beta {n}")
    _index(client, org_a)
    with django_assert_max_num_queries(14) as few:
        _index(client, org_a)
    for n in range(3, 15):
        programme = make_programme(f"beta-{n}", name=f"Beta {n}")
        Application.objects.create(
            programme=programme, organisation=org_a, applicant=admin_a, status="pending"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _index(client, org_a)
    assert len(response.context["mine"]) == 12


def test_programme_names_are_shown_in_chinese_to_chinese_readers(
    client, make_programme, org_a, admin_a
):
    make_programme(
        "monitor", name="Monitor app", name_zh="监控应用", summary="New", summary_zh="新版"
    )
    client.force_login(admin_a)
    client.cookies["django_language"] = "zh-hans"
    response = _index(client, org_a)
    assert "监控应用" in response.content.decode()
    assert "新版" in response.content.decode()


# --- the landing page


@pytest.fixture
def landing(confidential):
    home = Page.objects.get(depth=2, slug="home")
    page = ProgrammePage(
        title="Firmware beta",
        slug="firmware-beta",
        programme=confidential,
        body=[
            ("overview", "<p>Public overview</p>"),
            ("what_to_test", "<p>SECRET grid-forming mode</p>"),
        ],
    )
    home.add_child(instance=page)
    return page


def test_the_landing_page_is_404_to_anyone_outside_the_programme(
    client, landing, org_a, admin_a, admin_b, org_b
):
    # given the confidential programme stops recruiting and only Globex holds a place
    Application.objects.create(
        programme=landing.programme, organisation=org_b, applicant=admin_b, status="accepted"
    )
    product_user = landing.programme.owners.first()
    assert product_user is None
    from beta_program.programmes.models import Programme as P

    P.objects.filter(pk=landing.programme.pk).update(status=ProgrammeStatus.RUNNING)
    client.force_login(admin_a)
    assert client.get(landing.url).status_code == 404
    client.logout()
    assert client.get(landing.url).status_code == 302


def test_what_to_test_is_hidden_from_a_confidential_programmes_participants_without_nda(
    client, landing, org_b, admin_b
):
    Application.objects.create(
        programme=landing.programme, organisation=org_b, applicant=admin_b, status="accepted"
    )
    client.force_login(admin_b)
    response = client.get(landing.url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Public overview" in body
    assert "SECRET" not in body


def test_product_staff_see_the_whole_landing_page(client, landing, product):
    client.force_login(product)
    body = client.get(landing.url).content.decode()
    assert "SECRET grid-forming mode" in body


def test_programme_pages_are_not_in_the_search_index():
    assert ProgrammePage.search_fields == []


def test_an_open_programmes_participant_sees_what_to_test(client, make_programme, org_b, admin_b):
    programme = make_programme("open-beta", name="Open beta")
    home = Page.objects.get(depth=2, slug="home")
    page = home.add_child(
        instance=ProgrammePage(
            title="Open beta",
            slug="open-beta",
            programme=programme,
            body=[("what_to_test", "<p>Try offline mode</p>")],
        )
    )
    client.force_login(admin_b)
    assert "Try offline mode" not in client.get(page.url).content.decode()
    Application.objects.create(
        programme=programme,
        organisation=org_b,
        applicant=admin_b,
        status=ApplicationStatus.ACCEPTED,
    )
    assert "Try offline mode" in client.get(page.url).content.decode()


def test_staff_without_a_second_factor_see_no_programme(make_programme, db):
    from portal.staff_roles import StaffRole

    make_programme("x", status=ProgrammeStatus.PLANNING)
    user = _staff("pm.no2fa@greenloop.example", StaffRole.PRODUCT)
    assert list(Programme.objects.visible_to(user, None)) == []
