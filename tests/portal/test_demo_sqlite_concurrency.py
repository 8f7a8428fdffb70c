"""The one-command demo's SQLite file under parallel writes.

Two people replying to the same community topic at the same moment each run one transaction that
reads (the topic, its reply count) and then writes (the reply, the new count). With SQLite's
defaults the second writer's lock upgrade fails at once with "database is locked" (a 500 in the
demo); with the demo settings' options (WAL, IMMEDIATE transactions, a busy timeout) writers queue
and every reply is saved. Each thread opens its own connection from the demo settings' DATABASES
entry, pointed at a temporary file, and runs the transaction as `transaction.atomic` does.
"""

from __future__ import annotations

import runpy
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.db.backends.sqlite3.base import DatabaseWrapper

WRITERS = 8


def _demo_database(monkeypatch) -> dict:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return runpy.run_module("portal.settings.dev")["DATABASES"]["default"]


def _connection(database: dict, path: Path, alias: str) -> DatabaseWrapper:
    configured = connections.configure_settings({"default": {**database, "NAME": str(path)}})
    return DatabaseWrapper(configured["default"], alias=alias)


def _reply_at_once(database: dict, path: Path) -> list[BaseException | None]:
    """WRITERS threads each add a reply and raise the topic's reply count, released together;
    what each raised (None when its reply was saved)."""
    setup = _connection(database, path, "setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE topic (id INTEGER PRIMARY KEY, reply_count INTEGER)")
        cursor.execute("CREATE TABLE reply (id INTEGER PRIMARY KEY, topic_id INTEGER, body TEXT)")
        cursor.execute("INSERT INTO topic VALUES (1, 0)")
    setup.close()
    barrier = threading.Barrier(WRITERS)
    outcomes: list[BaseException | None] = [None] * WRITERS

    def write(index: int) -> None:
        wrapper = _connection(database, path, f"writer{index}")
        try:
            wrapper.ensure_connection()
            barrier.wait(timeout=10)
            # What `transaction.atomic()` does on entering and leaving an outermost block.
            wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT reply_count FROM topic WHERE id = 1")
                (count,) = cursor.fetchone()
                time.sleep(0.05)  # every writer has read before the first one writes
                cursor.execute("INSERT INTO reply (topic_id, body) VALUES (1, %s)", [f"#{index}"])
                cursor.execute("UPDATE topic SET reply_count = %s WHERE id = 1", [count + 1])
            wrapper.commit()
        except OperationalError as error:
            outcomes[index] = error
            wrapper.rollback()
        finally:
            wrapper.set_autocommit(True)
            wrapper.close()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _saved(database: dict, path: Path) -> tuple[int, int]:
    check = _connection(database, path, "check")
    with check.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM reply")
        (replies,) = cursor.fetchone()
        cursor.execute("SELECT reply_count FROM topic WHERE id = 1")
        (count,) = cursor.fetchone()
    check.close()
    return replies, count


def test_demo_settings_configure_sqlite_for_concurrent_use(monkeypatch):
    # given the demo settings on their default database
    database = _demo_database(monkeypatch)
    # then SQLite writes ahead, begins writers at once and queues them for 20 s
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["OPTIONS"] == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


def test_parallel_replies_on_the_demo_database_are_all_saved(
    monkeypatch, tmp_path, django_db_blocker
):
    # given the demo settings' SQLite configuration on a fresh file
    database = _demo_database(monkeypatch)
    path = tmp_path / "demo.sqlite3"
    with django_db_blocker.unblock():
        # when eight people reply to one topic at the same moment
        outcomes = _reply_at_once(database, path)
        saved = _saved(database, path)
        journal = _connection(database, path, "journal")
        with journal.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            (mode,) = cursor.fetchone()
        journal.close()
    # then no one met "database is locked", and no reply or count was lost
    assert outcomes == [None] * WRITERS
    assert saved == (8, 8)
    assert mode == "wal"


def test_sqlite_defaults_lock_out_parallel_replies(monkeypatch, tmp_path, django_db_blocker):
    """The same writers without the demo's options: what the options are there for (and proof
    that the test above would see a lock)."""
    # given SQLite with Django's defaults
    database = {**_demo_database(monkeypatch), "OPTIONS": {}}
    with django_db_blocker.unblock():
        # when eight people reply at the same moment
        outcomes = _reply_at_once(database, tmp_path / "plain.sqlite3")
    # then some of them got "database is locked"
    locked = [error for error in outcomes if error is not None]
    assert locked
    assert {str(error) for error in locked} == {"database is locked"}


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ("database is locked", True),
        ("database table is locked: community_post", True),
        ("no such table: community_post", False),
    ],
)
def test_only_busy_database_errors_are_transient(message, transient):
    from portal.db_busy import is_transient

    assert is_transient(OperationalError(message)) is transient
