"""Audit gaps closed without opening a flood: unknown and malformed tokens and cross-tenant 404s
are recorded, and like rejected tokens they leave one row per principal, reason and minute;
a client or token prefix that keeps failing gets 429."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import actions
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def _bearer(plaintext: str, ip: str = "198.51.100.1") -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}", "REMOTE_ADDR": ip}


def _issue(org, scopes=("account:read",)):
    return actions.issue_api_token(org, "ERP export", list(scopes), by=None)


def _trail():
    """The trail after the set-up's own rows (issuing a token is audited)."""
    return AuditEvent.objects.exclude(action="api_token.issued")


# --- tokens


def test_a_known_prefix_cannot_flood_the_organisations_trail(client, org_a, frozen_minute):
    # given Acme's token, and 25 wrong secrets for its prefix from 25 addresses in one minute
    token, plaintext = _issue(org_a)
    forged = f"glp_{token.lookup}_{'x' * 43}"
    responses = [client.get(ME, **_bearer(forged, f"203.0.113.{n}")) for n in range(1, 26)]
    # then the first 20 are 401, the rest 429 with the JSON error and Retry-After
    assert [r.status_code for r in responses] == [401] * 20 + [429] * 5
    assert responses[-1].json() == {
        "code": "rate_limited",
        "message": "Too many failed authentication attempts. Wait a minute, then try again.",
        "field": None,
    }
    assert responses[-1]["Retry-After"] == "60"
    # and Acme's trail has one row for the minute
    row = _trail().get()
    assert (row.action, row.organisation, row.object_id) == (
        "api_token.rejected",
        org_a,
        str(token.pk),
    )
    assert row.details == {
        "reason": "wrong_secret",
        "principal": f"token:{token.lookup}",
        "minute": "2026-03-02T10:10Z",
    }
    # and the token's holder is not locked out
    assert client.get(ME, **_bearer(plaintext, "192.0.2.50")).status_code == 200


def test_the_next_minutes_row_carries_the_count(client, org_a, frozen_minute):
    # given 7 wrong secrets for Acme's token in one minute
    token, _ = _issue(org_a)
    forged = f"glp_{token.lookup}_{'x' * 43}"
    for n in range(7):
        client.get(ME, **_bearer(forged, f"203.0.113.{n}"))
    # when another comes two minutes later
    frozen_minute(120)
    client.get(ME, **_bearer(forged, "203.0.113.99"))
    # then the second row reports the first minute's 7
    rows = list(_trail().order_by("id"))
    assert [r.details for r in rows] == [
        {
            "reason": "wrong_secret",
            "principal": f"token:{token.lookup}",
            "minute": "2026-03-02T10:10Z",
        },
        {
            "reason": "wrong_secret",
            "principal": f"token:{token.lookup}",
            "minute": "2026-03-02T10:12Z",
            "previous": {"minute": "2026-03-02T10:10Z", "count": 7},
        },
    ]


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("not-a-token", "malformed"),
        ("glp_", "malformed"),
        (f"glp_abcdef123456_{'y' * 43}", "unknown"),
    ],
)
def test_unknown_and_malformed_tokens_are_recorded_once_a_minute(
    client, sent, reason, frozen_minute
):
    # when one address sends the same bad token 3 times
    responses = [client.get(ME, **_bearer(sent)) for _ in range(3)]
    # then each is 401, and the staff trail has one row for them
    assert [r.status_code for r in responses] == [401, 401, 401]
    row = AuditEvent.objects.get()
    assert (row.action, row.organisation, row.ip_address) == (
        "api_token.unknown",
        None,
        "198.51.100.1",
    )
    assert row.details == {
        "reason": reason,
        "principal": "ip:198.51.100.1",
        "minute": "2026-03-02T10:10Z",
    }


def test_a_client_that_keeps_failing_is_refused_before_any_lookup(client, org_a, frozen_minute):
    # given an address that sent 20 unknown tokens this minute
    _, plaintext = _issue(org_a)
    for n in range(20):
        assert client.get(ME, **_bearer(f"glp_{n:012d}_{'z' * 43}")).status_code == 401
    # when it sends a valid token
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME, **_bearer(plaintext))
    # (the only statements: the row-level scope set and restored, and the throttle's own audit
    # row; no token lookup)
    tables = [q["sql"] for q in queries.captured_queries if "portal_apitoken" in q["sql"]]
    assert tables == []
    assert [q["sql"].split()[0] for q in queries.captured_queries].count("INSERT") == 1
    more = [client.get(ME, **_bearer(plaintext)) for _ in range(5)]
    # then it is refused for the rest of the minute, with one row for the refusals
    assert response.status_code == 429
    assert {r.status_code for r in more} == {429}
    assert sorted(_trail().values_list("action", flat=True)) == [
        "api_token.throttled",
        "api_token.unknown",
    ]
    # and another address is served
    assert client.get(ME, **_bearer(plaintext, "192.0.2.50")).status_code == 200
    # and so is this one in the next minute
    frozen_minute(60)
    assert client.get(ME, **_bearer(plaintext)).status_code == 200


# --- cross-tenant 404s


def test_a_member_asking_for_another_organisations_pages_is_recorded_once_a_minute(
    client, org_a, member_b, frozen_minute
):
    # given a Globex member signed in
    client.force_login(member_b)
    # when they ask for Acme's pages 4 times, and for an organisation that does not exist
    paths = ["/o/acme/", "/o/acme/members/", "/o/acme/audit/", "/o/acme/"]
    responses = [client.get(p) for p in paths]
    missing = client.get("/o/no-such-org/")
    # then every answer is the same 404, and one row records the probing
    assert {r.status_code for r in [*responses, missing]} == {404}
    row = AuditEvent.objects.get()
    assert (row.action, row.actor, row.organisation) == ("access.cross_tenant", member_b, None)
    assert row.details == {
        "target": "portal.organisation:slug=acme",
        "path": "/o/acme/",
        "principal": f"user:{member_b.pk}",
        "minute": "2026-03-02T10:10Z",
    }


def test_a_token_asking_for_another_organisation_is_recorded_in_its_own_trail(
    client, org_a, org_b, frozen_minute
):
    # given Globex's token
    token, plaintext = _issue(org_b)
    # when it asks for Acme twice, and for an organisation that does not exist
    foreign = [client.get("/api/v1/organisations/acme", **_bearer(plaintext)) for _ in range(2)]
    missing = client.get("/api/v1/organisations/no-such-org", **_bearer(plaintext))
    # then the answers are identical 404s
    assert {r.status_code for r in [*foreign, missing]} == {404}
    assert {r.content for r in [*foreign, missing]} == {
        b'{"code": "not_found", "message": "Not found.", "field": null}'
    }
    # and Globex's trail has one row naming its token
    row = _trail().get()
    assert (row.action, row.organisation, row.actor) == ("access.cross_tenant", org_b, None)
    assert row.details == {
        "target": "portal.organisation:slug=acme",
        "path": "/api/v1/organisations/acme",
        "principal": f"token:{token.lookup}",
        "minute": "2026-03-02T10:10Z",
    }


def test_an_organisations_own_pages_write_nothing(client, org_a, member_a, frozen_minute):
    client.force_login(member_a)
    assert (
        client.get(reverse("portal:org_dashboard", kwargs={"org_slug": "acme"})).status_code == 200
    )
    assert AuditEvent.objects.count() == 0


def test_an_admin_changing_another_organisations_membership_is_refused_and_recorded(
    client, org_a, admin_a, member_b, frozen_minute
):
    # given Acme's admin, and a Globex membership
    membership = member_b.memberships.get()
    client.force_login(admin_a)
    # when they post a role change for it under Acme's address
    response = client.post(f"/o/acme/members/{membership.pk}/role/", {"role": "admin"})
    # then it is 404, nothing changed, and the attempt is recorded
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.role == "member"
    row = AuditEvent.objects.get()
    assert (row.action, row.actor) == ("access.cross_tenant", admin_a)
    assert row.details["target"] == f"portal.membership:pk={membership.pk}"
