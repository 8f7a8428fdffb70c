"""Announcements from the product team to a programme's participants: to chosen cohorts, or to
every participant when none is chosen. A draft is edited in the admin; publishing
(`announcement_actions.publish_announcement`) makes it visible on the programme's page behind
the same checks as builds, notifies the members in the portal and by e-mail, and fixes it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from beta_program.programmes.models import Cohort, Programme, localised
from portal import markdown
from portal.audit_labels import AuditLabel, named


class AnnouncementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Announcement(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="announcements")
    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    body = models.TextField(_("text (Markdown)"))
    body_zh = models.TextField(_("text (Chinese, Markdown)"), blank=True)
    cohorts = models.ManyToManyField(
        Cohort,
        blank=True,
        related_name="announcements",
        verbose_name=_("cohorts"),
        help_text=_("None chosen: every participant of the programme."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AnnouncementStatus.choices,
        default=AnnouncementStatus.DRAFT,
        editable=False,
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["programme", "-published_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        indexes = [
            models.Index(
                fields=["programme", "status", "-published_at"], name="beta_announcement_list"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="beta_published_announcement_has_date",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def audit_label(self) -> AuditLabel:
        # The audit trail names it as staff did, in each reader's language (its Chinese twin).
        return named(self, "title")

    display_title = property(lambda self: localised(self, "title"))

    @property
    def display_html(self) -> str:
        # Rendered and sanitised by the portal's one Markdown rule, when shown: announcements
        # are few and short, and the text stays editable only while it is a draft.
        return markdown.render(localised(self, "body"))

    @property
    def is_published(self) -> bool:
        return self.status == AnnouncementStatus.PUBLISHED
