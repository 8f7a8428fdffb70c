"""The customer's Scope 3 view of an inventory: the transport it paid for (category 4,
upstream) apart from the transport the seller paid for (category 9, downstream), by each
order's Incoterms 2020 rule (`carbon.footprint.incoterms`); orders without one are "not stated".
Pure: plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from carbon.footprint import incoterms

ZERO = Decimal(0)
# Keys in the order the reports print them.
KEYS = ("category_4", "category_9", "not_stated")


@dataclass(frozen=True)
class Scope3Line:
    key: str  # category_4, category_9 or not_stated
    category: int | None  # 4, 9 or None
    paid_by: str | None  # buyer, seller or None
    orders: int
    tkm: Decimal
    wtw_kg: Decimal


def key_of(incoterm: str) -> str:
    category = incoterms.scope3_category(incoterm or None)
    return f"category_{category}" if category else "not_stated"


def scope3_lines(orders: Iterable[tuple[str, Decimal, Decimal]]) -> tuple[Scope3Line, ...]:
    """One line per key of KEYS (empty ones too, so a reader sees a zero rather than nothing)
    from (incoterm, tkm, wtw_kg) of each counted order."""
    sums: dict[str, tuple[int, Decimal, Decimal]] = dict.fromkeys(KEYS, (0, ZERO, ZERO))
    for incoterm, tkm, wtw in orders:
        key = key_of(incoterm)
        n, t, w = sums[key]
        sums[key] = (n + 1, t + tkm, w + wtw)
    payers = {"category_4": incoterms.BUYER, "category_9": incoterms.SELLER, "not_stated": None}
    categories = {"category_4": 4, "category_9": 9, "not_stated": None}
    return tuple(
        Scope3Line(key, categories[key], payers[key], n, t, w) for key, (n, t, w) in sums.items()
    )
