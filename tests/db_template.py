"""One migrated PostgreSQL test database per run, cloned for each pytest-xdist worker.

Migrating (Wagtail's migrations, the RunSQL triggers) is the slowest part of starting a worker,
and every worker would migrate the same schema. So the first worker to take a file lock
migrates a template database, and every worker (that one included) then copies it with
`CREATE DATABASE ... TEMPLATE ...`, as Django's own parallel test runner clones its databases.
The controller process drops the template when the run ends (`drop_template`).

Only on PostgreSQL under xdist, and not with `--reuse-db` (a kept database is already migrated):
SQLite and single-process runs create their database as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
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
    """A `DatabaseCreation.create_test_db` that migrates the run's template once (under the lock)
    and clones it into this worker's test database."""

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
        test_settings = self.connection.settings_dict["TEST"]
        worker_name = self._get_test_db_name()
        with _locked(template):
            if not _ready_path(template).exists():
                test_settings["NAME"] = template
                try:
                    original(self, verbosity, autoclobber, False, False)
                finally:
                    test_settings["NAME"] = worker_name
                # No connection may stay open on a template that is being copied.
                self.connection.close()
                _ready_path(template).touch()
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
    if _ready_path(template).exists() or _lock_path(template).exists():
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
    for path in (_ready_path(template), _lock_path(template)):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
