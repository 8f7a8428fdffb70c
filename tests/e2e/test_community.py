"""Community journey in a real browser: a customer asks a question, a vendor engineer answers, the
customer accepts the answer, a customer of another organisation finds it through search, and a
customer of an organisation without access to a private space cannot see that it exists."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from community.models import Audience, Space, Tag, Topic
from portal.models import Role
from portal.staff_roles import StaffRole
from tests.community.conftest import settled
from tests.conftest import _staff
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_journeys import sign_in, staff_page, url
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Inverter shows error E-42 after the firmware update"


def _customer(email, organisation):
    user = UserFactory(email=email, first_name=email.split(".")[0].title())
    MembershipFactory(user=user, organisation=organisation, role=Role.MEMBER)
    return settled(user)


def test_question_answered_accepted_and_found_by_another_customer(live_server, browser, page, snap):
    # given: a public Q&A space, a board private to Huadong, two customers and an engineer
    huadong = OrganisationFactory(slug="huadong-pv", name="Huadong PV", country="CN")
    nordwind = OrganisationFactory(slug="nordwind", name="Nordwind Energie", country="DE")
    Space.objects.create(name="Product Q&A", slug="product-qa", description="Ask our engineers.")
    board = Space.objects.create(
        name="Huadong R&D board", slug="huadong-board", audience=Audience.ORGANISATIONS
    )
    board.organisations.set([huadong])
    Tag.objects.create(name="Firmware", slug="firmware")
    asker = _customer("li.wei@huadong.example", huadong)
    finder = _customer("anna.schmidt@nordwind.example", nordwind)
    engineer = _staff("product@greenloop.example", StaffRole.PRODUCT, first_name="Erik")
    engineer_secret = generate_totp_secret()  # staff power needs the second factor
    TOTP.activate(engineer, engineer_secret)

    # when: the Huadong customer asks a question in the Q&A space
    sign_in(page, live_server, asker.email)
    page.goto(live_server.url + "/community/")
    expect(page.locator("body")).to_contain_text("Huadong R&D board")
    page.get_by_role("link", name="Product Q&A").first.click()
    expect(page).to_have_url(url(live_server, "/community/s/product-qa/"))
    page.get_by_role("link", name="New topic").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Question").check()
    page.get_by_label("Text").fill(
        "Since 4.1 our inverters at the Suzhou plant show **E-42** at dawn.\n\n"
        "<script>alert('x')</script>"
    )
    page.get_by_label("Firmware").check()
    snap("community-ask")
    page.get_by_role("button", name="Post topic").click()
    # the topic's page has loaded, so the request that created it has finished
    expect(page).to_have_url(re.compile(r"/community/t/\d+/$"))
    topic = Topic.objects.get(title=TITLE)
    expect(page).to_have_url(url(live_server, f"/community/t/{topic.pk}/"))
    expect(page.locator("body")).to_contain_text("<script>alert('x')</script>")
    assert page.locator(".post script").count() == 0

    # when: a vendor engineer answers it
    engineer_page = staff_page(browser, live_server, engineer.email, engineer_secret)
    engineer_page.goto(live_server.url + f"/community/t/{topic.pk}/")
    engineer_page.locator("#reply").get_by_role("textbox", name="Text").fill(
        "E-42 is the DC insulation check. Firmware **4.1.3** raises the dawn threshold; "
        "update from the service menu."
    )
    engineer_page.get_by_role("button", name="Post reply").click()
    expect(engineer_page.locator("body")).to_contain_text("Firmware 4.1.3 raises")
    engineer_page.screenshot(path=str(ARTIFACTS / "community-answered.png"), full_page=True)
    engineer_page.context.close()

    # then: the asker accepts the answer and the topic is marked solved
    page.reload()
    expect(page.locator("body")).to_contain_text("4.1.3")
    page.get_by_role("button", name="Accept answer").click()
    expect(page.locator("body")).to_contain_text("Solved")
    snap("community-accepted")
    topic.refresh_from_db()
    assert topic.accepted_answer is not None
    assert topic.accepted_answer.author == engineer

    # when: a Nordwind customer searches for the error code
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    other.set_default_timeout(30_000)
    finder_page = other.new_page()
    sign_in(finder_page, live_server, finder.email)
    finder_page.goto(live_server.url + "/community/search/?q=E-42+firmware")
    result = finder_page.get_by_role("link", name=TITLE)
    expect(result).to_be_visible()
    finder_page.screenshot(path=str(ARTIFACTS / "community-search.png"), full_page=True)
    result.click()
    expect(finder_page.locator("body")).to_contain_text("Solved")

    # then: Huadong's private board does not exist for them: not listed, and 404 by address
    finder_page.goto(live_server.url + "/community/")
    expect(finder_page.locator("body")).to_contain_text("Product Q&A")
    expect(finder_page.locator("body")).not_to_contain_text("Huadong R&D board")
    response = finder_page.goto(live_server.url + "/community/s/huadong-board/")
    assert response.status == 404
    expect(finder_page.locator("body")).not_to_contain_text("Huadong R&D board")
    finder_page.screenshot(path=str(ARTIFACTS / "community-private-404.png"), full_page=True)
    other.close()
