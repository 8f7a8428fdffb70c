"""The API's idempotency records move from carbon to portal (HTTP plumbing, not carbon's). State
only: the table keeps its name (carbon_idempotencyrecord), its rows, constraint and indexes;
carbon 0007 removes the model from carbon's state after this."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0008_crm_delivery"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("scope", models.CharField(max_length=100)),
                        ("key", models.CharField(max_length=200)),
                        ("request_fingerprint", models.CharField(max_length=64)),
                        ("response_status", models.PositiveSmallIntegerField()),
                        ("response_body", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={
                        "db_table": "carbon_idempotencyrecord",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("scope", "key"), name="idempotency_key_once_per_scope"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
