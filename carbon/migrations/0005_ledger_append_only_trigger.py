"""The points ledger is append-only in the database too: the application role may insert entries
but never update, delete or truncate them (corrections are new entries). The table owner and
superusers pass for maintenance; see portal 0004 for `greenloop_maintainer()`."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION carbon_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    IF greenloop_maintainer(TG_RELID) THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'points ledger entries are append-only: % refused (id %)',
        lower(TG_OP), OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS carbon_ledgerentry_append_only ON carbon_ledgerentry;
CREATE TRIGGER carbon_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON carbon_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION carbon_ledgerentry_append_only();
DROP TRIGGER IF EXISTS carbon_ledgerentry_no_truncate ON carbon_ledgerentry;
CREATE TRIGGER carbon_ledgerentry_no_truncate
    BEFORE TRUNCATE ON carbon_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION greenloop_refuse_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS carbon_ledgerentry_no_truncate ON carbon_ledgerentry;
DROP TRIGGER IF EXISTS carbon_ledgerentry_append_only ON carbon_ledgerentry;
DROP FUNCTION IF EXISTS carbon_ledgerentry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("carbon", "0004_catalogue_redemptions"),
        ("portal", "0004_append_only_guards"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
