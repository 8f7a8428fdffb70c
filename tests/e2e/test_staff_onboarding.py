"""A new vendor staff member's first sign-in, in a real browser: TOTP activation, the recovery
codes and their Continue, then the admin home's work queue, with no console error on the way."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_journeys import activate_totp, sign_in, url
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_first_staff_sign_in_reaches_the_work_queue(
    live_server, page, snap, settings, wagtail_rows
):
    settings.MFA_TOTP_TOLERANCE = 1
    staff = UserFactory(email="new.staff@greenloop.example", is_staff=True, is_superuser=True)
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))

    # when: they sign in for the first time, they are sent straight to the authenticator set-up
    sign_in(page, live_server, staff.email)
    expect(page).to_have_url(url(live_server, "/accounts/2fa/totp/activate/"))
    # (everything the page loads has loaded: nothing in the background may replace the secret)
    page.wait_for_load_state("networkidle")
    # then: the code of the QR code they scanned is accepted, and their recovery codes shown
    activate_totp(page, live_server, snap, staff)

    # when: they continue
    page.get_by_role("link", name="Continue to the admin").click()

    # then: the admin opens on their work queue, GreenLoop's, without Wagtail's guide
    expect(page).to_have_url(url(live_server, "/admin/"))
    expect(page.get_by_role("heading", name="Your work queue")).to_be_visible()
    expect(page.locator("[data-work-queue]")).to_have_count(6)
    expect(page.get_by_text("editor guide")).to_have_count(0)
    snap("admin-home")
    assert errors == []
