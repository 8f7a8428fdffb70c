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


@pytest.mark.parametrize(
    ("path", "regions", "empty"),
    [
        ("/o/nordwind/", ["Monthly emissions chart"], []),
        (
            "/o/nordwind/trends/",
            ["Monthly emissions chart", "Points earned and redeemed by month chart"],
            ["Intensity by transport mode chart"],
        ),
    ],
    ids=["dashboard", "trends"],
)
def test_the_charts_say_they_scroll_sideways_on_a_phone(
    live_server, page, snap, path, regions, empty
):
    # given a member of a customer (no orders yet: the monthly charts still show their twelve
    # months; the intensity chart has no transport mode to draw)
    organisation = OrganisationFactory(slug="nordwind", name="Nordwind Energietechnik GmbH")
    member = UserFactory(email="jonas.weber@nordwind.example")
    MembershipFactory(user=member, organisation=organisation, role=Role.MEMBER)
    sign_in(page, live_server, member.email)
    charts = [page.get_by_role("region", name=name, exact=True) for name in regions]
    blanks = [page.get_by_role("region", name=name, exact=True) for name in empty]
    overflow = "el => el.scrollWidth - el.clientWidth"
    fade = "el => getComputedStyle(el.parentElement, '::after').content"
    # each chart's hint is the element that describes its region
    hint = "el => document.getElementById(el.getAttribute('aria-describedby')).checkVisibility()"
    # where the no-data text and its chart's region are on the screen
    inside = (
        "el => { const t = el.querySelector('text.no_data').getBoundingClientRect(),"
        " r = el.getBoundingClientRect();"
        " return t.width > 0 && t.left >= r.left && t.right <= r.right"
        " && t.right <= document.documentElement.clientWidth; }"
    )

    # when they open the page on a 375 px phone
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + path)

    # then every chart scrolls inside its region, under a fade at its right edge and over a hint
    expect(page.locator(".chart-scroll")).to_have_count(len(regions) + len(empty))
    for chart in charts:
        expect(chart).to_be_visible()
        assert chart.evaluate(hint) is True
        assert chart.evaluate(overflow) > 200
        assert chart.evaluate(fade) == '""'
    # but a chart with nothing to draw fits its card and says so, whole, on the screen
    for blank in blanks:
        expect(blank).to_be_visible()
        expect(blank.locator("text.no_data")).to_have_text("No data for this period")
        assert blank.evaluate(inside) is True
        assert blank.evaluate(hint) is False
        assert blank.evaluate(overflow) == 0
        assert blank.evaluate(fade) == "none"
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    snap("phone")
    # and each region takes focus, so the arrow keys scroll it
    for chart in charts:
        chart.focus()
        page.keyboard.press("ArrowRight")
        expect(chart).to_be_focused()
        page.wait_for_function("el => el.scrollLeft > 0", arg=chart.element_handle())

    # when the same page is open on a desktop
    page.set_viewport_size({"width": 1280, "height": 800})

    # then every chart fits its card: no scrolling, no hint, no fade
    for chart in charts + blanks:
        assert chart.evaluate(hint) is False
        assert chart.evaluate(overflow) == 0
        assert chart.evaluate(fade) == "none"
    for blank in blanks:
        assert blank.evaluate(inside) is True
    snap("desktop")


def test_the_green_power_form_stays_inside_its_card_on_a_phone(live_server, page, snap):
    # given an admin of a customer with a site, on a 375 px phone
    organisation = OrganisationFactory(slug="nordwind", name="Nordwind Energietechnik GmbH")
    SiteFactory(organisation=organisation, name="Werk Hamburg", country="DE", region="DE")
    admin = UserFactory(email="anna.schmidt@nordwind.example")
    MembershipFactory(user=admin, organisation=organisation, role=Role.ADMIN)
    sign_in(page, live_server, admin.email)
    page.set_viewport_size({"width": 375, "height": 812})
    # when they open the green power declaration form
    page.goto(live_server.url + "/o/nordwind/green-power/")
    # then each instrument's fieldset keeps within the form's card, though its type select holds
    # "China Green Electricity Certificate (GEC)" (a fieldset is as wide as its widest content
    # unless told otherwise)
    fieldsets = page.locator("fieldset.card--inset")
    expect(fieldsets.first).to_be_visible()
    card_right = page.locator("section.card", has=fieldsets.first).evaluate(
        "el => el.getBoundingClientRect().right"
    )
    for right in fieldsets.evaluate_all("els => els.map(el => el.getBoundingClientRect().right)"):
        assert right <= card_right
    snap("phone")
