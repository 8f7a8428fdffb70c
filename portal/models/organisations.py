from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    STRATEGIC = "strategic", _("Strategic")


class Role(models.TextChoices):
    """A customer's role inside one organisation; each role includes the ones before it."""

    VIEWER = "viewer", _("Viewer")
    MEMBER = "member", _("Member")
    ADMIN = "admin", _("Admin")

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.MEMBER, cls.ADMIN].index(cls(role))


class OrganisationQuerySet(models.QuerySet):
    def for_user(self, user) -> OrganisationQuerySet:
        """Organisations the user belongs to; vendor staff who serve customers see them all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from portal.permissions import is_vendor_staff

        if is_vendor_staff(user):
            return self.filter(is_active=True)
        return self.filter(is_active=True, memberships__user=user).distinct()

    def for_member(self, user) -> OrganisationQuerySet:
        """Only organisations the user is an actual member of (staff get no shortcut here)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(is_active=True, memberships__user=user).distinct()


class Organisation(ClusterableModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    crm_external_id = models.CharField(
        _("CRM external id"), max_length=100, blank=True, null=True, unique=True
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    country = models.CharField(
        _("country/region"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. CN, DE.")
    )
    # From the CRM account (portal.crm.inbound): the vendor's view of the customer.
    region = models.CharField(
        _("sales region"), max_length=50, blank=True, help_text=_("As the CRM names it, e.g. EMEA.")
    )
    account_owner = models.CharField(
        _("account owner"),
        max_length=200,
        blank=True,
        help_text=_("The vendor's account manager, as the CRM names them."),
    )
    contract_value = models.DecimalField(
        _("contract value"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    contract_currency = models.CharField(
        _("contract currency"), max_length=3, blank=True, help_text=_("ISO 4217, e.g. EUR.")
    )
    require_mfa = models.BooleanField(
        _("require two-factor authentication"),
        default=False,
        help_text=_("Members must enable two-factor authentication before using the portal."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A customer's plant or facility: where deliveries go and power is consumed."""

    organisation = ParentalKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="sites",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country/region"), max_length=2)
    region = models.CharField(_("grid region"), max_length=50, blank=True)
    address = models.TextField(_("address"), blank=True)
    crm_external_id = models.CharField(_("CRM external id"), max_length=100, blank=True)

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="site_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user) -> MembershipQuerySet:
        from portal.permissions import is_vendor_staff

        if not user.is_authenticated:
            return self.none()
        if is_vendor_staff(user):
            return self.all()
        return self.filter(organisation__memberships__user=user).distinct()


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "user__email"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"


def _invitation_expiry():
    return timezone.now() + timedelta(days=settings.GREENLOOP_INVITATION_DAYS)


def _invitation_key() -> str:
    return secrets.token_urlsafe(32)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    key = models.CharField(max_length=64, unique=True, default=_invitation_key, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), default=_invitation_expiry)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # One open invitation per address and organisation; used ones stay as history.
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "pending"
