"""One answer to "is this run CI?", for every part of the suite that behaves differently there.

Any non-empty `CI` value other than an explicit no (`0`, `false`, `no`, `off`) counts, so `CI=1`
and `CI=yes` are as strict as `CI=true`: in CI nothing may be skipped quietly.
"""

from __future__ import annotations

import os

FALSE_VALUES = {"", "0", "false", "no", "off"}


def in_ci(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in FALSE_VALUES


# Tests that may still be skipped (or xfail) in CI, each with the reason. Keep it short: a skip in
# CI is otherwise a failure (tests/conftest.py), because a skipped test protects nothing.
ALLOWED_CI_SKIPS: dict[str, str] = {}
