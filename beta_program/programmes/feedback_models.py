"""Feedback on beta builds: bug reports and feature feedback (one model, `Feedback`, with the
triage workflow), their comments, attachments and triage history, staff-defined environment
fields per programme, and survey answers (NPS and CSAT) per build.

Feedback belongs to the person who filed it and their organisation; staff triage it in the
Wagtail admin. Status changes only through `feedback_actions.transition`, along
`TRIAGE_TRANSITIONS`; the SLA clock is `sla.triage_due`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from modelcluster.fields import ParentalKey
from wagtail.models import Orderable

from beta_program.attachments import Attachment, private_file_field, private_upload_path
from beta_program.programmes.models import Build, Programme, localised
from portal.audit_labels import AuditLabel
from portal.models import Organisation


class FeedbackKind(models.TextChoices):
    BUG = "bug", _("Bug report")
    FEATURE = "feature", _("Feature feedback")


class Severity(models.TextChoices):
    CRITICAL = "critical", pgettext_lazy("severity", "Critical")
    HIGH = "high", pgettext_lazy("severity", "High")
    MEDIUM = "medium", pgettext_lazy("severity", "Medium")
    LOW = "low", pgettext_lazy("severity", "Low")


class Frequency(models.TextChoices):
    ALWAYS = "always", _("Every time")
    OFTEN = "often", _("Often")
    SOMETIMES = "sometimes", _("Sometimes")
    ONCE = "once", _("Once")


class TriageStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("triage status", "New")
    NEEDS_INFO = "needs_info", _("Needs information")
    CONFIRMED = "confirmed", _("Confirmed")
    IN_PROGRESS = "in_progress", _("In progress")
    FIXED = "fixed", _("Fixed")
    VERIFIED = "verified", _("Verified")
    WONT_FIX = "wont_fix", _("Won't fix")
    DUPLICATE = "duplicate", _("Duplicate")


# The triage workflow, in one place: which status may follow which. "Needs information" goes
# back to new once the reporter answered; a fix that did not hold goes back to in progress; a
# closed report (won't fix, duplicate) can be reopened as confirmed. Verified is final.
TRIAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    TriageStatus.NEW: frozenset(
        {
            TriageStatus.NEEDS_INFO,
            TriageStatus.CONFIRMED,
            TriageStatus.WONT_FIX,
            TriageStatus.DUPLICATE,
        }
    ),
    TriageStatus.NEEDS_INFO: frozenset(
        {
            TriageStatus.NEW,
            TriageStatus.CONFIRMED,
            TriageStatus.WONT_FIX,
            TriageStatus.DUPLICATE,
        }
    ),
    TriageStatus.CONFIRMED: frozenset(
        {
            TriageStatus.IN_PROGRESS,
            TriageStatus.FIXED,
            TriageStatus.WONT_FIX,
            TriageStatus.DUPLICATE,
        }
    ),
    TriageStatus.IN_PROGRESS: frozenset(
        {TriageStatus.CONFIRMED, TriageStatus.FIXED, TriageStatus.WONT_FIX}
    ),
    TriageStatus.FIXED: frozenset({TriageStatus.VERIFIED, TriageStatus.IN_PROGRESS}),
    TriageStatus.VERIFIED: frozenset(),
    TriageStatus.WONT_FIX: frozenset({TriageStatus.CONFIRMED}),
    TriageStatus.DUPLICATE: frozenset({TriageStatus.CONFIRMED}),
}


class EnvironmentField(Orderable):
    """A question about the reporter's environment that staff ask with every bug report of the
    programme (firmware version, operating system, ...)."""

    programme = ParentalKey(Programme, on_delete=models.CASCADE, related_name="environment_fields")
    label = models.CharField(_("label"), max_length=80)
    label_zh = models.CharField(_("label (Chinese)"), max_length=80, blank=True)
    required = models.BooleanField(_("required"), default=False)

    class Meta(Orderable.Meta):
        verbose_name = _("environment field")
        verbose_name_plural = _("environment fields")

    def __str__(self) -> str:
        return self.label

    display_label = property(lambda self: localised(self, "label"))


class Feedback(models.Model):
    """A bug report or a piece of feature feedback on one build, filed by a participant."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="feedback")
    build = models.ForeignKey(Build, on_delete=models.PROTECT, related_name="feedback")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="beta_feedback"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="beta_feedback",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=FeedbackKind.choices, default=FeedbackKind.BUG
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("description"), max_length=10000, blank=True, help_text=_("What you tried and saw.")
    )
    steps = models.TextField(_("steps to reproduce"), max_length=10000, blank=True)
    expected = models.TextField(_("expected result"), max_length=5000, blank=True)
    actual = models.TextField(_("actual result"), max_length=5000, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, blank=True
    )
    # {environment field id (str): answer (str)}, as the reporter gave them.
    environment = models.JSONField(_("environment"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=TriageStatus.choices, default=TriageStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_beta_feedback",
        verbose_name=_("assignee"),
        limit_choices_to={"is_staff": True},
    )
    fixed_in_build = models.ForeignKey(
        Build,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fixed_feedback",
        verbose_name=_("fixed in build"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    # The SLA clock (sla.triage_due, fixed when the report is filed) and when it stopped: the
    # first move out of "new".
    triage_due_at = models.DateTimeField(_("triage due"), null=True, blank=True)
    first_triaged_at = models.DateTimeField(_("first triaged"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    # Search terms of title and text (portal.search_text.document), for duplicate suggestions.
    search_document = models.TextField(default="", editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [models.Index(fields=["programme", "status"], name="beta_feedback_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TriageStatus]),
                name="beta_feedback_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(kind="bug") | ~Q(severity=""), name="beta_bug_has_severity"
            ),
            # "Fixed in build X" names the build; "duplicate of" names the report.
            models.CheckConstraint(
                condition=~Q(status="fixed") | Q(fixed_in_build__isnull=False),
                name="beta_fixed_names_build",
            ),
            models.CheckConstraint(
                condition=~Q(status="duplicate") | Q(duplicate_of__isnull=False),
                name="beta_duplicate_names_report",
            ),
            models.CheckConstraint(
                condition=~Q(duplicate_of=models.F("pk")), name="beta_not_duplicate_of_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_bug(self) -> bool:
        return self.kind == FeedbackKind.BUG

    def status_label(self) -> str:
        """The status as the reporter reads it ("Fixed in build 4.0.0-beta.3")."""
        if self.status == TriageStatus.FIXED and self.fixed_in_build_id:
            return str(_("Fixed in build %(version)s") % {"version": self.fixed_in_build.version})
        if self.status == TriageStatus.DUPLICATE and self.duplicate_of_id:
            return str(_("Duplicate of #%(id)s") % {"id": self.duplicate_of_id})
        return str(self.get_status_display())


class FeedbackComment(models.Model):
    """A comment on a report: public (the reporter reads it and may answer) or an internal note
    of staff, which customers never see."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=5000)
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.feedback_id}"


def attachment_upload_to(instance: FeedbackAttachment, filename: str) -> str:
    return private_upload_path("beta/feedback", instance.feedback_id, filename)


class FeedbackAttachment(Attachment):
    """A screenshot or PDF attached to a report."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="attachments")
    file = private_file_field(attachment_upload_to)


class TriageChange(models.Model):
    """The report's status history (the audit trail has the same with IP and user agent);
    written only by `feedback_actions.transition`."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="triage_changes")
    from_status = models.CharField(max_length=12, choices=TriageStatus.choices)
    to_status = models.CharField(max_length=12, choices=TriageStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class SurveyResponse(models.Model):
    """One participant's answer to a build's survey: how likely they are to recommend the
    product (NPS, 0-10) and how satisfied they are with the build (CSAT, 1-5), with a comment."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    build = models.ForeignKey(Build, on_delete=models.PROTECT, related_name="survey_responses")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="beta_survey_responses"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="beta_survey_responses",
    )
    nps = models.PositiveSmallIntegerField(_("likely to recommend (0-10)"))
    csat = models.PositiveSmallIntegerField(_("satisfaction (1-5)"))
    comment = models.TextField(_("comment"), max_length=5000, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["build", "respondent"], name="beta_one_survey_answer"),
            models.CheckConstraint(condition=Q(nps__lte=10), name="beta_nps_0_10"),
            models.CheckConstraint(condition=Q(csat__gte=1, csat__lte=5), name="beta_csat_1_5"),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} on build {self.build_id}"

    def audit_label(self) -> AuditLabel:
        # Which build's survey, in each reader's language (not "survey <id> on build <id>").
        return {
            "text": gettext_noop("Survey of build %(build)s"),
            "args": {"build": self.build.version},
        }
