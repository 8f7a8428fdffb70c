"""Catalogue services by slug, and how they and the points policy read in the customer's
language."""

from __future__ import annotations

from django.utils import translation

from carbon.models import PointsPolicy, Service
from portal import rows


def service_by_slug(slug: str) -> Service | None:
    """The service with `slug`, or None. Plain SQL (`portal.rows`): every redemption request
    looks one up."""
    return rows.one(Service, "slug = %s", [slug])


def _chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def service_name(service: Service) -> str:
    """The service's name in the active language (Chinese when staff wrote one)."""
    return service.name_zh if _chinese() and service.name_zh else service.name


def service_description(service: Service) -> str:
    return service.description_zh if _chinese() and service.description_zh else service.description


def policy_explanation(policy: PointsPolicy) -> str:
    """The policy's one-sentence explanation in the active language (Chinese when written)."""
    return policy.explanation_zh if _chinese() and policy.explanation_zh else policy.explanation
