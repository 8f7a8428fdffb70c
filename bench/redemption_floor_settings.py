"""Production settings with the redemption benchmark's floor URL beside the project's own
(bench/redemption_floor.py). Used only by bench/redemptions.py."""

from portal.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.redemption_floor"
