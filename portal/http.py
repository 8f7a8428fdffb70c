"""Request types that say what a view's decorators have already established.

Django hands every view an HttpRequest whose `user` may be anonymous. Behind `login_required`
it never is, so such views annotate their request as SignedInRequest, and the type checker
holds them to a signed-in `User` without a check repeated in every view. These classes are
annotations only: nothing constructs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from portal.models import Organisation, User


class SignedInRequest(HttpRequest):
    """A request that passed `login_required`."""

    user: User


class OrganisationRequest(SignedInRequest):
    """A request that passed `portal.views.organisation_view`: the page's organisation, which
    leads the top bar, is set on it."""

    organisation: Organisation
