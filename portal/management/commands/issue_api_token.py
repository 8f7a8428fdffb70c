from django.core.management.base import BaseCommand, CommandError

from portal import actions, tenancy
from portal.api_scopes import SCOPES
from portal.exceptions import PortalError
from portal.models import Organisation


class Command(BaseCommand):
    help = "Issue an API token for an organisation and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("org_slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            help=f"One or more of: {', '.join(sorted(SCOPES))} (space or comma separated).",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=90,
            help="Days until the token expires (default 90; 0 for no expiry).",
        )

    @tenancy.for_all_organisations
    def handle(self, org_slug, name, scopes, expires_days, **options):
        organisation = Organisation.objects.filter(slug=org_slug).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug '{org_slug}'.")
        scope_list = [s for item in scopes for s in item.split(",") if s]
        try:
            token, plaintext = actions.issue_api_token(
                organisation, name, scope_list, by=None, expires_in_days=expires_days or None
            )
        except PortalError as error:
            raise CommandError(f"{error.field or 'error'}: {error.message}") from error
        self.stderr.write(
            f"Issued '{token.name}' for {organisation.slug} with scopes {', '.join(token.scopes)}"
            f"; expires {token.expires_at or 'never'}. Store it now; it is not shown again."
        )
        self.stdout.write(plaintext)
