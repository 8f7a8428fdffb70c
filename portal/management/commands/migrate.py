"""`migrate` as the database owner when `DATABASE_MIGRATE_URL` is set.

In production `DATABASE_URL` is the application role, which may not change the schema; the owner
role's URL is given to this command only, so no web process or worker ever holds it.
"""

import os

import dj_database_url
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import DEFAULT_DB_ALIAS, connections


class Command(MigrateCommand):
    help = MigrateCommand.help + " Connects with DATABASE_MIGRATE_URL when that is set."

    def handle(self, *args, **options):
        url = os.environ.get("DATABASE_MIGRATE_URL")
        if url and options["database"] == DEFAULT_DB_ALIAS:
            connection = connections[DEFAULT_DB_ALIAS]
            owner = dj_database_url.parse(url)
            connection.close()
            for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
                connection.settings_dict[key] = owner[key]
        return super().handle(*args, **options)
