from django.core.management.base import BaseCommand, CommandError

from portal import actions, tenancy
from portal.api_scopes import INTEGRATION_SCOPES, SCOPES
from portal.exceptions import PortalError
from portal.models import Organisation


class Command(BaseCommand):
    help = (
        "Issue an API token for an organisation, or with --integration the vendor's integration "
        "token (no organisation; e.g. the CRM's), and print it once (only its hash is stored)."
    )

    def add_arguments(self, parser):
        parser.add_argument("org_slug", nargs="?")
        parser.add_argument(
            "--integration",
            action="store_true",
            help=f"An integration token (scopes: {', '.join(sorted(INTEGRATION_SCOPES))}).",
        )
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
    def handle(self, org_slug, name, scopes, expires_days, integration=False, **options):
        if integration == bool(org_slug):
            raise CommandError("Name an organisation's slug, or --integration; not both.")
        organisation = Organisation.objects.filter(slug=org_slug).first() if org_slug else None
        if organisation is None and not integration:
            raise CommandError(f"No organisation with slug '{org_slug}'.")
        scope_list = [s for item in scopes for s in item.split(",") if s]
        try:
            token, plaintext = actions.issue_api_token(
                organisation, name, scope_list, by=None, expires_in_days=expires_days or None
            )
        except PortalError as error:
            raise CommandError(f"{error.field or 'error'}: {error.message}") from error
        holder = organisation.slug if organisation else "the vendor's integrations"
        self.stderr.write(
            f"Issued '{token.name}' for {holder} with scopes {', '.join(token.scopes)}"
            f"; expires {token.expires_at or 'never'}. Store it now; it is not shown again."
        )
        self.stdout.write(plaintext)
