"""Walk every route and API endpoint: anonymous callers are sent to sign-in (or get 401), and a
member of another organisation gets 404 for anything that belongs to an organisation."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

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


def _params(route: str) -> list[str]:
    # From the full route, so that parameters of an include()'s prefix count too: path
    # converters (<int:pk>) and re_path() named groups.
    return re.findall(r"<(?:\w+:)?(\w+)>", route.replace("(?P<", "(?P")) + re.findall(
        r"\(\?P<(\w+)>", route
    )


def protected_routes() -> list[tuple[str, str, list[str]]]:
    routes = []
    for route, pattern, namespace in _leaves(get_resolver().url_patterns):
        if _is_public(route, pattern):
            continue
        assert pattern.name, f"Route {route!r} needs a name so the authorisation walk can reach it"
        name = f"{namespace}:{pattern.name}" if namespace else pattern.name
        routes.append((route, name, _params(route)))
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


# --- Second mode: the caller's OWN organisation's URL with ANOTHER organisation's object. The
# organisation in the path is the caller's, so only the object lookup's organisation filter stands
# between them and the foreign object: removing that filter must make this walk fail.

OBJECT_ROUTES = [
    r
    for r in SCOPED_ROUTES
    if "org_slug" in r[2] and not set(r[2]) - {"org_slug"} <= authz.SHARED_PARAMS
]
# Writes a refused request may still make: the audit trail records the refusal.
REFUSAL_WRITES = ('INSERT INTO "portal_auditevent"', 'UPDATE "django_session"')


def _foreign_object_url(name: str, params: list[str], own, foreign) -> str:
    kwargs = {"org_slug": own.slug}
    per_route = authz.ROUTE_PARAM_SAMPLES.get(name, {})
    for param in params:
        if param == "org_slug":
            continue
        sample = per_route.get(param) or authz.NESTED_PARAM_SAMPLES.get(param)
        if sample is None or (param == "pk" and param not in per_route):
            pytest.fail(
                f"Route {name} has parameter {param!r} without a foreign-object sample; add one "
                "to ROUTE_PARAM_SAMPLES in tests/authz.py or the plugin's authz_samples.py."
            )
        kwargs[param] = sample(foreign)
    return reverse(name, kwargs=kwargs)


def test_the_second_mode_covers_every_object_route():
    names = {name for _, name, _ in OBJECT_ROUTES}
    assert {
        "portal:change_role",
        "portal:revoke_token",
        "carbon:order_detail",
        "carbon:evidence",
        "carbon:import_job",
        "carbon:redemption_cancel",
    } <= names


@pytest.mark.parametrize(
    ("route", "name", "params"), OBJECT_ROUTES, ids=[r[1] for r in OBJECT_ROUTES]
)
def test_own_url_with_a_foreign_object_is_404_and_changes_nothing(
    client, admin_a, org_a, org_b, route, name, params, monkeypatch
):
    # given an admin of Acme (every role check passes) and, in Acme's URL, an object of Globex
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal import tenancy
    from portal.middleware import TenantScopeMiddleware

    # The database's row-level security would hide Globex's rows anyway (it has its own tests,
    # tests/portal/test_row_level_security.py); it is lifted here so that this walk tests the
    # application's own organisation filters, and fails when one is removed.
    monkeypatch.setattr(
        TenantScopeMiddleware, "_scope", staticmethod(lambda request: tenancy.all_organisations())
    )

    url = _foreign_object_url(name, params, org_a, org_b)
    client.force_login(admin_a)
    for method in ("get", "post"):
        # when they open it, and post to it
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url)
        # then it does not exist for them, whichever method (405 only where the route takes
        # no such method), and nothing but the audit of the refusal was written
        assert response.status_code in {404, 405}, f"{method.upper()} {url}: {response}"
        writes = [
            q["sql"][:120]
            for q in queries.captured_queries
            if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            and not q["sql"].lstrip().startswith(REFUSAL_WRITES)
        ]
        assert writes == [], f"{method.upper()} {url} wrote {writes}"
    statuses = {client.get(url).status_code, client.post(url).status_code}
    assert 404 in statuses, f"{url}: never looked the object up ({statuses})"


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


# Operations that create the object when their own organisation lacks it (an upsert by the
# organisation's external id): Globex's external id names nothing of Globex's for Acme.
UPSERTS = {("put", "/api/v1/organisations/{slug}/orders/{external_id}")}


def test_api_own_slug_with_foreign_objects_gets_404(client, org_a, org_b, monkeypatch):
    # given a token of Acme holding every scope, and row-level security lifted so that the API's
    # own organisation filters are what is tested (the database layer has its own tests)
    from portal import tenancy
    from portal.middleware import TenantScopeMiddleware

    monkeypatch.setattr(
        TenantScopeMiddleware, "_scope", staticmethod(lambda request: tenancy.all_organisations())
    )
    monkeypatch.setattr(tenancy, "set_scope", lambda *args, **kwargs: None)
    _, token = actions.issue_api_token(org_a, "walk", list(SCOPES), by=None)
    checked = 0
    for path, method in _api_operations(client):
        if "{slug}" not in path or path.count("{") < 2 or (method, path) in UPSERTS:
            continue
        # when it names its own organisation and one of Globex's objects
        url = _api_url(path.replace("{slug}", org_a.slug), org_b)
        response = getattr(client, method)(
            url, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )
        # then the object does not exist for it
        assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
        checked += 1
    assert checked >= 2


def test_api_session_of_another_organisation_gets_404(client, member_a, org_b):
    client.force_login(member_a)
    for path, method in _api_operations(client):
        if "{" not in path:
            continue
        response = getattr(client, method)(_api_url(path, org_b), content_type="application/json")
        assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code}"


# --- Vendor staff without a second factor: every route, whatever its prefix, answers with the
# set-up and nothing else (the review found staff reading customers' data outside /admin/).

ALL_ROUTES = [
    (route, f"{namespace}:{pattern.name}" if namespace else pattern.name, _params(route))
    for route, pattern, namespace in _leaves(get_resolver().url_patterns)
    if pattern.name
]
# What a staff member without a second factor may still open: the set-up itself, signing out,
# re-authenticating (the set-up asks for it) and switching the language.
STAFF_SETUP_ROUTES = {
    "account_logout",
    "account_reauthenticate",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "set_language",
    "javascript-catalog",
}
UNGUARDED_ROUTES = [r for r in ALL_ROUTES if r[1] not in STAFF_SETUP_ROUTES]


def _any_url(route: str, name: str, params: list[str], org) -> str:
    # Staff would see every organisation, so any object will do: the refusal must come first.
    samples = {**authz.URL_PARAM_SAMPLES, **authz.NESTED_PARAM_SAMPLES}
    named = {p: samples[p](org) if p in samples else "1" for p in params}
    by_type = {"uuid": "00000000-0000-4000-8000-000000000001", "int": "1"}
    typed = {p: by_type.get(t, "x1") for t, p in re.findall(r"<(\w+):(\w+)>", route)}
    typed = {p: typed.get(p, "1") for p in params}
    unnamed = re.compile(route.split("^")[-1]).groups - len(params) if "^" in route else 0
    candidates = ((named, None), (typed, None), (None, ["1"] * unnamed), (None, [""] * unnamed))
    for kwargs, args in candidates:
        try:
            return reverse(name, kwargs=kwargs, args=args)
        except NoReverseMatch:
            continue
    pytest.fail(f"no sample URL for {name} ({route})")


def test_walk_sees_routes_outside_the_admin_for_staff():
    names = {name for _, name, _ in UNGUARDED_ROUTES}
    assert {"portal:org_dashboard", "portal:members", "wagtailadmin_home", "wagtail_serve"} <= names
    assert len(UNGUARDED_ROUTES) > 100


def test_staff_without_2fa_get_only_the_setup_on_every_route(client, staff_without_2fa, org_b):
    # given vendor staff accounts of every role, signed in with a password only (the routes are
    # shared out among them so that each role meets many kinds of route)
    refused = []
    for index, (route, name, params) in enumerate(UNGUARDED_ROUTES):
        staff = staff_without_2fa[index % len(staff_without_2fa)]
        client.force_login(staff)
        url = _any_url(route, name, params, org_b)
        # when they open the route, by GET and by POST
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            # then each page is sent to the 2FA set-up and each API call refused, whatever the route
            if url.startswith("/api/"):
                ok = response.status_code == 403 and response.json()["code"] == "mfa_required"
            else:
                ok = (
                    response.status_code == 302
                    and response["Location"] == "/accounts/2fa/totp/activate/"
                )
            if not ok:
                refused.append(f"{staff.email} {method.upper()} {url} ({name}): {response}")
    assert refused == []


def test_staff_without_2fa_get_403_on_every_api_operation(client, staff_without_2fa, org_b):
    operations = list(_api_operations(client))
    assert len(operations) >= 10
    for index, (path, method) in enumerate(operations):
        client.force_login(staff_without_2fa[index % len(staff_without_2fa)])
        response = getattr(client, method)(_api_url(path, org_b), content_type="application/json")
        assert response.status_code == 403, f"{method.upper()} {path}"
        assert response.json()["code"] == "mfa_required", f"{method.upper()} {path}"


def test_staff_power_returns_with_the_second_factor(client, staff_without_2fa, org_b, enable_totp):
    # given the customer-success account of the walk above
    success = next(u for u in staff_without_2fa if u.email.startswith("customer_success"))
    client.force_login(success)
    dashboard = reverse("portal:org_dashboard", kwargs={"org_slug": org_b.slug})
    assert client.get(dashboard).status_code == 302
    # when it enrols TOTP
    enable_totp(success)
    # then the same pages open (so the refusals above are the 2FA rule, not a broken route)
    assert client.get(dashboard).status_code == 200
    assert client.get(f"/api/v1/organisations/{org_b.slug}").status_code == 200


def test_the_permission_layer_refuses_staff_without_2fa(staff_without_2fa, org_b):
    # a view that forgets the middleware still finds nothing: the rule is in the permission layer
    from portal.models import Organisation
    from portal.permissions import Perm, has_perm, in_staff_role, is_vendor_staff

    for staff in staff_without_2fa:
        assert not is_vendor_staff(staff), staff.email
        assert not in_staff_role(staff, *[g.name for g in staff.groups.all()]), staff.email
        assert list(Organisation.objects.for_user(staff)) == [], staff.email
        assert not has_perm(staff, Perm.ORG_VIEW, org_b), staff.email
        assert not has_perm(staff, Perm.AUDIT_VIEW_ALL), staff.email
        assert not staff.has_perm("wagtailadmin.access_admin"), staff.email


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
