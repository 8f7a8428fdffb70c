import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from portal import event_catalogue


class Command(BaseCommand):
    help = (
        "Print the event catalogue (the JSON served at /api/v1/events/schema), or with --readme "
        "rewrite the README's table of event types from it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--readme",
            action="store_true",
            help="Rewrite the table between the event-catalogue markers in README.md.",
        )

    def handle(self, readme: bool, **options):
        if not readme:
            self.stdout.write(json.dumps(event_catalogue.document(), indent=2, ensure_ascii=False))
            return
        path = Path(settings.BASE_DIR) / "README.md"
        path.write_text(event_catalogue.replace_readme_table(path.read_text()))
        self.stdout.write(f"Wrote {len(event_catalogue.all_types())} event types to {path}")
