"""Staff-maintained exchange rates for the boards' weighted value (beta_program.boards.accounts).

Contract values come from the CRM in each customer's own currency; the weighted value of an idea
is reported in one currency (`GREENLOOP_REPORTING_CURRENCY`). Staff keep the rates: nothing is
fetched from outside, and a currency without a rate is never converted silently."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def reporting_currency() -> str:
    return str(getattr(settings, "GREENLOOP_REPORTING_CURRENCY", "EUR")).upper()


class ReportingRate(models.Model):
    """How many units of the reporting currency one unit of `currency` is worth."""

    currency = models.CharField(
        _("currency"),
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", _("An ISO 4217 code in capitals, e.g. CNY."))],
        help_text=_("ISO 4217, e.g. CNY."),
    )
    rate = models.DecimalField(
        _("units of the reporting currency per unit"),
        max_digits=18,
        decimal_places=8,
        help_text=_("E.g. 0.13 for CNY when the reporting currency is EUR."),
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
        editable=False,
    )
    set_at = models.DateTimeField(_("set"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["currency"]
        verbose_name = _("reporting rate")
        verbose_name_plural = _("reporting rates")
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="boards_reporting_rate_positive")
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate.normalize():f} {reporting_currency()}"

    def clean(self) -> None:
        self.currency = (self.currency or "").strip().upper()
        if self.currency == reporting_currency():
            raise ValidationError(
                {"currency": _("The reporting currency needs no rate: it counts 1 to 1.")}
            )
