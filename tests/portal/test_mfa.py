"""Two-factor enforcement: staff before the admin, members of organisations that require it."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from portal import actions
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, Organisation
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ACTIVATE_TOTP = reverse("mfa_activate_totp")


def _require_mfa(org) -> None:
    # Saved as the settings page saves it (a bulk update would bypass portal.person_cache).
    org.require_mfa = True
    org.save(update_fields=["require_mfa"])


def _dashboard(org) -> str:
    return reverse("portal:org_dashboard", kwargs={"org_slug": org.slug})


# --- staff and the admin


def test_staff_without_mfa_are_sent_to_set_it_up(client, db):
    # given a staff member without two-factor authentication
    staff = UserFactory(email="new.staff@greenloop.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    # when they open the admin
    response = client.get(reverse("wagtailadmin_home"))
    # then they are sent to set up TOTP, with the reason
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_TOTP
    page = client.get(ACTIVATE_TOTP, follow=True)
    assert "Staff must turn on two-factor authentication" in page.content.decode()


def test_staff_without_mfa_cannot_reach_any_admin_page(client, db):
    staff = UserFactory(email="new.staff@greenloop.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    for url in ("/admin/pages/", "/admin/auditevent/", "/admin/users/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ACTIVATE_TOTP


def test_background_fetch_during_enrolment_is_refused_as_json(client, db):
    # given a staff member who has not turned on TOTP yet
    staff = UserFactory(email="new.staff@greenloop.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    # when a script asks for the unread count in the background
    response = client.get(
        reverse("portal:notifications_unread"), headers={"accept": "application/json"}
    )
    # then it is refused as JSON, not sent to the TOTP page (whose GET draws a new secret and
    # so voids the QR code the person is scanning), and queues no warning for the next page
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
    page = client.get(ACTIVATE_TOTP, follow=True).content.decode()
    assert "Staff must turn on two-factor authentication" not in page
    # and the set-up pages do not ask for the count at all
    assert "data-unread-url" not in page


def test_staff_with_totp_reach_the_admin(client, staff_success, superuser):
    for user in (staff_success, superuser):
        client.force_login(user)
        assert client.get(reverse("wagtailadmin_home")).status_code == 200


def test_customers_are_not_asked_for_mfa_by_the_admin_rule(client, member_a):
    # a customer has no admin access at all: Wagtail sends them to sign in, not to 2FA setup
    client.force_login(member_a)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- organisations that require MFA


def test_member_of_an_mfa_organisation_is_sent_to_set_it_up(client, org_a, member_a):
    # given Acme requires two-factor authentication and a member has none
    _require_mfa(org_a)
    client.force_login(member_a)
    # when they open Acme's dashboard
    response = client.get(_dashboard(org_a))
    # then they are sent to set up TOTP, told which organisation asks for it
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_TOTP
    page = client.get(reverse("account_email"))
    assert "Acme Solar requires two-factor authentication." in page.content.decode()


def test_account_pages_stay_reachable(client, org_a, member_a):
    _require_mfa(org_a)
    client.force_login(member_a)
    # e-mail settings and the reauthentication step before TOTP setup still open
    assert client.get(reverse("account_email")).status_code == 200
    assert client.get(reverse("account_reauthenticate")).status_code == 200
    # the organisation's API tokens keep working (machines carry no second factor)
    _, token = actions.issue_api_token(org_a, "erp", ["account:read"], by=None)
    anonymous = Client()
    assert (
        anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    # and the 2FA setup itself leads to the password confirmation, not back to itself
    response = client.get(ACTIVATE_TOTP)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_member_sets_up_totp_and_gets_in(
    client, org_a, member_a, django_capture_on_commit_callbacks
):
    # given a member of an organisation that requires two-factor authentication
    _require_mfa(org_a)
    client.force_login(member_a)
    assert client.get(_dashboard(org_a))["Location"] == ACTIVATE_TOTP
    # when they confirm their password and enter a code from their authenticator app
    client.post(
        f"{reverse('account_reauthenticate')}?next={ACTIVATE_TOTP}", {"password": TEST_PASSWORD}
    )
    page = client.get(ACTIVATE_TOTP)
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    with django_capture_on_commit_callbacks(execute=True):
        activated = client.post(ACTIVATE_TOTP, {"code": code})
    # then TOTP is on, the change is audited, and the dashboard opens
    assert activated.status_code == 302
    assert set(Authenticator.objects.filter(user=member_a).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    event = AuditEvent.objects.get(action="mfa.authenticator_added", details__type="totp")
    assert event.actor == member_a
    assert client.get(_dashboard(org_a)).status_code == 200


def test_member_with_totp_uses_the_mfa_organisation(client, org_a, member_a, enable_totp):
    _require_mfa(org_a)
    enable_totp(member_a)
    client.force_login(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200


def test_the_api_session_route_is_closed_too(client, org_a, member_a):
    # given an organisation that requires MFA and a member without it, signed in in the browser
    _require_mfa(org_a)
    client.force_login(member_a)
    # when their session calls the API
    response = client.get("/api/v1/me")
    # then it is refused in the API's error format rather than served
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_members_of_other_organisations_are_not_affected(client, org_a, org_b, member_b):
    _require_mfa(org_a)
    client.force_login(member_b)
    assert client.get(_dashboard(org_b)).status_code == 200


def test_anonymous_visitors_are_not_affected(client, org_a):
    _require_mfa(org_a)
    response = client.get(_dashboard(org_a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- switching the requirement


def test_admin_requires_mfa_and_it_is_audited(org_a, admin_a):
    # when Acme's admin turns the requirement on
    actions.set_require_mfa(org_a, True, by=admin_a)
    # then it is stored and audited
    assert Organisation.objects.get(pk=org_a.pk).require_mfa is True
    event = AuditEvent.objects.get()
    assert event.action == "organisation.mfa_requirement_changed"
    assert event.actor == admin_a
    assert event.organisation == org_a
    assert event.object_id == str(org_a.pk)
    assert event.details == {"require_mfa": True}


@pytest.mark.parametrize("who", ["member_a", "viewer_a", "admin_b"])
def test_non_admins_cannot_change_the_requirement(request, org_a, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDeniedError):
        actions.set_require_mfa(org_a, True, by=user)
    assert Organisation.objects.get(pk=org_a.pk).require_mfa is False
    assert AuditEvent.objects.count() == 0


def test_admin_requires_mfa_through_the_settings_page(client, org_a, admin_a):
    client.force_login(admin_a)
    url = reverse("portal:org_settings", kwargs={"org_slug": "acme"})
    assert client.get(url).status_code == 200
    response = client.post(url, {"require_mfa": "on"}, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302
    assert Organisation.objects.get(pk=org_a.pk).require_mfa is True
    event = AuditEvent.objects.get(action="organisation.mfa_requirement_changed")
    assert event.ip_address == "198.51.100.4"
    # the admin is now held to the rule too
    assert client.get(_dashboard(org_a))["Location"] == ACTIVATE_TOTP


def test_member_cannot_post_the_settings_page(client, org_a, member_a):
    client.force_login(member_a)
    url = reverse("portal:org_settings", kwargs={"org_slug": "acme"})
    response = client.post(url, {"require_mfa": "on"})
    assert response.status_code == 403
    assert Organisation.objects.get(pk=org_a.pk).require_mfa is False
    assert not AuditEvent.objects.filter(action="organisation.mfa_requirement_changed").exists()


def test_the_chinese_recovery_code_count_reads_naturally():
    from django.utils.translation import ngettext, override

    # Ours overrides allauth's "在 10个恢复码中，有 10 个可用。" (LOCALE_PATHS is read first).
    with override("zh-hans"):
        text = ngettext(
            "There is %(unused_count)s out of %(total_count)s recovery codes available.",
            "There are %(unused_count)s out of %(total_count)s recovery codes available.",
            9,
        ) % {"unused_count": 9, "total_count": 10}
    assert text == "共 10 个恢复码，其中 9 个可用。"
