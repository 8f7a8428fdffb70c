"""Loaders that scope a lookup to what the caller reaches, for pages and the API alike.

A lookup outside the caller's reach answers 404 whether the object is missing or belongs to
another organisation, so the answer tells nothing. The second case is an attempt to cross
tenants and is audited as ``access.cross_tenant``, once per principal (user, token or address)
and minute (`portal.audit.record_aggregated`), so a scan cannot fill the trail.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from portal import audit, tenancy
from portal.models import Organisation
from portal.request_meta import client_ip

M = TypeVar("M", bound=Model)


def principal_of(request: HttpRequest) -> tuple[str, Organisation | None]:
    """Who is asking, as an aggregation key (``token:<lookup>``, ``user:<id>`` or
    ``ip:<address>``), and the organisation whose trail should show it: a token's own
    organisation (its admins should know what their token probes), else none (vendor staff)."""
    token = getattr(getattr(request, "auth", None), "token", None)
    if token is not None:
        return f"token:{token.lookup}", token.organisation
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}", None
    return f"ip:{client_ip(request) or '-'}", None


def record_cross_tenant(request: HttpRequest | None, target: str) -> None:
    """Audit (aggregated) that the caller asked for `target`, which exists outside its reach."""
    if request is None:
        return
    principal, organisation = principal_of(request)
    audit.record_aggregated(
        "access.cross_tenant",
        principal=principal,
        organisation=organisation,
        request=request,
        details={"target": target[:200], "path": request.path[:200]},
    )


def reachable_or_404(request: HttpRequest | None, reachable: QuerySet[M], **lookup) -> M:
    """The one object of `reachable` (the caller's scope) matching `lookup`, else Http404; when
    such an object exists outside that scope, the attempt is audited first."""
    found = reachable.filter(**lookup).first()
    if found is not None:
        return found
    model = reachable.model
    # Whether it exists elsewhere is the system's question, asked past the caller's row-level
    # scope (portal.tenancy); the caller learns nothing from it either way.
    with tenancy.all_organisations():
        elsewhere = model._default_manager.filter(**lookup).exists()
    if elsewhere:
        described = ",".join(f"{name}={value}" for name, value in sorted(lookup.items()))
        record_cross_tenant(request, f"{model._meta.label_lower}:{described}")
    raise Http404
