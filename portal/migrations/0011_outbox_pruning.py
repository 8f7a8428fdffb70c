"""Outbox pruning: the database decides which outbox events may go (portal/crm/pruning.py).

The append-only trigger of 0004 let the application role delete any outbox event not yet
delivered, and no delivered one. From here on it may delete an event only when
`portal_outboxevent_prunable()` says so:

- the event was routed (it has every delivery it will ever get), and
- no delivery of it to an active endpoint (a webhook or the RabbitMQ connector) is pending or
  dead-lettered: every active endpoint has it, or was created after it, or filtered it out, and
- its last delivery (or its routing, if nobody wanted it) is older than the retention the pruning
  transaction announces with `set_config('greenloop.outbox_retention_days', ..., true)`; without
  that setting nothing may be deleted, so an ad-hoc DELETE or ORM `.delete()` is refused.

Deliveries and their attempts go with their event: the foreign keys become ON DELETE CASCADE in
the database (Django leaves the event's deliveries alone, DO_NOTHING), so the trigger looks at the
deliveries before anything is removed. Updates are unchanged: pending and dead-lettered events
stay writable, delivered ones are frozen. The owner and superusers pass, as before.
"""

import django.db.models.deletion
from django.db import migrations, models

# The foreign keys Django created, made to cascade in the database.
CASCADE_FKS = [
    ("portal_delivery", "event_id", "portal_outboxevent"),
    ("portal_deliveryattempt", "delivery_id", "portal_delivery"),
]

FK_SQL = """
DO $$
DECLARE
    name text;
BEGIN
    SELECT c.conname INTO name FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f' AND c.conrelid = '{table}'::regclass AND a.attname = '{column}';
    IF name IS NOT NULL THEN
        EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I', name);
    END IF;
    ALTER TABLE {table} ADD CONSTRAINT {name}
        FOREIGN KEY ({column}) REFERENCES {target} (id) ON DELETE {action}
        DEFERRABLE INITIALLY DEFERRED;
END $$;
"""

# 0004's rule for an UPDATE of a delivered event, unchanged.
UPDATE_RULE = """
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
"""

CREATE = """
CREATE OR REPLACE FUNCTION portal_outboxevent_prunable(event_id uuid, routed_at timestamptz)
RETURNS boolean AS $$
    -- NULL (refused) when the retention is not announced: NULL < anything is not true.
    SELECT COALESCE(
        $2 IS NOT NULL
        AND r.days >= 0
        AND GREATEST($2, (SELECT max(d.delivered_at) FROM portal_delivery d WHERE d.event_id = $1))
            < clock_timestamp() - r.days * interval '1 day'
        AND NOT EXISTS (
            SELECT 1 FROM portal_delivery d JOIN portal_crmendpoint e ON e.id = d.endpoint_id
            WHERE d.event_id = $1 AND e.is_active AND d.state <> 'delivered'),
        false)
    FROM (SELECT NULLIF(current_setting('greenloop.outbox_retention_days', true), '')::numeric
          AS days) r;
$$ LANGUAGE sql VOLATILE;

CREATE OR REPLACE FUNCTION portal_outboxevent_delivered_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF greenloop_maintainer(TG_RELID) OR portal_outboxevent_prunable(OLD.id, OLD.routed_at)
        THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'outbox events are append-only until every active endpoint has them and'
            ' the retention has passed: delete refused (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The status first: the delivery code updates pending events by the thousand.
    IF OLD.status <> 'delivered' OR greenloop_maintainer(TG_RELID) THEN
        RETURN NEW;
    END IF;
{update_rule}""".replace("{update_rule}", UPDATE_RULE)

# Back to 0004's function (the trigger itself is unchanged) and Django's plain foreign keys.
DROP = """
CREATE OR REPLACE FUNCTION portal_outboxevent_delivered_append_only() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'delivered' OR greenloop_maintainer(TG_RELID) THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'delivered outbox events are append-only: delete refused (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
{update_rule}DROP FUNCTION IF EXISTS portal_outboxevent_prunable(uuid, timestamptz);
""".replace("{update_rule}", UPDATE_RULE)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, target in CASCADE_FKS:
        name = f"{table}_{column}_cascade"
        sql = FK_SQL.format(table=table, column=column, target=target, name=name, action="CASCADE")
        schema_editor.execute(sql, params=None)
    schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP, params=None)
    for table, column, target in CASCADE_FKS:
        name = f"{table}_{column}_fk"
        sql = FK_SQL.format(table=table, column=column, target=target, name=name, action="NO ACTION")
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0010_crm_inbound")]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="event",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="deliveries",
                to="portal.outboxevent",
                verbose_name="event",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
