"""The CRM bridge in a real browser, as issue #13's "done when" reads: an integration admin
activates a webhook endpoint and sends a test event; a customer's action reaches the receiver
signed and verified; a dead-lettered delivery is replayed from the admin and arrives at once, in
order. (README "Watching events flow" walks the same on the demo.)"""

import base64
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from portal.crm.receiver import Receiver
from portal.models import CrmEndpoint, Delivery, Role
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_journeys import sign_in, staff_page
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "whsec_" + base64.b64encode(b"e2e-crm-walk-secret-32-bytes-ok!").decode()


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


def _invite(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/o/nordwind/members/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("body")).to_contain_text(f"Invitation sent to {email}.")


def test_events_reach_the_crm_and_a_dead_letter_is_replayed_from_the_admin(
    live_server, browser, page, snap, receiver, settings
):
    # given: the demo's eager after-commit delivery, a disabled endpoint at a local receiver, a
    # customer admin and an integration admin with an authenticator
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "kick_after_commit": True}
    organisation = OrganisationFactory(slug="nordwind", name="Nordwind")
    customer = UserFactory(email="anna@nordwind.example")
    MembershipFactory(user=customer, organisation=organisation, role=Role.ADMIN)
    endpoint = CrmEndpoint.objects.create(
        name="Demo CRM receiver", url=receiver.url, secret=SECRET, is_active=False
    )
    ensure_staff_groups()
    staff = UserFactory(email="integration@greenloop.example", is_staff=True)
    staff.groups.add(Group.objects.get(name=StaffRole.INTEGRATION_ADMIN))
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    admin = staff_page(browser, live_server, staff.email, secret)

    # when: the integration admin activates the endpoint through "…" > Edit
    inspect = live_server.url + reverse("crm_endpoints:inspect", args=[endpoint.pk])
    admin.goto(inspect)
    admin.get_by_role("button", name="Actions", exact=True).click()
    admin.get_by_role("link", name="Edit").click()
    admin.get_by_role("checkbox", name="Active").check()
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("body")).to_contain_text("CRM endpoint 'Demo CRM receiver' updated.")
    # and sends a test event from the endpoint's page
    admin.goto(inspect)
    admin.get_by_role("link", name="Send test event").click()
    expect(admin.locator("main")).to_contain_text(receiver.url)  # the screen says where
    admin.get_by_role("button", name="Send").click()
    expect(admin.locator("body")).to_contain_text("delivered in")
    admin.screenshot(path=str(_artifact("crm-test-event-sent")), full_page=True)
    # then: the receiver got it, signed with the endpoint's secret
    assert [r.event["type"] for r in receiver.wait_for(1)] == ["greenloop.crm.endpoint_tested"]

    # when: the customer invites someone (a domain event, delivered right after the commit)
    sign_in(page, live_server, customer.email)
    _invite(page, live_server, "first@nordwind.example")
    snap("invited")
    # then: it arrives verified, as the organisation's event
    received = receiver.wait_for(2)
    assert received[1].event["type"] == "greenloop.account.member_invited"
    assert received[1].event["greenloopaccount"] == str(organisation.pk)

    # when: the CRM fails and the next event is dead-lettered at its first failure
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "max_attempts": 1}
    receiver.state.fail_with = 500
    _invite(page, live_server, "second@nordwind.example")
    dead = Delivery.objects.get(state="dead")
    receiver.state.fail_with = None
    # then: the endpoint's page shows it with the CRM's answer
    admin.goto(inspect)
    expect(admin.locator("main")).to_contain_text("HTTP 500: receiver told to fail")
    expect(admin.locator("main")).to_contain_text("Dead-lettered: 1")
    admin.screenshot(path=str(_artifact("crm-dead-letter")), full_page=True)

    # when: staff replay it through "…" > Replay dead-lettered
    admin.get_by_role("button", name="Actions", exact=True).click()
    admin.get_by_role("link", name="Replay dead-lettered").click()
    admin.get_by_role("button", name="Replay").click()
    expect(admin.locator("body")).to_contain_text("1 delivery is due again.")
    # then: it arrives at once (no worker, no pass run by hand), after the earlier ones
    received = receiver.wait_for(3)
    assert [r.id for r in received][2] == str(dead.event_id)
    assert receiver.state.bad_signatures == 0
    assert receiver.state.duplicates == 0
    dead.refresh_from_db()
    assert dead.state == "delivered"
    admin.context.close()


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
