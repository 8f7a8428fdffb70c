"""The authorisation walk's second mode as plain functions that return the failures they find.

tests/portal/test_authorization_walk.py asserts that they find none; tests/portal/
test_walk_catches_breakage.py removes one organisation filter at a time and asserts that they find
some. Both call the same functions, so the walk is proven by the breakage it catches.

Second mode: the caller's OWN organisation in the URL (every role check passes) and ANOTHER
organisation's object, by GET and by the route's real write method with a valid body and a CSRF
token; also another person's object of the caller's own organisation where ownership is personal.
The answer must be 404 (403 where the refusal is documented) and nothing may be written but the
audit record of the refusal.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import authz

# Writes a refused request may still make: the audit trail records the refusal, the session row is
# refreshed (messages), a token notes when it was last used.
REFUSAL_WRITES = (
    'INSERT INTO "portal_auditevent"',
    'UPDATE "django_session"',
    'UPDATE "portal_apitoken" SET "last_used_at" = ',
)
# Statements that write: a prepared one (portal.rows.execute_prepared, the redemption's hold) and
# a WITH (the hold written out, where statements are not prepared) count as writes too.
WRITES = ("INSERT", "UPDATE", "DELETE", "WITH", "PREPARE", "EXECUTE")
# What the CSRF failure page renders: a 403 from it is not the application's refusal.
CSRF_FAILURE_TEMPLATE = "403_csrf.html"


@contextlib.contextmanager
def rls_lifted() -> Iterator[None]:
    """Lift PostgreSQL row-level security for requests and API tokens, so that the application's
    own organisation filters are what the walk tests (the database layer has its own tests,
    tests/portal/test_row_level_security.py): without this a removed filter would not show."""
    from unittest import mock

    from portal import tenancy
    from portal.middleware import TenantScopeMiddleware

    with (
        mock.patch.object(
            TenantScopeMiddleware,
            "_scope",
            staticmethod(lambda request: tenancy.all_organisations()),
        ),
        mock.patch.object(tenancy, "set_scope", return_value=None),
    ):
        yield


def csrf_client(user) -> tuple[Client, str]:
    """A client that enforces CSRF like a browser's, signed in as `user`, and the CSRF token
    taken from a page the user may open (the privacy page carries forms)."""
    # A 500 is a failure to report with the others, not an exception that hides them.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    response = client.get(reverse("portal:privacy"))
    assert response.status_code == 200, f"privacy page: {response}"
    token = client.cookies["csrftoken"].value
    return client, token


def _writes(queries) -> list[str]:
    return [
        q["sql"][:160]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(WRITES)
        and not q["sql"].lstrip().startswith(REFUSAL_WRITES)
    ]


def _is_csrf_failure(response) -> bool:
    return any(t.name == CSRF_FAILURE_TEMPLATE for t in getattr(response, "templates", []) or [])


def _closed(response):
    """The walk reads a download's status and headers only: send its body through, as a server
    would, so that the test client closes its file (and keeps the test's database connection,
    which a bare response.close() would end) rather than leave it open until garbage
    collection."""
    if response.streaming:
        for _chunk in response.streaming_content:
            pass
    return response


def _request(client, method: str, url: str, **kwargs) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = _closed(getattr(client, method)(url, **kwargs))
    return response, _writes(queries)


def _check_page(client, token: str, route: authz.Route, url: str, body, expected: set[int]):
    """GET and POST (with `body` and the CSRF token) one URL; the failures found."""
    failures = []
    statuses = set()
    for method in ("get", "post"):
        data = None if method == "get" else {**(body or {}), "csrfmiddlewaretoken": token}
        response, writes = _request(client, method, url, **({"data": data} if data else {}))
        statuses.add(response.status_code)
        where = f"{route.name} {method.upper()} {url}"
        if _is_csrf_failure(response):
            failures.append(f"{where}: refused by the CSRF check, not by the view")
        elif response.status_code == 405:
            pass  # the route takes no such method
        elif response.status_code not in expected:
            failures.append(f"{where}: {response.status_code}, expected {sorted(expected)}")
        if method == "post" and response.status_code != 405 and body is None:
            failures.append(
                f"{where}: accepts POST but tests/authz.py has no valid body for it (WRITE_BODIES"
                " in tests/authz.py or the plugin's authz_samples.py, or READ_ONLY_ROUTES)"
            )
        if writes:
            failures.append(f"{where} wrote {writes}")
    if not statuses & expected:
        failures.append(f"{route.name} {url}: never looked the object up ({sorted(statuses)})")
    return failures


def _body_for(route: authz.Route, own, foreign) -> dict[str, Any] | None:
    if route.name in authz.WRITE_BODIES:
        return authz.WRITE_BODIES[route.name](own, foreign)
    if route.name in authz.READ_ONLY_ROUTES:
        return {}
    return None


def own_url_failures(user, own, foreign, routes: list[authz.Route]) -> list[str]:
    """`user` (an admin of `own`) opens each route under `own`'s URL naming `foreign`'s objects,
    with GET and POST (valid body, CSRF); every answer must be 404 (405 for a method the route
    does not take) and nothing may be written."""
    client, token = csrf_client(user)
    failures: list[str] = []
    for route in routes:
        try:
            url = authz.fill_route(route, foreign, own=own, strict=True)
        except authz.NoSample as missing:
            failures.append(str(missing))
            continue
        body = _body_for(route, own, foreign)
        failures += _check_page(client, token, route, url, body, {404})
    return failures


def foreign_org_failures(user, foreign, routes: list[authz.Route]) -> list[str]:
    """The first mode: `user` (a member of another organisation) opens each route of `foreign`
    (its slug, its objects) by GET, and by POST where GET answers 405: 404 every time."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    failures: list[str] = []
    for route in routes:
        try:
            url = authz.fill_route(route, foreign, strict=True)
        except authz.NoSample as missing:
            failures.append(str(missing))
            continue
        response = _closed(client.get(url))
        if response.status_code == 405:
            response = client.post(url)
        if response.status_code != 404:
            failures.append(f"{route.name} {url}: {response.status_code}, expected 404")
    return failures


def personal_failures(user, own, other, routes: list[authz.Route]) -> list[str]:
    """`user` (a plain member of `own`) opens each route naming `other`'s object (a person of the
    same organisation) where ownership is personal; the documented answer is 403."""
    client, token = csrf_client(user)
    failures: list[str] = []
    by_name = {route.name: route for route in routes}
    for name, sample in authz.PERSONAL_ROUTE_SAMPLES.items():
        route = by_name[name]
        url = reverse(name, kwargs=sample(own, user, other))
        body = _body_for(route, own, own)
        failures += _check_page(client, token, route, url, body, {403})
    return failures


# --- The API


def api_operations(client) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/v1/openapi.json").json()
    return [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def _api_url(path: str, own, foreign) -> str:
    def fill(match):
        param = match.group(1)
        if param == "slug":
            return own.slug
        if param not in authz.API_PARAM_SAMPLES:
            raise authz.NoSample(f"API path {path} has parameter {param!r} without a sample")
        return str(authz.API_PARAM_SAMPLES[param](foreign))

    return re.sub(r"{(\w+)}", fill, path)


def _api_call(client, method: str, url: str, body, headers: dict[str, str]):
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = body
        kwargs["content_type"] = "application/json"
    with CaptureQueriesContext(connection) as queries:
        response = _closed(getattr(client, method)(url, **kwargs))
    return response, _writes(queries)


def _api_body(path: str, method: str, operation: dict, own, foreign):
    sample = authz.API_BODIES.get((method, path))
    if sample is not None:
        return sample(own, foreign)
    if "requestBody" in operation:
        raise authz.NoSample(
            f"{method.upper()} {path} takes a body and API_BODIES has no valid one for it"
        )
    return None


# Operations that create the object when the caller's own organisation lacks it (an upsert by
# the organisation's external id): they may answer 200/201, but the foreign object must not change.
UPSERTS = {("put", "/api/v1/organisations/{slug}/orders/{external_id}")}


# 404 answers that an operation gives after it found the object: the object lookup let the
# foreign object through.
FOUND_BUT_404 = {"not_calculated"}


def _api_code(response) -> str | None:
    try:
        return response.json().get("code")
    except ValueError:
        return None


def _foreign_order_state(foreign) -> list:
    from carbon.models import Order

    return list(
        Order.objects.filter(organisation=foreign)
        .order_by("pk")
        .values_list("pk", "external_id", "order_date", "status", "updated_at")
    )


def api_own_failures(token: str, own, foreign, only: set[tuple[str, str]] | None = None) -> list:
    """A token of `own` holding every scope calls every operation that names an object, with
    `own`'s slug and `foreign`'s objects, and a valid body for writes: 404 and no write (an upsert
    creates its own order and leaves `foreign`'s alone)."""
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    checked = 0
    # Upserts last: the order they create under the caller's own organisation would otherwise
    # answer the GET of the same external id.
    operations = sorted(api_operations(client), key=lambda op: (op[1], op[0]) in UPSERTS)
    for path, method, operation in operations:
        if only is not None and (method, path) not in only:
            continue
        if not set(re.findall(r"{(\w+)}", path)) - {"slug"}:
            continue  # no object in the path: the first mode covers the organisation
        try:
            url = _api_url(path, own, foreign)
            body = _api_body(path, method, operation, own, foreign)
        except authz.NoSample as missing:
            failures.append(str(missing))
            continue
        call_headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        before = _foreign_order_state(foreign)
        response, writes = _api_call(client, method, url, body, call_headers)
        where = f"{method.upper()} {url}"
        checked += 1
        if path.startswith(authz.INTEGRATION_API_PREFIX):
            failures.extend(_integration_refusal(where, response, writes))
        elif (method, path) in UPSERTS:
            if response.status_code not in {200, 201}:
                failures.append(
                    f"{where}: {response.status_code} {response.content[:200]!r} (the body "
                    "must be valid)"
                )
        else:
            if response.status_code != 404:
                failures.append(f"{where}: {response.status_code}, expected 404")
            elif _api_code(response) in FOUND_BUT_404:
                failures.append(f"{where}: 404 {_api_code(response)!r} after finding the object")
            if writes:
                failures.append(f"{where} wrote {writes}")
        if _foreign_order_state(foreign) != before:
            failures.append(f"{where} changed {foreign.slug}'s orders")
    if checked == 0:
        failures.append("no API operation names an object")
    return failures


def _integration_refusal(where: str, response, writes: list[str]) -> list[str]:
    """A customer's call of the CRM's inbound API: 403 with an integration refusal, no write."""
    failures = []
    if response.status_code != 403 or _api_code(response) not in authz.INTEGRATION_REFUSALS:
        failures.append(
            f"{where}: {response.status_code} {_api_code(response)!r}, expected 403 "
            f"{sorted(authz.INTEGRATION_REFUSALS)} (vendor-only)"
        )
    if writes:
        failures.append(f"{where} wrote {writes}")
    return failures


def api_foreign_failures(token: str, foreign, only: set[tuple[str, str]] | None = None) -> list:
    """The first mode for the API: a token of another organisation, holding every scope, calls
    every operation that names `foreign` or its objects: 404 every time (the CRM's inbound API,
    which no customer may call: 403 and no write, with a valid body)."""
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    checked = 0
    for path, method, operation in api_operations(client):
        if "{" not in path or (only is not None and (method, path) not in only):
            continue
        checked += 1
        integration = path.startswith(authz.INTEGRATION_API_PREFIX)
        try:
            url = _api_url(path, foreign, foreign)
            body = _api_body(path, method, operation, foreign, foreign) if integration else None
        except authz.NoSample as missing:
            failures.append(str(missing))
            continue
        if integration:
            response, writes = _api_call(client, method, url, body, headers)
            failures.extend(_integration_refusal(f"{method.upper()} {url}", response, writes))
            continue
        response = getattr(client, method)(url, content_type="application/json", headers=headers)
        if response.status_code != 404:
            failures.append(f"{method.upper()} {url}: {response.status_code}, expected 404")
    if checked == 0:
        failures.append("no API operation names an organisation or an object")
    return failures


def api_personal_failures(caller, own, other) -> list[str]:
    """`caller`, signed in (community writes are by people, not tokens), on `other`'s objects of
    their own organisation where the API documents a 403 for anyone but the owner."""
    client = Client(raise_request_exception=False)
    client.force_login(caller)
    failures: list[str] = []
    operations = {(path, method): op for path, method, op in api_operations(client)}
    for (method, path), sample in authz.PERSONAL_API_SAMPLES.items():
        if (path, method) not in operations:
            failures.append(f"{method.upper()} {path} is not in the schema any more")
            continue
        params = sample(own, caller, other)
        url = path.format(**params)
        try:
            body = _api_body(path, method, operations[(path, method)], own, own)
        except authz.NoSample as missing:
            failures.append(str(missing))
            continue
        response, writes = _api_call(client, method, url, body, {})
        if response.status_code != 403:
            failures.append(f"{method.upper()} {url}: {response.status_code}, expected 403")
        if writes:
            failures.append(f"{method.upper()} {url} wrote {writes}")
    return failures
