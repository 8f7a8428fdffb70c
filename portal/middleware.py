"""Two-factor enforcement: staff before the admin, members of organisations that require it;
the API's error format for answers Django gives under /api/; page addresses that carry text no
view could look up."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.models import Membership
from portal.text import text_problem

ADMIN_PREFIXES = ("/admin/",)
# Paths a user must still reach to set up 2FA, sign out or change language.
EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/i18n/", "/jsi18n/", "/favicon")
API_PREFIX = "/api/"


class MfaEnforcementMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        redirect = self._enforce(request)
        return redirect or self.get_response(request)

    def _enforce(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        path = request.path
        if path.startswith(EXEMPT_PREFIXES):
            return None
        if path.startswith(ADMIN_PREFIXES):
            if user.is_staff and not is_mfa_enabled(user):
                messages.warning(
                    request,
                    _("Staff must turn on two-factor authentication before using the admin."),
                )
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
            return None
        required_by = (
            Membership.objects.filter(user=user, organisation__require_mfa=True)
            .values_list("organisation__name", flat=True)
            .first()
        )
        if required_by and not is_mfa_enabled(user):
            if path.startswith(API_PREFIX):
                # A browser session calling the API; tokens never reach here (request.user is
                # anonymous for them), so this only closes the session route around the rule.
                return JsonResponse(
                    {
                        "code": "mfa_required",
                        "message": f"{required_by} requires two-factor authentication.",
                        "field": None,
                    },
                    status=403,
                )
            messages.warning(
                request,
                _("%(org)s requires two-factor authentication. Please set it up to continue.")
                % {"org": required_by},
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return None


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
