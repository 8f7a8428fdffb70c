"""Walk every URL pattern with GET and prove that no GET changes state.

A page fetched by an <img> tag, a prefetching browser or a link preview must never act for the
person whose cookies it carries. Signed in as a member of two organisations (and as a vendor
superuser with two-factor authentication on), each route is fetched with GET, filled with objects
the caller may see, and every INSERT, UPDATE or DELETE the request sends to the database is
caught, as is any change to the session. The few writes that are bookkeeping, not a state
change the caller asked for, are listed below with the reason.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import authz

# The writes a GET may make, each with the reason it is bookkeeping rather than a state change
# the caller asked for. Anything else is a failure.
ALLOWED_WRITES: dict[re.Pattern[str], str] = {
    re.compile(r'^INSERT INTO "portal_auditevent" '): (
        "security logging: refusals (e.g. access.denied for a page the role may not open) are "
        "recorded in the audit trail for the operator"
    ),
    re.compile(r'^UPDATE "community_member" SET "last_seen_at" = [^,]+ WHERE '): (
        "like last_login: a community visit is noted (at most every five minutes, by "
        "community.actions.touch) so that e-mail digests skip people who came back"
    ),
    re.compile(r'^INSERT INTO "wagtailusers_userprofile" '): (
        "Wagtail creates a staff member's admin profile (default preferences) on first use"
    ),
    re.compile(r'^INSERT INTO "community_member" '): (
        "the person's community profile (an @handle and default preferences) is created on "
        "their first community page, by community.access.member_for"
    ),
    re.compile(r'^INSERT INTO "beta_program_builddownload" '): (
        "like an access log: a beta build's download (a plain link, so a GET) records who "
        "downloaded which build, by beta_program.programmes.actions.record_download"
    ),
    re.compile(
        r"^INSERT INTO \"portal_outboxevent\" .*'greenloop\.beta\.build_downloaded'", re.S
    ): ("the same download told to the CRM (ids only), in the same transaction"),
}
# The session is compared as data (its row is rewritten whenever anything in it changes).
# Keys a GET may set or change, and why.
ALLOWED_SESSION_KEYS: dict[str, str] = {}

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)

# Routes that fail on purpose: still walked, the 500 expected.
DELIBERATE_ERRORS: dict[str, str] = {
    "wagtailadmin_error_test": "Wagtail's /admin/failwhale/ raises to test error reporting",
}
# Query strings a route acts on: given as the caller would to make it do something.
GET_QUERY_SAMPLES: dict[str, object] = {
    "portal:switch_organisation": lambda org: {"organisation": org.slug},
    "set_language": lambda org: {"language": "zh-hans", "next": "/community/"},
    "account_logout": lambda org: {"next": "/"},
}
ROUTES = authz.routes()
NON_ADMIN_ROUTES = [r for r in ROUTES if not r.route.startswith("admin/")]


def _url(route: authz.Route, org) -> str:
    # The walk's one sampler (tests/authz.py), with objects of `org`, which the caller belongs to.
    url = authz.fill_route(route, org)
    query = GET_QUERY_SAMPLES.get(route.name)
    if query is not None:
        url = f"{url}?{urlencode(query(org))}"
    return url


def _session(client) -> dict:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).get_decoded()


def _writes(queries) -> list[str]:
    found = []
    for query in queries:
        sql = query["sql"]
        match = WRITE.match(sql)
        if match is None or match.group(2) == "django_session":
            continue
        if not any(allowed.match(sql) for allowed in ALLOWED_WRITES):
            found.append(sql[:300])
    return found


def _assert_get_writes_nothing(client, url: str, name: str) -> None:
    before = _session(client)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.raise_request_exception = name not in DELIBERATE_ERRORS
    # when the route is fetched with GET
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # then nothing was written and the session is unchanged
    expected_error = name in DELIBERATE_ERRORS
    assert (response.status_code >= 500) == expected_error, f"{name} GET {url}: {response}"
    writes = _writes(queries.captured_queries)
    assert writes == [], f"{name} GET {url} wrote: {writes}"
    # the language is a cookie, not a session key: a GET of the language switch must not set it
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies, f"{name} GET {url} set language"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == key, (
        f"{name} GET {url} replaced the session"
    )
    after = _session(client)
    changed = {
        k
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k) and k not in ALLOWED_SESSION_KEYS
    }
    assert changed == set(), f"{name} GET {url} changed the session: {sorted(changed)}"


def _sign_in(client, user, *, mfa_authenticator=None) -> None:
    client.force_login(user)
    session = client.session
    # What allauth records at a real sign-in, so views that check how the person signed in
    # (and middleware that checks for the second factor) see a complete session.
    methods = [{"method": "password", "at": time.time(), "email": user.email}]
    if mfa_authenticator is not None:
        methods.append(
            {"method": "mfa", "at": time.time(), "id": mfa_authenticator.pk, "type": "totp"}
        )
    session["account_authentication_methods"] = methods
    session.save()


def test_walk_covers_every_kind_of_route():
    # given every named URL pattern / then the walk reaches portal, plugins, accounts and admin
    names = {r.name for r in ROUTES}
    assert {
        "portal:switch_organisation",
        "portal:org_dashboard",
        "carbon:orders",
        "community:attachment",
        "account_logout",
        "set_language",
        "wagtailadmin_home",
    } <= names
    assert len(ROUTES) > 300


def _walk(client, routes, org) -> list[str]:
    # One signed-in client walks every route (a fixture per route cost minutes): each failure is
    # collected with its route, so one broken route does not hide the others.
    failures = []
    for route in routes:
        url = _url(route, org)
        try:
            _assert_get_writes_nothing(client, url, route.name)
        except AssertionError as error:
            failures.append(str(error).splitlines()[0])
    return failures


def test_member_get_never_writes(client, org_b, consultant):
    # given a member of two organisations, signed in, and every route outside the admin filled
    # with objects of an organisation they belong to
    _sign_in(client, consultant)
    # when each is fetched with GET / then none writes (see _assert_get_writes_nothing)
    assert _walk(client, NON_ADMIN_ROUTES, org_b) == []


def test_staff_get_never_writes(client, org_b, superuser):
    # given a vendor superuser who signed in with their second factor, and every route
    from allauth.mfa.models import Authenticator

    _sign_in(client, superuser, mfa_authenticator=Authenticator.objects.get(user=superuser))
    # when each is fetched with GET / then none writes
    assert _walk(client, ROUTES, org_b) == []
