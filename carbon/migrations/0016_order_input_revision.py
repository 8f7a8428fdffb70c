"""An order's input revision, kept by the database, so that a recalculation skips unchanged orders
without loading their lines and legs.

On PostgreSQL `carbon_order.input_revision` takes a new value from its own sequence in the same
transaction as any change to what a calculation reads of the order: the order's external id,
date, site or organisation; any insert, update or delete of its lines, shipments or legs; its
delivery site's name, country or region; the SKU or electricity per unit of a product one of its
lines names. Triggers do it (statement-level with transition tables for the children, so a bulk
insert of 300,000 legs costs one UPDATE), as the table owner (SECURITY DEFINER): row-level
security must not hide an order from the bump. The column is not a model field: Django never
writes it, so a stale in-memory order cannot put an old revision back (and any write of the
column takes a fresh value anyway).

Each snapshot keeps the revision it was calculated from and `context_hash`, the SHA-256 of what
comes from outside the order (method version, the chosen factor table's fingerprint and selection,
the green-power declaration with its effective ratio). Elsewhere (SQLite) nothing is installed
and recalculation compares full input hashes as before.
"""

from django.db import migrations, models

_FORWARD = """
CREATE SEQUENCE carbon_order_input_revision_seq;
ALTER TABLE carbon_order
    ADD COLUMN input_revision bigint NOT NULL DEFAULT nextval('carbon_order_input_revision_seq');
-- New rows get their value from the trigger (as the owner), not from the default (as the caller).
ALTER TABLE carbon_order ALTER COLUMN input_revision SET DEFAULT 0;
ALTER SEQUENCE carbon_order_input_revision_seq OWNED BY carbon_order.input_revision;

CREATE FUNCTION carbon_order_revise() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT'
        OR NEW.input_revision IS DISTINCT FROM OLD.input_revision
        OR (NEW.external_id, NEW.order_date, NEW.delivery_site_id, NEW.organisation_id)
            IS DISTINCT FROM
            (OLD.external_id, OLD.order_date, OLD.delivery_site_id, OLD.organisation_id)
    THEN
        NEW.input_revision := nextval('carbon_order_input_revision_seq');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER carbon_order_revise BEFORE INSERT OR UPDATE ON carbon_order
    FOR EACH ROW EXECUTE FUNCTION carbon_order_revise();

-- Lines and shipments point at their order; legs at their shipment.
CREATE FUNCTION carbon_order_revise_by_order_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE carbon_order SET input_revision = nextval('carbon_order_input_revision_seq')
        WHERE id IN (SELECT order_id FROM new_rows);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE carbon_order SET input_revision = nextval('carbon_order_input_revision_seq')
        WHERE id IN (SELECT order_id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION carbon_order_revise_by_shipment_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE carbon_order SET input_revision = nextval('carbon_order_input_revision_seq')
        WHERE id IN (SELECT s.order_id FROM carbon_shipment s
                     WHERE s.id IN (SELECT shipment_id FROM new_rows));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE carbon_order SET input_revision = nextval('carbon_order_input_revision_seq')
        WHERE id IN (SELECT s.order_id FROM carbon_shipment s
                     WHERE s.id IN (SELECT shipment_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
"""

_CHILD_TRIGGERS = "".join(
    f"""
CREATE TRIGGER {table}_revise_order_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_revise_order_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_revise_order_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""  # noqa: S608 - names from this module
    for table, function in (
        ("carbon_orderline", "carbon_order_revise_by_order_id"),
        ("carbon_shipment", "carbon_order_revise_by_order_id"),
        ("carbon_leg", "carbon_order_revise_by_shipment_id"),
    )
)

_SHARED_ROWS = """
CREATE FUNCTION carbon_order_revise_by_site() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF (NEW.name, NEW.country, NEW.region) IS DISTINCT FROM (OLD.name, OLD.country, OLD.region)
    THEN
        UPDATE carbon_order SET input_revision = nextval('carbon_order_input_revision_seq')
        WHERE delivery_site_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER portal_site_revise_orders AFTER UPDATE ON portal_site
    FOR EACH ROW EXECUTE FUNCTION carbon_order_revise_by_site();

CREATE FUNCTION carbon_order_revise_by_product() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF (NEW.sku, NEW.electricity_kwh_per_unit)
        IS DISTINCT FROM (OLD.sku, OLD.electricity_kwh_per_unit)
    THEN
        UPDATE carbon_order SET input_revision = nextval('carbon_order_input_revision_seq')
        WHERE id IN (SELECT order_id FROM carbon_orderline WHERE product_id = NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER carbon_product_revise_orders AFTER UPDATE ON carbon_product
    FOR EACH ROW EXECUTE FUNCTION carbon_order_revise_by_product();
"""

_BACKWARD = (
    "DROP TRIGGER IF EXISTS carbon_product_revise_orders ON carbon_product;"
    "DROP TRIGGER IF EXISTS portal_site_revise_orders ON portal_site;"
    + "".join(
        f"DROP TRIGGER IF EXISTS {table}_revise_order_{event} ON {table};"
        for table in ("carbon_orderline", "carbon_shipment", "carbon_leg")
        for event in ("insert", "update", "delete")
    )
    + "DROP TRIGGER IF EXISTS carbon_order_revise ON carbon_order;"
    "DROP FUNCTION IF EXISTS carbon_order_revise_by_product();"
    "DROP FUNCTION IF EXISTS carbon_order_revise_by_site();"
    "DROP FUNCTION IF EXISTS carbon_order_revise_by_shipment_id();"
    "DROP FUNCTION IF EXISTS carbon_order_revise_by_order_id();"
    "DROP FUNCTION IF EXISTS carbon_order_revise();"
    "ALTER TABLE carbon_order DROP COLUMN IF EXISTS input_revision;"
)


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            # No parameters: several statements in one round trip.
            for sql in (_FORWARD, _CHILD_TRIGGERS, _SHARED_ROWS):
                cursor.execute(sql)


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("carbon", "0015_points_baselines_per_service_class"),
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="calculationsnapshot",
            name="input_revision",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="calculationsnapshot",
            name="context_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(_forward, _backward),
    ]
