"""The health score's pure functions (portal/health.py) with the README's worked examples."""

from __future__ import annotations

import pytest

from portal.admin_accounts import sparkline_svg
from portal.health import (
    Component,
    health_score,
    recency_score,
    round_half_up,
    saturating_score,
    share_score,
    trend_score,
)

# The README's weights (portal/settings/base.py GREENLOOP_HEALTH_WEIGHTS), written out.
WEIGHTS = {
    "active_users": 25,
    "sign_in_recency": 15,
    "carbon_intensity": 15,
    "points_use": 20,
    "community": 25,
    "beta": 10,
    "ideas": 10,
}


def _components(**scores):
    return [Component(key, score, "test") for key, score in scores.items()]


def test_the_settings_weights_are_the_documented_ones(settings):
    assert settings.GREENLOOP_HEALTH_WEIGHTS == WEIGHTS


def test_worked_example_a_component_with_nothing_to_score_is_left_out():
    # README example 1: points_use has nothing to score (no points earned in 12 months), so the
    # other four carry its weight: (25x60 + 15x100 + 15x50 + 25x30) / (25+15+15+25) = 4500/80
    result = health_score(
        _components(
            active_users=60, sign_in_recency=100, carbon_intensity=50, points_use=None, community=30
        ),
        WEIGHTS,
    )
    assert result.score == 56  # 56.25
    contributions = {p.component.key: p.contribution for p in result.parts}
    assert contributions == {
        "active_users": 18.75,
        "sign_in_recency": 18.75,
        "carbon_intensity": 9.375,
        "points_use": None,
        "community": 9.375,
    }
    assert [p.weight for p in result.parts] == [25, 15, 15, 20, 25]


def test_worked_example_halves_round_up():
    # README example 2: (25x100 + 15x0) / 40 = 62.5 -> 63 (Python's round() would say 62)
    result = health_score(_components(active_users=100, sign_in_recency=0), WEIGHTS)
    assert result.score == 63


def test_all_components_but_beta_scored():
    result = health_score(
        _components(
            active_users=80,
            sign_in_recency=100,
            carbon_intensity=66,
            points_use=60,
            community=40,
            beta=None,
        ),
        WEIGHTS,
    )
    # (2000 + 1500 + 990 + 1200 + 1000) / 100 = 66.9
    assert result.score == 67


def test_all_components_scored():
    result = health_score(
        _components(
            active_users=80,
            sign_in_recency=100,
            carbon_intensity=66,
            points_use=60,
            community=40,
            beta=80,
        ),
        WEIGHTS,
    )
    # README example 4: (6690 + 10 x 80) / 110 = 68.09
    assert result.score == 68


def test_nothing_to_score_is_none_not_zero():
    result = health_score(_components(points_use=None, carbon_intensity=None), WEIGHTS)
    assert result.score is None
    assert health_score([], WEIGHTS).score is None


def test_a_component_without_a_weight_is_shown_but_not_scored():
    result = health_score(_components(active_users=40, beta_feedback=100), WEIGHTS)
    assert result.score == 40
    assert [(p.component.key, p.weight, p.contribution) for p in result.parts] == [
        ("active_users", 25.0, 40.0),
        ("beta_feedback", 0.0, None),
    ]
    assert result.components_document()[1] == {
        "key": "beta_feedback",
        "score": 100,
        "weight": 0.0,
        "source": "test",
        "signals": {},
    }


def test_zero_scores_count():
    assert health_score(_components(active_users=0, community=100), WEIGHTS).score == 50


@pytest.mark.parametrize(("value", "expected"), [(62.5, 63), (62.49, 62), (0.5, 1), (99.5, 100)])
def test_round_half_up(value, expected):
    assert round_half_up(value) == expected


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(3, 5, 60), (0, 5, 0), (7, 5, 100), (0, 0, None), (300, 500, 60)],
)
def test_share_score(part, whole, expected):
    assert share_score(part, whole) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (7, 70), (10, 100), (15, 100)])
def test_saturating_score(value, expected):
    assert saturating_score(value, 10) == expected


@pytest.mark.parametrize(
    ("days", "expected"), [(0, 100), (7, 100), (8, 99), (48, 51), (89, 1), (90, 0), (None, 0)]
)
def test_recency_score(days, expected):
    # linear from 100 at 7 days to 0 at 90: 100 x (90 - d) / 83
    assert recency_score(days, full_within=7, zero_after=90) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (100, 100, 50),  # unchanged
        (90, 100, 75),  # 10% lower
        (117, 125, 66),  # 6.4% lower: 50 + 50 x 0.064 / 0.2
        (80, 100, 100),  # 20% lower
        (50, 100, 100),  # capped
        (110, 100, 25),
        (130, 100, 0),  # capped
        (None, 100, None),
        (100, None, None),
        (100, 0, None),
    ],
)
def test_trend_score(current, previous, expected):
    assert trend_score(current, previous, full_at=0.2) == expected


def test_sparkline_joins_the_scored_days_and_marks_the_latest():
    svg = sparkline_svg([None, 0, 100, None, 50], width=120, height=28, title="Acme <score>")
    # x steps 30 per day; y = 26 - 24 x score / 100; the day without a score is skipped
    assert '<polyline points="30.0,26.0 60.0,2.0 120.0,14.0"' in svg
    assert '<circle cx="120.0" cy="14.0" r="2"' in svg
    assert "<title>Acme &lt;score&gt;</title>" in svg
    assert svg.startswith('<svg class="health-sparkline"')


def test_sparkline_of_one_day_is_a_dot():
    svg = sparkline_svg([None, None, 80], width=120, height=28)
    assert "<polyline" not in svg
    assert '<circle cx="120.0" cy="6.8" r="2"' in svg


def test_sparkline_without_scores_is_an_empty_frame():
    svg = sparkline_svg([None, None], width=120, height=28)
    assert "<polyline" not in svg
    assert "<circle" not in svg
