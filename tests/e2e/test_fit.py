"""The customer pages fit a phone: at 375 px, in English and in Chinese, no page is wider than
the screen (wide tables hide their low-priority columns or stack their rows; identifiers and
badges keep to one line without pushing the page sideways)."""

import pytest
from playwright.sync_api import expect

from carbon.models import Order
from community.models import Topic
from portal.demo import DEMO_PASSWORD
from tests.e2e.test_journeys import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}
# Where the page is wider than the screen: its width, and the first elements that stick out
# (not counting what scrolls inside a box of its own, such as a chart's scroller).
OVERFLOW = """() => {
  const width = window.innerWidth;
  const outside = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let parent = element.parentElement, clipped = false;
    while (parent && parent !== document.body) {
      if (getComputedStyle(parent).overflowX !== "visible") { clipped = true; break; }
      parent = parent.parentElement;
    }
    if (!clipped) outside.push(`${element.tagName}.${element.className}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, outside: outside.slice(0, 5)};
}"""


def _customer_pages(slug: str) -> list[str]:
    order = Order.objects.filter(organisation__slug=slug).order_by("-order_date", "-pk").first()
    topic = Topic.objects.filter(posts__number=2).order_by("pk").first()
    org = f"/o/{slug}"
    return [
        f"{org}/",
        f"{org}/orders/",
        f"{org}/orders/{order.pk}/",
        f"{org}/green-power/",
        f"{org}/trends/",
        f"{org}/points/",
        f"{org}/points/catalogue/",
        f"{org}/points/redemptions/",
        f"{org}/members/",
        "/community/",
        f"/community/t/{topic.pk}/",
    ]


# One test for both people: the demo is seeded once.
PEOPLE = [
    ("anna.schmidt@nordwind.example", "nordwind", "en"),
    ("li.wei@huadong.example", "huadong-pv", "zh-hans"),
]


def test_customer_pages_fit_a_phone_in_english_and_chinese(live_server, browser, demo):
    wider = {}
    for email, slug, language in PEOPLE:
        # given a customer of the demo on a 375 px phone, who reads their stored language
        context = browser.new_context(viewport=PHONE, locale="en-GB")
        context.set_default_timeout(30_000)
        page = context.new_page()
        sign_in(page, live_server, email, DEMO_PASSWORD)
        # when they open each of their main pages
        for path in _customer_pages(slug):
            response = page.goto(live_server.url + path, wait_until="networkidle")
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("lang", language)
            measured = page.evaluate(OVERFLOW)
            if measured["scroll"] > measured["width"]:
                wider[f"{language} {path}"] = measured
        context.close()
    # then none is wider than the screen
    assert wider == {}
