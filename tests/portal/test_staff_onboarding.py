"""Staff onboarding: the first sign-in leads straight into two-factor setup (no second password
prompt within minutes of typing it), and the recovery codes page has a way on."""

from __future__ import annotations

import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ACTIVATE_TOTP = "/accounts/2fa/totp/activate/"
RECOVERY_CODES = "/accounts/2fa/recovery-codes/"


def _sign_in(client, email: str) -> None:
    response = client.post("/accounts/login/", {"login": email, "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_new_staff_set_up_totp_without_typing_their_password_twice(client, db):
    # given a staff member without a second factor, who has just signed in with their password
    UserFactory(email="new.staff@greenloop.example", is_staff=True)
    _sign_in(client, "new.staff@greenloop.example")
    # when the enforcement sends them to the two-factor setup
    landing = client.get("/admin/")
    setup = client.get(ACTIVATE_TOTP)
    # then the setup page opens at once, not allauth's "Confirm access"
    assert landing["Location"] == ACTIVATE_TOTP
    assert setup.status_code == 200
    assert b"Activate Authenticator App" in setup.content


def test_a_sign_in_older_than_five_minutes_asks_for_the_password_again(client, db):
    # given a staff member who signed in six minutes ago
    UserFactory(email="old.staff@greenloop.example", is_staff=True)
    _sign_in(client, "old.staff@greenloop.example")
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    records[-1]["at"] = time.time() - 360
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()
    # when they open the two-factor setup
    response = client.get(ACTIVATE_TOTP)
    # then allauth asks them to confirm access first
    assert response.status_code == 302
    assert response["Location"] == (
        "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    )


def test_a_session_without_a_sign_in_record_still_confirms_access(client, db):
    # given a session that never typed a password (a restored or forced login)
    staff = UserFactory(email="forced.staff@greenloop.example", is_staff=True)
    client.force_login(staff)
    # when it opens the two-factor setup
    response = client.get(ACTIVATE_TOTP)
    # then the password is asked for
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_recovery_codes_page_leads_staff_on_to_the_admin(client, enable_totp, db):
    # given a staff member who has just turned on TOTP (allauth made recovery codes too)
    staff = UserFactory(email="codes.staff@greenloop.example", is_staff=True)
    enable_totp(staff)
    RecoveryCodes.activate(staff)
    _sign_in(client, "codes.staff@greenloop.example")
    client.post(
        "/accounts/2fa/authenticate/",
        {"code": _totp_code(staff)},
    )
    # when they see their recovery codes
    page = client.get(RECOVERY_CODES)
    # then a Continue button takes them to the admin
    assert page.status_code == 200
    assert b'<a class="btn" id="continue" href="/admin/">Continue to the admin</a>' in page.content


def test_recovery_codes_page_leads_a_member_to_their_dashboard(client, member_a, enable_totp):
    # given a member with TOTP and recovery codes, signed in within the last minutes
    enable_totp(member_a)
    RecoveryCodes.activate(member_a)
    _sign_in(client, member_a.email)
    client.post("/accounts/2fa/authenticate/", {"code": _totp_code(member_a)})
    # when they open the recovery codes in Chinese
    page = client.get(RECOVERY_CODES, headers={"accept-language": "zh-hans"})
    # then the way on goes to their dashboard, in Chinese
    assert page.status_code == 200
    assert f'href="{reverse("portal:dashboard")}">继续使用 GreenLoop</a>'.encode() in page.content


def _totp_code(user) -> str:
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return format_hotp_value(hotp_value(decrypt(totp.data["secret"]), int(time.time()) // 30))
