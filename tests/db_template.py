"""One migrated PostgreSQL test database per run, cloned for each pytest-xdist worker.

Migrating (Wagtail's migrations, the RunSQL triggers) is the slowest part of starting a worker,
and every worker would migrate the same schema. So the xdist controller starts one subprocess
that migrates a template database (`start_build`) as soon as the run is configured, and every
worker copies it with `CREATE DATABASE ... TEMPLATE ...`, as Django's own parallel test runner
clones its databases. The subprocess runs while the workers start and collect the tests, and
without coverage's tracer (migration files are omitted from coverage; the post_migrate receivers
also run on every flush of a transactional test): when the first worker migrated it under
coverage, it took ~62 s while the other worker waited. The controller process drops the template
when the run ends (`drop_template`).

Only on PostgreSQL under xdist, and not with `--reuse-db` (a kept database is already migrated;
the controller builds no template then, and the workers keep their own databases as before):
SQLite and single-process runs create their database as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.postgresql.creation import DatabaseCreation


def template_name(testrun_uid: str) -> str:
    """The template's database name: one per test run, shared by its workers."""
    return f"test_greenloop_template_{testrun_uid[:16]}"


def _lock_path(template: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{template}.lock"


def _ready_path(template: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{template}.ready"


def _failed_path(template: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{template}.failed"


def _log_path(template: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{template}.log"


# How long a worker waits for the controller's build: far beyond the ~60 s it takes on a loaded
# machine, but a build that hangs still ends in an error instead of a stalled run.
BUILD_WAIT_SECONDS = 900


def start_build(testrun_uid: str) -> subprocess.Popen[bytes] | None:
    """In the xdist controller: migrate the run's template in a subprocess (this module's
    `__main__`), without coverage, while the workers start. None on anything but PostgreSQL."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return None
    template = template_name(testrun_uid)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    # Not traced: coverage would only slow the migration (see the module's docstring).
    for name in [name for name in env if name.startswith(("COV_CORE_", "COVERAGE_"))]:
        del env[name]
    with open(_log_path(template), "wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own module, the run's template name
            [sys.executable, "-m", "tests.db_template", template],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_build(process: subprocess.Popen[bytes] | None) -> None:
    """In the controller at the end of the run: a build still running (the run was cut short)
    is stopped before its template is dropped."""
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(timeout=60)


def _wait_for_build(template: str) -> None:
    deadline = time.monotonic() + BUILD_WAIT_SECONDS
    while not _ready_path(template).exists():
        if _failed_path(template).exists():
            raise RuntimeError(
                f"Migrating the test template {template} failed:\n"
                + _failed_path(template).read_text()
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"The test template {template} was not migrated within {BUILD_WAIT_SECONDS} s "
                f"(log: {_log_path(template)})"
            )
        time.sleep(0.2)


def _build(template: str) -> None:
    """The subprocess: create and migrate the template as the workers' test database would be,
    then mark it ready (or failed, with the traceback, for the workers to raise)."""
    try:
        import django

        django.setup()
        from django.db import connection

        connection.settings_dict["TEST"]["NAME"] = template
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
        # No connection may stay open on a template that is being copied.
        connection.close()
    except BaseException:
        _failed_path(template).write_text(traceback.format_exc())
        raise
    _ready_path(template).touch()


@contextlib.contextmanager
def _locked(template: str) -> Iterator[None]:
    with open(_lock_path(template), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _clone(creation: Any, template: str, target: str) -> None:
    quote = creation.connection.ops.quote_name
    with creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
        cursor.execute(f"CREATE DATABASE {quote(target)} WITH TEMPLATE {quote(template)}")


def cloning_create_test_db(original: Callable[..., str], testrun_uid: str) -> Callable[..., str]:
    """A `DatabaseCreation.create_test_db` that waits for the controller's template
    (`start_build`) and clones it into this worker's test database."""

    def create_test_db(
        self: Any,
        verbosity: int = 1,
        autoclobber: bool = False,
        serialize: bool = True,
        keepdb: bool = False,
    ) -> str:
        if keepdb:
            return original(self, verbosity, autoclobber, serialize, keepdb)
        template = template_name(testrun_uid)
        worker_name = self._get_test_db_name()
        _wait_for_build(template)
        # One copy at a time: PostgreSQL refuses to copy a template another copy is reading.
        with _locked(template):
            if verbosity >= 1:
                self.log(f"Cloning test database {template} into {worker_name}...")
            _clone(self, template, worker_name)
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = worker_name
        self.connection.settings_dict["NAME"] = worker_name
        if serialize:
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        self.connection.ensure_connection()
        return worker_name

    return create_test_db


@contextlib.contextmanager
def clone_for_workers(testrun_uid: str | None) -> Iterator[None]:
    """While active, PostgreSQL test databases are cloned from the run's template (xdist only)."""
    default = settings.DATABASES["default"]
    if not testrun_uid or "postgresql" not in default["ENGINE"]:
        yield
        return
    original = DatabaseCreation.create_test_db
    DatabaseCreation.create_test_db = cloning_create_test_db(original, testrun_uid)  # type: ignore[method-assign]
    try:
        yield
    finally:
        DatabaseCreation.create_test_db = original  # type: ignore[method-assign]


def drop_template(testrun_uid: str) -> None:
    """Drop the run's template database (in the xdist controller, after the workers ended).

    Through psycopg, not Django's connection: pytest-django blocks database access outside
    tests in this process."""
    import psycopg
    from psycopg import sql

    template = template_name(testrun_uid)
    default = settings.DATABASES["default"]
    if "postgresql" not in default["ENGINE"]:
        return
    if any(path(template).exists() for path in (_ready_path, _lock_path, _log_path)):
        with psycopg.connect(
            dbname="postgres",
            host=default.get("HOST") or None,
            port=default.get("PORT") or None,
            user=default.get("USER") or None,
            password=default.get("PASSWORD") or None,
            autocommit=True,
        ) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(template))
            )
    for path in (_ready_path, _lock_path, _failed_path, _log_path):
        path = path(template)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


if __name__ == "__main__":
    _build(sys.argv[1])
