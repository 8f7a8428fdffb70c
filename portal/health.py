"""The account health score: pure functions, no database (README, "Account signals and health
score", has the formula and worked examples; tests/portal/test_health.py checks them).

Each app contributes components (`Component`): a key, a 0-100 score or None (nothing to score),
and the raw signals behind it. `health_score()` combines them with the weights in
`settings.GREENLOOP_HEALTH_WEIGHTS`:

    score = round_half_up( sum(w_k * s_k) / sum(w_k) )   over components k with a score and w_k > 0

so a component that has nothing to score (a customer that never earned points) or that no
installed app contributes is left out and the others carry its weight. No scored, weighted
component: the score is None ("not enough data"), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Signal = int | float | str | bool | None


@dataclass(frozen=True)
class Component:
    key: str
    score: int | None
    source: str
    signals: Mapping[str, Signal] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    """A component as it entered the score: its weight and the points it contributed."""

    component: Component
    weight: float
    contribution: float | None  # w * s / sum(w), in score points; None when left out


@dataclass(frozen=True)
class HealthScore:
    score: int | None
    parts: tuple[Part, ...]

    def components_document(self) -> list[dict[str, Any]]:
        """The components as stored and published: key, score, weight, source, signals."""
        return [
            {
                "key": part.component.key,
                "score": part.component.score,
                "weight": part.weight,
                "source": part.component.source,
                "signals": dict(part.component.signals),
            }
            for part in self.parts
        ]


def round_half_up(value: float | Decimal) -> int:
    # Python's round() rounds halves to even (62.5 -> 62); the README's formula says half up.
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def clamp_score(value: float) -> int:
    return max(0, min(100, round_half_up(value)))


def health_score(components: Sequence[Component], weights: Mapping[str, float]) -> HealthScore:
    """Combine `components` into a 0-100 score with `weights` (component key -> weight >= 0;
    a key without a weight counts 0, i.e. shown but not scored)."""
    counted = [c for c in components if c.score is not None and float(weights.get(c.key, 0)) > 0]
    counted_ids = {id(c) for c in counted}
    total_weight = sum(float(weights[c.key]) for c in counted)
    parts = []
    for component in components:
        weight = float(weights.get(component.key, 0))
        contribution = None
        if id(component) in counted_ids:
            contribution = weight * component.score / total_weight  # type: ignore[operator]
        parts.append(Part(component, weight, contribution))
    if not counted:
        return HealthScore(None, tuple(parts))
    # `counted` holds only components with a score; `or 0` tells the type checker so.
    weighted = sum(Decimal(str(weights[c.key])) * (c.score or 0) for c in counted)
    return HealthScore(round_half_up(weighted / Decimal(str(total_weight))), tuple(parts))


# --- normalisations the apps use to turn their signals into a component score (pure)


def share_score(part: float, whole: float) -> int | None:
    """100 x part / whole, capped at 100; None when the whole is 0 (nothing to measure)."""
    if not whole:
        return None
    return clamp_score(100 * part / whole)


def saturating_score(value: float, full_at: float) -> int:
    """0 at 0, rising linearly to 100 at `full_at` and staying there."""
    return clamp_score(100 * value / full_at)


def recency_score(days: int | None, *, full_within: int, zero_after: int) -> int:
    """100 when the last occurrence was at most `full_within` days ago, 0 at `zero_after` days or
    never (None), linear in between."""
    if days is None or days >= zero_after:
        return 0
    if days <= full_within:
        return 100
    return clamp_score(100 * (zero_after - days) / (zero_after - full_within))


def trend_score(current: float | None, previous: float | None, *, full_at: float) -> int | None:
    """A falling figure is good: 50 when unchanged, 100 when it fell by `full_at` (a fraction,
    e.g. 0.2 for 20%) or more, 0 when it rose by as much. None without both figures."""
    if current is None or not previous:
        return None
    change = (current - previous) / previous
    return clamp_score(50 - 50 * change / full_at)
