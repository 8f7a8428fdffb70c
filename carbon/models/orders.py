"""Orders: products, purchase orders with their lines, shipments and transport legs."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Organisation, Site


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


# The sorts of the order list, on the page (`?sort=`) and in the API (`sort`, which names them
# differently): key -> the columns they order by, after `with_footprint()`; the order id last, so
# that ties keep one order.
ORDER_SORTS: dict[str, tuple[str, ...]] = {
    "date": ("order_date", "id"),
    "order": ("external_id", "id"),
    "wtw": ("fp_wtw_kg", "id"),
    "tkm": ("fp_tkm", "id"),
    "intensity": ("fp_intensity_g", "id"),
    "quality": ("fp_default_share", "id"),
}


def order_sort(key: str, *, descending: bool) -> list[models.OrderBy | str]:
    """`order_by` arguments for the sort `key` of ORDER_SORTS, all ascending or all descending;
    orders not calculated yet (no footprint columns) come last either way."""

    def column(name: str) -> models.OrderBy | str:
        if not name.startswith("fp_"):
            return f"-{name}" if descending else name
        field = models.F(name)
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)

    return [column(name) for name in ORDER_SORTS[key]]


class Incoterm(models.TextChoices):
    """Incoterms 2020 (ICC): who pays the main carriage follows from the rule
    (`carbon.footprint.incoterms`). An order without one is "not stated"."""

    EXW = "EXW", _("EXW – Ex Works")
    FCA = "FCA", _("FCA – Free Carrier")
    FAS = "FAS", _("FAS – Free Alongside Ship")
    FOB = "FOB", _("FOB – Free On Board")
    CPT = "CPT", _("CPT – Carriage Paid To")
    CIP = "CIP", _("CIP – Carriage and Insurance Paid To")
    CFR = "CFR", _("CFR – Cost and Freight")
    CIF = "CIF", _("CIF – Cost, Insurance and Freight")
    DAP = "DAP", _("DAP – Delivered At Place")
    DPU = "DPU", _("DPU – Delivered at Place Unloaded")
    DDP = "DDP", _("DDP – Delivered Duty Paid")


class OrderQuerySet(models.QuerySet["Order"]):
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
    # Empty: not stated (orders stored before the field existed, or sent without one).
    incoterm = models.CharField(
        _("Incoterm"), max_length=3, choices=Incoterm.choices, blank=True, default=""
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
        if self.delivery_site and self.delivery_site.organisation_id != self.organisation_id:
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


class LegSource(models.TextChoices):
    """Who wrote a leg's data, set from the channel that stored it (the token's scopes, who ran
    the import, the admin, the CRM inbound), never from a field of the data itself."""

    CARRIER = "carrier", _("Carrier or vendor system (attested)")
    CRM = "crm", _("CRM import")
    STAFF = "staff", _("Staff entry")
    CUSTOMER = "customer", _("Customer entry")


# Sources whose data earns points as it is: the vendor's own systems and people. Customer
# entries earn once a staff member has verified them (Leg.verified_at).
ATTESTED_SOURCES = frozenset({LegSource.CARRIER, LegSource.CRM, LegSource.STAFF})


class LegDataType(models.TextChoices):
    """What kind of activity data a leg carries (ISO 14083 / GLEC data types)."""

    PRIMARY_FUEL = "primary_fuel", _("Measured fuel or energy")
    CARRIER_INTENSITY = "carrier_intensity", _("Carrier-specific intensity")
    MODELLED_DEFAULT = "modelled_default", _("Modelled, default factors")


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
    source = models.CharField(
        _("data source"), max_length=10, choices=LegSource.choices, default=LegSource.CUSTOMER
    )
    data_type = models.CharField(
        _("data type"),
        max_length=20,
        choices=LegDataType.choices,
        default=LegDataType.MODELLED_DEFAULT,
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("data verified by"),
    )
    verified_at = models.DateTimeField(_("data verified"), null=True, blank=True)

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

    @property
    def attested(self) -> bool:
        """Whether the leg's data may earn points: from an attested source, or verified by staff."""
        return self.source in ATTESTED_SOURCES or self.verified_at is not None
