"""Which organisations' rows the database shows: the scope behind PostgreSQL row-level security.

Organisation-owned tables have a policy (portal and carbon migrations) that admits a row only when
its organisation is in `greenloop.org_ids`, a setting of the database session: a comma-separated
list of organisation ids, `all`, or empty (nothing). The application role is subject to it; the
table owner (migrations, maintenance) is not.

Requests are not atomic (no ATOMIC_REQUESTS) and connections are reused, so the scope is set for
the session and always restored afterwards: requests by `TenantScopeMiddleware` (the person's
organisations, or every organisation for vendor staff who passed 2FA), API tokens by
`portal.api.TokenAuth` (the token's organisation), Celery tasks by a signal (every organisation)
and management commands with `@for_all_organisations`. On SQLite there is no row-level security
and everything here does nothing.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

SETTING = "greenloop.org_ids"
ALL = "all"
NONE = ""

Scope = Iterable[int] | Literal["all"]


def _value(organisations: Scope) -> str:
    if isinstance(organisations, str):
        # The one string a scope can be: ALL.
        return ALL
    return ",".join(str(int(pk)) for pk in sorted(set(organisations)))


def _applies(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql"


def _swap(connection: BaseDatabaseWrapper, value: str, *, sql: str = "%s") -> str:
    """Set the session's scope to `value` (or to what `sql`, given `value` as its parameter,
    selects); return the one it replaces. One query either way: it runs on every request."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT current_setting(%s, true), set_config(%s, {sql}, false)",
            [SETTING, SETTING, value],
        )
        return cursor.fetchone()[0] or NONE


def current(using: str = DEFAULT_DB_ALIAS) -> str:
    """The scope in force: ids joined by commas, `all`, or empty."""
    connection = connections[using]
    if not _applies(connection):
        return ALL
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [SETTING])
        return cursor.fetchone()[0] or NONE


def set_scope(organisations: Scope | str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Replace the scope for the rest of the enclosing `scope()` (e.g. once a token is known).
    Inside a `deferred_scope()` that no statement has needed yet, this is the block's one
    swap: nothing ran under the deferred value, so it need not be set first."""
    connection = connections[using]
    if not _applies(connection):
        return
    value = organisations if isinstance(organisations, str) else _value(organisations)
    pending: _Deferred | None = getattr(connection, _DEFERRED, None)
    if pending is not None and not pending.applied:
        pending.apply(value)
    else:
        _swap(connection, value)


class _Deferred:
    """The state of a `deferred_scope()` block on its connection (an execute wrapper)."""

    def __init__(self, connection: BaseDatabaseWrapper, value: str) -> None:
        self.connection = connection
        self.value = value
        self.applied = False
        self.previous = NONE
        self._swapping = False

    def apply(self, value: str) -> None:
        self._swapping = True  # the swap's own statement passes this wrapper as it is
        try:
            self.previous = _swap(self.connection, value)
        finally:
            self._swapping = False
        self.applied = True

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context):
        if not self.applied and not self._swapping:
            # Set before any statement of the block runs; a failed swap is tried again by the
            # next statement rather than letting it run under whatever the session had.
            self.apply(self.value)
        return execute(sql, params, many, context)


_DEFERRED = "_greenloop_deferred_scope"


@contextlib.contextmanager
def deferred_scope(organisations: Scope | str, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """`scope()`, set when the block first needs it: right before its first statement, or by
    its first `set_scope()`, which then sets its own value in the same one statement. An API
    token's request (the middleware's anonymous scope, then the token's) so costs one swap
    rather than two, and a request that reads nothing none; the scope in force before is
    restored only when it was replaced."""
    connection = connections[using]
    if not _applies(connection) or getattr(connection, _DEFERRED, None) is not None:
        # Nested (a test calling the middleware inside a request): the plain, eager scope.
        with scope(organisations, using):
            yield
        return
    value = organisations if isinstance(organisations, str) else _value(organisations)
    pending = _Deferred(connection, value)
    setattr(connection, _DEFERRED, pending)
    try:
        with connection.execute_wrapper(pending):
            yield
    finally:
        delattr(connection, _DEFERRED)
        if pending.applied:
            _restore(connection, pending.previous)


@contextlib.contextmanager
def scope(organisations: Scope | str, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Show only `organisations`' rows (or every organisation's, with `ALL`) inside the block,
    then restore the scope that was in force before."""
    connection = connections[using]
    if not _applies(connection):
        yield
        return
    value = organisations if isinstance(organisations, str) else _value(organisations)
    previous = _swap(connection, value)
    try:
        yield
    finally:
        _restore(connection, previous)


@contextlib.contextmanager
def member_scope(user_id: int) -> Iterator[None]:
    """`scope()` of the organisations `user_id` belongs to, looked up in the same query."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not _applies(connection):
        yield
        return
    previous = _swap(
        connection,
        str(user_id),
        sql="coalesce((SELECT string_agg(organisation_id::text, ',' ORDER BY organisation_id)"
        " FROM portal_membership WHERE user_id = %s::bigint), '')",
    )
    try:
        yield
    finally:
        _restore(connection, previous)


def _restore(connection: BaseDatabaseWrapper, previous: str) -> None:
    if connection.connection is None:
        return  # closed: a new session starts with no scope
    try:
        _swap(connection, previous)
    except DatabaseError:
        # Only a failed transaction refuses the query, and rolling it back restores the setting
        # as it was when the transaction began; outside one, the failure is real.
        if not connection.in_atomic_block:
            raise


def all_organisations(using: str = DEFAULT_DB_ALIAS) -> contextlib.AbstractContextManager[None]:
    """The explicit scope of system work: tasks, commands, the audit writer, secret lookups."""
    return scope(ALL, using)


def for_all_organisations(handle: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a management command's `handle()` to run it for every organisation."""

    @functools.wraps(handle)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with all_organisations():
            return handle(*args, **kwargs)

    return wrapper


# Celery: every task runs for every organisation (tasks take ids and act as the system); the
# scope in force before (an eager task inside a request) comes back when it ends.
_before_task: dict[str, str] = {}


def task_started(task_id: str | None = None, **kwargs: Any) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if _applies(connection) and task_id is not None:
        _before_task[task_id] = _swap(connection, ALL)


def task_finished(task_id: str | None = None, **kwargs: Any) -> None:
    previous = _before_task.pop(task_id, None) if task_id is not None else None
    if previous is not None:
        _restore(connections[DEFAULT_DB_ALIAS], previous)


# --- SQL for the migrations that put tables under row-level security.

POLICY = "greenloop_organisation_scope"

VISIBLE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION greenloop_org_visible(org bigint) RETURNS boolean AS $$
    SELECT CASE current_setting('{SETTING}', true)
        WHEN '{ALL}' THEN true
        WHEN '' THEN false
        ELSE org = ANY (string_to_array(current_setting('{SETTING}', true), ',')::bigint[])
    END;
$$ LANGUAGE sql STABLE;
"""


def row_security_sql(table: str, *, via: tuple[str, str] | None = None) -> tuple[str, str]:
    """(enable, disable) SQL for `table`'s policy. The row's organisation is its
    `organisation_id`, or with `via=(column, parent_table)` that of the parent row it points to
    (the parent's own policy decides, as policies apply inside policies). A table owner is
    exempt (no FORCE), so migrations and maintenance see every row."""
    if via is None:
        condition = "greenloop_org_visible(organisation_id)"
    else:
        column, parent = via
        # Names come from the migrations, never from input.
        parent_visible = f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{column})"  # noqa: S608
        condition = f"current_setting('{SETTING}', true) = '{ALL}' OR {parent_visible}"
    enable = f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS {POLICY} ON {table};
        CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition});
    """
    disable = f"""
        DROP POLICY IF EXISTS {POLICY} ON {table};
        ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
    """
    return enable, disable


def row_security_operation(tables: dict[str, tuple[str, str] | None]) -> Any:
    """A migration operation putting `tables` (name -> `via` or None) under row-level security
    on PostgreSQL, and nothing elsewhere."""
    from django.db import migrations

    sql = [row_security_sql(table, via=via) for table, via in tables.items()]

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(VISIBLE_FUNCTION + "".join(e for e, _ in sql), params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("".join(d for _, d in reversed(sql)), params=None)

    return migrations.RunPython(forwards, backwards)
