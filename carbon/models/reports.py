"""Carbon reports: one generated report (an organisation's or every customer's figures for a
period, in one language and format), its progress, its file and the facts that make it
reproducible (the moment its figures are read as of, the data hash)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from carbon.reports.period import PeriodKind, ReportingPeriod
from carbon.storage import private_storage
from portal.audit_labels import AuditLabel
from portal.models import Organisation


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    # The file was deleted after the retention period; the record and its data hash stay.
    EXPIRED = "expired", _("Expired")


class ReportBasis(models.TextChoices):
    AS_ISSUED = "as_issued", _("As issued")
    RESTATED = "restated", _("Restated with current factors")


class ReportLanguage(models.TextChoices):
    EN = "en", "English"
    ZH_HANS = "zh-hans", "简体中文"


class ReportStep(models.TextChoices):
    WAITING = "", _("Waiting")
    READING = "reading", _("Reading the figures")
    RENDERING = "rendering", _("Rendering")
    STORING = "storing", _("Storing")


def report_path(instance: Report, filename: str) -> str:
    return f"private/reports/{instance.organisation_id or 'all'}/{filename}"


class Report(models.Model):
    """One report. Its figures are the inventory read as of `figures_as_of` (and, restated, beside
    those as of `as_issued_as_of`), so generating the same record again renders the same bytes."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # None: every customer (vendor sustainability staff only).
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="carbon_reports",
        verbose_name=_("organisation"),
    )
    period_kind = models.CharField(
        _("period kind"), max_length=10, choices=[(kind.value, kind.value) for kind in PeriodKind]
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    language = models.CharField(_("language"), max_length=10, choices=ReportLanguage.choices)
    format = models.CharField(_("format"), max_length=10)
    basis = models.CharField(
        _("basis"), max_length=10, choices=ReportBasis.choices, default=ReportBasis.AS_ISSUED
    )
    figures_as_of = models.DateTimeField(_("figures as of"))
    # Restated: the moment the earlier as-issued report read its figures (shown side by side).
    as_issued_as_of = models.DateTimeField(_("as issued as of"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=20, choices=ReportStep.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    file = models.FileField(
        _("file"), upload_to=report_path, storage=private_storage, blank=True, max_length=255
    )
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    data_hash = models.CharField(_("data hash"), max_length=64, blank=True)
    summary = models.JSONField(_("figures summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    expires_at = models.DateTimeField(_("file expires"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("carbon report")
        verbose_name_plural = _("carbon reports")
        indexes = [
            models.Index(
                fields=["organisation", "period_start", "period_end", "basis"],
                name="carbon_report_scope_idx",
            ),
            models.Index(fields=["status", "expires_at"], name="carbon_report_expiry_idx"),
        ]

    def __str__(self) -> str:
        # the admin's titles and audit lines: who, which period, which file
        who = self.organisation.name if self.organisation is not None else gettext("All customers")
        return f"{who} · {self.period} · {self.format.upper()} · {self.get_language_display()}"

    def audit_label(self) -> AuditLabel:
        # "All customers" in each reader's language, not in the language of whoever asked.
        args = {
            "period": str(self.period),
            "format": self.format.upper(),
            "language": str(self.get_language_display()),
        }
        if self.organisation is None:
            return {
                "text": gettext_noop("All customers · %(period)s · %(format)s · %(language)s"),
                "args": args,
            }
        return {
            "text": gettext_noop("%(who)s · %(period)s · %(format)s · %(language)s"),
            "args": {"who": self.organisation.name} | args,
        }

    @property
    def period(self) -> ReportingPeriod:
        return ReportingPeriod(self.period_start, self.period_end, PeriodKind(self.period_kind))

    @property
    def restated(self) -> bool:
        return self.basis == ReportBasis.RESTATED

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED, ReportStatus.EXPIRED)

    @property
    def downloadable(self) -> bool:
        return self.status == ReportStatus.DONE and bool(self.file)
