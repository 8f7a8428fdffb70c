"""How hard the property tests search (issue #11 item 7).

Two Hypothesis profiles: `fast` (every ordinary run and CI: derandomised, so a run is
reproducible and a red build is the code's fault, not the seed's) and `deep` (`scripts/test.sh
--deep`, which sets GREENLOOP_DEEP=1: random seeds, at least 500 examples per property, the
ledger state machine with more and longer histories, the race tests repeated). Tests state their
fast example count through `examples()` so the deep profile can raise it; a count written
straight into `@settings` would pin it in both profiles.
"""

from __future__ import annotations

import os

from hypothesis import settings

DEEP = os.environ.get("GREENLOOP_DEEP", "") == "1"
DEEP_EXAMPLES = 500
DEEP_STEP_FACTOR = 5
# A state-machine history touches the database at every step (16 histories of 40 steps take about
# a minute here), so the deep profile runs 4x the histories at 5x the length rather than 500.
DEEP_HISTORY_FACTOR = 4


def examples(fast: int) -> int:
    """Examples per property: `fast` normally, at least 500 in the deep profile."""
    return max(fast, DEEP_EXAMPLES) if DEEP else fast


def histories(fast: int) -> int:
    """State-machine histories (examples): `fast` normally, four times more in the deep profile."""
    return fast * DEEP_HISTORY_FACTOR if DEEP else fast


def steps(fast: int) -> int:
    """Steps per state-machine history: `fast` normally, five times more in the deep profile."""
    return fast * DEEP_STEP_FACTOR if DEEP else fast


def load_profile() -> str:
    # Deadlines measure this shared 2-core machine's load more than the code: none in either.
    settings.register_profile("fast", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile(
        "deep", derandomize=False, deadline=None, print_blob=True, max_examples=DEEP_EXAMPLES
    )
    name = "deep" if DEEP else "fast"
    settings.load_profile(name)
    return name
