"""Walk every route and API endpoint: anonymous callers are sent to sign-in (or get 401), a member
of another organisation gets 404 for anything that belongs to an organisation, and (second mode)
the caller's own organisation's URL with another organisation's object, or another person's where
ownership is personal, is refused and changes nothing. The checks are plain functions in
tests/authz_walk.py; tests/portal/test_walk_catches_breakage.py proves they catch a removed
organisation filter."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from portal import actions
from portal.api_scopes import SCOPES
from tests import authz, authz_walk

ALL_ROUTES = authz.routes()


def _is_public(route: authz.Route) -> bool:
    if route.route.lstrip("^").startswith(tuple(authz.PROTECTED_ROUTE_PREFIXES)):
        return False
    prefixes = authz.PUBLIC_ROUTE_PREFIXES + authz.ADMIN_ROUTE_PREFIXES + authz.API_ROUTE_PREFIXES
    if (
        route.route.lstrip("^").startswith(tuple(prefixes))
        or route.name in authz.PUBLIC_ROUTE_NAMES
    ):
        return True
    # Wagtail's front-end page serving applies each page's own privacy settings.
    return route.module.startswith("wagtail.")


ROUTES = [r for r in ALL_ROUTES if not _is_public(r)]


def _url_for(route: authz.Route, foreign_org) -> str:
    try:
        return authz.fill_route(route, foreign_org, strict=True)
    except authz.NoSample as missing:
        pytest.fail(str(missing))


def _call(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def test_walk_covers_the_portal_routes():
    # given the portal's own routes / then the walk sees them all (a guard against an empty walk)
    names = {r.name for r in ROUTES}
    assert {"portal:dashboard", "portal:org_dashboard", "portal:members", "portal:tokens"} <= names
    assert {
        "portal:privacy",
        "portal:profile",
        "portal:export_personal_data",
        "portal:erase_personal_data",
    } <= names


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_anonymous_is_sent_to_sign_in(client, org_b, route):
    # given an anonymous visitor / when they open the route
    response = _call(client, _url_for(route, org_b))
    # then they are redirected to the sign-in page
    assert response.status_code == 302, f"{route.name}: {response.status_code}"
    assert response["Location"].startswith("/accounts/login/")


SCOPED_ROUTES = [r for r in ROUTES if r.params and not set(r.params) <= authz.SHARED_PARAMS]


@pytest.mark.parametrize("route", SCOPED_ROUTES, ids=[r.name for r in SCOPED_ROUTES])
def test_member_of_another_organisation_gets_404(member_a, org_b, route):
    # given a signed-in member of Acme, and row-level security lifted (so that the application's
    # organisation filters are tested, tests/authz_walk.py) / when they open a route of Globex
    with authz_walk.rls_lifted():
        failures = authz_walk.foreign_org_failures(member_a, org_b, [route])
    # then Globex does not exist for them
    assert failures == []


# --- Second mode (tests/authz_walk.py): the caller's OWN organisation's URL with ANOTHER
# organisation's object, by GET and by the real write method with a valid body and CSRF. The
# organisation in the path is the caller's, so only the object lookup's organisation filter stands
# between them and the foreign object: tests/portal/test_walk_catches_breakage.py removes each
# such filter in turn and checks that these functions then report the leak.

OBJECT_ROUTES = [
    r
    for r in SCOPED_ROUTES
    if "org_slug" in r.params and not set(r.params) - {"org_slug"} <= authz.SHARED_PARAMS
]


def test_the_second_mode_covers_every_object_route():
    names = {r.name for r in OBJECT_ROUTES}
    assert {
        "portal:change_role",
        "portal:remove_member",
        "portal:revoke_invitation",
        "portal:revoke_token",
        "carbon:order_detail",
        "carbon:evidence",
        "carbon:green_power_proof",
        "carbon:import_job",
        "carbon:redemption_detail",
        "carbon:redemption_cancel",
    } <= names
    # every write route has a valid body (a missing one also fails the walk below)
    assert {"portal:change_role", "carbon:redemption_cancel"} <= set(authz.WRITE_BODIES)


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=[r.name for r in OBJECT_ROUTES])
def test_own_url_with_a_foreign_object_is_404_and_changes_nothing(admin_a, org_a, org_b, route):
    # given an admin of Acme (every role check passes), row-level security lifted, and in Acme's
    # URL an object of Globex / when they GET it and POST a valid form with a CSRF token
    with authz_walk.rls_lifted():
        failures = authz_walk.own_url_failures(admin_a, org_a, org_b, [route])
    # then it does not exist for them (404, or 405 for a method the route does not take) and
    # nothing but the audit of the refusal was written
    assert failures == []


def test_another_persons_object_of_my_organisation_is_refused(member_a, admin_a, org_a):
    # given a plain member of Acme and objects owned by another person of Acme, on the routes
    # where ownership is personal (tests/authz.py PERSONAL_ROUTE_SAMPLES)
    assert {"portal:remove_member", "community:edit_post", "community:delete_post"} <= set(
        authz.PERSONAL_ROUTE_SAMPLES
    )
    # when the member opens and posts to them / then 403 and nothing changes
    with authz_walk.rls_lifted():
        assert authz_walk.personal_failures(member_a, org_a, admin_a, ALL_ROUTES) == []


def test_api_another_persons_object_of_my_organisation_is_refused(member_a, admin_a, org_a):
    # given another person's question in a space of Acme / when a member (not the asker) accepts
    # or withdraws its answer through the API / then 403 and nothing changes
    assert len(authz.PERSONAL_API_SAMPLES) >= 2
    with authz_walk.rls_lifted():
        assert authz_walk.api_personal_failures(member_a, org_a, admin_a) == []


def _api_operations(client):
    for path, method, _ in authz_walk.api_operations(client):
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


def test_api_token_of_another_organisation_gets_404(org_a, org_b):
    # given a token of Acme holding every scope, row-level security lifted
    _, token = actions.issue_api_token(org_a, "walk", list(SCOPES), by=None)
    # when it reaches for Globex and its objects / then they do not exist for it
    with authz_walk.rls_lifted():
        assert authz_walk.api_foreign_failures(token, org_b) == []


def test_api_own_slug_with_foreign_objects_gets_404(org_a, org_b):
    # given a token of Acme holding every scope, and row-level security lifted so that the API's
    # own organisation filters are what is tested (the database layer has its own tests)
    _, token = actions.issue_api_token(org_a, "walk", list(SCOPES), by=None)
    # when it names its own organisation (where the path has one) and Globex's objects, with a
    # valid body for writes / then they do not exist for it, and Globex's orders do not change
    with authz_walk.rls_lifted():
        assert authz_walk.api_own_failures(token, org_a, org_b) == []


def test_api_session_of_another_organisation_gets_404(client, member_a, org_b):
    client.force_login(member_a)
    for path, method in _api_operations(client):
        if "{" not in path:
            continue
        response = getattr(client, method)(_api_url(path, org_b), content_type="application/json")
        if path.startswith(authz.INTEGRATION_API_PREFIX):
            # the CRM's inbound API is the vendor's integration token's alone: 403 for people
            assert response.status_code == 403, f"{method.upper()} {path}"
            assert response.json()["code"] in authz.INTEGRATION_REFUSALS
            continue
        assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code}"


# --- Vendor staff without a second factor: every route, whatever its prefix, answers with the
# set-up and nothing else (the review found staff reading customers' data outside /admin/).

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
UNGUARDED_ROUTES = [r for r in ALL_ROUTES if r.name not in STAFF_SETUP_ROUTES]


def test_walk_sees_routes_outside_the_admin_for_staff():
    names = {r.name for r in UNGUARDED_ROUTES}
    assert {"portal:org_dashboard", "portal:members", "wagtailadmin_home", "wagtail_serve"} <= names
    assert len(UNGUARDED_ROUTES) > 100


def _signed_in_as(client, staff, sessions: dict[int, str]) -> None:
    """Put `staff`'s own password-only session on the client, signing in only the first time or
    after a route ended that session (signing in before every route, a new session row each
    time, was a third of the walk's time)."""
    key = sessions.get(staff.pk)
    if key is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = key
        if client.session.get(SESSION_KEY) == str(staff.pk):
            return
    client.force_login(staff)
    sessions[staff.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value


def test_staff_without_2fa_get_only_the_setup_on_every_route(client, staff_without_2fa, org_b):
    # given vendor staff accounts of every role, signed in with a password only (the routes are
    # shared out among them so that each role meets many kinds of route)
    refused = []
    sessions: dict[int, str] = {}
    for index, route in enumerate(UNGUARDED_ROUTES):
        staff = staff_without_2fa[index % len(staff_without_2fa)]
        _signed_in_as(client, staff, sessions)
        # Staff would see every organisation, so any object will do: the refusal must come first.
        url = authz.fill_route(route, org_b)
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
                refused.append(f"{staff.email} {method.upper()} {url} ({route.name}): {response}")
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


# --- Staff-only admin screens by role (tests/authz.py, ADMIN_SCREENS)


def _screen_routes(screen: authz.AdminScreens) -> list[authz.Route]:
    return [r for r in ALL_ROUTES if r.name.startswith(f"{screen.namespace}:")]


def _screen_url(route: authz.Route, pk: int) -> str:
    kwargs = {"pk": pk} if "pk" in route.params else {}
    return reverse(route.name, kwargs=kwargs)


@pytest.fixture
def staff_by_role(db, enable_totp):
    """One staff account per role, each with TOTP on, plus each role's twin without 2FA."""
    from portal.staff_roles import StaffRole
    from tests.conftest import _staff

    with_2fa, without_2fa = {}, {}
    for role in StaffRole:
        with_2fa[role.value] = _staff(f"{role.name.lower()}.walk@greenloop.example", role)
        enable_totp(with_2fa[role.value])
        without_2fa[role.value] = _staff(f"{role.name.lower()}.bare@greenloop.example", role)
    return with_2fa, without_2fa


def test_admin_screens_walk_knows_every_route_of_its_viewsets():
    # a new view of a walked viewset is walked too; the guard keeps the walk from being empty
    names = {r.name for s in authz.ADMIN_SCREENS for r in _screen_routes(s)}
    assert {
        "crm_contacts:index",
        "crm_contacts:inspect",
        "crm_contacts:edit",
        "crm_inbound_webhooks:index",
        "crm_inbound_webhooks:delete",
    } <= names
    for screen in authz.ADMIN_SCREENS:
        for route in _screen_routes(screen):
            assert set(route.params) <= {"pk"}, f"{route.name}: no sample for {route.params}"


@pytest.mark.parametrize("screen", authz.ADMIN_SCREENS, ids=lambda s: s.namespace)
def test_admin_screens_open_for_their_role_only(client, screen, staff_by_role, admin_a, org_b):
    from portal.models import AuditEvent, CrmContact, InboundWebhook

    with_2fa, without_2fa = staff_by_role
    pk = screen.sample(org_b)
    rows = (CrmContact.objects.count(), InboundWebhook.objects.count(), screen.rows())
    failures = []
    for route in _screen_routes(screen):
        url = _screen_url(route, pk)
        name = route.name.split(":", 1)[1]
        callers = [("customer admin", admin_a, "/accounts/login/")]
        callers += [
            (f"{role} staff", user, reverse("wagtailadmin_home"))
            for role, user in with_2fa.items()
            if role != screen.role and name not in screen.readers.get(role, ())
        ]
        callers.append(
            (f"{screen.role} without 2FA", without_2fa[screen.role], "/accounts/2fa/totp/activate/")
        )
        if name not in screen.readable:
            # read-only screens: even the role is refused their add, edit and delete views
            callers.append((screen.role, with_2fa[screen.role], reverse("wagtailadmin_home")))
        for label, user, refused_to in callers:
            client.force_login(user)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                location = response.get("Location", "")
                if response.status_code != 302 or not location.startswith(refused_to):
                    failures.append(f"{label} {method.upper()} {url}: {response.status_code}")
        readers = [role for role, names in screen.readers.items() if name in names]
        if name in screen.readable:
            readers.append(screen.role)
        for role in readers:
            client.force_login(with_2fa[role])
            response = client.get(url)
            if response.status_code != 200:
                failures.append(f"{role} GET {url}: {response.status_code}")
    assert failures == []
    # and nobody's POST changed or removed anything
    assert (CrmContact.objects.count(), InboundWebhook.objects.count(), screen.rows()) == rows
    assert not AuditEvent.objects.filter(action__startswith="crm.").exists()
