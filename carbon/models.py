"""Carbon accounting: cited emission-factor datasets, orders with their transport legs,
green-power declarations, and immutable calculation snapshots."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbon.storage import private_storage
from portal.models import Organisation, Site
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

    @property
    def label(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status in (DatasetStatus.PUBLISHED, DatasetStatus.RETIRED)


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
        rf = " +RF" if self.radiative_forcing else ""
        return f"{self.category} {self.energy_scope}{rf} = {self.value} {self.unit}"

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


# --- products and orders


class Product(models.Model):
    """A product the vendor sells; its electricity per unit drives the green-power attribution."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    electricity_kwh_per_unit = models.DecimalField(
        _("electricity per unit (kWh)"), max_digits=16, decimal_places=4, null=True, blank=True
    )

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


class OrderQuerySet(models.QuerySet):
    def for_user(self, user) -> OrderQuerySet:
        return self.filter(organisation__in=Organisation.objects.for_user(user))

    def with_footprint(self) -> OrderQuerySet:
        """Annotate the current snapshot's totals in the same query (a LEFT JOIN on the one
        current snapshot per order): fp_wtw_kg, fp_ttw_kg, fp_wtt_kg, fp_tkm, fp_default_share,
        fp_intensity_g (g CO2e per t·km, WTW), fp_snapshot_id; all None before a calculation."""
        current = models.FilteredRelation("snapshots", condition=Q(snapshots__is_current=True))
        qs = self.annotate(fp=current).annotate(
            fp_snapshot_id=models.F("fp__id"),
            fp_wtw_kg=models.F("fp__wtw_kg"),
            fp_ttw_kg=models.F("fp__ttw_kg"),
            fp_wtt_kg=models.F("fp__wtt_kg"),
            fp_tkm=models.F("fp__tkm"),
            fp_default_share=models.F("fp__default_share"),
        )
        return qs.annotate(
            fp_intensity_g=models.Case(
                models.When(
                    fp__tkm__gt=0,
                    then=models.ExpressionWrapper(
                        models.F("fp__wtw_kg") * 1000 / models.F("fp__tkm"),
                        output_field=models.DecimalField(max_digits=20, decimal_places=6),
                    ),
                ),
                default=None,
                output_field=models.DecimalField(max_digits=20, decimal_places=6),
            )
        )


class Order(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(_("order number"), max_length=100)
    order_date = models.DateField(_("order date"))
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    delivery_site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-order_date", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"], name="order_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["organisation", "order_date"], name="order_org_date")]

    def __str__(self) -> str:
        return self.external_id

    def clean(self):
        if self.delivery_site_id and self.delivery_site.organisation_id != self.organisation_id:
            raise ValidationError({"delivery_site": _("The site belongs to another organisation.")})


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.reference or f"shipment {self.pk}"


class DataTier(models.TextChoices):
    PRIMARY = "primary", _("Primary (measured)")
    MODELLED = "modelled", _("Modelled")
    DEFAULT = "default", _("Default factor")


class FuelType(models.TextChoices):
    DIESEL = "diesel", _("Diesel (average biofuel blend)")
    HFO = "hfo", _("Heavy fuel oil")
    JET = "jet", _("Aviation turbine fuel")
    ELECTRICITY = "electricity", _("Electricity")


class Leg(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="legs")
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    category = models.CharField(_("transport category"), max_length=80)
    origin = models.CharField(_("from"), max_length=120, blank=True)
    destination = models.CharField(_("to"), max_length=120, blank=True)
    distance_km = models.DecimalField(_("distance (km)"), max_digits=14, decimal_places=3)
    mass_t = models.DecimalField(_("cargo mass (t)"), max_digits=14, decimal_places=6)
    data_tier = models.CharField(
        _("data tier"), max_length=10, choices=DataTier.choices, default=DataTier.DEFAULT
    )
    radiative_forcing = models.BooleanField(_("include radiative forcing"), default=False)
    fuel_type = models.CharField(
        _("fuel type"), max_length=20, choices=FuelType.choices, blank=True
    )
    fuel_amount = models.DecimalField(
        _("fuel used (canonical unit of the fuel)"),
        max_digits=16,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Litres for liquid fuels, kWh for electricity: the leg's share of the fuel."),
    )

    class Meta:
        ordering = ["shipment", "sequence", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(distance_km__gte=0), name="leg_distance_nonneg"),
            models.CheckConstraint(condition=Q(mass_t__gte=0), name="leg_mass_nonneg"),
            models.CheckConstraint(
                condition=Q(fuel_amount__isnull=True) | ~Q(fuel_type=""),
                name="leg_fuel_amount_has_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.category} {self.origin}→{self.destination}"


# --- green power


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


# --- calculation snapshots


class CalculationSnapshot(models.Model):
    """Everything needed to reissue an order's footprint unchanged years later: the inputs, the
    factors (ids and values) and dataset versions used, the method version, and the results."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="snapshots")
    created_at = models.DateTimeField(auto_now_add=True)
    method_version = models.CharField(max_length=40)
    datasets = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)
    factors = models.JSONField(default=list)
    results = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    is_current = models.BooleanField(default=True)
    # Totals as columns so lists and reports can sum and sort without reading JSON.
    tkm = models.DecimalField(max_digits=20, decimal_places=6)
    ttw_kg = models.DecimalField(max_digits=20, decimal_places=6)
    wtt_kg = models.DecimalField(max_digits=20, decimal_places=6)
    wtw_kg = models.DecimalField(max_digits=20, decimal_places=6)
    default_share = models.DecimalField(max_digits=7, decimal_places=6)
    electricity_kwh = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    scope2_location_kg = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    scope2_market_kg = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["order", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(is_current=True), name="snapshot_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order} @ {self.created_at:%Y-%m-%d %H:%M} ({self.wtw_kg} kgCO2e WTW)"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            # Only the "current" flag may flip, when a newer snapshot takes over.
            stored = CalculationSnapshot.objects.filter(pk=self.pk).values("is_current").first()
            update_fields = kwargs.get("update_fields")
            if stored is None or update_fields is None or set(update_fields) != {"is_current"}:
                raise ImmutableError("Calculation snapshots cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Calculation snapshots cannot be deleted.")


# --- order imports


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Imported")
    FAILED = "failed", _("Rejected")


def import_path(instance: ImportJob, filename: str) -> str:
    return f"private/imports/{instance.organisation_id}/{filename}"


class ImportJob(models.Model):
    """One uploaded order CSV: stored privately, validated in full, imported all-or-nothing."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="order_imports"
    )
    file = models.FileField(_("file"), upload_to=import_path, storage=private_storage)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    error_report = models.JSONField(
        _("error report"),
        default=list,
        blank=True,
        help_text=_("One entry per problem: row, column, value, reason."),
    )
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)


# --- carbon points


class AppendOnlyError(ImmutableError):
    """Ledger entries are the evidence behind every balance: never changed or deleted."""


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class PointsPolicyQuerySet(models.QuerySet):
    def in_force(self, on_date) -> PointsPolicy | None:
        """The active policy that applies on `on_date`: the latest effective one, then the
        highest version."""
        return (
            self.filter(status=PolicyStatus.ACTIVE, effective_from__lte=on_date)
            .order_by("-effective_from", "-version")
            .first()
        )


class PointsPolicy(models.Model):
    """A versioned rule for turning avoided emissions into points. Points are rewards for
    measured reductions, never offsets."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    effective_from = models.DateField(_("effective from"))
    baseline_kg_per_tkm = models.DecimalField(
        _("baseline intensity (kgCO2e per t·km)"),
        max_digits=16,
        decimal_places=9,
        null=True,
        blank=True,
        help_text=_("Empty: the active dataset's road.hgv.average_laden WTW factor."),
    )
    points_per_kg = models.DecimalField(
        _("points per kg CO2e avoided"), max_digits=12, decimal_places=6
    )
    include_green_power = models.BooleanField(_("count green power (Scope 2)"), default=True)
    pending_days = models.PositiveIntegerField(_("pending period after delivery (days)"))
    expiry_months = models.PositiveIntegerField(_("expiry (months after activation)"))
    per_order_cap = models.PositiveIntegerField(
        _("points cap per order"), null=True, blank=True, help_text=_("Empty: no cap.")
    )
    explanation = models.TextField(
        _("explanation for customers"),
        blank=True,
        help_text=_("One plain sentence shown on the portal beside the formula."),
    )
    explanation_zh = models.TextField(_("explanation for customers (Chinese)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PointsPolicyQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(points_per_kg__gte=0), name="points_policy_rate_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(baseline_kg_per_tkm__isnull=True) | Q(baseline_kg_per_tkm__gte=0),
                name="points_policy_baseline_not_negative",
            ),
            # Four eyes: an active policy was approved by someone other than its submitter.
            models.CheckConstraint(
                condition=~Q(status__in=["active", "retired"])
                | (
                    Q(approved_by__isnull=False)
                    & Q(approved_at__isnull=False)
                    & ~Q(approved_by=models.F("submitted_by"))
                ),
                name="points_policy_approved_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"Points policy v{self.version} from {self.effective_from}"


class PointsAccount(models.Model):
    """One organisation's points. The balances here are a cache of the sums of its ledger
    entries, written in the same transaction as each entry; this row is also the lock that
    serialises every write to the account (`select_for_update`)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="points_account"
    )
    pending = models.IntegerField(_("pending"), default=0)
    available = models.IntegerField(_("available"), default=0)
    held = models.IntegerField(_("held for redemptions"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            # Available may go negative (a reversal of spent points) and then blocks redemptions.
            models.CheckConstraint(condition=Q(pending__gte=0), name="points_pending_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="points_held_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.available} available, {self.pending} pending"


class PointsAward(models.Model):
    """The points one order earned under one policy, with everything needed to explain them."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="points_awards")
    policy = models.ForeignKey(PointsPolicy, on_delete=models.PROTECT, related_name="awards")
    snapshot = models.ForeignKey(
        CalculationSnapshot, on_delete=models.PROTECT, related_name="points_awards"
    )
    avoided_logistics_kg = models.DecimalField(max_digits=20, decimal_places=6)
    avoided_scope2_kg = models.DecimalField(max_digits=20, decimal_places=6)
    points = models.PositiveIntegerField()
    breakdown = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points award")
        verbose_name_plural = _("points awards")
        constraints = [
            models.UniqueConstraint(fields=["order", "policy"], name="points_award_once"),
            models.CheckConstraint(
                condition=Q(avoided_logistics_kg__gte=0) & Q(avoided_scope2_kg__gte=0),
                name="points_award_avoided_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.points} points (policy v{self.policy_id})"


class EntryKind(models.TextChoices):
    EARN_PENDING = "earn_pending", _("Earned (pending)")
    ACTIVATE = "activate", _("Activated")
    HOLD = "hold", _("Held for a redemption")
    CAPTURE = "capture", _("Redeemed")
    RELEASE = "release", _("Released")
    EXPIRE = "expire", _("Expired")
    REVERSE = "reverse", _("Reversed")
    ADJUST = "adjust", _("Adjusted")


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Ledger entries cannot be deleted.")


def _deltas(pending: str, available: str, held: str) -> Q:
    """The bucket effects a kind allows: '+' = +points, '-' = -points, '0' = none,
    '<=0' = any non-positive share, '+-' = +points or -points."""
    parts = []
    for name, rule in (
        ("pending_delta", pending),
        ("available_delta", available),
        ("held_delta", held),
    ):
        f = models.F("points")
        if rule == "+":
            parts.append(Q(**{name: f}))
        elif rule == "-":
            parts.append(Q(**{name: -f}))
        elif rule == "0":
            parts.append(Q(**{name: 0}))
        elif rule == "<=0":
            parts.append(Q(**{f"{name}__lte": 0}))
        elif rule == "+-":
            parts.append(Q(**{name: f}) | Q(**{name: -f}))
    q = Q()
    for part in parts:
        q &= part
    return q


# Sign convention: `points` is the size of the movement, always > 0. The three *_delta columns
# say what it does to each bucket, signed, so that every balance is the plain sum of a column:
#   earn_pending  pending +p                      activate  pending -p, available +p
#   hold          available -p, held +p           capture   held -p (the points are spent)
#   release       held -p, available +p           expire    available -p
#   reverse       pending -a, available -b, a + b = p (pending first; available may go negative)
#   adjust        available +p or -p (reason and approver required)
ENTRY_RULES = {
    EntryKind.EARN_PENDING: _deltas("+", "0", "0"),
    EntryKind.ACTIVATE: _deltas("-", "+", "0"),
    EntryKind.HOLD: _deltas("0", "-", "+"),
    EntryKind.CAPTURE: _deltas("0", "0", "-"),
    EntryKind.RELEASE: _deltas("0", "+", "-"),
    EntryKind.EXPIRE: _deltas("0", "-", "0"),
    EntryKind.REVERSE: _deltas("<=0", "<=0", "0")
    & Q(points=-(models.F("pending_delta") + models.F("available_delta"))),
    EntryKind.ADJUST: _deltas("0", "+-", "0"),
}


class LedgerEntry(models.Model):
    """One append-only movement of points; see ENTRY_RULES for the sign convention."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    points = models.PositiveIntegerField(_("points"))
    pending_delta = models.IntegerField(default=0)
    available_delta = models.IntegerField(default=0)
    held_delta = models.IntegerField(default=0)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    award = models.ForeignKey(
        PointsAward, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    redemption_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=200)
    # What was asked for under the key, so a different request with the same key is refused.
    request_fingerprint = models.CharField(max_length=64)
    reason = models.TextField(_("reason"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["account", "id"]
        verbose_name = _("points ledger entry")
        verbose_name_plural = _("points ledger entries")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="ledger_idempotency_key_once"
            ),
            # An award is earned, activated and reversed at most once each.
            *(
                models.UniqueConstraint(
                    fields=["award"],
                    condition=Q(kind=kind, award__isnull=False),
                    name=f"ledger_one_{kind}_per_award",
                )
                for kind in ("earn_pending", "activate", "reverse")
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="ledger_points_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in EntryKind]), name="ledger_kind_known"
            ),
            *(
                models.CheckConstraint(
                    condition=~Q(kind=kind.value) | rule, name=f"ledger_{kind.value}_deltas"
                )
                for kind, rule in ENTRY_RULES.items()
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjust") | (Q(approved_by__isnull=False) & ~Q(reason="")),
                name="ledger_adjust_has_reason_and_approver",
            ),
            models.CheckConstraint(
                condition=~Q(kind="activate") | Q(expires_on__isnull=False),
                name="ledger_activate_has_expiry",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["hold", "capture", "release"])
                | Q(redemption_id__isnull=False),
                name="ledger_hold_has_redemption",
            ),
        ]
        indexes = [models.Index(fields=["account", "kind"], name="ledger_account_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points} ({self.idempotency_key})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Ledger entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be deleted.")


# --- catalogue and redemptions


class ServiceKind(models.TextChoices):
    MAINTENANCE_VISIT = "maintenance_visit", _("Maintenance visit")
    EXTENDED_WARRANTY = "extended_warranty", _("Extended warranty")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other service")


class ServiceQuerySet(models.QuerySet):
    def offered_on(self, day) -> ServiceQuerySet:
        """Services switched on whose active window contains `day`."""
        return self.filter(
            Q(active_from__isnull=True) | Q(active_from__lte=day),
            Q(active_until__isnull=True) | Q(active_until__gte=day),
            is_active=True,
        )


class Service(models.Model):
    """A service customers can redeem points for, managed by vendor staff in the admin."""

    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=ServiceKind.choices)
    description = models.TextField(_("description"))
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("image"),
    )
    points_cost = models.PositiveIntegerField(_("points cost"))
    monthly_capacity = models.PositiveIntegerField(
        _("monthly capacity"),
        null=True,
        blank=True,
        help_text=_(
            "Redemptions accepted per calendar month, all customers together. Empty: no limit."
        ),
    )
    eligible_tiers = models.JSONField(
        _("eligible tiers"), default=list, blank=True, help_text=_("Empty: every tier.")
    )
    eligible_countries = models.JSONField(
        _("eligible countries/regions"),
        default=list,
        blank=True,
        help_text=_(
            "ISO 3166-1 alpha-2 codes of the customer's country or site. Empty: everywhere."
        ),
    )
    requires_site = models.BooleanField(
        _("delivered at a site"),
        default=False,
        help_text=_("The customer chooses one of their sites (e.g. for a maintenance visit)."),
    )
    active_from = models.DateField(_("offered from"), null=True, blank=True)
    active_until = models.DateField(_("offered until"), null=True, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="service_cost_positive"),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True)
                | Q(active_until__isnull=True)
                | Q(active_until__gte=models.F("active_from")),
                name="service_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RedemptionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Redemption(models.Model):
    """A customer's request to spend points on a service. Its points are held in the ledger
    (entries carry `redemption_id`) until staff fulfil it (captured) or it is rejected or
    cancelled (released)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="redemptions"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="redemptions")
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.REQUESTED,
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    preferred_date = models.DateField(_("preferred date"), null=True, blank=True)
    customer_note = models.TextField(_("note from the customer"), blank=True)
    # The calendar month whose capacity the request uses (first day of the month).
    capacity_month = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    scheduled_for = models.DateField(_("service date"), null=True, blank=True)
    assignee = models.CharField(_("assignee"), max_length=120, blank=True)
    staff_note = models.TextField(_("note from the vendor"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="redemption_points_positive"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RedemptionStatus]),
                name="redemption_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="fulfilled")
                | (
                    Q(scheduled_for__isnull=False)
                    & Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                ),
                name="redemption_fulfilled_has_date_and_decider",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | (Q(decided_by__isnull=False) & ~Q(staff_note="")),
                name="redemption_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="redemption_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["service", "capacity_month", "status"], name="redemption_capacity"
            ),
            models.Index(fields=["organisation", "status"], name="redemption_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.organisation} ({self.get_status_display()})"


class IdempotencyRecord(models.Model):
    """The first response to an API request sent with an `Idempotency-Key`, kept so a repeat
    gets it back unchanged. Written in the same transaction as the work it describes."""

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class ExpiryReminder(models.Model):
    """One reminder e-mail sent for the points of an account that expire on one day, so the
    daily task never sends it twice."""

    account = models.ForeignKey(
        PointsAccount, on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    expires_on = models.DateField()
    points = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "expires_on"], name="expiry_reminder_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.points} expiring {self.expires_on}"
