"""Redemptions: the service catalogue and the requests made from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from portal.audit_labels import AuditLabel
from portal.models import Organisation, Site

if TYPE_CHECKING:
    from carbon.points.ledger import HeldBalances


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

    # Not a column: the new request that request_redemption() returns carries the balances its
    # hold left, which the API answers with.
    balances_after: HeldBalances

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

    def audit_label(self) -> AuditLabel:
        # The audit trail names the request with its status then, in each reader's language.
        return {
            "text": gettext_noop("%(service)s for %(organisation)s (%(status)s)"),
            "args": {"service": str(self.service), "organisation": str(self.organisation)},
            "choices": {"status": self.status},
        }
