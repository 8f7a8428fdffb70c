"""Sessions live in the cache, written through to the database (cached_db), and only a request
that changes one writes it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_sessions_are_cached_and_kept_in_the_database():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
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
