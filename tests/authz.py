"""The authorisation walk's registry: how to classify every route and fill in its parameters.

Each plugin adds its routes here (public prefixes, sample values for URL parameters that point
at another organisation's objects) so that `tests/portal/test_authorization_walk.py` covers them.
A route that is neither public nor fillable fails the walk, so nothing new goes unchecked.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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
# Signed-in routes under a public prefix (the account's privacy and profile pages sit beside
# allauth's).
PROTECTED_ROUTE_PREFIXES: list[str] = ["accounts/privacy/", "accounts/profile/"]
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


def _crm_external_id(org):
    """The foreign organisation's CRM id (given one when it has none)."""
    if not org.crm_external_id:
        org.crm_external_id = f"WALK-{org.slug}"
        org.save(update_fields=["crm_external_id"])
    return org.crm_external_id


# API path parameters -> value pointing at the foreign organisation's object.
API_PARAM_SAMPLES: dict[str, Callable[[Any], Any]] = {
    "slug": lambda org: org.slug,
    # the CRM's inbound upserts (/api/v1/crm/...): the account's CRM id
    "organisation_external_id": _crm_external_id,
}
# The CRM's inbound API: only the vendor's integration token may call it, so every customer
# caller (a token with every customer scope, a person of any role) is refused with 403 and one
# of these codes, before the body is read and whatever the path names, and nothing is written.
INTEGRATION_API_PREFIX = "/api/v1/crm/"
INTEGRATION_REFUSALS = {"insufficient_scope", "integration_only"}


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
        WRITE_BODIES.update(getattr(module, "WRITE_BODIES", {}))
        READ_ONLY_ROUTES.update(getattr(module, "READ_ONLY_ROUTES", set()))
        API_BODIES.update(getattr(module, "API_BODIES", {}))
        PERSONAL_ROUTE_SAMPLES.update(getattr(module, "PERSONAL_ROUTE_SAMPLES", {}))
        PERSONAL_API_SAMPLES.update(getattr(module, "PERSONAL_API_SAMPLES", {}))


def _foreign_membership(org):
    from tests.factories import MembershipFactory

    return MembershipFactory(organisation=org).pk


def _foreign_invitation(org):
    from tests.factories import InvitationFactory

    return InvitationFactory(organisation=org).pk


def _foreign_notification(org):
    """A notification of a member of the foreign organisation (notifications are personal: the
    inbox's URL with someone else's id must be 404)."""
    from portal.models import Notification
    from tests.factories import MembershipFactory

    person = MembershipFactory(organisation=org).user
    return Notification.objects.create(
        recipient=person, kind="walk", params={}, dedupe_key=f"walk:{uuid.uuid4()}"
    ).pk


def _foreign_token(org):
    from portal import actions

    token, _ = actions.issue_api_token(org, "foreign", ["account:read"], by=None)
    return token.pk


NESTED_PARAM_SAMPLES["notification_id"] = _foreign_notification
API_PARAM_SAMPLES["notification_id"] = _foreign_notification

ROUTE_PARAM_SAMPLES.update(
    {
        "portal:change_role": {"pk": _foreign_membership},
        "portal:remove_member": {"pk": _foreign_membership},
        "portal:revoke_invitation": {"pk": _foreign_invitation},
        "portal:revoke_token": {"pk": _foreign_token},
    }
)

# --- Write routes: the real write method needs a VALID body, or form validation may refuse the
# request before the object is ever looked up (and a missing organisation filter would not show).
# Route name -> (own organisation, foreign organisation) -> the form fields of a valid submission.
# An object route that accepts POST and has no entry here (and is not in READ_ONLY_ROUTES) fails
# the walk. Routes whose form has no fields are listed with an empty body on purpose.
WRITE_BODIES: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "portal:change_role": lambda own, foreign: {"role": "viewer"},
    "portal:remove_member": lambda own, foreign: {},
    "portal:revoke_invitation": lambda own, foreign: {},
    "portal:revoke_token": lambda own, foreign: {},
}
# Object routes whose view serves every method alike and writes nothing (a POST is answered as a
# GET would be): they are still POSTed to, without a body, and must answer 404.
READ_ONLY_ROUTES: set[str] = set()
# API operations that take a request body: (method, OpenAPI path) -> (own, foreign) -> a valid
# JSON body, so that a 404 comes from the object lookup and not from validation.
API_BODIES: dict[tuple[str, str], Callable[[Any, Any], Any]] = {
    ("put", "/api/v1/crm/organisations/{external_id}"): lambda own, foreign: {
        "name": "Walk account",
        "country": "DE",
    },
    ("put", "/api/v1/crm/contacts/{external_id}"): lambda own, foreign: {
        "organisation_external_id": _crm_external_id(foreign),
        "email": "walk@example.com",
    },
}

# --- "And by another person where ownership is personal": routes where an object belongs to a
# person within the organisation and others of the same organisation may not touch it. Route name
# -> (caller's organisation, caller, another member of that organisation) -> URL kwargs naming
# the other person's object. The caller is a plain member (role "member"); the walk expects the
# documented answer (403: these views explain the refusal) and no change in the database.
PERSONAL_ROUTE_SAMPLES: dict[str, Callable[[Any, Any, Any], dict[str, Any]]] = {}
# The same for the API: (method, OpenAPI path) -> (organisation, caller, other) -> path parameters.
PERSONAL_API_SAMPLES: dict[tuple[str, str], Callable[[Any, Any, Any], dict[str, Any]]] = {}


def _other_membership(org, caller, other):
    from portal.models import Membership

    return {"org_slug": org.slug, "pk": Membership.objects.get(organisation=org, user=other).pk}


# A member may leave (remove their own membership) but not remove anyone else.
PERSONAL_ROUTE_SAMPLES["portal:remove_member"] = _other_membership


# --- Staff-only admin screens, walked by role (tests/portal/test_authorization_walk.py): every
# route of each viewset named here is opened, by GET and POST, by a customer (sent to sign-in),
# by staff of every other role and by the role itself without a second factor (refused), and by
# the role with 2FA (only the `readable` routes open; the others, e.g. a read-only screen's
# add/edit/delete, are refused). A route of the viewset the walk has no sample for fails it.


@dataclass(frozen=True)
class AdminScreens:
    namespace: str  # the viewset's URL namespace
    role: str  # the staff role that may read it (portal.staff_roles.StaffRole value)
    readable: frozenset[str]  # route names (without the namespace) the role may open
    sample: Callable[[Any], int]  # (organisation) -> pk of an object of the screen
    # Other staff roles that may open some of the screen's routes (to read), and which: they are
    # refused the others like any other role.
    readers: dict[str, frozenset[str]] = field(default_factory=dict)
    # Counts of the rows the screen shows: nobody's refused GET or POST may change them.
    rows: Callable[[], tuple] = tuple


def _crm_contact(org) -> int:
    from portal.models import CrmContact
    from tests.factories import InvitationFactory

    invitation = InvitationFactory(organisation=org)
    return CrmContact.objects.create(
        external_id=f"WALK-C-{invitation.pk}",
        organisation=org,
        email=invitation.email,
        role=invitation.role,
        invitation=invitation,
    ).pk


_BOARD_SCREENS_READABLE = frozenset(
    {"index", "index_results", "add", "edit", "delete", "history", "history_results", "usage"}
)


def _boards():
    from tests.beta_program.boards import authz_samples

    return authz_samples


def _board_screen(namespace, readable, sample, also_read=()) -> AdminScreens:
    """A boards screen: Product staff open `readable`; Customer success reads the list (and
    `also_read`); nobody's refused request changes the boards' rows."""
    return AdminScreens(
        namespace,
        "Product",
        frozenset(readable),
        sample,
        readers={"Customer success": frozenset({"index", "index_results", *also_read})},
        rows=lambda: _boards().row_counts(),
    )


def _inbound_webhook(org) -> int:
    from portal.models import InboundWebhook

    return InboundWebhook.objects.create(
        webhook_id=f"walk-{uuid.uuid4()}", event_type="crm.account.upserted"
    ).pk


ADMIN_SCREENS: list[AdminScreens] = [
    AdminScreens(
        "crm_contacts",
        "Integration admin",
        frozenset({"index", "index_results", "inspect"}),
        _crm_contact,
    ),
    AdminScreens(
        "crm_inbound_webhooks",
        "Integration admin",
        frozenset({"index", "index_results"}),
        _inbound_webhook,
    ),
    # The R&D boards (beta_program/boards/admin.py, admin_status.py): Product staff configure
    # boards, tags and the status workflow and move ideas; Customer success reads them.
    _board_screen(
        "idea_boards", _BOARD_SCREENS_READABLE, lambda org: _boards().foreign_board(org).pk
    ),
    _board_screen(
        "idea_tags",
        _BOARD_SCREENS_READABLE - {"delete"},
        lambda org: _boards().walk_tag().pk,
    ),
    _board_screen("idea_statuses", _BOARD_SCREENS_READABLE, lambda org: _boards().walk_status().pk),
    _board_screen(
        "idea_admin",
        frozenset({"index", "index_results", "inspect", "change_status", "classify"}),
        lambda org: _boards().foreign_idea(org).pk,
        also_read={"inspect"},
    ),
]

_merge_plugin_samples()


# --- One sampler for every route (the walks and tests/portal/test_get_never_writes.py).


@dataclass(frozen=True)
class Route:
    """A named URL pattern: its full route text, its name, the module of its view, and the
    patterns from the root down (to read each parameter's converter)."""

    route: str
    name: str
    module: str
    chain: tuple

    @property
    def params(self) -> list[str]:
        # From the full route, so that parameters of an include()'s prefix count too: path
        # converters (<int:pk>) and re_path() named groups.
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route.replace("(?P<", "(?P")) + re.findall(
            r"\(\?P<(\w+)>", self.route
        )


def routes() -> list[Route]:
    """Every named URL pattern of the project."""
    from django.urls import URLResolver, get_resolver

    def leaves(patterns, prefix="", namespace=None, chain=()):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from leaves(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    full_ns,
                    (*chain, pattern.pattern),
                )
            elif pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                module = getattr(pattern.callback, "__module__", "")
                yield Route(prefix + str(pattern.pattern), name, module, (*chain, pattern.pattern))

    return list(leaves(get_resolver().url_patterns))


# Parameters no registry knows (allauth's e-mailed keys, Wagtail admin objects): a value of the
# right shape; the view then answers 404 or its own error page.
_DEFAULT_BY_CONVERTER = {
    "IntConverter": "1",
    "SlugConverter": "x",
    "UUIDConverter": str(uuid.UUID(int=1)),
}


class NoSample(LookupError):
    """A route parameter the registry has no sample for (the walk reports it as a failure)."""


def _sample(route: Route, param: str, org, own) -> Any:
    if own is not None and param == "org_slug":
        return own.slug
    factory = ROUTE_PARAM_SAMPLES.get(route.name, {}).get(param)
    # Under the caller's own organisation a bare `pk` means a different object on each route: only
    # a per-route sample says which (a foreign membership, token, redemption...).
    if factory is None and not (own is not None and param == "pk"):
        for registry in (URL_PARAM_SAMPLES, NESTED_PARAM_SAMPLES, API_PARAM_SAMPLES):
            if param in registry:
                factory = registry[param]
                break
    return None if factory is None else factory(org)


def fill_route(route: Route, org, *, own=None, strict: bool = False) -> str:
    """The URL of `route` with its parameters pointing at `org`'s objects.

    `own`: the caller's organisation, put in `org_slug` (the second mode: the caller's own URL with
    `org`'s objects). `strict`: every parameter must have a registered sample (NoSample otherwise);
    else a value of the converter's shape stands in (for walks that only need some URL)."""
    from django.urls import NoReverseMatch, reverse
    from django.urls.resolvers import RoutePattern

    kwargs: dict[str, Any] = {}
    named: list[str] = []  # re_path() named groups
    positional = 0  # re_path() unnamed groups
    for part in route.chain:
        if isinstance(part, RoutePattern):
            for param, converter in part.converters.items():
                value = _sample(route, param, org, own)
                if value is None and strict:
                    raise NoSample(
                        f"Route {route.name} has parameter {param!r} without a sample; register "
                        "one in tests/authz.py (ROUTE_PARAM_SAMPLES for a route-specific `pk`) "
                        "or in the plugin's authz_samples.py."
                    )
                if value is None or not re.fullmatch(converter.regex, str(value)):
                    value = _DEFAULT_BY_CONVERTER.get(type(converter).__name__, "x")
                kwargs[param] = value
        else:
            regex = re.compile(str(part))
            named += list(regex.groupindex)
            positional += regex.groups - len(regex.groupindex)
    for candidate in ("1", "x", ""):
        named_values = {}
        for group in named:
            value = _sample(route, group, org, own)
            if value is None and strict:
                raise NoSample(f"Route {route.name} has parameter {group!r} without a sample")
            named_values[group] = candidate if value is None else value
        try:
            if positional:
                return reverse(route.name, args=[candidate] * positional)
            return reverse(route.name, kwargs={**kwargs, **named_values})
        except NoReverseMatch:
            continue
    raise NoSample(f"{route.name}: no sample value fits {route.route!r}")
