"""The audit trail: plugins record their sensitive actions through `record()`."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from portal import tenancy
from portal.models import AuditEvent, Organisation
from portal.request_meta import client_ip, user_agent


def record(
    action: str,
    *,
    actor=None,
    organisation: Organisation | None = None,
    obj: models.Model | None = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. `action` is dotted, e.g. ``membership.role_changed``.

    The actor defaults to the request's signed-in user; IP and user agent come from the request.
    """
    if actor is None and request is not None and getattr(request, "user", None):
        actor = request.user if request.user.is_authenticated else None
    # Writing the trail is the system's act, whoever's request it is: a rejected token's
    # organisation or an anonymous sign-in failure is outside the caller's row-level scope.
    with tenancy.all_organisations():
        return AuditEvent.objects.create(
            action=action,
            actor=actor,
            actor_label=getattr(actor, "email", "") if actor else "",
            organisation=organisation,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:255] if obj is not None else "",
            ip_address=client_ip(request),
            user_agent=user_agent(request),
            details=details or {},
        )
