"""Sessions live in the cache, written through to the database (cached_db), and only a request
that changes one writes it."""

from __future__ import annotations

import warnings

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache.backends.base import CacheKeyWarning
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Role
from portal.sessions import SessionStore
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_sessions_are_cached_and_kept_in_the_database():
    assert settings.SESSION_ENGINE == "portal.sessions"
    assert issubclass(SessionStore, CachedDBStore)
    assert settings.SESSION_SAVE_EVERY_REQUEST is False


def test_opening_pages_reads_and_writes_no_session_row(client, org_a, org_b, member_a):
    # given a member of two organisations, signed in, who has opened a page
    MembershipFactory(user=member_a, organisation=org_b, role=Role.VIEWER)
    client.force_login(member_a)
    pages = [
        reverse("portal:dashboard"),
        reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}),
        reverse("portal:org_dashboard", kwargs={"org_slug": org_b.slug}),
        reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}),
    ]
    client.get(pages[1])
    # when they open pages of both organisations
    with CaptureQueriesContext(connection) as queries:
        statuses = [client.get(page).status_code for page in pages]
    # then the session is read from the cache and never written
    assert statuses == [302, 200, 200, 200]
    assert [q["sql"] for q in queries if "django_session" in q["sql"]] == []


def test_switching_organisation_writes_the_session(client, org_a, org_b, member_a):
    # given a member of two organisations, signed in
    MembershipFactory(user=member_a, organisation=org_b, role=Role.VIEWER)
    client.force_login(member_a)
    client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}))
    # when they pick Globex in the switcher
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("portal:switch_organisation"), {"organisation": "globex"})
    # then the session is written once, and the dashboard link follows it
    assert response.status_code == 302
    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "django_session"')]
    assert len(writes) == 1
    assert client.get(reverse("portal:dashboard"))["Location"] == reverse(
        "portal:org_dashboard", kwargs={"org_slug": "globex"}
    )


# Cookies Django never issues (its keys are 32 characters of [a-z0-9]): a space (which a cache
# key may not hold), non-ASCII, 250 characters, control characters, capitals, one short.
FORGED_SESSION_KEYS = {
    "space": "abc def ghi jkl mno pqr stu vwx yz",
    "unicode": "会话" * 16,
    "250-chars": "a" * 250,
    "control-chars": "abcdefghijklmnop\x01\x7fqrstuvwxyz0123",
    "capitals": "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
    "31-chars": "abcdefghijklmnopqrstuvwxyz01234",
}


@pytest.mark.parametrize("forged", FORGED_SESSION_KEYS.values(), ids=FORGED_SESSION_KEYS.keys())
def test_a_forged_session_cookie_is_no_session(client, member_a, forged):
    # given a signed-in member's session, and a cookie no Django session could have
    client.force_login(member_a)
    real_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    dashboard = reverse("portal:dashboard")
    assert client.get(dashboard)["Location"] == "/o/acme/"
    # when a request sends the forged cookie instead (its UTF-8 bytes, as a WSGI server hands
    # them to Django: decoded as Latin-1)
    cookie = f"{settings.SESSION_COOKIE_NAME}={forged}".encode().decode("latin-1")
    with (
        CaptureQueriesContext(connection) as queries,
        warnings.catch_warnings(record=True) as caught,
    ):
        # "always", not "error": the cached_db store swallows any exception of its cache read
        warnings.simplefilter("always")
        response = client.get(dashboard, HTTP_COOKIE=cookie)
    # then it is anonymous, sent to sign in, without a lookup of the key (a cache miss would
    # have read the database) and without a cache-key warning
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={dashboard}"
    assert [w.message for w in caught if issubclass(w.category, CacheKeyWarning)] == []
    assert [q["sql"] for q in queries if "django_session" in q["sql"]] == []
    # and the forged cookie is deleted, as an unknown session's is
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0
    # while the real session still signs the member in
    client.cookies[settings.SESSION_COOKIE_NAME] = real_key
    assert client.get(dashboard)["Location"] == "/o/acme/"


def test_a_session_key_has_the_shape_django_draws():
    # given a key as Django draws one, and an unknown one of the same shape
    drawn = SessionStore()
    drawn.create()
    # then both are kept as keys (the unknown one loads as empty); a forged one is dropped
    assert SessionStore(drawn.session_key).session_key == drawn.session_key
    assert len(drawn.session_key) == 32
    unknown = "0123456789abcdefghijklmnopqrstuv"
    assert SessionStore(unknown).session_key == unknown
    assert SessionStore(unknown).load() == {}
    assert SessionStore(FORGED_SESSION_KEYS["space"]).session_key is None
