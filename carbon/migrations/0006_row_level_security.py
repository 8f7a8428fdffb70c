"""Row-level security on carbon's organisation-owned tables (see portal/tenancy.py). Rows without
an organisation column follow their parent row. Not here: datasets, factors, products, policies,
the catalogue (shared reference data), idempotency records (keyed by the caller's scope string,
read only through the ledger work they guard) and calculation snapshots (bulk-written with COPY,
which PostgreSQL refuses on a table with row-level security; read through their order)."""

from django.db import migrations

from portal.tenancy import row_security_operation


class Migration(migrations.Migration):
    dependencies = [
        ("carbon", "0005_ledger_append_only_trigger"),
        ("portal", "0005_row_level_security"),
    ]

    operations = [
        row_security_operation(
            {
                "carbon_order": None,
                "carbon_orderline": ("order_id", "carbon_order"),
                "carbon_shipment": ("order_id", "carbon_order"),
                "carbon_leg": ("shipment_id", "carbon_shipment"),
                "carbon_greenpowerdeclaration": None,
                "carbon_importjob": None,
                "carbon_pointsaccount": None,
                "carbon_pointsaward": ("order_id", "carbon_order"),
                "carbon_ledgerentry": ("account_id", "carbon_pointsaccount"),
                "carbon_redemption": None,
                "carbon_expiryreminder": ("account_id", "carbon_pointsaccount"),
            }
        )
    ]
