"""Green-power declarations: a site's metered electricity over a period and the instruments that
back its green share (certificates, PPAs, green tariffs), each with its proof of retirement."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from carbon.storage import private_storage
from portal.audit_labels import AuditLabel
from portal.models import Organisation, Site


class Instrument(models.TextChoices):
    GEC = "GEC", _("China Green Electricity Certificate")
    GO = "GO", _("Guarantee of Origin")
    REGO = "REGO", _("Renewable Energy Guarantee of Origin (UK)")
    REC = "REC", _("Renewable Energy Certificate (US)")
    IREC = "I-REC", _("I-REC")
    PPA = "PPA", _("Power purchase agreement")
    GREEN_TARIFF = "green_tariff", _("Green tariff")


# PPAs and green tariffs are contracts, not certificates: they name a supplier or generator and
# carry that supply's own emission factor (never assumed zero).
CONTRACT_INSTRUMENTS = frozenset({Instrument.PPA, Instrument.GREEN_TARIFF})


class DeclarationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    # Four eyes: a first sustainability reviewer checked it; a second one verifies it.
    CHECKED = "checked", _("Checked, awaiting a second verifier")
    # allauth says "Verified" of e-mail addresses (已验证); a declaration is 已核验.
    VERIFIED = "verified", pgettext_lazy("green-power declaration status", "Verified")
    REJECTED = "rejected", _("Rejected")
    REVOKED = "revoked", _("Revoked")


# Statuses that claim the site's period: a second declaration overlapping one of them is refused.
OPEN_STATUSES = (DeclarationStatus.PENDING, DeclarationStatus.CHECKED, DeclarationStatus.VERIFIED)


class GreenPowerDeclarationQuerySet(models.QuerySet):
    def for_user(self, user) -> GreenPowerDeclarationQuerySet:
        return self.filter(organisation__in=Organisation.objects.for_user(user))

    def overlapping(self, site: Site, start, end) -> GreenPowerDeclarationQuerySet:
        """Open declarations of `site` whose period shares at least one day with start..end."""
        return self.filter(
            site=site, status__in=OPEN_STATUSES, period_start__lte=end, period_end__gte=start
        )

    def verified_covering(self, site: Site, day) -> GreenPowerDeclaration | None:
        return (
            self.filter(
                site=site,
                status=DeclarationStatus.VERIFIED,
                period_start__lte=day,
                period_end__gte=day,
            )
            .order_by("-period_start", "-id")
            .first()
        )


def evidence_path(instance: GreenPowerDeclaration, filename: str) -> str:
    return f"private/green-power/{instance.organisation_id}/{filename}"


def proof_path(instance: DeclarationInstrument, filename: str) -> str:
    return f"private/green-power/{instance.declaration.organisation_id}/proofs/{filename}"


class GreenPowerDeclaration(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="green_power_declarations"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="green_power")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    # Derived from the instruments (their MWh in kWh), never typed.
    green_kwh = models.DecimalField(
        _("certified electricity (kWh)"), max_digits=18, decimal_places=3, null=True, blank=True
    )
    total_kwh = models.DecimalField(
        _("metered consumption (kWh)"), max_digits=18, decimal_places=3, null=True, blank=True
    )
    green_ratio = models.DecimalField(
        _("green ratio"),
        max_digits=7,
        decimal_places=6,
        help_text=_("Certified MWh / metered MWh, at most 1; derived from the instruments."),
    )
    # kgCO2e/kWh of the covered share: the MWh-weighted factor of the instruments (certificates
    # 0, PPAs and tariffs their supplier's factor).
    instrument_factor = models.DecimalField(
        _("emission factor of the covered share (kg CO2e/kWh)"),
        max_digits=10,
        decimal_places=6,
        default=Decimal(0),
    )
    instrument = models.CharField(_("instrument"), max_length=20, choices=Instrument.choices)
    evidence = models.FileField(
        _("evidence"), upload_to=evidence_path, storage=private_storage, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeclarationStatus.choices,
        default=DeclarationStatus.PENDING,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)

    objects = GreenPowerDeclarationQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name = _("green-power declaration")
        verbose_name_plural = _("green-power declarations")
        constraints = [
            models.CheckConstraint(
                condition=Q(green_ratio__gte=0) & Q(green_ratio__lte=1),
                name="declaration_ratio_0_1",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="declaration_period_order",
            ),
            models.CheckConstraint(
                condition=Q(instrument_factor__gte=0), name="declaration_factor_not_negative"
            ),
            # Four eyes: a verified declaration was checked and verified by two people.
            models.CheckConstraint(
                condition=~Q(status="verified")
                | (
                    Q(checked_by__isnull=False)
                    & Q(verified_by__isnull=False)
                    & ~Q(checked_by=models.F("verified_by"))
                ),
                name="declaration_verified_by_two",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | ~Q(revocation_reason=""),
                name="declaration_revoked_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.period_start}–{self.period_end}: {self.green_ratio:.0%}"

    def audit_label(self) -> AuditLabel:
        # The audit trail names the site, the period and its certified green share (the
        # certificates behind it), in each reader's language.
        return {
            "text": gettext_noop("%(site)s %(start)s–%(end)s: %(share)s"),
            "args": {
                "site": str(self.site),
                "start": str(self.period_start),
                "end": str(self.period_end),
                "share": f"{self.green_ratio:.0%}",
            },
        }


class DeclarationInstrument(models.Model):
    """One instrument backing a declaration: a block of certificates retired for the site (or a
    PPA / green tariff with its supplier's emission factor), with its proof of retirement."""

    declaration = models.ForeignKey(
        GreenPowerDeclaration, on_delete=models.CASCADE, related_name="instruments"
    )
    kind = models.CharField(_("instrument type"), max_length=20, choices=Instrument.choices)
    registry = models.CharField(_("registry"), max_length=200)
    certificate_ids = models.TextField(
        _("certificate ids"), blank=True, help_text=_("One id per line, or use the serial range.")
    )
    serial_from = models.CharField(_("first serial number"), max_length=100, blank=True)
    serial_to = models.CharField(_("last serial number"), max_length=100, blank=True)
    mwh = models.DecimalField(_("MWh"), max_digits=18, decimal_places=6)
    generation_start = models.DateField(_("generation from"))
    generation_end = models.DateField(_("generation to"))
    country = models.CharField(_("country of generation"), max_length=2)
    grid_region = models.CharField(_("grid region of generation"), max_length=50, blank=True)
    supplier = models.CharField(_("supplier or generator"), max_length=200, blank=True)
    emission_factor = models.DecimalField(
        _("supplier emission factor (kg CO2e/kWh)"),
        max_digits=10,
        decimal_places=6,
        null=True,
        blank=True,
    )
    proof = models.FileField(
        _("retirement or cancellation proof"), upload_to=proof_path, storage=private_storage
    )

    class Meta:
        ordering = ["declaration", "id"]
        verbose_name = _("green-power instrument")
        verbose_name_plural = _("green-power instruments")
        constraints = [
            models.CheckConstraint(condition=Q(mwh__gt=0), name="instrument_mwh_positive"),
            models.CheckConstraint(
                condition=Q(generation_end__gte=models.F("generation_start")),
                name="instrument_generation_order",
            ),
            models.CheckConstraint(
                condition=Q(emission_factor__isnull=True) | Q(emission_factor__gte=0),
                name="instrument_factor_not_negative",
            ),
            # Contracts carry their supplier and its factor; certificates name their ids.
            models.CheckConstraint(
                condition=~Q(kind__in=["PPA", "green_tariff"])
                | (~Q(supplier="") & Q(emission_factor__isnull=False)),
                name="instrument_contract_has_supplier_factor",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["PPA", "green_tariff"])
                | ~Q(certificate_ids="")
                | (~Q(serial_from="") & ~Q(serial_to="")),
                name="instrument_certificates_identified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.mwh} MWh ({self.registry})"
