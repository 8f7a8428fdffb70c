"""allauth customisation: invitation-only sign-up, audit of sign-in and sign-out."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from portal import audit
from portal.models import Invitation

INVITATION_SESSION_KEY = "greenloop_invitation_key"


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

    def post_login(self, request, user, **kwargs):
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
