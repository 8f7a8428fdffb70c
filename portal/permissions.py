"""The one place that answers "may this user do X to this object".

Views, the API and the admin all ask `has_perm(user, perm, obj)`. Customer permissions follow the
user's role in the object's organisation; plugins register rules for their own objects with
`register_rule()` and say which organisation an object belongs to with `register_owner()`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.db import models

from portal.models import Membership, Organisation, Role
from portal.staff_roles import ACCOUNT_FACING_ROLES


class Perm(StrEnum):
    ORG_VIEW = "organisation.view"
    ORG_MANAGE_MEMBERS = "organisation.manage_members"
    ORG_MANAGE_TOKENS = "organisation.manage_tokens"
    ORG_VIEW_AUDIT = "organisation.view_audit"
    ORG_EDIT_SETTINGS = "organisation.edit_settings"
    AUDIT_VIEW_ALL = "audit.view_all"


Rule = Callable[[Any, Any], bool]
_rules: dict[str, Rule] = {}
# Minimum customer role for organisation-scoped permissions (plugins add theirs).
_min_role: dict[str, Role] = {
    Perm.ORG_VIEW: Role.VIEWER,
    Perm.ORG_MANAGE_MEMBERS: Role.ADMIN,
    Perm.ORG_MANAGE_TOKENS: Role.ADMIN,
    Perm.ORG_VIEW_AUDIT: Role.ADMIN,
    Perm.ORG_EDIT_SETTINGS: Role.ADMIN,
}
# Permissions that account-facing vendor staff hold on every organisation.
_staff_org_perms: set[str] = {Perm.ORG_VIEW}


def _groups(user) -> set[str]:
    cached = getattr(user, "_greenloop_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._greenloop_groups = cached
    return cached


def is_staff_account(user) -> bool:
    """A vendor account (staff flag or superuser), whether or not its power is unlocked yet."""
    return bool(user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def has_second_factor(user) -> bool:
    """The user has enrolled a second factor (TOTP or a security key; recovery codes alone do
    not count). allauth then demands it at every sign-in, so a session of such a user has passed
    it. Cached per request on the user object."""
    cached = getattr(user, "_greenloop_mfa", None)
    if cached is None:
        from allauth.mfa.models import Authenticator
        from allauth.mfa.utils import is_mfa_enabled

        factors = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        cached = bool(user.is_authenticated and is_mfa_enabled(user, types=factors))
        user._greenloop_mfa = cached
    return cached


def has_second_factor_q(outer: str = "pk") -> models.Exists:
    """The set-wise twin of `has_second_factor`, for queries over many users at once."""
    from allauth.mfa.models import Authenticator

    return models.Exists(
        Authenticator.objects.filter(user_id=models.OuterRef(outer)).exclude(
            type=Authenticator.Type.RECOVERY_CODES
        )
    )


def holds_staff_power(user) -> bool:
    """Staff power (every organisation, the admin, staff-only actions) needs an enrolled second
    factor: without one a staff account is treated like an anonymous visitor. Every staff check
    in the permission layer goes through here."""
    return bool(
        user.is_authenticated and user.is_active and user.is_staff and has_second_factor(user)
    )


def act_for_staff(user):
    """Seed data and other system code that records a staff member's decision outside any request
    (the demo's verified declaration, its approved policy) vouches for the second factor on this
    in-memory user object only. Request code never calls this: there the enrolled factor decides.
    """
    if user is not None:
        user._greenloop_mfa = True
    return user


def is_vendor_staff(user) -> bool:
    """Vendor staff who serve customer accounts and so may see every organisation."""
    if not holds_staff_power(user):
        return False
    return user.is_superuser or bool(_groups(user) & {r.value for r in ACCOUNT_FACING_ROLES})


def in_staff_role(user, *roles: str) -> bool:
    if not holds_staff_power(user):
        return False
    return user.is_superuser or bool(_groups(user) & set(roles))


def role_in(user, organisation: Organisation) -> Role | None:
    """The user's role in the organisation, cached per request on the user object."""
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_greenloop_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._greenloop_roles = cache
    role = cache.get(organisation.pk)
    return Role(role) if role else None


def forget_cached_roles(user) -> None:
    for attr in ("_greenloop_roles", "_greenloop_groups", "_greenloop_mfa"):
        if hasattr(user, attr):
            delattr(user, attr)


_owners: list[tuple[type[models.Model], Callable[[Any], Organisation | None]]] = []


def register_owner(model: type[models.Model], get_org: Callable[[Any], Organisation | None]):
    """Tell the permission layer which organisation owns instances of a plugin model."""
    _owners.append((model, get_org))


def owner_of(obj: Any) -> Organisation | None:
    if isinstance(obj, Organisation):
        return obj
    for model, get_org in _owners:
        if isinstance(obj, model):
            return get_org(obj)
    return getattr(obj, "organisation", None)


def register_rule(perm: str, rule: Rule | None = None, *, min_role: Role | None = None) -> None:
    """Add a permission: either a rule `(user, obj) -> bool`, or a minimum customer role."""
    if rule is not None:
        _rules[perm] = rule
    if min_role is not None:
        _min_role[perm] = min_role


def grant_staff(perm: str) -> None:
    """Account-facing vendor staff hold `perm` on every organisation's objects."""
    _staff_org_perms.add(perm)


def has_perm(user, perm: str, obj: Any = None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    if perm == Perm.AUDIT_VIEW_ALL:
        return holds_staff_power(user) and user.has_perm("portal.view_auditevent")
    if perm in _rules:
        return _rules[perm](user, obj)
    if perm in _min_role:
        organisation = owner_of(obj)
        if organisation is None:
            return False
        if perm in _staff_org_perms and is_vendor_staff(user):
            return True
        role = role_in(user, organisation)
        return role is not None and Role.rank(role) >= Role.rank(_min_role[perm])
    raise KeyError(f"Unknown permission {perm!r}")
