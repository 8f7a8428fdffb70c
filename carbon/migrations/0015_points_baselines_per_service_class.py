"""Points on the organisation's total per settlement period, against a baseline per transport
service class: the per-order cap becomes a per-organisation-per-period cap (a per-order clip
cannot be split-invariant), and every existing policy gets the cited per-class baselines."""

from django.db import migrations, models

import carbon.points.baselines


def per_class_baselines(apps, schema_editor):
    # Explicit rather than left to the column default, so that the migration states what existing
    # policies (the demo's v1 included) now compare against.
    PointsPolicy = apps.get_model("carbon", "PointsPolicy")
    for policy in PointsPolicy.objects.all():
        policy.baselines = carbon.points.baselines.default_baseline_settings()
        policy.save(update_fields=["baselines"])


class Migration(migrations.Migration):
    dependencies = [("carbon", "0014_order_incoterm")]

    operations = [
        migrations.AlterField(
            model_name="pointspolicy",
            name="baseline_kg_per_tkm",
            field=models.DecimalField(
                blank=True,
                decimal_places=9,
                help_text=(
                    "One baseline for every service class, overriding the per-class baselines. "
                    "Empty: each leg is compared with the baseline of its own service class."
                ),
                max_digits=16,
                null=True,
                verbose_name="baseline intensity (kgCO2e per t·km)",
            ),
        ),
        migrations.RenameField(
            model_name="pointspolicy", old_name="per_order_cap", new_name="per_period_cap"
        ),
        migrations.AlterField(
            model_name="pointspolicy",
            name="per_period_cap",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Empty: no cap.",
                null=True,
                verbose_name="points cap per organisation and settlement period",
            ),
        ),
        migrations.AddField(
            model_name="pointspolicy",
            name="baselines",
            field=models.JSONField(
                default=carbon.points.baselines.default_baseline_settings,
                help_text=(
                    "Per service class (road, rail, short_sea, deep_sea, bulk_sea, air): kg_per_tkm"
                    " (WTW) and its cited source; modal_shift rules (class, baseline_class, max_km)"
                    " for where another mode was a realistic alternative; short_sea_max_km."
                ),
                verbose_name="baselines per service class",
            ),
        ),
        migrations.AddField(
            model_name="pointspolicy",
            name="settlement_period",
            field=models.CharField(
                choices=[
                    ("month", "Calendar month of delivery"),
                    ("quarter", "Calendar quarter of delivery"),
                ],
                default="month",
                help_text=(
                    "Points are computed on the organisation's total per period of delivery, so "
                    "splitting or merging orders changes nothing."
                ),
                max_length=10,
                verbose_name="settlement period",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="pointsaward", name="points_award_avoided_not_negative"
        ),
        migrations.AddConstraint(
            model_name="pointsaward",
            constraint=models.CheckConstraint(
                condition=models.Q(avoided_scope2_kg__gte=0),
                name="points_award_scope2_not_negative",
            ),
        ),
        migrations.RunPython(per_class_baselines, migrations.RunPython.noop),
    ]
