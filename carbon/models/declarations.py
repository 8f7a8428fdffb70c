"""Green-power declarations: a site's renewable share of electricity over a period, and evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbon.storage import private_storage
from portal.models import Organisation, Site


class Instrument(models.TextChoices):
    GO = "GO", _("Guarantee of Origin")
    IREC = "I-REC", _("I-REC")
    PPA = "PPA", _("Power purchase agreement")
    GREEN_TARIFF = "green_tariff", _("Green tariff")
    GEC = "GEC", _("China Green Electricity Certificate")


class DeclarationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    # allauth says "Verified" of e-mail addresses (已验证); a declaration is 已核验.
    VERIFIED = "verified", pgettext_lazy("green-power declaration status", "Verified")
    REJECTED = "rejected", _("Rejected")


class GreenPowerDeclarationQuerySet(models.QuerySet):
    def for_user(self, user) -> GreenPowerDeclarationQuerySet:
        return self.filter(organisation__in=Organisation.objects.for_user(user))

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


class GreenPowerDeclaration(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="green_power_declarations"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="green_power")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    green_kwh = models.DecimalField(
        _("green electricity (kWh)"), max_digits=18, decimal_places=3, null=True, blank=True
    )
    total_kwh = models.DecimalField(
        _("total electricity (kWh)"), max_digits=18, decimal_places=3, null=True, blank=True
    )
    green_ratio = models.DecimalField(
        _("green ratio"),
        max_digits=7,
        decimal_places=6,
        help_text=_("Share of the site's electricity covered by the instrument, 0 to 1."),
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
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.period_start}–{self.period_end}: {self.green_ratio:.0%}"
