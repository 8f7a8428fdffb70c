"""Two-factor enforcement on every route.

Vendor staff see every customer organisation, so a staff account without a verified second factor
is worth no more than an anonymous visitor: until they enrol one, every page, file and API call
answers with the set-up (pages) or 403 `mfa_required` (API), whatever the path. The same holds for
members of an organisation that requires two-factor authentication.

Also here: the API's error format for answers Django gives under /api/, and page addresses
that carry text no view could look up; and the database scope of each request
(row-level security, `TenantScopeMiddleware`); and the person's time zone
(`TimeZoneMiddleware`). The permission layer repeats
the staff rule (`portal.permissions.holds_staff_power`), so a route this middleware does not see
(a test client, a future mount point) still grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth import get_user as django_get_user
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.models import AnonymousUser
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from portal import db_busy, person_cache, tenancy, timezones
from portal.permissions import has_second_factor, is_staff_account, is_vendor_staff
from portal.text import text_problem

# The only routes a person who must enrol a second factor may still open: the enrolment pages
# themselves, signing out, re-authenticating (enrolment asks for it) and the language switch.
SETUP_ROUTE_NAMES = frozenset(
    {
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
)
# A customer whose organisation asks for 2FA may also keep managing their own sign-in details;
# staff get nothing beyond the set-up.
OWN_ACCOUNT_ROUTE_NAMES = frozenset({"account_email", "account_change_password"})
API_PREFIX = "/api/"


def _route_name(path: str) -> str | None:
    try:
        return resolve(path).url_name
    except Resolver404:
        return None


def _wants_json(request: HttpRequest) -> bool:
    """A script's fetch that asked for JSON, not a page a person navigates to."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the signed-in person's User row read from the shared cache in the same
    round trip as the rest of their per-person entries (`portal.person_cache.signed_in`)
    instead of a query on every request. The checks are Django's own (`auth.get_user`): the
    session's backend must be configured, the person active (`user_can_authenticate`), and the
    session's hash equal to the current one derived from the password hash, so a password
    change, a deactivation or a deletion signs out every other session on its next request;
    the cache entry is forgotten on every write of the row."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))  # type: ignore[assignment]


def _cached_user(request: HttpRequest):
    if not hasattr(request, "_cached_user"):
        request._cached_user = get_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


def get_user(request: HttpRequest):
    """`django.contrib.auth.get_user` with the row from `person_cache.signed_in`, for the
    backends that load it as ModelBackend does; any other backend goes through Django's."""
    try:
        user_id = get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    backend = load_backend(backend_path)
    if not isinstance(backend, ModelBackend) or type(backend).get_user is not ModelBackend.get_user:
        return django_get_user(request)
    found = person_cache.signed_in(user_id)
    if found is None or not backend.user_can_authenticate(found.user):
        return AnonymousUser()
    session_hash = request.session.get(HASH_SESSION_KEY)
    if session_hash and constant_time_compare(session_hash, found.session_auth_hash):
        return found.user
    if session_hash and any(
        constant_time_compare(session_hash, fallback) for fallback in found.fallback_auth_hashes
    ):
        # Signed with a secret being rotated out: re-sign with the current one (as Django does).
        request.session.cycle_key()
        request.session[HASH_SESSION_KEY] = found.session_auth_hash
        return found.user
    request.session.flush()
    return AnonymousUser()


class MfaEnforcementMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._enforce(request)
        return refusal or self.get_response(request)

    def _enforce(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if is_staff_account(user):
            if has_second_factor(user):
                return None
            allowed = SETUP_ROUTE_NAMES
            reason = _("Staff must turn on two-factor authentication before anything else.")
        else:
            # Cached per person, forgotten when their memberships or an organisation's policy
            # change (portal.person_cache).
            required_by = person_cache.mfa_required_by(user.pk)
            if not required_by or has_second_factor(user):
                return None
            allowed = SETUP_ROUTE_NAMES | OWN_ACCOUNT_ROUTE_NAMES
            reason = _(
                "%(org)s requires two-factor authentication. Please set it up to continue."
            ) % {"org": required_by}
        # The set-up pages leave out what they could not load yet (the header's unread count).
        request.must_enrol_second_factor = True  # type: ignore[attr-defined]
        if _route_name(request.path_info) in allowed:
            return None
        if request.path_info.startswith(API_PREFIX) or _wants_json(request):
            # A browser session calling the API; tokens never reach here (request.user is
            # anonymous for them), so this only closes the session route around the rule.
            # A page's own background fetch (the header's unread count) is refused the same
            # way: redirected, it would open the TOTP page, whose GET draws a new secret and
            # so voids the QR code the person is scanning, and queue the warning twice.
            return JsonResponse(
                {"code": "mfa_required", "message": str(reason), "field": None}, status=403
            )
        messages.warning(request, reason)
        return HttpResponseRedirect(reverse("mfa_activate_totp"))


# Codes and messages of the errors Django itself answers under /api/ (no such path, a method
# an endpoint does not take, an unhandled exception); the API's own errors are JSON already.
_API_ERRORS = {
    400: ("bad_request", "The request is malformed."),
    403: ("forbidden", "Forbidden."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This endpoint does not take this method."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
}


class ApiErrorMiddleware:
    """Every error under /api/ is the API's JSON `{code, message, field}`, also those that
    Django answers with an HTML page: a path that names no endpoint, a 405, and a 500 from an
    unhandled exception (logged by Django as always; with DEBUG on the traceback is kept)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith(API_PREFIX)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
            or (settings.DEBUG and response.status_code >= 500)
        ):
            return response
        status = response.status_code
        code, message = _API_ERRORS.get(status, (f"http_{status}", response.reason_phrase))
        error = JsonResponse({"code": code, "message": message, "field": None}, status=status)
        if response.has_header("Allow"):
            error["Allow"] = response["Allow"]
        return error


class DatabaseBusyMiddleware:
    """A transient database error (see `portal.db_busy`) is a 503 "try again" that keeps what
    the person sent (JSON under /api/), not a 500. Innermost, so it sees the view's exception
    before any other middleware turns it into an error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not db_busy.is_transient(exception):
            return None
        return db_busy.busy_response(request, exception)


class StorableTextMiddleware:
    """A page whose path or query string carries text that cannot be stored (a NUL; see
    `portal.text`) is a 400 before any view looks it up, which would be a database error.
    Under /api/ the schemas refuse it as a 422 naming the parameter instead. Form fields need
    no check here: Django's form CharField refuses a NUL itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX) and (
            text_problem(request.path)
            or any(
                text_problem(key) or any(text_problem(value) for value in values)
                for key, values in request.GET.lists()
            )
        ):
            return HttpResponseBadRequest(_("The address contains a character it cannot hold."))
        return self.get_response(request)


class TenantScopeMiddleware:
    """Scope the database to the organisations the request may see (row-level security,
    portal/tenancy.py): a person's own organisations, every organisation for vendor staff who
    passed 2FA, nothing for anonymous callers (an API token narrows it to its organisation in
    `portal.api.TokenAuth`). Restored after the response, streamed content included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self._scope(request):
            response = self.get_response(request)
            if response.streaming:
                # A streamed export reads the database after this returns: keep its scope.
                response.streaming_content = _scoped(response.streaming_content, tenancy.current())
        return response

    @staticmethod
    def _scope(request: HttpRequest) -> AbstractContextManager[None]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            if request.path.startswith(API_PREFIX) and request.headers.get(
                "Authorization", ""
            ).startswith("Bearer "):
                # The token sets its organisation's scope (`portal.api.TokenAuth`, before any
                # view and so outside any transaction, where a rollback could undo the swap):
                # the empty scope is set only if a statement would run before it.
                return tenancy.deferred_scope(tenancy.NONE)
            return tenancy.scope(tenancy.NONE)
        if is_vendor_staff(user):  # staff power needs an enrolled second factor
            return tenancy.all_organisations()
        return tenancy.member_scope(user.pk)


def _scoped(content: Iterator, value: str) -> Iterator:
    with tenancy.scope(value):
        yield from content


class TimeZoneMiddleware:
    """Show times in the signed-in person's own time zone (User.time_zone); everyone else, and
    anyone whose stored zone the system no longer knows, sees the settings' TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = timezones.zone(user.time_zone) if user and user.is_authenticated else None
        if chosen is None:
            timezone.deactivate()
        else:
            timezone.activate(chosen)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class PortalNotFoundMiddleware:
    """With DEBUG on, a page that does not exist is the portal's own 404 page, as in production,
    instead of Django's technical one (which lists every URL pattern): the demo runs with DEBUG.
    Only in the demo settings (portal/settings/dev.py); under /api/ the API's JSON error stays."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # An unknown path fails in URL resolution, before any view: no process_exception then.
        if not request.path.startswith(API_PREFIX):
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404) and not request.path.startswith(API_PREFIX):
            return page_not_found(request, exception)
        return None
