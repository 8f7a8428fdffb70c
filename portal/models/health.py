from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .organisations import Organisation


class AccountHealth(models.Model):
    """One organisation's account signals and health score for one day (portal.account_signals).

    The daily run and an on-demand recalculation in the admin write the same row for the day,
    so the sparkline has one point per day."""

    class Trigger(models.TextChoices):
        DAILY = "daily", _("Daily run")
        ON_DEMAND = "on_demand", _("On demand")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
    )
    day = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed at"))
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    score = models.PositiveSmallIntegerField(_("health score"), null=True, blank=True)
    # [{key, score, weight, source, signals}] as portal.health.HealthScore.components_document()
    components = models.JSONField(_("components"), default=list)

    class Meta:
        ordering = ["organisation", "-day"]
        verbose_name = _("account health")
        verbose_name_plural = _("account health")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "day"], name="account_health_one_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__lte=100),
                name="account_health_score_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day}: {self.score}"
