"""Privacy: a member downloads their personal data and has it erased (portal.privacy), behind
reauthentication, both audited and published; retention tasks for sessions and invitations."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from portal import actions, audit, privacy, tasks
from portal.exceptions import ErasureError
from portal.models import AuditEvent, Invitation, Membership, OutboxEvent, Role, User
from tests.factories import TEST_PASSWORD, InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT_URL = "/accounts/privacy/export/"
ERASE_URL = "/accounts/privacy/erase/"


def _reauthenticate(client, next_url: str):
    return client.post(
        f"{reverse('account_reauthenticate')}?next={next_url}", {"password": TEST_PASSWORD}
    )


def _sessions_of(user) -> list[str]:
    return [
        s.session_key
        for s in Session.objects.all()
        if s.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]


@pytest.fixture
def colleague(org_a):
    """A second member of the same organisation, whose data must never leak into an export."""
    user = UserFactory(email="colleague@acme.example", first_name="Clara", last_name="Colleague")
    MembershipFactory(user=user, organisation=org_a, role=Role.ADMIN)
    return user


# --- export


def test_export_holds_exactly_the_members_portal_data(org_a, admin_a, member_a, colleague):
    # given a member who issued nothing, an admin colleague who issued a token and was audited,
    # and an audit trail with the member as actor and as subject
    admin_token, _ = actions.issue_api_token(org_a, "Colleague's ERP", ["account:read"], by=admin_a)
    audit.record("auth.signed_in", actor=member_a, details={})
    audit.record("auth.signed_in", actor=colleague, details={})
    audit.record("auth.sign_in_failed", details={"email": "MEMBER@acme.example"})
    audit.record("auth.sign_in_failed", details={"email": "colleague@acme.example"})
    actions.change_role(
        Membership.objects.get(user=member_a), Role.VIEWER, by=admin_a, request=None
    )
    # when the member's data is collected
    data = privacy.personal_data(member_a)
    # then it holds their profile, address, membership and audit entries
    portal = data["portal"]
    assert data["format"] == "greenloop.personal-data/1"
    assert data["user_id"] == member_a.pk
    assert portal["profile"]["email"] == "member@acme.example"
    assert portal["email_addresses"] == [
        {"email": "member@acme.example", "verified": True, "primary": True}
    ]
    assert [(m["organisation_slug"], m["role"]) for m in portal["memberships"]] == [
        ("acme", "viewer")
    ]
    assert portal["api_tokens_issued"] == []
    assert portal["consents"] == []
    assert [(e["action"], e["you_were"]) for e in portal["audit_entries"]] == [
        ("auth.signed_in", "actor"),
        ("auth.sign_in_failed", "subject"),
        ("membership.role_changed", "subject"),
    ]
    # and nothing of the colleague or the admin: no address, name, token or their audit rows
    text = json.dumps(data, default=str)
    for foreign in ("colleague@acme.example", "Clara", "admin@acme.example", "Colleague's ERP"):
        assert foreign not in text
    assert admin_token.lookup not in text


def test_export_lists_tokens_by_name_and_prefix_never_the_hash(org_a, admin_a):
    # given an admin who issued a token
    token, plaintext = actions.issue_api_token(org_a, "SAP export", ["account:read"], by=admin_a)
    # when their data is collected
    data = privacy.personal_data(admin_a)
    # then the token appears by name and public prefix only
    [listed] = data["portal"]["api_tokens_issued"]
    assert listed["name"] == "SAP export"
    assert listed["prefix"] == f"glp_{token.lookup}_…"
    assert listed["organisation"] == "acme"
    text = json.dumps(data, default=str)
    assert token.token_hash not in text
    assert plaintext not in text


def test_export_asks_to_reauthenticate_first(client, member_a):
    # given a member signed in a while ago
    client.force_login(member_a)
    # when they ask for their data
    response = client.post(EXPORT_URL)
    # then they are asked to confirm who they are, and nothing was exported
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert AuditEvent.objects.filter(action="privacy.data_exported").count() == 0


def test_export_downloads_json_and_is_audited_and_published(client, org_a, member_a):
    # given a member who reauthenticated while asking for their data
    client.force_login(member_a)
    client.post(EXPORT_URL)
    # when they confirm their password
    response = _reauthenticate(client, EXPORT_URL)
    # then the suspended request completes with a JSON file
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="greenloop-personal-data-'
    )
    assert response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    assert data["portal"]["profile"]["email"] == "member@acme.example"
    assert set(data) == {
        "format",
        "generated_at",
        "user_id",
        "portal",
        "carbon",
        "community",
        "beta_programmes",
    }
    # and it is audited for the member's organisation and published for the CRM
    event = AuditEvent.objects.get(action="privacy.data_exported")
    assert event.actor == member_a
    assert event.organisation == org_a
    assert event.object_id == str(member_a.pk)
    assert event.ip_address == "127.0.0.1"
    published = OutboxEvent.objects.filter(type__startswith="greenloop.account.personal")
    assert [(e.type, e.organisation_id, e.subject, e.data) for e in published] == [
        (
            "greenloop.account.personal_data_exported",
            org_a.pk,
            f"users/{member_a.pk}",
            {"user_id": member_a.pk},
        )
    ]


def test_export_is_post_only(client, member_a):
    # given a signed-in member / when the export is opened with GET (a link, an image tag)
    client.force_login(member_a)
    response = client.get(EXPORT_URL)
    # then nothing is exported or recorded
    assert response.status_code == 405
    assert AuditEvent.objects.filter(action="privacy.data_exported").count() == 0


# --- erasure


def test_erasure_anonymises_the_account_and_revokes_its_access(
    client, org_a, admin_a, colleague, enable_totp
):
    # given an admin (with a colleague admin) who has a session, a token, 2FA, an old invitation
    client.force_login(admin_a)
    other_client = client.__class__()
    other_client.force_login(colleague)
    token, _ = actions.issue_api_token(org_a, "ERP", ["account:read"], by=admin_a)
    enable_totp(admin_a)
    InvitationFactory(organisation=org_a, email="admin@acme.example", accepted_at=timezone.now())
    assert len(_sessions_of(admin_a)) == 1
    # when their data is erased
    summary = privacy.erase_personal_data(admin_a)
    # then the row stays under its id but names nobody and cannot sign in
    user = User.objects.get(pk=admin_a.pk)
    assert user.email == f"erased-{admin_a.pk}@erased.invalid"
    assert (user.first_name, user.last_name, user.preferred_language) == ("", "", "")
    assert user.is_active is False
    assert user.has_usable_password() is False
    assert user.erased_at is not None
    assert user.get_full_name() == "Deleted user"
    assert str(user) == "Deleted user"
    # and their sessions, token, membership, addresses, 2FA and invitations are gone
    assert _sessions_of(admin_a) == []
    assert len(_sessions_of(colleague)) == 1
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not Membership.objects.filter(user=user).exists()
    assert Membership.objects.filter(user=colleague, role=Role.ADMIN).count() == 1
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    assert not Invitation.objects.filter(email__iexact="admin@acme.example").exists()
    assert summary["api_tokens_revoked"] == 1
    assert summary["memberships_removed"] == 1
    assert summary["sessions_ended"] == 1
    # and the erasure is audited without the old address, and published for the CRM
    erased = AuditEvent.objects.get(action="privacy.erased")
    assert erased.organisation == org_a
    assert erased.actor_id == admin_a.pk
    assert erased.actor_label == f"erased-{admin_a.pk}@erased.invalid"
    assert erased.object_repr == "Deleted user"
    revoked = AuditEvent.objects.get(action="api_token.revoked")
    assert revoked.details == {"reason": "issuer_erased"}
    assert revoked.organisation == org_a
    # and no row written by the erasure names the old address
    assert not AuditEvent.objects.filter(
        action__in=["privacy.erased", "api_token.revoked"], actor_label="admin@acme.example"
    ).exists()
    published = OutboxEvent.objects.filter(
        type__in=["greenloop.account.member_removed", "greenloop.account.personal_data_erased"]
    )
    assert [(e.type, e.data) for e in published] == [
        (
            "greenloop.account.member_removed",
            {"user_id": admin_a.pk, "left": True, "erased": True},
        ),
        ("greenloop.account.personal_data_erased", {"user_id": admin_a.pk}),
    ]


def test_the_last_admin_is_refused_and_nothing_changes(org_a, admin_a, member_a):
    # given the only admin of Acme, with a live token
    token, _ = actions.issue_api_token(org_a, "ERP", ["account:read"], by=admin_a)
    # when they ask for erasure
    with pytest.raises(ErasureError) as refused:
        privacy.erase_personal_data(admin_a)
    # then it is refused, naming the organisation, and nothing changed
    assert refused.value.code == "last_admin"
    assert "Acme Solar" in refused.value.message
    user = User.objects.get(pk=admin_a.pk)
    assert (user.email, user.is_active, user.erased_at) == ("admin@acme.example", True, None)
    assert Membership.objects.get(user=user).role == Role.ADMIN
    token.refresh_from_db()
    assert token.revoked_at is None
    assert EmailAddress.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="privacy.erased").count() == 0
    assert OutboxEvent.objects.filter(type__endswith="personal_data_erased").count() == 0


def test_vendor_staff_are_not_erased_here(staff_success):
    # given a vendor staff member / when they ask for erasure / then it is refused
    with pytest.raises(ErasureError) as refused:
        privacy.erase_personal_data(staff_success)
    assert refused.value.code == "staff_account"
    assert User.objects.get(pk=staff_success.pk).erased_at is None


def test_the_erase_page_needs_reauthentication_and_a_ticked_box(client, member_a):
    # given a member who reauthenticated, then posts the form without ticking the box
    client.force_login(member_a)
    _reauthenticate(client, reverse("portal:privacy"))
    response = client.post(ERASE_URL, {})
    # then the page explains and nothing is erased
    assert response.status_code == 400
    assert "Tick the box to confirm the erasure." in response.content.decode()
    assert User.objects.get(pk=member_a.pk).erased_at is None


def test_the_erase_page_erases_after_reauthentication_and_signs_out(client, org_a, member_a):
    # given a member who asks for erasure and is asked to confirm their password
    client.force_login(member_a)
    first = client.post(ERASE_URL, {"confirm": "on"})
    assert first["Location"].startswith(reverse("account_reauthenticate"))
    assert User.objects.get(pk=member_a.pk).erased_at is None
    # when they confirm it
    response = _reauthenticate(client, ERASE_URL)
    # then the account is erased and they are signed out
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert User.objects.get(pk=member_a.pk).erased_at is not None
    assert client.get(reverse("portal:privacy"))["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.get(action="privacy.erased")
    assert event.ip_address == "127.0.0.1"


def test_the_erase_page_refuses_the_last_admin_with_409(client, org_a, admin_a):
    # given the only admin of Acme, recently reauthenticated
    client.force_login(admin_a)
    _reauthenticate(client, reverse("portal:privacy"))
    # when they post the erasure
    response = client.post(ERASE_URL, {"confirm": "on"})
    # then it is refused with the reason and nothing changed
    assert response.status_code == 409
    assert "You are the last admin of Acme Solar." in response.content.decode()
    assert User.objects.get(pk=admin_a.pk).erased_at is None


def test_the_privacy_page_in_chinese(client, member_a):
    # given a member reading in Chinese
    client.force_login(member_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    # when they open the privacy page
    html = client.get(reverse("portal:privacy")).content.decode()
    # then both actions are offered in Chinese
    assert "下载我的数据" in html
    assert "删除我的账号" in html


# --- retention


def test_clear_expired_sessions_deletes_exactly_the_expired(client, member_a, admin_a):
    # given a live session and one that expired a minute ago
    client.force_login(member_a)
    other = client.__class__()
    other.force_login(admin_a)
    [stale_key] = _sessions_of(admin_a)
    Session.objects.filter(session_key=stale_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    # when the retention task runs (twice: it is idempotent)
    first = tasks.clear_expired_sessions()
    second = tasks.clear_expired_sessions()
    # then only the expired one is gone
    assert (first, second) == (1, 0)
    assert list(Session.objects.values_list("session_key", flat=True)) == _sessions_of(member_a)


def test_purge_old_invitations_deletes_exactly_the_closed_old_ones(org_a, admin_a, settings):
    # given invitations accepted, withdrawn and expired 91 days ago, the same 89 days ago,
    # and a pending one
    settings.GREENLOOP_RETENTION = {**settings.GREENLOOP_RETENTION, "invitation_days": 90}
    now = timezone.now()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    kept = [
        InvitationFactory(organisation=org_a, accepted_at=recent),
        InvitationFactory(organisation=org_a, revoked_at=recent),
        InvitationFactory(organisation=org_a, expires_at=recent),
        InvitationFactory(organisation=org_a),
    ]
    for field in ("accepted_at", "revoked_at", "expires_at"):
        InvitationFactory(organisation=org_a, **{field: old})
    # when the retention task runs twice
    assert tasks.purge_old_invitations() == 3
    assert tasks.purge_old_invitations() == 0
    # then exactly the old closed ones are gone
    assert set(Invitation.objects.values_list("pk", flat=True)) == {i.pk for i in kept}


def test_retention_tasks_are_scheduled_without_arguments():
    # given the beat schedule / then each retention task runs daily with no arguments
    schedule = settings.CELERY_BEAT_SCHEDULE
    for task in (
        "portal.tasks.clear_expired_sessions",
        "portal.tasks.purge_old_invitations",
        "carbon.tasks.purge_old_import_files",
        "carbon.idempotency.purge_idempotency_records",
    ):
        [entry] = [e for e in schedule.values() if e["task"] == task]
        assert "args" not in entry
