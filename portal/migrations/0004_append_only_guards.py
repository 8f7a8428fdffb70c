"""Append-only guards that hold against the application role, not only against the ORM.

- audit events: no UPDATE (except Django nulling a deleted actor or organisation), no DELETE;
- outbox events once delivered: the same rule (pending and dead-lettered rows stay writable for
  the delivery code);
- TRUNCATE of either table is refused: row triggers never see a TRUNCATE.

The table owner (the role that migrates) and superusers pass, so that maintenance and the test
suite's flush between transactional tests still work; the application role owns nothing, cannot
disable triggers and cannot set `session_replication_role` (portal/db_roles.py).
`greenloop_maintainer()` and `greenloop_refuse_truncate()` are shared with the plugins' guards.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION greenloop_maintainer(table_oid oid) RETURNS boolean AS $$
    -- True for the table's owner, roles that inherit it, and superusers.
    SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = table_oid;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION greenloop_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF NOT greenloop_maintainer(TG_RELID) THEN
        RAISE EXCEPTION '% is append-only: truncate refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION portal_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF greenloop_maintainer(TG_RELID) THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only: delete refused (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'actor_id' - 'organisation_id')
           IS DISTINCT FROM (to_jsonb(OLD) - 'actor_id' - 'organisation_id')
       OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
       OR (NEW.organisation_id IS DISTINCT FROM OLD.organisation_id
           AND NEW.organisation_id IS NOT NULL) THEN
        RAISE EXCEPTION 'audit events are append-only: update refused (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS portal_auditevent_no_truncate ON portal_auditevent;
CREATE TRIGGER portal_auditevent_no_truncate
    BEFORE TRUNCATE ON portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION greenloop_refuse_truncate();

CREATE OR REPLACE FUNCTION portal_outboxevent_delivered_append_only() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'delivered' OR greenloop_maintainer(TG_RELID) THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'delivered outbox events are append-only: delete refused (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Deleting an organisation nulls its events' foreign key; nothing else may change.
    IF (to_jsonb(NEW) - 'organisation_id') IS DISTINCT FROM (to_jsonb(OLD) - 'organisation_id')
       OR (NEW.organisation_id IS DISTINCT FROM OLD.organisation_id
           AND NEW.organisation_id IS NOT NULL) THEN
        RAISE EXCEPTION 'delivered outbox events are append-only: update refused (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS portal_outboxevent_delivered_append_only ON portal_outboxevent;
CREATE TRIGGER portal_outboxevent_delivered_append_only
    BEFORE UPDATE OR DELETE ON portal_outboxevent
    FOR EACH ROW EXECUTE FUNCTION portal_outboxevent_delivered_append_only();
DROP TRIGGER IF EXISTS portal_outboxevent_no_truncate ON portal_outboxevent;
CREATE TRIGGER portal_outboxevent_no_truncate
    BEFORE TRUNCATE ON portal_outboxevent
    FOR EACH STATEMENT EXECUTE FUNCTION greenloop_refuse_truncate();
"""

# Back to 0002's audit trigger (which refused everyone, superusers included).
DROP = """
DROP TRIGGER IF EXISTS portal_outboxevent_no_truncate ON portal_outboxevent;
DROP TRIGGER IF EXISTS portal_outboxevent_delivered_append_only ON portal_outboxevent;
DROP FUNCTION IF EXISTS portal_outboxevent_delivered_append_only();
DROP TRIGGER IF EXISTS portal_auditevent_no_truncate ON portal_auditevent;
CREATE OR REPLACE FUNCTION portal_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only: delete refused (id %)', OLD.id;
    END IF;
    IF (to_jsonb(NEW) - 'actor_id' - 'organisation_id')
           IS DISTINCT FROM (to_jsonb(OLD) - 'actor_id' - 'organisation_id')
       OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
       OR (NEW.organisation_id IS DISTINCT FROM OLD.organisation_id
           AND NEW.organisation_id IS NOT NULL) THEN
        RAISE EXCEPTION 'audit events are append-only: update refused (id %)', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP FUNCTION IF EXISTS greenloop_refuse_truncate();
DROP FUNCTION IF EXISTS greenloop_maintainer(oid);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_verbose_names")]

    operations = [migrations.RunPython(forwards, backwards)]
