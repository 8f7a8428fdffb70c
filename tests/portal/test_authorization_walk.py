"""Walk every route and API endpoint: anonymous callers are sent to sign-in (or get 401), and a
member of another organisation gets 404 for anything that belongs to an organisation."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal import actions
from portal.api_scopes import SCOPES
from tests import authz


def _leaves(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _leaves(pattern.url_patterns, prefix + str(pattern.pattern), full_ns)
        else:
            yield prefix + str(pattern.pattern), pattern, namespace


def _is_public(route: str, pattern: URLPattern) -> bool:
    if route.lstrip("^").startswith(tuple(authz.PROTECTED_ROUTE_PREFIXES)):
        return False
    prefixes = authz.PUBLIC_ROUTE_PREFIXES + authz.ADMIN_ROUTE_PREFIXES + authz.API_ROUTE_PREFIXES
    if route.lstrip("^").startswith(tuple(prefixes)) or pattern.name in authz.PUBLIC_ROUTE_NAMES:
        return True
    # Wagtail's front-end page serving applies each page's own privacy settings.
    return pattern.callback.__module__.startswith("wagtail.")


def _params(pattern: URLPattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters is not None:
        return list(converters)
    return list(re.compile(str(pattern.pattern)).groupindex)


def protected_routes() -> list[tuple[str, str, list[str]]]:
    routes = []
    for route, pattern, namespace in _leaves(get_resolver().url_patterns):
        if _is_public(route, pattern):
            continue
        assert pattern.name, f"Route {route!r} needs a name so the authorisation walk can reach it"
        name = f"{namespace}:{pattern.name}" if namespace else pattern.name
        routes.append((route, name, _params(pattern)))
    return routes


ROUTES = protected_routes()


def _url_for(name: str, params: list[str], foreign_org) -> str:
    kwargs = {}
    for param in params:
        if param in authz.URL_PARAM_SAMPLES:
            kwargs[param] = authz.URL_PARAM_SAMPLES[param](foreign_org)
        elif param in authz.NESTED_PARAM_SAMPLES:
            kwargs[param] = authz.NESTED_PARAM_SAMPLES[param](foreign_org)
        else:
            pytest.fail(
                f"Route {name} has parameter {param!r} that tests/authz.py does not know; "
                "register a sample value for it."
            )
    return reverse(name, kwargs=kwargs)


def _call(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def test_walk_covers_the_portal_routes():
    # given the portal's own routes / then the walk sees them all (a guard against an empty walk)
    names = {name for _, name, _ in ROUTES}
    assert {"portal:dashboard", "portal:org_dashboard", "portal:members", "portal:tokens"} <= names
    assert {
        "portal:privacy",
        "portal:export_personal_data",
        "portal:erase_personal_data",
    } <= names


@pytest.mark.parametrize(("route", "name", "params"), ROUTES, ids=[r[1] for r in ROUTES])
def test_anonymous_is_sent_to_sign_in(client, org_b, route, name, params):
    # given an anonymous visitor / when they open the route
    response = _call(client, _url_for(name, params, org_b))
    # then they are redirected to the sign-in page
    assert response.status_code == 302, f"{name}: {response.status_code}"
    assert response["Location"].startswith("/accounts/login/")


SCOPED_ROUTES = [r for r in ROUTES if r[2] and not set(r[2]) <= authz.SHARED_PARAMS]


@pytest.mark.parametrize(
    ("route", "name", "params"), SCOPED_ROUTES, ids=[r[1] for r in SCOPED_ROUTES]
)
def test_member_of_another_organisation_gets_404(client, member_a, org_b, route, name, params):
    # given a signed-in member of Acme / when they open a route of Globex
    client.force_login(member_a)
    response = _call(client, _url_for(name, params, org_b))
    # then Globex does not exist for them
    assert response.status_code == 404, f"{name}: {response.status_code}"


def _api_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield path, method


def _api_url(path: str, foreign_org) -> str:
    def fill(match):
        param = match.group(1)
        if param not in authz.API_PARAM_SAMPLES:
            pytest.fail(f"API path {path} has parameter {param!r} unknown to tests/authz.py")
        return str(authz.API_PARAM_SAMPLES[param](foreign_org))

    return re.sub(r"{(\w+)}", fill, path)


def test_api_anonymous_gets_401_everywhere(client, org_b):
    # given no credentials / when calling every operation in the schema
    operations = list(_api_operations(client))
    assert len(operations) >= 2
    for path, method in operations:
        response = getattr(client, method)(_api_url(path, org_b), content_type="application/json")
        # then each answers 401 with the JSON error format
        assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
        assert response.json()["code"] == "not_authenticated"


def test_api_token_of_another_organisation_gets_404(client, org_a, org_b):
    # given a token of Acme holding every scope
    _, token = actions.issue_api_token(org_a, "walk", list(SCOPES), by=None)
    checked = 0
    for path, method in _api_operations(client):
        if "{" not in path:
            continue
        # when it reaches for Globex's objects
        response = getattr(client, method)(
            _api_url(path, org_b),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        # then they do not exist for it
        assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code}"
        checked += 1
    assert checked >= 1


def test_api_session_of_another_organisation_gets_404(client, member_a, org_b):
    client.force_login(member_a)
    for path, method in _api_operations(client):
        if "{" not in path:
            continue
        response = getattr(client, method)(_api_url(path, org_b), content_type="application/json")
        assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code}"


def test_admin_requires_staff_sign_in(client, member_a):
    # anonymous: sent to allauth's sign-in
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # a customer: no admin access
    client.force_login(member_a)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
