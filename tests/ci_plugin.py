"""The pytest side of tests/ci.py, as a plugin without Django so it can be tried on its own
(tests/portal/test_ci_rules.py): in CI a skip or an xfail is a failure unless allowed."""

from __future__ import annotations

import pytest

from tests.ci import ALLOWED_CI_SKIPS, in_ci


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # In CI a skip or an xfail is a failure unless tests/ci.py allows it with a reason: a test
    # that skips itself (say, when a function it checks was renamed) would let the break land.
    outcome = yield
    report = outcome.get_result()
    if not in_ci() or not (report.skipped or hasattr(report, "wasxfail")):
        return
    if any(item.nodeid.startswith(allowed) for allowed in ALLOWED_CI_SKIPS):
        return
    why = getattr(report, "wasxfail", None) or report.longrepr
    report.outcome = "failed"
    report.longrepr = f"skipped or xfailed in CI (not in tests/ci.py ALLOWED_CI_SKIPS): {why}"
