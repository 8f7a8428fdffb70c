"""The authorisation walk's registry: how to classify every route and fill in its parameters.

Each plugin adds its routes here (public prefixes, sample values for URL parameters that point
at another organisation's objects) so that `tests/portal/test_authorization_walk.py` covers them.
A route that is neither public nor fillable fails the walk, so nothing new goes unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Routes anyone may open: sign-in pages, language switch, static assets, the public Wagtail site,
# and invitation links (which carry their own secret).
PUBLIC_ROUTE_PREFIXES: list[str] = [
    "accounts/",
    "i18n/",
    "jsi18n/",
    "invitations/",
    "documents/",  # Wagtail serves documents with its own privacy rules
    "static/",
    "media/",
]
# Signed-in routes under a public prefix (the account's privacy page sits beside allauth's).
PROTECTED_ROUTE_PREFIXES: list[str] = ["accounts/privacy/"]
# Named routes that are public although their prefix is not (redirects to sign-in; the JSON
# 404 for paths under /api/ that name no endpoint).
PUBLIC_ROUTE_NAMES: set[str] = {"wagtail_login_redirect", "api_unknown_path"}
# Routes behind the Wagtail admin's own sign-in check (tested separately).
ADMIN_ROUTE_PREFIXES: list[str] = ["admin/"]
# The API is walked separately through its OpenAPI schema.
API_ROUTE_PREFIXES: list[str] = ["api/v1/"]

# For each URL parameter: a function (foreign organisation) -> a value that points at an object
# of that organisation. The walk signs in as a member of another organisation and expects 404.
URL_PARAM_SAMPLES: dict[str, Callable[[Any], Any]] = {
    "org_slug": lambda org: org.slug,
}
# For parameters whose objects live under an org_slug route: an id of an object that belongs to the
# foreign organisation. Default: 1 (the org lookup fails first).
NESTED_PARAM_SAMPLES: dict[str, Callable[[Any], Any]] = {
    "pk": lambda org: 1,
}
# Parameters naming things that belong to no organisation (e.g. a community tag): a route whose
# parameters are all shared is walked for anonymous access only; the plugin's own tests check
# that its page shows each person only what they may see.
SHARED_PARAMS: set[str] = set()
# For the walk's second mode (the caller's OWN organisation's URL, a FOREIGN object): route name
# -> {parameter: (foreign organisation) -> an id of one of its objects}, for parameters whose
# meaning depends on the route (a `pk` is a membership on one page, a token on another). Other
# parameters come from NESTED_PARAM_SAMPLES, which already create foreign objects.
ROUTE_PARAM_SAMPLES: dict[str, dict[str, Callable[[Any], Any]]] = {}
# API path parameters -> value pointing at the foreign organisation's object.
API_PARAM_SAMPLES: dict[str, Callable[[Any], Any]] = {
    "slug": lambda org: org.slug,
}


def _merge_plugin_samples() -> None:
    # Plugins keep their samples in tests/<app>/authz_samples.py so they never edit this file.
    from importlib import import_module

    for app in ("carbon", "community", "beta_program"):
        try:
            module = import_module(f"tests.{app}.authz_samples")
        except ModuleNotFoundError:
            continue
        URL_PARAM_SAMPLES.update(getattr(module, "URL_PARAM_SAMPLES", {}))
        NESTED_PARAM_SAMPLES.update(getattr(module, "NESTED_PARAM_SAMPLES", {}))
        API_PARAM_SAMPLES.update(getattr(module, "API_PARAM_SAMPLES", {}))
        PUBLIC_ROUTE_NAMES.update(getattr(module, "PUBLIC_ROUTE_NAMES", set()))
        SHARED_PARAMS.update(getattr(module, "SHARED_PARAMS", set()))
        ROUTE_PARAM_SAMPLES.update(getattr(module, "ROUTE_PARAM_SAMPLES", {}))


def _foreign_membership(org):
    from tests.factories import MembershipFactory

    return MembershipFactory(organisation=org).pk


def _foreign_invitation(org):
    from tests.factories import InvitationFactory

    return InvitationFactory(organisation=org).pk


def _foreign_token(org):
    from portal import actions

    token, _ = actions.issue_api_token(org, "foreign", ["account:read"], by=None)
    return token.pk


ROUTE_PARAM_SAMPLES.update(
    {
        "portal:change_role": {"pk": _foreign_membership},
        "portal:remove_member": {"pk": _foreign_membership},
        "portal:revoke_invitation": {"pk": _foreign_invitation},
        "portal:revoke_token": {"pk": _foreign_token},
    }
)

_merge_plugin_samples()
