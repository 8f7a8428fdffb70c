"""How a worker waits for the template database the xdist controller migrates
(tests/db_template.py): it goes on once the build is marked ready, and a failed or hung build
ends in an error naming the cause instead of a run that stalls until the test timeout."""

import pytest

from tests import db_template


@pytest.fixture
def marks(tmp_path, monkeypatch):
    # The ready/failed marks live in the temporary directory; this test's own, not the run's.
    monkeypatch.setattr(db_template.tempfile, "gettempdir", lambda: str(tmp_path))
    return tmp_path


def test_a_worker_goes_on_once_the_template_is_ready(marks):
    # given a build that has finished / when a worker waits for it / then it returns at once
    (marks / "test_greenloop_template_abc.ready").touch()
    db_template._wait_for_build("test_greenloop_template_abc")


def test_a_failed_build_is_raised_with_its_traceback(marks):
    # given a build whose migration failed
    (marks / "test_greenloop_template_abc.failed").write_text(
        'Traceback (most recent call last):\nProgrammingError: relation "x" does not exist\n'
    )
    # when a worker waits for it / then it fails with the build's own error
    with pytest.raises(RuntimeError, match='relation "x" does not exist'):
        db_template._wait_for_build("test_greenloop_template_abc")


def test_a_build_that_never_finishes_ends_in_an_error(marks, monkeypatch):
    # given a build that marks nothing (it hangs), and no time left to wait
    monkeypatch.setattr(db_template, "BUILD_WAIT_SECONDS", 0)
    # when a worker waits for it / then it gives up with where to look
    with pytest.raises(RuntimeError, match=r"was not migrated within 0 s \(log: "):
        db_template._wait_for_build("test_greenloop_template_abc")
