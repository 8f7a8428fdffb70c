"""Emission-factor datasets: cited, versioned and immutable once published, with their factors."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from portal.audit_labels import AuditLabel
from portal.text import ascii_integer, text_problem


class ImmutableError(Exception):
    """Published datasets and calculation snapshots are evidence: never changed in place."""


# --- emission-factor datasets


class GwpBasis(models.TextChoices):
    AR4 = "AR4", "IPCC AR4"
    AR5 = "AR5", "IPCC AR5"
    AR6 = "AR6", "IPCC AR6"


class DatasetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class FactorDatasetQuerySet(models.QuerySet):
    def published(self) -> FactorDatasetQuerySet:
        return self.filter(status=DatasetStatus.PUBLISHED)

    def by_reference(self, ref: str) -> FactorDataset | None:
        """The published (or retired) dataset `ref` names: `slug@version` with an ASCII version
        number, or `slug` for its newest published version; None when it names none."""
        slug, at, version = ref.partition("@")
        if text_problem(ref):
            return None
        if not at:
            return self.active(slug)
        number = ascii_integer(version)
        if number is None:
            return None
        return self.filter(
            slug=slug, version=number, status__in=[DatasetStatus.PUBLISHED, DatasetStatus.RETIRED]
        ).first()

    def active(self, slug: str | None = None) -> FactorDataset | None:
        """The dataset new calculations use: the newest published version of `slug`, or the one
        marked default."""
        qs = self.published()
        if slug:
            return qs.filter(slug=slug).order_by("-version").first()
        return qs.filter(is_default=True).order_by("-version").first()


class FactorDataset(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, help_text=_("e.g. desnz-2025"))
    version = models.PositiveIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=255)
    publisher = models.CharField(_("publisher"), max_length=255)
    publication_date = models.DateField(_("publication date"))
    licence = models.CharField(_("licence"), max_length=255)
    source_url = models.URLField(_("source URL"), max_length=500)
    gwp_basis = models.CharField(_("GWP basis"), max_length=3, choices=GwpBasis.choices)
    distance_basis = models.CharField(
        _("distance basis"),
        max_length=255,
        help_text=_("How distances are to be used with this dataset's factors."),
    )
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DatasetStatus.choices, default=DatasetStatus.DRAFT
    )
    is_default = models.BooleanField(
        _("default dataset"), default=False, help_text=_("Used when a request names no dataset.")
    )
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # Vintages: the datasets of one series (blank: the slug alone) stand in for each other, and
    # an order takes the one whose validity covers its activity date (carbon.footprint.vintages).
    series = models.SlugField(
        _("series"),
        max_length=60,
        blank=True,
        help_text=_("Datasets of one series are vintages of each other; blank: the slug."),
    )
    valid_from = models.DateField(
        _("valid from"),
        null=True,
        blank=True,
        help_text=_("First activity date this version serves; blank: no lower bound."),
    )
    valid_to = models.DateField(
        _("valid to"),
        null=True,
        blank=True,
        help_text=_("Last activity date this version serves; blank: until a newer vintage starts."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FactorDatasetQuerySet.as_manager()

    class Meta:
        ordering = ["slug", "-version"]
        verbose_name = _("emission-factor dataset")
        verbose_name_plural = _("emission-factor datasets")
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="dataset_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    # Once published, only these may change: retiring a version and moving the default flag.
    MUTABLE_WHEN_PUBLISHED = frozenset({"status", "is_default"})

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = FactorDataset.objects.filter(pk=self.pk).first()
            if stored is not None and stored.is_published:
                changed = {
                    f.attname
                    for f in self._meta.concrete_fields
                    if getattr(stored, f.attname) != getattr(self, f.attname)
                }
                if changed - self.MUTABLE_WHEN_PUBLISHED or not self.is_published:
                    raise ImmutableError(
                        "A published dataset cannot change; make a new version instead."
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise ImmutableError("A published dataset cannot be deleted.")
        return super().delete(*args, **kwargs)

    def audit_label(self) -> AuditLabel:
        # The audit trail names the dataset and its version in each reader's language.
        return {
            "text": gettext_noop("%(title)s (v%(version)s)"),
            "args": {"title": self.title, "version": str(self.version)},
        }

    @property
    def label(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status in (DatasetStatus.PUBLISHED, DatasetStatus.RETIRED)

    @property
    def series_key(self) -> str:
        return self.series or self.slug

    def covers(self, day: datetime.date) -> bool:
        """Whether activity on `day` lies in this version's validity period (ends included)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class EnergyScope(models.TextChoices):
    TTW = "TTW", _("Tank-to-wheel")
    WTT = "WTT", _("Well-to-tank")
    WTW = "WTW", _("Well-to-wheel")


class FactorKind(models.TextChoices):
    FREIGHT = "freight", _("Freight (per tonne-kilometre)")
    FUEL = "fuel", _("Fuel (per unit of fuel)")
    ELECTRICITY = "electricity", _("Electricity (per kWh)")


class EmissionFactor(models.Model):
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT, related_name="factors")
    category = models.CharField(
        _("category code"), max_length=80, db_index=True, help_text=_("e.g. road.hgv.average_laden")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FactorKind.choices)
    description = models.CharField(_("description"), max_length=255)
    energy_scope = models.CharField(_("energy scope"), max_length=3, choices=EnergyScope.choices)
    radiative_forcing = models.BooleanField(
        _("includes radiative forcing"),
        default=False,
        help_text=_("Air freight only: the factor includes the non-CO2 effects of flying."),
    )
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=10)
    unit = models.CharField(_("unit"), max_length=40, help_text=_("e.g. kgCO2e/(tonne*km)"))
    region = models.CharField(_("region"), max_length=40, default="GLO")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source_label = models.CharField(
        _("source row label"),
        max_length=500,
        help_text=_("The row as the source names it, so an auditor can find it."),
    )
    source_id = models.CharField(_("source row id"), max_length=60, blank=True)

    class Meta:
        ordering = ["dataset", "category", "energy_scope", "radiative_forcing"]
        verbose_name = _("emission factor")
        verbose_name_plural = _("emission factors")
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "category", "energy_scope", "radiative_forcing", "region"],
                name="factor_unique_per_dataset",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="factor_value_not_negative"),
        ]

    def __str__(self) -> str:
        # Named in the admin's row menus: the unit as people write it, not Pint's text.
        from carbon.templatetags.carbon_units import unit_symbol

        rf = " +RF" if self.radiative_forcing else ""
        value = f"{Decimal(str(self.value)).normalize():f}" if self.value is not None else ""
        return f"{self.category} {self.energy_scope}{rf} = {value} {unit_symbol(self.unit)}"

    def save(self, *args, **kwargs):
        if (
            self.dataset_id
            and FactorDataset.objects.filter(
                pk=self.dataset_id, status__in=[DatasetStatus.PUBLISHED, DatasetStatus.RETIRED]
            ).exists()
        ):
            raise ImmutableError(
                "Factors of a published dataset cannot change; make a new version."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.dataset.is_published:
            raise ImmutableError("Factors of a published dataset cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    @admin.display(description=_("gases"))
    def gases(self) -> str:
        """The gases the factor counts, as its unit records them: "CO2" alone, or "CO2e"."""
        from carbon.footprint.units import counts_co2_only  # the unit registry, loaded late

        return "CO2" if counts_co2_only(self.unit) else "CO2e"

    @property
    @admin.display(description=_("GWP basis"))
    def gwp_basis(self) -> str:
        """The GWP basis that weights its gases: the dataset's (uniform per dataset); none
        applies to a factor that counts CO2 alone."""
        return "—" if self.gases == "CO2" else self.dataset.gwp_basis


# --- products and orders


# --- green power


# --- calculation snapshots


# --- order imports


# --- carbon points


# --- catalogue and redemptions
