"""In CI nothing is skipped quietly: one rule says what "CI" is, and a skip or an xfail fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ci import in_ci

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("True", True),
        ("github-actions", True),
        ("", False),
        ("0", False),
        ("false", False),
        ("off", False),
        ("no", False),
    ],
)
def test_any_truthy_ci_value_is_ci(value, expected):
    assert in_ci({"CI": value}) is expected


def test_no_ci_variable_is_not_ci():
    assert in_ci({}) is False


def _run_probe(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import pytest

            def test_skips_itself():
                pytest.skip("the function it checks is gone")

            @pytest.mark.xfail(reason="broken for now")
            def test_expected_to_fail():
                assert False

            def test_passes():
                assert True
            """
        )
    )
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # noqa: S603 - our own interpreter on a file we just wrote
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            "-p",
            "tests.ci_plugin",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-q",
            str(probe),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_in_ci_a_skip_or_an_xfail_fails_the_run(tmp_path):
    # given a test that skips itself and one marked xfail / when run with CI=1
    result = _run_probe(tmp_path, "1")
    # then both fail, naming why, and the run fails
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 passed" in result.stdout
    assert "skipped or xfailed in CI" in result.stdout


def test_outside_ci_a_skip_stays_a_skip(tmp_path):
    result = _run_probe(tmp_path, "")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in result.stdout


def test_property_profiles_fast_is_reproducible_and_deep_searches_harder(monkeypatch):
    from hypothesis import settings

    from tests import properties

    fast, deep = settings.get_profile("fast"), settings.get_profile("deep")
    assert (fast.derandomize, fast.deadline) == (True, None)
    assert (deep.derandomize, deep.deadline, deep.max_examples) == (False, None, 500)
    monkeypatch.setattr(properties, "DEEP", False)
    assert (properties.examples(60), properties.steps(40), properties.histories(16)) == (60, 40, 16)
    monkeypatch.setattr(properties, "DEEP", True)
    assert (properties.examples(60), properties.examples(800)) == (500, 800)
    assert (properties.steps(40), properties.histories(16)) == (200, 64)
