"""What the participation wing records: the reminders sent to silent participants, one per
phase and person at most (the unique constraint is what makes a repeated beat run harmless)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from beta_program.programmes.models import Phase


class ParticipationReminder(models.Model):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="beta_reminders"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["phase", "user"], name="beta_one_reminder_per_phase")
        ]

    def __str__(self) -> str:
        return f"reminded {self.user_id} in phase {self.phase_id}"
