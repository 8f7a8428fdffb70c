"""The journeys a customer takes through the portal, in a real browser against the live server."""

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from portal import actions
from portal.models import Membership, Role
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def totp_code(secret: str) -> str:
    """RFC 6238: HMAC-SHA1 over the number of 30-second steps since the epoch, 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def url(live_server, path: str) -> re.Pattern:
    return re.compile("^" + re.escape(live_server.url + path) + r"(\?.*)?$")


def sign_in(page, live_server, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Wait for the answer before the caller reads the database or opens the next page: a goto
    # right after the click would cancel the sign-in request.
    page.wait_for_url(lambda address: "/accounts/login/" not in address)


def staff_page(browser, live_server, email: str, totp_secret: str):
    """A second browser window (the vendor's), signed in as a staff member with their
    authenticator code; close it with `page.context.close()`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.locator("input[name=code]").fill(totp_code(totp_secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda address: "/accounts/2fa/authenticate/" not in address)
    return page


def activate_totp(page, live_server, snap, user) -> str:
    """On the TOTP page: enter the code of the secret shown, as an authenticator app would, and
    land on the recovery codes with TOTP on. Returns the secret."""
    snap("totp-activate")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(url(live_server, "/accounts/2fa/recovery-codes/"))
    snap("recovery-codes")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1
    return secret


def test_sign_in_with_email_verification_then_totp(live_server, page, snap, mailoutbox, settings):
    # given: a member whose address was never confirmed
    # (one step of clock tolerance, so a code computed at the end of a 30 s window still counts)
    settings.MFA_TOTP_TOLERANCE = 1
    organisation = OrganisationFactory(slug="acme", name="Acme Solar")
    user = UserFactory(email="new.member@acme.example", verified=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    MembershipFactory(user=user, organisation=organisation, role=Role.MEMBER)

    # when: they sign in, allauth holds them until the address is confirmed
    sign_in(page, live_server, user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Verify"))
    snap("verification-sent")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)

    page.goto(link)
    snap("confirm-email")
    page.get_by_role("button", name="Confirm").click()

    # then: confirmed and signed in, on their organisation's dashboard
    expect(page).to_have_url(url(live_server, "/o/acme/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Solar")
    snap("dashboard-after-confirmation")
    assert EmailAddress.objects.get(user=user).verified is True

    # when: they turn on an authenticator app (no second password prompt: they signed in with
    # it minutes ago)
    page.goto(live_server.url + "/accounts/2fa/totp/activate/")
    expect(page).to_have_url(url(live_server, "/accounts/2fa/totp/activate/"))
    expect(page.locator(".qr img")).to_be_visible()
    # then: TOTP is on and recovery codes are shown
    secret = activate_totp(page, live_server, snap, user)

    # when: they sign out and in again
    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".topbar").get_by_role("link", name="Sign in")).to_be_visible()
    sign_in(page, live_server, user.email)

    # then: the password alone is not enough; the authenticator code gets them in
    expect(page).to_have_url(url(live_server, "/accounts/2fa/authenticate/"))
    snap("totp-challenge")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(url(live_server, "/o/acme/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Solar")
    snap("dashboard-after-totp")


def test_accepting_an_invitation_creates_the_account_and_membership(live_server, page, snap):
    # given: an admin of Acme Solar invites a new colleague
    organisation = OrganisationFactory(slug="acme", name="Acme Solar")
    admin = UserFactory(email="admin@acme.example")
    MembershipFactory(user=admin, organisation=organisation, role=Role.ADMIN)
    invitation = actions.invite_member(organisation, "new.hire@acme.example", Role.MEMBER, by=admin)

    # when: the invitee opens the link without an account
    page.goto(live_server.url + f"/invitations/{invitation.key}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme Solar")
    snap("invitation")
    page.get_by_role("link", name="Create account").click()

    # then: sign-up is open for the invited address only, prefilled and read-only
    expect(page).to_have_url(url(live_server, "/accounts/signup/"))
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_value("new.hire@acme.example")
    expect(email).to_have_attribute("readonly", re.compile(".*"))
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Hire")
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_label("Password (again)").fill(TEST_PASSWORD)
    snap("sign-up")
    page.get_by_role("button", name="Sign Up").click()

    # then: creating the account accepted the invitation: a member of Acme Solar, on its
    # dashboard, without a second "Accept"
    expect(page).to_have_url(url(live_server, "/o/acme/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Solar")
    expect(page.get_by_role("status")).to_contain_text("Welcome to Acme Solar.")
    snap("dashboard")
    membership = Membership.objects.get(
        organisation=organisation, user__email="new.hire@acme.example"
    )
    assert membership.role == Role.MEMBER
    assert membership.user.get_full_name() == "Nora Hire"
    invitation.refresh_from_db()
    assert invitation.accepted_by == membership.user


def test_switching_organisation_and_language(live_server, page, snap):
    # given: a consultant who works for two customers
    acme = OrganisationFactory(slug="acme", name="Acme Solar")
    globex = OrganisationFactory(slug="globex", name="Globex Power")
    user = UserFactory(email="consultant@audit.example")
    MembershipFactory(user=user, organisation=acme, role=Role.MEMBER)
    MembershipFactory(user=user, organisation=globex, role=Role.MEMBER)
    sign_in(page, live_server, user.email)
    expect(page).to_have_url(re.compile(r"/o/(acme|globex)/$"))
    page.goto(live_server.url + "/o/acme/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Solar")
    snap("acme")

    # when: they open the organisation menu in the top bar (links, which keyboards and crawlers
    # follow) and pick the other organisation
    switcher = page.locator("details.switcher")
    expect(switcher.locator("summary")).to_have_text("Acme Solar")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="Globex Power").click()

    # then: Globex's dashboard, and the menu names it
    expect(page).to_have_url(url(live_server, "/o/globex/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Power")
    expect(switcher.locator("summary")).to_have_text("Globex Power")
    snap("globex")

    # when: they choose Simplified Chinese in their menu
    page.locator(".usermenu summary").click()
    page.locator("#lang-switch").select_option("zh-hans")

    # then: the page is served in that language, and the selector says so
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(url(live_server, "/o/globex/"))
    page.locator(".usermenu summary").click()
    expect(page.locator("#lang-switch")).to_have_value("zh-hans")
    expect(page.locator("#lang-switch option:checked")).to_have_text("简体中文")
    snap("zh-hans")
