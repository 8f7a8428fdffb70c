"""Carbon points: policies, accounts, awards, the append-only ledger and expiry reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from carbon.models.datasets import ImmutableError
from carbon.models.orders import Order
from carbon.models.snapshots import CalculationSnapshot
from carbon.points.baselines import default_baseline_settings
from portal.audit_labels import AuditLabel
from portal.models import Organisation


class AppendOnlyError(ImmutableError):
    """Ledger entries are the evidence behind every balance: never changed or deleted."""


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class SettlementPeriod(models.TextChoices):
    MONTH = "month", _("Calendar month of delivery")
    QUARTER = "quarter", _("Calendar quarter of delivery")


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
        help_text=_(
            "One baseline for every service class, overriding the per-class baselines. Empty: "
            "each leg is compared with the baseline of its own service class."
        ),
    )
    baselines = models.JSONField(
        _("baselines per service class"),
        default=default_baseline_settings,
        help_text=_(
            "Per service class (road, rail, short_sea, deep_sea, bulk_sea, air): kg_per_tkm "
            "(WTW) and its cited source; modal_shift rules (class, baseline_class, max_km) for "
            "where another mode was a realistic alternative; short_sea_max_km."
        ),
    )
    settlement_period = models.CharField(
        _("settlement period"),
        max_length=10,
        choices=SettlementPeriod.choices,
        default=SettlementPeriod.MONTH,
        help_text=_(
            "Points are computed on the organisation's total per period of delivery, so "
            "splitting or merging orders changes nothing."
        ),
    )
    points_per_kg = models.DecimalField(
        _("points per kg CO2e avoided"), max_digits=12, decimal_places=6
    )
    include_green_power = models.BooleanField(_("count green power (Scope 2)"), default=True)
    pending_days = models.PositiveIntegerField(_("pending period after delivery (days)"))
    expiry_months = models.PositiveIntegerField(_("expiry (months after activation)"))
    per_period_cap = models.PositiveIntegerField(
        _("points cap per organisation and settlement period"),
        null=True,
        blank=True,
        help_text=_("Empty: no cap."),
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

    def audit_label(self) -> AuditLabel:
        # The audit trail names the policy in each reader's language.
        return {
            "text": gettext_noop("Points policy v%(version)s from %(effective_from)s"),
            "args": {"version": str(self.version), "effective_from": str(self.effective_from)},
        }


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
    # Set when the order was re-settled after an edit: the award's points were reversed and a
    # new award (from the new footprint) replaced it.
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points award")
        verbose_name_plural = _("points awards")
        constraints = [
            # One live award per order and policy; superseded ones stay as the ledger's evidence.
            models.UniqueConstraint(
                fields=["order", "policy"],
                condition=Q(superseded_at__isnull=True),
                name="points_award_once",
            ),
            # Logistics is the order's signed contribution to its period: a leg above its
            # baseline makes it negative. The green-power basis never is.
            models.CheckConstraint(
                condition=Q(avoided_scope2_kg__gte=0),
                name="points_award_scope2_not_negative",
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
    # The green-power reward of an award whose green-power declaration was revoked.
    REVERSE_GREEN = "reverse_green", _("Green-power reward reversed")
    ADJUST = "adjust", _("Adjusted")


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Ledger entries cannot be deleted.")

    def with_available_after(self) -> LedgerEntryQuerySet:
        """Annotate `available_after`: the account's available balance once the entry was
        written, summed over all its entries up to this one in statement order (created_at,
        then id), whatever filter the queryset has. One subquery per returned row: use on a page."""
        earlier = LedgerEntry.objects.filter(account=models.OuterRef("account")).filter(
            Q(created_at__lt=models.OuterRef("created_at"))
            | Q(created_at=models.OuterRef("created_at"), pk__lte=models.OuterRef("pk"))
        )
        total = (
            earlier.order_by()
            .values("account")
            .annotate(total=models.Sum("available_delta"))
            .values("total")
        )
        return self.annotate(available_after=models.Subquery(total))


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
#   reverse_green as reverse, for the green-power part of one award (reason and approver required)
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
    EntryKind.REVERSE_GREEN: _deltas("<=0", "<=0", "0")
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
                for kind in ("earn_pending", "activate", "reverse", "reverse_green")
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
                condition=~Q(kind="reverse_green")
                | (Q(award__isnull=False) & Q(approved_by__isnull=False) & ~Q(reason="")),
                name="ledger_reverse_green_has_award_reason_approver",
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

    def audit_label(self) -> AuditLabel:
        # The audit trail names the movement's kind in each reader's language.
        return {
            "text": gettext_noop("%(kind)s %(points)s (%(key)s)"),
            "args": {"points": str(self.points), "key": self.idempotency_key},
            "choices": {"kind": self.kind},
        }


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
