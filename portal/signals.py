"""Audit receivers for events that allauth and Django announce only as signals.

allauth's MFA adapter has no hooks for authenticator changes, and failed password checks are
announced by Django's `user_login_failed`; everything else is customised in `portal.adapter`.
"""

from allauth.account.signals import email_changed, password_changed, password_reset
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import (
    authentication_failed,
    authenticator_added,
    authenticator_removed,
    authenticator_reset,
)
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from portal import audit


@receiver(authenticator_added)
def _mfa_added(sender, request, user, authenticator, **kwargs):
    # allauth issues recovery codes by itself when a first TOTP or security key is added, and
    # announces them as a second authenticator added: recording that too put "turned on" twice
    # on the trail for one activation. Codes made on request are announced as a reset instead.
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        return
    audit.record(
        "mfa.authenticator_added", actor=user, request=request, details={"type": authenticator.type}
    )


@receiver(authenticator_removed)
def _mfa_removed(sender, request, user, authenticator, **kwargs):
    # allauth deletes the recovery codes by itself once the last TOTP or security key goes, and
    # announces them as a second removal: one deactivation is one entry, as one activation is.
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        return
    audit.record(
        "mfa.authenticator_removed",
        actor=user,
        request=request,
        details={"type": authenticator.type},
    )


@receiver(authenticator_reset)
def _mfa_reset(sender, request, user, authenticator, **kwargs):
    audit.record(
        "mfa.authenticator_reset", actor=user, request=request, details={"type": authenticator.type}
    )


@receiver(authentication_failed)
def _mfa_failed(sender, request, user, **kwargs):
    audit.record("mfa.code_rejected", actor=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Never store the password that was tried; the address is what an investigator needs.
    email = str(credentials.get("email") or credentials.get("username") or "")[:254]
    audit.record("auth.sign_in_failed", request=request, details={"email": email})


@receiver(password_changed)
def _password_changed(sender, request, user, **kwargs):
    audit.record("auth.password_changed", actor=user, request=request)


@receiver(password_reset)
def _password_reset(sender, request, user, **kwargs):
    audit.record("auth.password_reset", actor=user, request=request)


@receiver(email_changed)
def _email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    audit.record(
        "auth.email_changed",
        actor=user,
        request=request,
        details={
            "from": getattr(from_email_address, "email", None),
            "to": getattr(to_email_address, "email", None),
        },
    )
