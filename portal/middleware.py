"""Two-factor enforcement (staff before the admin, members of organisations that require it) and
the database scope of each request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from portal import tenancy
from portal.models import Membership
from portal.permissions import is_vendor_staff

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
            return tenancy.scope(tenancy.NONE)
        if is_vendor_staff(user) and is_mfa_enabled(user):
            return tenancy.all_organisations()
        return tenancy.member_scope(user.pk)


def _scoped(content: Iterator, value: str) -> Iterator:
    with tenancy.scope(value):
        yield from content
