"""Human names of audit actions, for the customer's audit trail and the admin.

An action code (`carbon.green_power_verified`) is stable and stays in the database, the CSV
export and the API; people read its name in their language. Each app names its own codes
through Wagtail's hook registry, so the portal never imports a plugin:

    @hooks.register("greenloop_audit_actions")
    def carbon_audit_actions() -> Mapping[str, StrOrPromise]:
        return {"carbon.green_power_verified": _("Green-power declaration verified")}

A code nobody names is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HOOK_NAME = "greenloop_audit_actions"


def action_names() -> dict[str, StrOrPromise]:
    """Every registered code with its name (lazy: read in the active language)."""
    found: dict[str, StrOrPromise] = {}
    for provider in hooks.get_hooks(HOOK_NAME):
        found.update(provider())
    return found


def action_name(code: str, names: Mapping[str, StrOrPromise] | None = None) -> str:
    return str((names if names is not None else action_names()).get(code, code))


def action_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, name) for a filter, sorted by name as the reader sees it."""
    names = action_names()
    return sorted(((c, action_name(c, names)) for c in set(codes)), key=lambda pair: pair[1])


PORTAL_ACTIONS = {
    "access.cross_tenant": _("Access to another organisation refused"),
    "access.denied": _("Access refused"),
    "account_health.recalculated": _("Account health recalculated"),
    "api_token.issued": _("API token issued"),
    "api_token.rejected": _("API token refused"),
    "api_token.revoked": _("API token revoked"),
    "api_token.throttled": _("API token slowed down (rate limit)"),
    "api_token.unknown": _("Unknown API token used"),
    "auth.email_changed": _("E-mail address changed"),
    "auth.password_changed": _("Password changed"),
    "auth.password_reset": _("Password reset"),
    "auth.rate_limited": _("Sign-in attempts limited"),
    "auth.sign_in_failed": _("Sign-in failed"),
    "auth.signed_in": _("Signed in"),
    "auth.signed_out": _("Signed out"),
    "crm.contact_created": _("Contact created from the CRM"),
    "crm.contact_updated": _("Contact updated from the CRM"),
    "crm.delivery.replayed": _("CRM delivery sent again"),
    "crm.endpoint.created": _("CRM endpoint created"),
    "crm.endpoint.dead_replayed": _("Failed CRM deliveries sent again"),
    "crm.endpoint.paused": _("CRM endpoint paused"),
    "crm.endpoint.resumed": _("CRM endpoint resumed"),
    "crm.endpoint.range_replayed": _("CRM deliveries of a period sent again"),
    "crm.endpoint.tested": _("CRM endpoint tested"),
    "crm.endpoint.updated": _("CRM endpoint changed"),
    "crm.organisation_created": _("Organisation created from the CRM"),
    "crm.organisation_updated": _("Organisation updated from the CRM"),
    "crm.outbox.pruned": _("Old CRM deliveries removed"),
    "invitation.accepted": _("Invitation accepted"),
    "invitation.refused": _("Unusable invitation link opened"),
    "invitation.refused_foreign": _("Invitation refused: another address signed in"),
    "invitation.revoked": _("Invitation withdrawn"),
    "invitation.role_changed": _("Invitation role changed"),
    "invitation.sent": _("Invitation sent"),
    "membership.left": _("Member left"),
    "membership.removed": _("Member removed"),
    "membership.role_changed": _("Member role changed"),
    "mfa.authenticator_added": _("Two-factor authentication turned on"),
    "mfa.authenticator_removed": _("Two-factor authentication turned off"),
    "mfa.authenticator_reset": _("Two-factor authentication reset"),
    "mfa.code_rejected": _("Wrong two-factor code"),
    "organisation.mfa_requirement_changed": _("Two-factor requirement changed"),
    "privacy.data_exported": _("Personal data downloaded"),
    "privacy.erased": _("Personal data erased"),
    "security.csrf_rejected": _("Form refused (expired or forged)"),
}


@hooks.register(HOOK_NAME)
def portal_audit_actions() -> Mapping[str, StrOrPromise]:
    return PORTAL_ACTIONS
