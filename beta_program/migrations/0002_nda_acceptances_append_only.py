"""NDA acceptances are evidence: append-only in the database too. The application role may
insert acceptances but never update, delete or truncate them; the table owner and superusers
pass for maintenance (`greenloop_maintainer()`, portal 0004)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION beta_program_ndaacceptance_append_only() RETURNS trigger AS $$
BEGIN
    IF greenloop_maintainer(TG_RELID) THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'NDA acceptances are append-only: % refused (id %)', lower(TG_OP), OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS beta_program_ndaacceptance_append_only ON beta_program_ndaacceptance;
CREATE TRIGGER beta_program_ndaacceptance_append_only
    BEFORE UPDATE OR DELETE ON beta_program_ndaacceptance
    FOR EACH ROW EXECUTE FUNCTION beta_program_ndaacceptance_append_only();
DROP TRIGGER IF EXISTS beta_program_ndaacceptance_no_truncate ON beta_program_ndaacceptance;
CREATE TRIGGER beta_program_ndaacceptance_no_truncate
    BEFORE TRUNCATE ON beta_program_ndaacceptance
    FOR EACH STATEMENT EXECUTE FUNCTION greenloop_refuse_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS beta_program_ndaacceptance_no_truncate ON beta_program_ndaacceptance;
DROP TRIGGER IF EXISTS beta_program_ndaacceptance_append_only ON beta_program_ndaacceptance;
DROP FUNCTION IF EXISTS beta_program_ndaacceptance_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("beta_program", "0001_initial"), ("portal", "0004_append_only_guards")]

    operations = [migrations.RunPython(forwards, backwards)]
