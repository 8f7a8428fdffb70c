"""The audit rows written by `portal.signals` for what allauth and Django announce only as
signals: 2FA turned on, removed and reset, a rejected 2FA code, password and e-mail changes. Each
test drives the real allauth page, so a receiver that stops listening (or a signal allauth stops
sending where we expect it) fails here."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) GreenLoopSignals/1.0"


def _reauthenticate(client) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert response.status_code == 302


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


def _wrong_code(secret: str) -> str:
    # A code from a window far outside the tolerance (one step), so it is always wrong.
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + 1000))


def test_turning_totp_on_is_recorded_once(client, member_a, django_capture_on_commit_callbacks):
    # given a member without two-factor authentication, recently re-authenticated
    client.force_login(member_a)
    _reauthenticate(client)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    before = AuditEvent.objects.count()
    # when they enter a code from their authenticator app
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("mfa_activate_totp"),
            {"code": format_hotp_value(hotp_value(secret, int(time.time()) // 30))},
            REMOTE_ADDR="192.0.2.29",
        )
    # then allauth also issues recovery codes (announcing them as a second authenticator added),
    # but the trail has one "turned on" entry: the TOTP activation that brought them
    assert response.status_code == 302
    assert sorted(Authenticator.objects.filter(user=member_a).values_list("type", flat=True)) == [
        "recovery_codes",
        "totp",
    ]
    event = AuditEvent.objects.get(action="mfa.authenticator_added")
    assert (event.actor, event.details, event.ip_address) == (
        member_a,
        {"type": "totp"},
        "192.0.2.29",
    )
    assert AuditEvent.objects.count() == before + 1


def test_removing_totp_is_recorded_once_though_its_recovery_codes_go_too(
    client, member_a, enable_totp, django_capture_on_commit_callbacks
):
    # given a member with TOTP and recovery codes, recently re-authenticated
    enable_totp(member_a)
    RecoveryCodes.activate(member_a)
    client.force_login(member_a)
    _reauthenticate(client)
    before = AuditEvent.objects.count()
    # when they turn TOTP off
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("mfa_deactivate_totp"), REMOTE_ADDR="192.0.2.30", HTTP_USER_AGENT=BROWSER
        )
    # then the trail has one "turned off" entry, with who, from where and which kind of factor,
    # though allauth deleted the dangling recovery codes as well
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=member_a).exists()
    event = AuditEvent.objects.get(action="mfa.authenticator_removed")
    assert (event.actor, event.details, event.ip_address, event.user_agent) == (
        member_a,
        {"type": "totp"},
        "192.0.2.30",
        BROWSER,
    )
    assert AuditEvent.objects.count() == before + 1


def test_regenerating_recovery_codes_is_recorded_as_a_reset(
    client, member_a, enable_totp, django_capture_on_commit_callbacks
):
    enable_totp(member_a)
    RecoveryCodes.activate(member_a)
    client.force_login(member_a)
    _reauthenticate(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_generate_recovery_codes"), REMOTE_ADDR="192.0.2.31")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="mfa.authenticator_reset")
    assert event.actor == member_a
    assert event.details == {"type": "recovery_codes"}
    assert event.ip_address == "192.0.2.31"


def test_a_rejected_second_factor_code_is_recorded(client, member_a, enable_totp):
    # given a member with TOTP who got past the password step
    totp = enable_totp(member_a)
    response = client.post(
        reverse("account_login"), {"login": "member@acme.example", "password": TEST_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    # when they enter a wrong code
    response = client.post(
        reverse("mfa_authenticate"),
        {"code": _wrong_code(totp.wrap().instance.data["secret"])},
        REMOTE_ADDR="192.0.2.32",
        HTTP_USER_AGENT=BROWSER,
    )
    # then they stay out, and the rejected code is on the trail against the account
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="mfa.code_rejected")
    assert event.actor == member_a
    assert event.ip_address == "192.0.2.32"
    assert event.user_agent == BROWSER
    assert "auth.signed_in" not in _actions()


def test_changing_the_password_is_recorded(client, member_a):
    client.force_login(member_a)
    new_password = "N3w-and-l0nger-passphrase"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": new_password, "password2": new_password},
        REMOTE_ADDR="192.0.2.33",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor == member_a
    assert event.ip_address == "192.0.2.33"
    # the trail never holds a password, old or new
    stored = str(list(AuditEvent.objects.values()))
    assert new_password not in stored
    assert TEST_PASSWORD not in stored


def test_resetting_the_password_by_e_mail_is_recorded(client, member_a, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "member@acme.example"})
    assert len(mailoutbox) == 1
    link = next(w for w in mailoutbox[0].body.split() if "/password/reset/key/" in w)
    form_url = client.get(link)["Location"]
    new_password = "An0ther-l0nger-passphrase"
    response = client.post(
        form_url,
        {"password1": new_password, "password2": new_password},
        REMOTE_ADDR="192.0.2.34",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.password_reset")
    assert event.actor == member_a
    assert event.ip_address == "192.0.2.34"


def test_making_another_address_primary_is_recorded_as_an_e_mail_change(client, member_a):
    # given a member with a second, verified address, recently re-authenticated
    EmailAddress.objects.create(user=member_a, email="new@acme.example", verified=True)
    client.force_login(member_a)
    _reauthenticate(client)
    # when they make it their primary address
    response = client.post(
        reverse("account_email"),
        {"action_primary": "", "email": "new@acme.example"},
        REMOTE_ADDR="192.0.2.35",
    )
    # then the change names both addresses
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.email_changed")
    assert event.actor == member_a
    assert event.details == {"from": "member@acme.example", "to": "new@acme.example"}
    assert event.ip_address == "192.0.2.35"
