"""The portal's pages in a real browser, on the demo data: Content-Security-Policy (the portal's
nonce-based policy and the Wagtail admin's own work without a single violation, including the
admin's date picker, image chooser and page preview), and every customer page on a phone's
screen (375 px) in English and Chinese: nothing wider than the screen, nothing that scrolls
sideways inside its box with no cue, and in Chinese no English word in the interface (what
people stored aside: tests/e2e/page_checks.py). One seeded demo serves both, since seeding
it is the slow part."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect
from wagtail.models import Page

from carbon.models import Order
from community.models import Topic
from portal.demo import DEMO_PASSWORD
from portal.models import User
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import english_on_page, hidden_scrollers, overflow, stored_texts
from tests.e2e.test_journeys import sign_in, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Records every violation the page reports, from the first script on.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


def _watched(browser):
    """A page in a browser context of its own that collects CSP violations (events and console
    errors); `page.violations()` returns those since the last call and forgets them."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(30_000)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def violations() -> list[str]:
        page.wait_for_timeout(300)  # violation events are dispatched asynchronously
        found = page.evaluate("window.__cspViolations.splice(0)") + console
        console.clear()
        return found

    page.violations = violations
    return page


def _visit(page, live_server, path: str) -> list[str]:
    response = page.goto(live_server.url + path, wait_until="networkidle")
    assert response.status == 200, path
    # the page is under its policy: the admin's, or the portal's with a nonce for styles
    expected = "script-src 'self' 'unsafe-inline'" if path.startswith("/admin/") else "'nonce-"
    assert expected in response.headers.get("content-security-policy", ""), path
    return [f"{path}: {violation}" for violation in page.violations()]


def test_portal_and_admin_pages_run_without_csp_violations(live_server, browser, demo):
    watched = _watched(browser)
    # given the demo data and a Huadong member, signed in
    order = Order.objects.filter(organisation__slug="huadong-pv").order_by("pk").first()
    topic = Topic.objects.filter(posts__number=2).order_by("pk").first()
    sign_in(watched, live_server, "zhang.min@huadong.example", DEMO_PASSWORD)
    watched.wait_for_url(lambda address: "/accounts/login/" not in address)
    # when they open the dashboard, an order, their points and a community topic
    violations = []
    for path in (
        "/o/huadong-pv/",
        f"/o/huadong-pv/orders/{order.pk}/",
        "/o/huadong-pv/points/",
        f"/community/t/{topic.pk}/",
    ):
        violations += _visit(watched, live_server, path)
    # and the page script still works (the language switcher submits itself on change; she
    # reads Chinese)
    watched.locator(".usermenu summary").click()
    watched.locator("#lang-switch").select_option("en")
    expect(watched.locator("html")).to_have_attribute("lang", "en")
    violations += [f"language switch: {v}" for v in watched.violations()]
    # then the browser blocked nothing, and the page styles applied (stylesheet, not inline)
    assert violations == []
    assert watched.locator(".post").first.evaluate("e => getComputedStyle(e).borderStyle") == (
        "solid"
    )

    # given a customer of each language on a 375 px phone: Nordwind's admin reads English,
    # Huadong's Chinese
    stored = stored_texts()
    problems = []
    for email, slug, language in (
        ("anna.schmidt@nordwind.example", "nordwind", "en"),
        ("li.wei@huadong.example", "huadong-pv", "zh-hans"),
    ):
        phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-GB")
        phone.set_default_timeout(30_000)
        page = phone.new_page()
        sign_in(page, live_server, email, DEMO_PASSWORD)
        page.wait_for_url(lambda address: "/accounts/login/" not in address)
        # when they open every page of their organisation, the community, their profile and
        # notifications
        for path in _customer_pages(slug):
            response = page.goto(live_server.url + path, wait_until="networkidle")
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("lang", language)
            wide = overflow(page)
            if wide["scrollWidth"] > wide["width"]:
                problems.append(f"{language} {path}: {wide['scrollWidth']} px: {wide['wide']}")
            for box in hidden_scrollers(page):
                problems.append(f"{language} {path}: scrolls with no cue: {box}")
            if language != "en":
                problems += [
                    f"{path}: {found['words']} in {found['text']!r}"
                    for found in english_on_page(page, stored)
                ]
        # and on a portrait tablet (800 px) the top bar is one row (logo, bell, person, menu)
        page.set_viewport_size({"width": 800, "height": 1024})
        page.goto(live_server.url + f"/o/{slug}/", wait_until="networkidle")
        bar = page.locator(".topbar").evaluate("e => e.getBoundingClientRect().height")
        if bar > 70:
            problems.append(f"{language} top bar at 800 px: {bar} px high")
        phone.close()
    # then no page is wider than the screen, no table or chart scrolls sideways unannounced, and
    # the Chinese ones speak Chinese
    assert problems == []

    # given a vendor superuser with an authenticator, signed in in a browser of their own
    watched = _watched(browser)
    admin = User.objects.get(email="admin@greenloop.example")
    secret = generate_totp_secret()
    TOTP.activate(admin, secret)
    sign_in(watched, live_server, admin.email, DEMO_PASSWORD)
    watched.locator("input[name=code]").fill(totp_code(secret))
    watched.get_by_role("button", name="Sign In").click()
    watched.wait_for_url(lambda address: "/accounts/" not in address)
    # when they open admin listings, forms and the page editor
    violations = []
    for path in ("/admin/", "/admin/pages/", "/admin/organisation/", "/admin/carbon_orders/"):
        violations += _visit(watched, live_server, path)
    # ... use the date picker of a filter (an inline script of Wagtail's)
    violations += _visit(watched, live_server, "/admin/auditevent/")
    watched.get_by_role("button", name="Filter").first.click()
    watched.get_by_role("button", name="Time").first.click()
    watched.locator("#id_occurred_at__gte").click()
    expect(watched.locator(".xdsoft_datetimepicker").first).to_be_visible()
    violations += [f"date picker: {v}" for v in watched.violations()]
    # ... choose an image in a modal
    violations += _visit(watched, live_server, "/admin/points_services/new/")
    watched.get_by_role("button", name="Choose an image").click()
    expect(watched.locator(".modal-content")).to_contain_text("Choose an image")
    violations += [f"image chooser: {v}" for v in watched.violations()]
    # ... write in a new rich-text block of the home page (Draftail adds its own <style>)
    home = Page.objects.get(depth=2, slug="home")
    violations += _visit(watched, live_server, f"/admin/pages/{home.pk}/edit/")
    watched.locator("button[title='Insert a block']").first.click()
    watched.get_by_role("option", name="Paragraph").first.click()
    watched.locator(".Draftail-Editor [contenteditable=true]").first.click()
    watched.keyboard.type("Greener deliveries")
    expect(watched.locator(".Draftail-Editor").first).to_contain_text("Greener deliveries")
    violations += [f"rich text: {v}" for v in watched.violations()]
    # ... and preview the home page beside its editor
    watched.get_by_role("button", name="Toggle preview").first.click()
    preview = watched.frame_locator("#w-preview-iframe")
    expect(preview.locator("body")).to_contain_text("What you can do here")
    watched.screenshot(path=str(ARTIFACTS / "csp-admin-preview.png"))
    violations += [f"preview: {v}" for v in watched.violations()]
    # then the browser blocked nothing there either
    assert violations == []


def _customer_pages(slug: str) -> list[str]:
    """Every page an organisation's admin can open, with one of each kind of detail page."""
    from beta_program.boards.models import Board, Idea
    from carbon.models import Redemption

    org = f"/o/{slug}"
    order = Order.objects.filter(organisation__slug=slug).order_by("-order_date", "-pk").first()
    topic = Topic.objects.filter(posts__number=2).order_by("pk").first()
    board = Board.objects.filter(visibility="public").order_by("pk").first()
    idea = Idea.objects.filter(board=board).order_by("pk").first()
    redemption = Redemption.objects.filter(organisation__slug=slug).order_by("pk").first()
    pages = [
        f"{org}/",
        f"{org}/orders/",
        f"{org}/orders/{order.pk}/",
        f"{org}/orders/import/",
        f"{org}/orders/import/categories/",
        f"{org}/green-power/",
        f"{org}/trends/",
        f"{org}/reports/",
        f"{org}/points/",
        f"{org}/points/how-it-works/",
        f"{org}/points/catalogue/",
        f"{org}/points/redemptions/",
        f"{org}/members/",
        f"{org}/tokens/",
        f"{org}/settings/",
        f"{org}/audit/",
        f"{org}/beta/",
        f"{org}/beta/applications/",
        f"{org}/beta/agreements/",
        f"{org}/beta/feedback/",
        f"{org}/ideas/",
        f"{org}/ideas/b/{board.slug}/",
        f"{org}/ideas/{idea.pk}/",
        f"{org}/ideas/roadmap/",
        "/community/",
        "/community/ask/",
        f"/community/t/{topic.pk}/",
        "/community/search/?q=储能" if slug == "huadong-pv" else "/community/search/?q=firmware",
        "/community/notifications/",
        "/community/preferences/",
        "/notifications/",
        "/accounts/profile/",
        "/accounts/privacy/",
    ]
    if redemption is not None:
        pages.append(f"{org}/points/redemptions/{redemption.pk}/")
    return pages
