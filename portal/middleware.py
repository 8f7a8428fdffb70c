"""Two-factor enforcement on every route.

Vendor staff see every customer organisation, so a staff account without a verified second factor
is worth no more than an anonymous visitor: until they enrol one, every page, file and API call
answers with the set-up (pages) or 403 `mfa_required` (API), whatever the path. The same holds for
members of an organisation that requires two-factor authentication. The permission layer repeats
the staff rule (`portal.permissions.holds_staff_power`), so a route this middleware does not see
(a test client, a future mount point) still grants nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from portal.models import Membership
from portal.permissions import has_second_factor, is_staff_account

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
            required_by = (
                Membership.objects.filter(user=user, organisation__require_mfa=True)
                .values_list("organisation__name", flat=True)
                .first()
            )
            if not required_by or has_second_factor(user):
                return None
            allowed = SETUP_ROUTE_NAMES | OWN_ACCOUNT_ROUTE_NAMES
            reason = _(
                "%(org)s requires two-factor authentication. Please set it up to continue."
            ) % {"org": required_by}
        if _route_name(request.path_info) in allowed:
            return None
        if request.path_info.startswith(API_PREFIX):
            # A browser session calling the API; tokens never reach here (request.user is
            # anonymous for them), so this only closes the session route around the rule.
            return JsonResponse(
                {"code": "mfa_required", "message": str(reason), "field": None}, status=403
            )
        messages.warning(request, reason)
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
