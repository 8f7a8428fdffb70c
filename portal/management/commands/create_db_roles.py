import os

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from portal.db_roles import RoleError, ensure_roles


class Command(BaseCommand):
    help = (
        "Create (or repair) the PostgreSQL owner and application roles for this database: run "
        "once by a superuser, e.g. DATABASE_URL=postgres://postgres@db/greenloop manage.py "
        "create_db_roles --owner greenloop_owner --app greenloop_app. Idempotent. Passwords come "
        "from GREENLOOP_DB_OWNER_PASSWORD and GREENLOOP_DB_APP_PASSWORD when set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="Role that owns tables and migrates.")
        parser.add_argument("--app", required=True, help="Role the application connects as.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, owner, app, database, verbosity, **options):
        try:
            statements = ensure_roles(
                connections[database],
                owner,
                app,
                # From the environment, so that no password shows in a process list or history.
                owner_password=os.environ.get("GREENLOOP_DB_OWNER_PASSWORD") or None,
                app_password=os.environ.get("GREENLOOP_DB_APP_PASSWORD") or None,
            )
        except RoleError as error:
            raise CommandError(str(error)) from error
        if verbosity > 1:
            for statement in statements:
                self.stdout.write(statement)
        if verbosity:
            self.stdout.write(f"Roles ready: owner {owner}, application {app}.")
