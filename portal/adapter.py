"""allauth customisation: invitation-only sign-up, audit of sign-in and sign-out."""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from portal import actions, audit
from portal.context_processors import CURRENT_ORG_SESSION_KEY
from portal.exceptions import PortalError
from portal.models import Invitation
from portal.request_meta import client_ip

INVITATION_SESSION_KEY = "greenloop_invitation_key"
# allauth's error codes when one of its rate limits (ACCOUNT_RATE_LIMITS, MFA codes) refuses.
RATE_LIMIT_CODES = frozenset({"too_many_login_attempts", "rate_limited"})


def record_rate_limited(request: HttpRequest, limit: str) -> None:
    """Audit a refusal by a rate limit, aggregated per client IP, limit and minute: a password
    spraying run leaves one row a minute, not one per guess."""
    audit.record_aggregated(
        "auth.rate_limited",
        principal=f"ip:{client_ip(request) or '-'}",
        variant=limit,
        request=request,
        details={"limit": limit, "path": request.path[:200]},
    )


def signed_in_recently(request: HttpRequest) -> bool:
    """The person typed their password (or a second factor) in this session within
    ACCOUNT_REAUTHENTICATION_TIMEOUT seconds."""
    records = [
        r
        for r in get_authentication_records(request, request.user)
        if r.get("method") in {"password", "mfa"}
    ]
    if not records:
        return False
    return time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT


def accept_invitation_on_signup(request: HttpRequest, user) -> None:
    """Creating an account from an invitation link is the acceptance: the person lands in the
    organisation rather than on the invitation again with a second "Accept" to press. If the
    invitation cannot be used any more, the key stays and the invitation page says why."""
    key = request.session.get(INVITATION_SESSION_KEY)
    if not key:
        return
    try:
        membership = actions.accept_invitation(key, user, request=request)
    except PortalError:
        return
    del request.session[INVITATION_SESSION_KEY]
    request.session[CURRENT_ORG_SESSION_KEY] = membership.organisation.slug
    messages.success(request, _("Welcome to %(org)s.") % {"org": membership.organisation.name})


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # B2B portal: accounts come from invitations only; the invitation proves the address.
        # The key in the session must still be usable: a withdrawn or expired one opens nothing.
        key = request.session.get(INVITATION_SESSION_KEY)
        return bool(key) and Invitation.objects.pending().filter(key=key).exists()

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        key = request.session.get(INVITATION_SESSION_KEY)
        if key:
            return reverse("portal:invitation", kwargs={"key": key})
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # A new account exists only to accept its invitation: go back there, not to an empty
        # dashboard.
        return self.get_login_redirect_url(request)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # allauth (65.x) counts only an explicit "Confirm access" as recent, so a member who
        # must set up two-factor authentication right after typing their password was asked
        # for it again. A password or second-factor sign-in within the reauthentication window
        # proves the same thing.
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        if request is None or not request.user.is_authenticated:
            return True
        return not signed_in_recently(request)

    def validation_error(self, code: str, *args):
        # The one place allauth turns its rate-limit refusals of forms (failed sign-ins, login
        # codes, 2FA codes) into errors; refusals of whole views go through
        # portal.views.rate_limited.
        if code in RATE_LIMIT_CODES and context.request is not None:
            record_rate_limited(context.request, code)
        return super().validation_error(code, *args)

    def post_login(self, request, user, **kwargs):
        if kwargs.get("signup"):
            accept_invitation_on_signup(request, user)
        response = super().post_login(request, user, **kwargs)
        audit.record("auth.signed_in", actor=user, request=request)
        if getattr(user, "preferred_language", ""):
            from django.conf import settings

            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.preferred_language)
        return response

    def logout(self, request: HttpRequest) -> None:
        user = request.user if request.user.is_authenticated else None
        if user is not None:
            audit.record("auth.signed_out", actor=user, request=request)
        super().logout(request)
