"""PostgreSQL roles: an owner that runs migrations and an application role that only reads and
writes rows.

The application role is what the web processes, workers and commands connect as
(`DATABASE_URL`). It may SELECT, INSERT, UPDATE and DELETE, nothing else: it owns no table, so it
can neither `ALTER TABLE ... DISABLE TRIGGER` nor drop a policy, it has no TRUNCATE, and as a
non-superuser it cannot `SET session_replication_role = replica` (which would skip triggers).
The owner (`DATABASE_MIGRATE_URL`, used by `manage.py migrate`) owns every table, so the
append-only triggers and row-level security let it do maintenance.

`ensure_roles()` is idempotent and must run as a superuser (or a role with CREATEROLE that owns
the tables); `manage.py create_db_roles` calls it.
"""

from __future__ import annotations

import re

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


class RoleError(ValueError):
    pass


def _role_sql(cursor, name: str, password: str | None) -> list[str]:
    """Statements that create `name` or bring an existing one back to the expected attributes.
    Only what differs is altered, so that parallel runs (CI) do not update one catalogue row."""
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    cursor.execute(
        "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls"
        " OR NOT rolcanlogin FROM pg_roles WHERE rolname = %s",
        [name],
    )
    row = cursor.fetchone()
    statements = []
    if row is None:
        statements.append(f"CREATE ROLE {name} {attributes}")
    elif row[0]:
        statements.append(f"ALTER ROLE {name} {attributes}")
    if password:
        # Identifiers are checked against ROLE_NAME; the password is a bound literal.
        cursor.execute(f"ALTER ROLE {name} PASSWORD %s", [password])
    return statements


def ensure_roles(
    connection: BaseDatabaseWrapper,
    owner: str,
    app: str,
    owner_password: str | None = None,
    app_password: str | None = None,
) -> list[str]:
    """Create or repair both roles for the database `connection` points at, hand every table,
    sequence, view and function in the `public` schema to `owner`, and grant `app` row access
    only, now and (default privileges) for whatever `owner` creates later. Returns the
    statements it ran."""
    if connection.vendor != "postgresql":
        raise RoleError("Database roles exist only on PostgreSQL.")
    for name in (owner, app):
        if not ROLE_NAME.match(name):
            raise RoleError(f"{name!r} is not a plain lower-case role name.")
    if owner == app:
        raise RoleError("The owner and the application role must differ.")
    ran: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        database = connection.ops.quote_name(cursor.fetchone()[0])
        statements = _role_sql(cursor, owner, owner_password)
        statements += _role_sql(cursor, app, app_password)
        for statement in statements:
            try:
                cursor.execute(statement)
            except DatabaseError as error:
                # Another run (CI jobs share a server) created the role in the meantime.
                if "already exists" not in str(error):
                    raise
        ran += statements
        statements = [
            # The application role must not inherit the owner's rights, directly or not.
            f"REVOKE {owner} FROM {app}",
            f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {owner}, {app}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            f"GRANT USAGE, CREATE ON SCHEMA public TO {owner}",
            f"GRANT USAGE ON SCHEMA public TO {app}",
        ]
        statements += _ownership_sql(cursor, owner)
        statements += [
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}",
            f"GRANT {APP_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {app}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            f" GRANT {APP_PRIVILEGES} ON TABLES TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            f" GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        ]
        for statement in statements:
            cursor.execute(statement)
        ran += statements
    return ran


def _ownership_sql(cursor, owner: str) -> list[str]:
    """ALTER ... OWNER TO for every object in `public` that someone else owns (e.g. tables a
    superuser migrated before the roles existed). Identity sequences follow their table, and
    extension members stay with the extension."""
    cursor.execute(
        """
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                    WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
               quote_ident(c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> %s
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.deptype IN ('a', 'i', 'e'))
        UNION ALL
        SELECT 'FUNCTION',
               quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.deptype = 'e')
        ORDER BY 1, 2
        """,
        [owner, owner],
    )
    return [f"ALTER {kind} public.{name} OWNER TO {owner}" for kind, name in cursor.fetchall()]
