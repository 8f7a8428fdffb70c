"""Catalogue services by slug, and how they and the points policy read in the customer's
language."""

from __future__ import annotations

from django.db import connection

from carbon.models import PointsPolicy, Redemption, Service
from carbon.points import ledger
from carbon.points.baselines import Baseline
from portal import rows
from portal.localised import localised


def service_by_slug(slug: str) -> Service | None:
    """The service with `slug`, or None. Plain SQL (`portal.rows`): every redemption request
    looks one up."""
    return rows.one(Service, "slug = %s", [slug])


def service_for_redemption(slug: str) -> tuple[Service, int | None] | None:
    """The service with `slug` and, on PostgreSQL, a new redemption id drawn in the same
    statement (the id the hold's statement writes the redemption under; drawn only when the
    service exists, and a refused request leaves a gap as any unused sequence value does), or
    None. One round trip where a lookup and `ledger.next_id` took two."""
    if connection.vendor != "postgresql":
        service = service_by_slug(slug)
        return (service, None) if service is not None else None
    also, also_params = ledger.next_id_sql(Redemption)
    found = rows.one_with(Service, "slug = %s", [slug], also, also_params)
    return (found[0], int(found[1])) if found is not None else None


def baseline_note(baseline: Baseline) -> str:
    """A policy baseline's note in the active language (Chinese when written)."""
    return localised(baseline, "note")


def service_name(service: Service) -> str:
    """The service's name in the active language (Chinese when staff wrote one)."""
    return localised(service, "name")


def service_description(service: Service) -> str:
    return localised(service, "description")


def policy_explanation(policy: PointsPolicy) -> str:
    """The policy's one-sentence explanation in the active language (Chinese when written)."""
    return localised(policy, "explanation")
