"""Calculation snapshots: the immutable record of one footprint calculation of one order."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from carbon.models.datasets import ImmutableError
from carbon.models.orders import Order

# The fields that may be set on a stored snapshot besides `is_current`: keys for finding stale
# calculations (carbon.footprint.snapshot_store), never part of the evidence.
STALENESS_KEYS = ("input_hash", "input_revision", "context_hash")


class CalculationSnapshot(models.Model):
    """Everything needed to reissue an order's footprint unchanged years later: the inputs, the
    factors (ids and values) and dataset versions used, the method version, and the results."""

    # Not columns: the order page (carbon.footprint.views) sets them for its history table.
    dataset_labels: list[str | None]
    change_text: str

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
    # SHA-256 (hex) of what the calculation was made from: method version, the factor table's
    # datasets and factors, and the order's inputs (carbon.footprint.snapshots.input_hash). A
    # recalculation compares it in SQL and skips the order without reading its documents. Empty
    # on snapshots stored before it existed; filled in once a recalculation finds them unchanged.
    input_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The order's input revision (PostgreSQL, migration carbon 0016) and the hash of the inputs
    # from outside the order when calculated: a recalculation skips the order when both match,
    # without loading its lines and legs. Keys for finding stale calculations, not evidence.
    input_revision = models.BigIntegerField(null=True, blank=True, editable=False)
    context_hash = models.CharField(max_length=64, blank=True, default="", editable=False)

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
            if (
                stored is None
                or not update_fields
                or set(update_fields) - {"is_current", *STALENESS_KEYS}
            ):
                raise ImmutableError("Calculation snapshots cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Calculation snapshots cannot be deleted.")
