"""The API's idempotency records belong to portal now (portal 0009). State only: the table
carbon_idempotencyrecord and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("carbon", "0006_row_level_security"),
        ("portal", "0009_idempotencyrecord"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyRecord")],
            database_operations=[],
        ),
    ]
