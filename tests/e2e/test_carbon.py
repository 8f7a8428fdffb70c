"""Carbon journey in a real browser: a member imports the demo CSV, sees the footprints in the
order list, and traces one order's figures to the emission factors and their source."""

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from carbon.demo import ensure_products
from carbon.models import Order
from portal.models import Role
from tests.e2e.test_journeys import sign_in, url
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "demo-orders.csv"


def test_member_imports_orders_and_traces_a_footprint(live_server, page, snap):
    # given: the reference data, the vendor's products, and a member of a customer with its site
    call_command("load_reference_data")
    ensure_products()
    organisation = OrganisationFactory(slug="nordwind", name="Nordwind Energietechnik GmbH")
    SiteFactory(organisation=organisation, name="Werk Hamburg", country="DE", region="DE")
    member = UserFactory(email="jonas.weber@nordwind.example")
    MembershipFactory(user=member, organisation=organisation, role=Role.MEMBER)
    sign_in(page, live_server, member.email)
    expect(page).to_have_url(url(live_server, "/o/nordwind/"))

    # when: they open Orders from the top bar and upload the demo file
    # the Carbon menu of the top bar holds it
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.locator("summary", has_text="Carbon").click()
    main_nav.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders")
    page.get_by_role("link", name="Import orders").click()
    page.get_by_label("CSV file").set_input_files(str(DEMO_CSV))
    snap("import-form")
    page.get_by_role("button", name="Upload and import").click()

    # then: the import succeeded, every order with a footprint
    expect(page.get_by_text("21 rows, 7 orders: 7 new")).to_be_visible()
    snap("import-done")
    assert Order.objects.filter(organisation=organisation).count() == 7
    page.get_by_role("link", name="See the orders").click()
    expect(page).to_have_url(url(live_server, "/o/nordwind/orders/"))
    row = page.get_by_role("row").filter(has_text="NW-IMP-2504")
    expect(row).to_be_visible()
    order = Order.objects.get(external_id="NW-IMP-2504")
    wtw = order.snapshots.get(is_current=True).wtw_kg
    expect(row).to_contain_text(f"{wtw:,.0f}")  # kg from 1,000 up are shown whole
    snap("order-list")

    # when: they open the order
    row.get_by_role("link", name="NW-IMP-2504").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Order NW-IMP-2504")

    # then: each leg's figures and the factors with their source row and link
    expect(page.get_by_role("heading", name="Transport legs")).to_be_visible()
    factors = page.locator("section", has=page.get_by_role("heading", name="Emission factors used"))
    expect(factors).to_contain_text("sea.container.average")
    expect(factors).to_contain_text("Freighting goods > Cargo ship")
    source = factors.get_by_role("link", name="source").first
    expect(source).to_have_attribute(
        "href",
        "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2025",
    )
    snap("order-detail")


def test_the_dashboard_chart_says_it_scrolls_sideways_on_a_phone(live_server, page, snap):
    # given a member of a customer (no orders yet: the chart still shows its twelve months)
    organisation = OrganisationFactory(slug="nordwind", name="Nordwind Energietechnik GmbH")
    member = UserFactory(email="jonas.weber@nordwind.example")
    MembershipFactory(user=member, organisation=organisation, role=Role.MEMBER)
    sign_in(page, live_server, member.email)
    chart = page.get_by_role("region", name="Monthly emissions chart")
    hint = page.get_by_text("Scroll sideways to see every month.")
    overflow = "el => el.scrollWidth - el.clientWidth"
    fade = "el => getComputedStyle(el.parentElement, '::after').content"

    # when they open the dashboard on a 375 px phone
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + "/o/nordwind/")

    # then the chart scrolls inside its region, under a fade at its right edge and over a hint
    expect(chart).to_be_visible()
    expect(hint).to_be_visible()
    assert chart.evaluate(overflow) > 200
    assert chart.evaluate(fade) == '""'
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    snap("phone")
    # and the region takes focus, so the arrow keys scroll it
    chart.focus()
    page.keyboard.press("ArrowRight")
    expect(chart).to_be_focused()
    page.wait_for_function("() => document.querySelector('.chart-scroll').scrollLeft > 0")

    # when the same page is open on a desktop
    page.set_viewport_size({"width": 1280, "height": 800})

    # then the chart fits its card: no scrolling, no hint, no fade
    expect(hint).to_be_hidden()
    assert chart.evaluate(overflow) == 0
    assert chart.evaluate(fade) == "none"
    snap("desktop")
