from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail import hooks

from portal import account_signals, tenancy
from portal.demo import DEMO_PASSWORD, ORGS, PEOPLE
from portal.models import AccountHealth, CrmEndpoint, Membership, Organisation, Site, User
from portal.staff_roles import ensure_staff_groups

SEED_HOOK = "greenloop_seed_demo"
DEMO_CRM_ENDPOINT = "Demo CRM receiver"
DEMO_CRM_URL = "http://127.0.0.1:9000/hook"


class Command(BaseCommand):
    help = "Create or refresh the demo organisations and logins (idempotent). Never in production."

    @tenancy.for_all_organisations
    def handle(self, *args, **options):
        if not getattr(settings, "GREENLOOP_IS_DEMO", False):
            raise CommandError(
                "seed_demo refuses to run with production settings: it creates accounts with "
                "published passwords."
            )
        with transaction.atomic():
            ensure_staff_groups()
            orgs = {}
            for spec in ORGS:
                org, _ = Organisation.objects.update_or_create(
                    slug=spec.slug,
                    defaults={
                        "name": spec.name,
                        "country": spec.country,
                        "tier": spec.tier,
                        "crm_external_id": spec.crm_external_id,
                        "is_active": True,
                    },
                )
                for name, country, region in spec.sites:
                    Site.objects.update_or_create(
                        organisation=org, name=name, defaults={"country": country, "region": region}
                    )
                orgs[spec.slug] = org
            for person in PEOPLE:
                user, _ = User.objects.update_or_create(
                    email=person.email,
                    defaults={
                        "first_name": person.first_name,
                        "last_name": person.last_name,
                        "is_staff": bool(person.staff_role or person.superuser),
                        "is_superuser": person.superuser,
                        "is_active": True,
                        "preferred_language": person.language,
                    },
                )
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                EmailAddress.objects.update_or_create(
                    user=user, email=person.email, defaults={"verified": True, "primary": True}
                )
                for slug, role in person.memberships:
                    Membership.objects.update_or_create(
                        user=user, organisation=orgs[slug], defaults={"role": role}
                    )
                if person.staff_role:
                    user.groups.add(Group.objects.get(name=person.staff_role))
            # A CRM webhook endpoint for `scripts/crm_receiver.sh` (manage.py crm_receiver),
            # disabled until someone starts the receiver and ticks "active" in the admin. The
            # secret is made once and kept, so a running receiver stays in step.
            CrmEndpoint.objects.get_or_create(
                name=DEMO_CRM_ENDPOINT,
                defaults={"url": DEMO_CRM_URL, "is_active": False},
            )
            # Plugins add their demo data (orders, spaces, programmes) through this hook.
            for seed in hooks.get_hooks(SEED_HOOK):
                seed(stdout=self.stdout)
            # Customers > Account health lists the stored daily scores, which production
            # computes in the daily Celery run: the same code scores the demo organisations here,
            # from the data just seeded. Once a day, as that run stores one row a day; a second
            # seed that day publishes no second round of account-signal events.
            scored = set(
                AccountHealth.objects.filter(day=timezone.localdate()).values_list(
                    "organisation_id", flat=True
                )
            )
            account_signals.record([org for org in orgs.values() if org.pk not in scored])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(ORGS)} organisations, {len(PEOPLE)} logins "
                f"(password: {DEMO_PASSWORD})."
            )
        )
