"""The signed-in person's User row kept in the shared cache (portal.person_cache.signed_in, read
by portal.middleware.AuthenticationMiddleware): read once, then answered from the cache, and
every write of the row takes effect on the very next request of every session: a password
change signs the other sessions out, a deactivation or deletion signs the person out, staff and
superuser flags apply at once, whether the row was saved or bulk-updated."""

from __future__ import annotations

import pickle

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from wagtail.users.views.bulk_actions.set_active_state import SetActiveStateBulkAction

from portal import person_cache
from portal.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
ACTIVATE_TOTP = reverse("mfa_activate_totp")
EMAIL_PAGE = reverse("account_email")


def _dashboard(org) -> str:
    return reverse("portal:org_dashboard", kwargs={"org_slug": org.slug})


def _signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row_reads(queries, user) -> list[str]:
    """The statements that load the person's whole row (as the authentication backend does)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT "portal_user"."id", "portal_user"."password"')
        and f'WHERE "portal_user"."id" = {user.pk}' in q["sql"]
    ]


def _is_signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_the_row_is_read_once_then_answered_from_the_cache(org_a, member_a):
    # given a member who has opened a page once
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when they open it again
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_dashboard(org_a))
    # then their row is not read from the database, and the page is theirs
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == member_a.pk
    assert _row_reads(queries, member_a) == []


def test_the_cache_holds_no_password_hash(org_a, member_a):
    # given a member whose row is kept
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when the kept entry is read as the cache stores it
    stored = pickle.dumps(cache.get(f"greenloop:person:{member_a.pk}:user"))
    # then the password hash is not in it, and a kept row still reads it from the database
    member_a.refresh_from_db()
    assert member_a.password.encode() not in stored
    kept = person_cache.signed_in(member_a.pk)
    assert kept is not None
    assert kept.user.password == member_a.password


def test_a_password_change_signs_out_the_other_sessions_at_once(org_a, member_a):
    # given the member signed in on two browsers, both pages read (their row kept)
    laptop, phone = _signed_in_client(member_a), _signed_in_client(member_a)
    assert laptop.get(_dashboard(org_a)).status_code == 200
    assert phone.get(_dashboard(org_a)).status_code == 200
    # when they change their password on the phone
    new_password = "a-new-and-longer-passphrase"
    response = phone.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    # then the laptop's next page signs it out, and the phone stays signed in
    assert _is_signed_out(laptop.get(_dashboard(org_a)))
    assert phone.get(_dashboard(org_a)).status_code == 200


def test_a_password_set_by_bulk_update_signs_out_every_session(org_a, member_a):
    # given the member signed in, their row kept
    laptop = _signed_in_client(member_a)
    assert laptop.get(_dashboard(org_a)).status_code == 200
    # when the password is replaced without a save (a bulk update, as a script would)
    User.objects.filter(pk=member_a.pk).update(password="!unusable")  # noqa: S106
    # then the next page signs them out
    assert _is_signed_out(laptop.get(_dashboard(org_a)))


def test_deactivation_by_save_signs_out_at_once(org_a, member_a):
    # given the member signed in, their row kept
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when an administrator deactivates the account (the admin form saves the row)
    member_a.is_active = False
    member_a.save()
    # then the next page signs them out
    assert _is_signed_out(client.get(_dashboard(org_a)))


def test_deactivation_by_wagtails_bulk_action_signs_out_at_once(org_a, member_a):
    # given the member signed in, their row kept
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when Wagtail's "mark as inactive" bulk action runs on them (a QuerySet.update())
    SetActiveStateBulkAction.execute_action([member_a], mark_as_active=False, model=User)
    # then the next page signs them out
    assert User.objects.get(pk=member_a.pk).is_active is False
    assert _is_signed_out(client.get(_dashboard(org_a)))


def test_deletion_signs_out_at_once():
    # given a person with no membership (nothing else forgets their entries), signed in
    person = UserFactory(email="loner@example.com")
    client = _signed_in_client(person)
    assert client.get(EMAIL_PAGE).status_code == 200
    # when the account is deleted
    User.objects.filter(pk=person.pk).delete()
    # then the next page signs them out
    assert _is_signed_out(client.get(EMAIL_PAGE))


def test_a_staff_flag_set_by_update_applies_at_once(org_a, member_a):
    # given the member signed in, their row kept
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when they are made staff by a bulk update
    User.objects.filter(pk=member_a.pk).update(is_staff=True)
    # then their next page is a staff member's: set up two-factor authentication first
    response = client.get(_dashboard(org_a))
    assert (response.status_code, response["Location"]) == (302, ACTIVATE_TOTP)


def test_a_superuser_flag_set_by_bulk_update_applies_at_once(org_a, member_a):
    # given the member signed in, their row kept
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when they are made superuser by bulk_update()
    member_a.is_superuser = True
    User.objects.bulk_update([member_a], ["is_superuser"])
    # then their next page is a staff member's: set up two-factor authentication first
    response = client.get(_dashboard(org_a))
    assert (response.status_code, response["Location"]) == (302, ACTIVATE_TOTP)


def test_a_row_read_before_a_change_committed_is_never_used(org_a, member_a):
    # given a request that read the member's row, then stalled before filing it in the cache
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    key = f"greenloop:person:{member_a.pk}:user"
    read_before = cache.get(key)
    assert read_before[2].user.is_active is True
    # when the member is deactivated (committed, entries forgotten), and only then does the
    # stalled request file the row it read
    User.objects.filter(pk=member_a.pk).update(is_active=False)
    cache.set(key, read_before, person_cache.TIMEOUT_SECONDS)
    # then the next page does not use it: it was filed under a generation that is gone
    assert _is_signed_out(client.get(_dashboard(org_a)))


def test_a_session_with_another_hash_is_flushed(org_a, member_a):
    # given a session whose hash is not the member's (a forged or outdated session)
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    session = client.session
    session[HASH_SESSION_KEY] = "0" * 64
    session.save()
    # when it opens a page, then it is signed out and the session emptied
    assert _is_signed_out(client.get(_dashboard(org_a)))
    assert SESSION_KEY not in client.session


def test_a_session_signed_with_a_rotated_secret_is_re_signed(org_a, member_a):
    # given a session made under the old secret, the row kept under it
    client = _signed_in_client(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    old_hash = client.session[HASH_SESSION_KEY]
    # when the secret is rotated (the old one kept as a fallback)
    new_secret = settings.SECRET_KEY + "-rotated"
    with override_settings(SECRET_KEY=new_secret, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        response = client.get(_dashboard(org_a))
        expected = User.objects.get(pk=member_a.pk).get_session_auth_hash()
        # then the person stays signed in and the session now carries the new secret's hash
        assert response.status_code == 200
        assert client.session[HASH_SESSION_KEY] == expected != old_hash
