"""Deployment checks (`manage.py check --deploy`) for the database roles (portal/db_roles.py)."""

from __future__ import annotations

import os

import dj_database_url
from django.conf import settings
from django.core.checks import Tags, Warning, register


# Tagged security, not database: it reads settings only, so it runs with every --deploy.
@register(Tags.security, deploy=True)
def check_database_roles(app_configs=None, **kwargs) -> list[Warning]:
    """The application must not connect as a superuser or as the role that owns the tables:
    either could switch the append-only triggers and row-level security off."""
    database = settings.DATABASES["default"]
    if "postgresql" not in database.get("ENGINE", ""):
        return []
    app_user = database.get("USER") or ""
    migrate_url = os.environ.get("DATABASE_MIGRATE_URL", "")
    owner = dj_database_url.parse(migrate_url).get("USER") if migrate_url else ""
    hint = (
        "Run `manage.py create_db_roles --owner OWNER --app APP` once as a superuser, then set "
        "DATABASE_URL to the application role and DATABASE_MIGRATE_URL to the owner."
    )
    problems = []
    if app_user in {"", "postgres"}:
        problems.append(
            Warning(
                "DATABASE_URL connects as the PostgreSQL superuser.", hint=hint, id="portal.W101"
            )
        )
    if not owner:
        problems.append(
            Warning("Set DATABASE_MIGRATE_URL (the owner role).", hint=hint, id="portal.W102")
        )
    elif owner == app_user:
        problems.append(
            Warning(
                "DATABASE_URL and DATABASE_MIGRATE_URL use the same role; the application must "
                "not own the tables.",
                hint=hint,
                id="portal.W103",
            )
        )
    return problems
