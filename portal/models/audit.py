from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .organisations import Organisation


class AppendOnlyError(Exception):
    """Audit events are evidence: once written they are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def for_user(self, user) -> AuditEventQuerySet:
        from portal.permissions import Perm, has_perm, is_vendor_staff

        if not user.is_authenticated:
            return self.none()
        if is_vendor_staff(user) and has_perm(user, Perm.AUDIT_VIEW_ALL):
            return self.all()
        admin_orgs = Organisation.objects.filter(memberships__user=user, memberships__role="admin")
        return self.filter(organisation__in=admin_orgs)

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Kept as text too, so the trail still names the actor after the account is deleted.
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    # The object's name as a msgid, its values and choice codes (portal.audit_labels), so pages
    # name it in the reader's language; empty for objects named by plain text.
    object_label = models.JSONField(_("object label"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        default_permissions = ("view",)

    def __str__(self) -> str:
        # Named in the admin's row menus and inspect titles: the action's name, not its code.
        from portal.audit_actions import action_name

        return gettext("%(when)s %(action)s by %(actor)s") % {
            "when": f"{self.occurred_at:%Y-%m-%d %H:%M:%S}",
            "action": action_name(self.action),
            "actor": self.actor_label or "-",
        }

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")

    @property
    def object_text(self) -> str:
        """The object's name in the reader's language (`object_repr` as stored otherwise)."""
        from portal.audit_labels import object_text

        return object_text(self.object_type, self.object_repr, self.object_label)
