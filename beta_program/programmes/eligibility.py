"""Eligibility and capacity as pure functions over plain data (no ORM), so the rules can be
tested as a matrix of worked examples and read in one place.

An empty rule admits everyone; a listed rule admits an organisation whose tier, country or
owned products (by SKU) are in the list (for SKUs: any one of them), and a person whose role in
the organisation is at least the minimum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROLE_RANK = {"viewer": 0, "member": 1, "admin": 2}


@dataclass(frozen=True)
class Rules:
    tiers: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    min_role: str = "member"


@dataclass(frozen=True)
class Candidate:
    tier: str
    country: str
    skus: frozenset[str]
    role: str | None  # None: not a member of the organisation


def unmet(rules: Rules, candidate: Candidate) -> list[str]:
    """The rules the candidate fails, in a fixed order: tier, country, product, role."""
    failed = []
    if rules.tiers and candidate.tier not in rules.tiers:
        failed.append("tier")
    if rules.countries and candidate.country.upper() not in rules.countries:
        failed.append("country")
    if rules.skus and not (rules.skus & candidate.skus):
        failed.append("product")
    if candidate.role is None or ROLE_RANK[candidate.role] < ROLE_RANK[rules.min_role]:
        failed.append("role")
    return failed


@dataclass(frozen=True)
class Capacity:
    total: int | None  # None: no limit
    per_organisation: int | None
    accepted_total: int
    accepted_in_organisation: int


def has_room(capacity: Capacity) -> bool:
    """One more place is free, in total and for the organisation."""
    if capacity.total is not None and capacity.accepted_total >= capacity.total:
        return False
    return not (
        capacity.per_organisation is not None
        and capacity.accepted_in_organisation >= capacity.per_organisation
    )


def initial_status(*, auto_accept: bool, capacity: Capacity) -> str:
    """What a new eligible application becomes: accepted when the programme accepts
    automatically and a place is free, otherwise it waits for a reviewer ("pending")."""
    return "accepted" if auto_accept and has_room(capacity) else "pending"


def rules_of(tiers: Iterable[str], countries: Iterable[str], skus: Iterable[str], min_role: str):
    return Rules(
        tiers=frozenset(tiers),
        countries=frozenset(c.upper() for c in countries),
        skus=frozenset(skus),
        min_role=min_role,
    )
