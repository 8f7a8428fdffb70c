"""The audit trail: plugins record their sensitive actions through `record()`."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from portal import audit_labels, tenancy
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
    in_scope: bool = False,
    save: bool = True,
) -> AuditEvent:
    """Append one audit event. `action` is dotted, e.g. ``membership.role_changed``.

    The actor defaults to the request's signed-in user; IP and user agent come from the request.
    `in_scope`: the caller acts for `organisation`, so its row-level scope shows it and the row
    is written without lifting the scope (two queries fewer on a hot path; the table's policy
    refuses the row, it never widens anything, should the scope not show it after all).
    `save=False`: the event is returned unsaved, for work that writes it in a statement of its
    own under the caller's scope (a redemption's hold writes its request's event; `obj` needs
    its id already).
    """
    if actor is None and request is not None and getattr(request, "user", None):
        actor = request.user if request.user.is_authenticated else None
    object_repr, object_label = audit_labels.describe(obj) if obj is not None else ("", {})
    event = AuditEvent(
        action=action,
        actor=actor,
        actor_label=getattr(actor, "email", "") if actor else "",
        organisation=organisation,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_repr,
        object_label=object_label,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
        details=details or {},
    )
    if not save:
        return event
    if in_scope and organisation is not None:
        event.save(force_insert=True)
        return event
    # Writing the trail is the system's act, whoever's request it is: a rejected token's
    # organisation or an anonymous sign-in failure is outside the caller's row-level scope.
    with tenancy.all_organisations():
        event.save(force_insert=True)
    return event


# Counters live a day, so the count of a principal's last busy minute can still be reported by
# its next row the same day.
COUNTER_TTL = 24 * 60 * 60


def _now() -> datetime:
    # One clock for the counters, which tests pin to stay inside one minute.
    return timezone.now()


def _minute_label(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def _hit_key(name: str, window: int) -> str:
    bucket = int(_now().timestamp()) // window
    return f"greenloop:hits:{hashlib.sha256(name.encode()).hexdigest()[:40]}:{window}:{bucket}"


def count_hit(name: str, *, window: int = 60) -> int:
    """Count one hit of `name` in the current fixed window of `window` seconds, in the shared
    cache (Redis in production, so every worker process counts together), and return the count
    so far, this hit included."""
    key = _hit_key(name, window)
    if cache.add(key, 1, timeout=window * 2):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window * 2)
        return 1


def hits_so_far(name: str, *, window: int = 60) -> int:
    """The count `count_hit(name)` has reached in the current window, without adding a hit."""
    return cache.get(_hit_key(name, window), 0)


def record_aggregated(
    action: str,
    *,
    principal: str,
    variant: str = "",
    actor=None,
    organisation: Organisation | None = None,
    obj: models.Model | None = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Record `action` by `principal` (``user:<id>``, ``token:<prefix>`` or ``ip:<address>``) at
    most once per minute, and return how many times it happened in this minute so far.

    For events an outsider can repeat at will (rejected tokens, cross-tenant probes, throttled
    sign-ins), so that a flood cannot fill the trail. Audit rows are append-only (on PostgreSQL a
    trigger refuses UPDATE), so a row's count is never updated in place. Instead every hit
    increments a per-minute counter in the shared cache; the first hit of a minute writes the
    row, with ``details["minute"]``, and, when the principal was seen before, the final count of
    its previous busy minute as ``details["previous"] = {"minute": ..., "count": N}`` (that
    minute is closed by then). The count of a principal's latest minute therefore reaches the
    trail with its next row; until then it stays in the cache for a day. `variant` separates
    rows of one action and principal that differ in kind (e.g. the rejection reason).
    """
    ident = hashlib.sha256(f"{action}|{principal}|{variant}".encode()).hexdigest()[:40]
    minute = _now().replace(second=0, microsecond=0)
    label = _minute_label(minute)
    count_key = f"greenloop:audit:{ident}:{label}"
    if not cache.add(count_key, 1, timeout=COUNTER_TTL):
        try:
            return cache.incr(count_key)
        except ValueError:  # expired between add() and incr(): count it as a fresh minute
            cache.add(count_key, 1, timeout=COUNTER_TTL)
            return 1
    last_key = f"greenloop:audit:{ident}:last"
    previous_label = cache.get(last_key)
    cache.set(last_key, label, timeout=COUNTER_TTL)
    extra: dict[str, Any] = {"principal": principal, "minute": label}
    if previous_label and previous_label != label:
        previous_count = cache.get(f"greenloop:audit:{ident}:{previous_label}")
        if previous_count:
            extra["previous"] = {"minute": previous_label, "count": previous_count}
    record(
        action,
        actor=actor,
        organisation=organisation,
        obj=obj,
        request=request,
        details={**(details or {}), **extra},
    )
    return 1
