from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def for_recipient(self, user) -> NotificationQuerySet:
        """The person's own notifications: the only way pages and the API read them."""
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app notification from any app but the community (which keeps its own). It stores
    no message: `kind` and `params` (ids and public names only, never confidential text) are
    rendered in the reader's language when shown (`portal.notifications.message`). Written
    only by `portal.notifications.notify`, once per recipient and `dedupe_key`."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="portal_notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=80)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Set by the statement that claims the notification for an e-mail (immediate or digest),
    # so it is e-mailed at most once; set at once when the sending app e-mails it itself.
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    # Worded for the reader when listed (portal.notifications.inbox_page); never stored.
    message: str = ""

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="portal_notification_unread"),
            models.Index(
                fields=["recipient", "-created_at", "-id"], name="portal_notification_list"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="portal_notification_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"
