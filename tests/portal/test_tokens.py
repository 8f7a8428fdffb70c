"""API tokens: the admin's token page, issuing behind reauthentication, revoking, and the
`issue_api_token` management command."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portal import actions
from portal.exceptions import PermissionDeniedError, TokenError
from portal.models import ApiToken, AuditEvent
from portal.models.tokens import hash_secret
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

# allauth keeps the session's sign-in and reauthentication records under this key.
AUTH_RECORDS = "account_authentication_methods"


def _url(name: str, org, **kwargs) -> str:
    return reverse(f"portal:{name}", kwargs={"org_slug": org.slug, **kwargs})


ISSUE_FORM = {"name": "SAP export", "scopes": ["account:read"], "expires_in_days": "30"}


def _reauthenticate(client, next_url: str):
    return client.post(
        f"{reverse('account_reauthenticate')}?next={next_url}", {"password": TEST_PASSWORD}
    )


# --- the token page


def test_admin_sees_the_token_page(client, org_a, admin_a, org_b):
    # given a live token and a revoked one for Acme, and one for Globex
    live, plaintext = actions.issue_api_token(org_a, "ERP", ["account:read"], by=admin_a)
    gone, _ = actions.issue_api_token(org_a, "Old script", ["account:read"], by=admin_a)
    actions.revoke_api_token(gone, by=admin_a)
    actions.issue_api_token(org_b, "Globex ERP", ["account:read"], by=None)
    client.force_login(admin_a)
    # when the admin opens the token page
    response = client.get(_url("tokens", org_a))
    # then it lists Acme's tokens by prefix only, with their state, and the issue form
    assert response.status_code == 200
    html = response.content.decode()
    assert list(response.context["tokens"]) == [gone, live]
    assert live.display_prefix in html
    assert plaintext not in html
    assert "Globex ERP" not in html
    assert "Revoked" in html
    assert _url("issue_token", org_a) in html
    assert _url("revoke_token", org_a, pk=live.pk) in html
    assert _url("revoke_token", org_a, pk=gone.pk) not in html


@pytest.mark.parametrize("who", ["member_a", "viewer_a"])
def test_non_admin_cannot_open_or_use_the_token_page(request, client, org_a, admin_a, who):
    token, _ = actions.issue_api_token(org_a, "ERP", ["account:read"], by=admin_a)
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url("tokens", org_a)).status_code == 403
    assert client.post(_url("issue_token", org_a), ISSUE_FORM).status_code == 403
    assert client.post(_url("revoke_token", org_a, pk=token.pk)).status_code == 403
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


# --- issuing behind reauthentication


def test_issuing_right_after_force_login_asks_to_reauthenticate(client, org_a, admin_a):
    # given an admin whose session has no record of a recent password check
    client.force_login(admin_a)
    # when they post the issue form
    response = client.post(_url("issue_token", org_a), ISSUE_FORM)
    # then they are sent to confirm their password first, and nothing is issued
    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('account_reauthenticate')}?next=%2Fo%2Facme%2Ftokens%2Fissue%2F"
    )
    assert ApiToken.objects.count() == 0
    assert not AuditEvent.objects.filter(action="api_token.issued").exists()


def test_a_password_sign_in_minutes_ago_counts_as_recent_authentication(client, org_a, admin_a):
    # given an admin who has just signed in with their password
    signed_in = client.post(
        reverse("account_login"), {"login": "admin@acme.example", "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302
    # when they issue a token
    response = client.post(_url("issue_token", org_a), ISSUE_FORM)
    # then they are not asked for the password they typed a moment ago: the token is issued
    # (portal.adapter.AccountAdapter.is_reauthentication_required)
    assert response.status_code == 200
    assert ApiToken.objects.count() == 1


def test_reauthentication_resumes_the_issue(client, org_a, admin_a):
    # given an admin who was asked to reauthenticate while issuing
    client.force_login(admin_a)
    client.post(_url("issue_token", org_a), ISSUE_FORM)
    # when they confirm their password
    response = _reauthenticate(client, _url("issue_token", org_a))
    # then the suspended request is completed: the token is issued and shown once
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.name == "SAP export"
    assert token.scopes == ["account:read"]
    assert token.created_by == admin_a
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    plaintext = response.context["plaintext"]
    assert plaintext in response.content.decode()
    assert hash_secret(plaintext) == token.token_hash
    event = AuditEvent.objects.get(action="api_token.issued")
    assert event.actor == admin_a
    assert event.ip_address == "127.0.0.1"


def test_recent_reauthentication_lets_the_admin_issue_directly(client, org_a, admin_a):
    # given an admin who reauthenticated a moment ago
    client.force_login(admin_a)
    _reauthenticate(client, _url("tokens", org_a))
    # when they issue a token
    response = client.post(_url("issue_token", org_a), ISSUE_FORM)
    # then it is issued at once
    assert response.status_code == 200
    assert ApiToken.objects.count() == 1
    assert response.context["token"] == ApiToken.objects.get()


def test_stale_reauthentication_asks_again(client, org_a, admin_a, settings):
    # given an admin whose reauthentication is older than the allowed window
    client.force_login(admin_a)
    _reauthenticate(client, _url("tokens", org_a))
    session = client.session
    records = session[AUTH_RECORDS]
    assert records[-1]["reauthenticated"] is True
    for record in records:
        record["at"] -= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session[AUTH_RECORDS] = records
    session.save()
    # when they issue a token
    response = client.post(_url("issue_token", org_a), ISSUE_FORM)
    # then they must confirm their password again
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert ApiToken.objects.count() == 0


def test_wrong_password_at_reauthentication_issues_nothing(client, org_a, admin_a):
    client.force_login(admin_a)
    client.post(_url("issue_token", org_a), ISSUE_FORM)
    response = client.post(
        f"{reverse('account_reauthenticate')}?next={_url('issue_token', org_a)}",
        {"password": "not-the-password"},
    )
    assert response.status_code == 200
    assert ApiToken.objects.count() == 0


def test_invalid_issue_form_issues_nothing(client, org_a, admin_a):
    client.force_login(admin_a)
    _reauthenticate(client, _url("tokens", org_a))
    response = client.post(
        _url("issue_token", org_a), {"name": "", "scopes": ["nope"], "expires_in_days": "30"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scopes"}
    assert ApiToken.objects.count() == 0


# --- the action's own rules


def test_issue_api_token_validates_its_input(org_a, admin_a, member_a):
    with pytest.raises(PermissionDeniedError):
        actions.issue_api_token(org_a, "x", ["account:read"], by=member_a)
    with pytest.raises(TokenError) as no_name:
        actions.issue_api_token(org_a, "  ", ["account:read"], by=admin_a)
    with pytest.raises(TokenError) as no_scope:
        actions.issue_api_token(org_a, "x", [], by=admin_a)
    with pytest.raises(TokenError) as bad_scope:
        actions.issue_api_token(org_a, "x", ["account:write"], by=admin_a)
    with pytest.raises(TokenError) as too_long:
        actions.issue_api_token(org_a, "x", ["account:read"], by=admin_a, expires_in_days=366)
    assert [e.value.field for e in (no_name, no_scope, bad_scope, too_long)] == [
        "name",
        "scopes",
        "scopes",
        "expires_in_days",
    ]
    assert ApiToken.objects.count() == 0
    assert AuditEvent.objects.count() == 0


# --- revoking


def test_admin_revokes_a_token_through_the_page(client, org_a, admin_a):
    # given a token in use
    token, plaintext = actions.issue_api_token(org_a, "ERP", ["account:read"], by=admin_a)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 200
    )
    client.force_login(admin_a)
    # when the admin revokes it
    response = client.post(_url("revoke_token", org_a, pk=token.pk))
    # then it is revoked, audited, and no longer opens the API
    assert response.status_code == 302
    assert response["Location"] == _url("tokens", org_a)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.is_active is False
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == admin_a
    assert event.object_id == str(token.pk)
    client.logout()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 401
    )


def test_revoking_twice_records_once(org_a, admin_a):
    token, _ = actions.issue_api_token(org_a, "ERP", ["account:read"], by=admin_a)
    actions.revoke_api_token(token, by=admin_a)
    first = ApiToken.objects.get().revoked_at
    actions.revoke_api_token(token, by=admin_a)
    assert ApiToken.objects.get().revoked_at == first
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_admin_cannot_revoke_another_organisations_token(client, org_a, admin_a, org_b):
    token, _ = actions.issue_api_token(org_b, "Globex ERP", ["account:read"], by=None)
    client.force_login(admin_a)
    assert client.post(_url("revoke_token", org_a, pk=token.pk)).status_code == 404
    assert ApiToken.objects.get().revoked_at is None


# --- the management command


def _command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_prints_a_token_that_authenticates(client, org_a):
    # when an operator issues a token on the server
    out, err = _command("acme", "--name", "Nightly ERP sync", "--scopes", "account:read")
    # then stdout carries only the token, and it opens the API for Acme
    plaintext = out.strip()
    assert plaintext.startswith("glp_")
    assert "\n" not in plaintext
    assert "Store it now" in err
    token = ApiToken.objects.get()
    assert token.name == "Nightly ERP sync"
    assert token.created_by is None
    assert token.token_hash == hash_secret(plaintext)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 200
    assert response.json()["organisations"][0]["slug"] == "acme"
    assert AuditEvent.objects.get(action="api_token.issued").actor is None


def test_command_accepts_comma_separated_scopes_and_no_expiry(org_a):
    _command("acme", "--name", "Forever", "--scopes", "account:read,", "--expires-days", "0")
    token = ApiToken.objects.get()
    assert token.scopes == ["account:read"]
    assert token.expires_at is None


def test_command_rejects_unknown_scopes(org_a):
    with pytest.raises(CommandError, match=r"scopes: Unknown scope\(s\): orders:delete"):
        _command("acme", "--name", "Bad", "--scopes", "orders:delete")
    assert ApiToken.objects.count() == 0


def test_command_rejects_an_unknown_organisation(db):
    with pytest.raises(CommandError, match="No organisation with slug 'nowhere'"):
        _command("nowhere", "--name", "Bad", "--scopes", "account:read")
    assert ApiToken.objects.count() == 0


def test_command_rejects_an_expiry_beyond_the_maximum(org_a):
    with pytest.raises(CommandError, match="expires_in_days"):
        _command("acme", "--name", "Long", "--scopes", "account:read", "--expires-days", "9999")
    assert ApiToken.objects.count() == 0
