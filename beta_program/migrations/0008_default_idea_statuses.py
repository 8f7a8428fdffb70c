from django.db import migrations


def seed(apps, schema_editor):
    from beta_program.boards import default_workflow

    default_workflow.seed(apps.get_model("beta_program", "IdeaStatus"))


class Migration(migrations.Migration):
    dependencies = [("beta_program", "0007_boards")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
