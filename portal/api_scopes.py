"""API token scopes. Plugins register theirs; a token can only carry registered scopes.

Customer tokens carry `SCOPES`; the vendor's integration tokens (no organisation) carry
`INTEGRATION_SCOPES` only, and neither kind can be given the other's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from portal.exceptions import TokenError

if TYPE_CHECKING:
    # Typing helper of django-stubs (a development dependency): read only by the type checker.
    from django_stubs_ext import StrOrPromise


# name -> what it allows, in words (a lazy translation: shown in the reader's language).
SCOPES: dict[str, StrOrPromise] = {
    "account:read": _("Read the organisation's profile, sites and members"),
}


# Scopes of the vendor's integration tokens (`manage.py issue_api_token --integration`).
INTEGRATION_SCOPES: dict[str, StrOrPromise] = {
    "crm:write": _("Push CRM accounts, contacts, products and orders (integration tokens only)"),
}


def register_scope(name: str, description: StrOrPromise) -> None:
    SCOPES[name] = description


def register_integration_scope(name: str, description: StrOrPromise) -> None:
    """A scope only the vendor's integration tokens may carry (e.g. carbon's `carbon:attest`)."""
    INTEGRATION_SCOPES[name] = description


def validate_scopes(scopes: list[str], *, integration: bool = False) -> None:
    if not scopes:
        raise TokenError("Choose at least one scope.", field="scopes")
    known = INTEGRATION_SCOPES if integration else SCOPES
    unknown = sorted(set(scopes) - set(known))
    if unknown:
        raise TokenError(
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.",
            field="scopes",
        )
