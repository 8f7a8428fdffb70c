"""Who may write orders through the API: tokens with the `carbon:write` scope, people with the
member role or above in the organisation the path names."""

from __future__ import annotations

from portal.api import ApiError, Caller, PathParams
from portal.api_common import organisation_named
from portal.models import Organisation, Role
from portal.permissions import role_in


def require_member(c: Caller, organisation: Organisation) -> None:
    """Tokens write with their scope; people need the member role or above."""
    if c.token is not None:
        return
    role = role_in(c.user, organisation)
    if role is None or Role.rank(role) < Role.rank(Role.MEMBER):
        raise ApiError(403, "permission_denied", "Only members and admins may change orders.")


def member_organisation(c: Caller, params: PathParams) -> Organisation:
    """`Access.load` of the order writes: the organisation `slug` of the path, which the caller
    reaches (else 404) and may change orders of (else 403)."""
    organisation = organisation_named(c, params["slug"])
    require_member(c, organisation)
    return organisation
