from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .organisations import Organisation


class DeliveryStatus(models.TextChoices):
    # In context: an order's "Delivered" (carbon) is a different word in Chinese.
    PENDING = "pending", pgettext_lazy("outbox delivery status", "Pending")
    DELIVERED = "delivered", pgettext_lazy("outbox delivery status", "Delivered")
    DEAD = "dead", pgettext_lazy("outbox delivery status", "Dead-lettered")


class OutboxEvent(models.Model):
    """A CloudEvents 1.0 record, written in the same transaction as the change it describes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(_("source"), max_length=200)
    specversion = models.CharField(_("spec version"), max_length=10, default="1.0")
    type = models.CharField(_("type"), max_length=200, db_index=True)
    time = models.DateTimeField(_("time"), db_index=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    datacontenttype = models.CharField(
        _("data content type"), max_length=100, default="application/json"
    )
    # CloudEvents `dataschema`: the catalogue's URN of the JSON Schema `data` follows
    # (portal.event_catalogue); empty for a type published without a registration.
    dataschema = models.CharField(_("data schema"), max_length=300, blank=True)
    data = models.JSONField(_("data"), default=dict)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the CRM bridge gave the event its deliveries (portal/crm/delivery.py); null until then.
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["time", "id"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(fields=["status", "time"], name="outbox_status_time"),
            models.Index(
                fields=["time"],
                name="outbox_unrouted",
                condition=models.Q(routed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"

    def as_cloudevent(self) -> dict:
        event = {
            "specversion": self.specversion,
            "id": str(self.id),
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
        if self.subject:
            event["subject"] = self.subject
        if self.dataschema:
            event["dataschema"] = self.dataschema
        if self.organisation_id:
            # CloudEvents extension attribute: lowercase alphanumerics only.
            event["greenloopaccount"] = str(self.organisation_id)
        return event
