"""Order imports: one uploaded CSV file and its progress, summary and row errors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from carbon.storage import private_storage
from portal.audit_labels import AuditLabel
from portal.models import Organisation


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
    # The channel the file came through (carbon.models.LegSource), stamped on every leg it
    # stores: who uploaded it decides, never a column of the file.
    source = models.CharField(_("data source"), max_length=10, default="customer")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.get_status_display()})"

    def audit_label(self) -> AuditLabel:
        # The audit trail names the file with its status then, in each reader's language.
        return {
            "text": gettext_noop("%(file)s (%(status)s)"),
            "args": {"file": self.original_name or self.file.name},
            "choices": {"status": self.status},
        }

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
