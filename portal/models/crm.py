"""The CRM bridge: where outbox events go (endpoints), one delivery per event and endpoint, and
every attempt to send it (portal/crm/delivery.py moves them)."""

from __future__ import annotations

import base64
import fnmatch
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .events import OutboxEvent
from .organisations import Organisation

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks marker, not a secret


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_webhook_secret(value: str) -> None:
    body = value.removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(body + "==", validate=False)
    except ValueError as error:
        raise ValidationError(_("A secret is whsec_ followed by base64.")) from error
    if not value.startswith(SECRET_PREFIX) or len(raw) < 24:
        raise ValidationError(_("A secret is whsec_ followed by at least 24 bytes in base64."))


class ConnectorKind(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook (Standard Webhooks)")
    RABBITMQ = "rabbitmq", _("RabbitMQ topic exchange")


class CrmEndpoint(models.Model):
    """A destination of the outbox: a signed webhook URL or a RabbitMQ exchange."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(
        _("connector"), max_length=20, choices=ConnectorKind.choices, default=ConnectorKind.WEBHOOK
    )
    url = models.CharField(
        _("URL"),
        max_length=500,
        help_text=_("https://… for a webhook; amqp://user:password@host:5672/vhost for RabbitMQ."),
    )
    exchange = models.CharField(
        _("exchange"),
        max_length=200,
        blank=True,
        help_text=_("RabbitMQ only: the topic exchange (declared durable if missing)."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        default=new_webhook_secret,
        validators=[validate_webhook_secret],
        help_text=_("Webhook only: whsec_… (Standard Webhooks)."),
    )
    previous_secrets = models.TextField(
        _("previous secrets"),
        blank=True,
        help_text=_(
            "While a secret is rotated: older secrets, one per line. Every request is signed with "
            "each of them too, until the receiver has the new one and these are removed."
        ),
    )
    event_types = models.TextField(
        _("event types"),
        blank=True,
        help_text=_(
            "One pattern per line, e.g. greenloop.carbon.* (empty: every event). Applies to "
            "events written from now on."
        ),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for organisation"),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "Inactive endpoints get no new events; a 410 answer makes an endpoint inactive."
        ),
    )
    paused = models.BooleanField(
        _("paused"),
        default=False,
        help_text=_("A paused endpoint keeps collecting events and sends them once resumed."),
    )
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("CRM endpoint")
        verbose_name_plural = _("CRM endpoints")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.kind == ConnectorKind.RABBITMQ and not self.exchange:
            raise ValidationError({"exchange": _("A RabbitMQ endpoint needs an exchange.")})
        for line in self.previous_secrets.splitlines():
            if line.strip():
                try:
                    validate_webhook_secret(line.strip())
                except ValidationError as error:
                    raise ValidationError({"previous_secrets": error.messages}) from error

    def signing_secrets(self) -> list[str]:
        return [self.secret] + [s.strip() for s in self.previous_secrets.splitlines() if s.strip()]

    def type_patterns(self) -> list[str]:
        return [p.strip() for p in self.event_types.splitlines() if p.strip()]

    def wants(self, event: OutboxEvent) -> bool:
        return self.wants_type(event.type, event.organisation_id)

    def wants_type(self, event_type: str, organisation_id: int | None) -> bool:
        """`wants` on an event's type and organisation alone (routing reads no more)."""
        if self.organisation_id is not None and organisation_id != self.organisation_id:
            return False
        patterns = self.type_patterns()
        return not patterns or any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


class DeliveryState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("CRM delivery state", "Pending")
    DELIVERED = "delivered", pgettext_lazy("CRM delivery state", "Delivered")
    DEAD = "dead", pgettext_lazy("CRM delivery state", "Dead-lettered")


class Delivery(models.Model):
    """One outbox event on its way to one endpoint.

    Rows are created in the order events are routed (about commit order), so a lower id is an
    earlier event: per endpoint and organisation, a delivery is sent only once every earlier
    one is delivered."""

    endpoint = models.ForeignKey(
        CrmEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    # DO_NOTHING here, ON DELETE CASCADE in the database (migration 0009): on PostgreSQL the
    # outbox's trigger must see an event's deliveries when it is asked to delete the event
    # (portal/crm/pruning.py; SQLite deletes them itself).
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.DO_NOTHING, related_name="deliveries", verbose_name=_("event")
    )
    # Copied from the event (ids only, no constraint): the ordering lane; 0 for events that
    # concern no organisation (they form one lane of their own).
    lane = models.BigIntegerField(_("organisation id"), default=0)
    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("CRM delivery")
        verbose_name_plural = _("CRM deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="crm_delivery_once")
        ]
        indexes = [
            models.Index(fields=["endpoint", "lane", "state", "id"], name="crm_delivery_lane"),
            # Lanes with work and their heads, found lane by lane (portal/crm/delivery.py).
            models.Index(
                fields=["endpoint", "lane", "id"],
                name="crm_delivery_open",
                condition=~models.Q(state="delivered"),
            ),
            models.Index(fields=["state", "next_attempt_at"], name="crm_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    started_at = models.DateTimeField(_("started"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    ok = models.BooleanField(_("delivered"))
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("CRM delivery attempt")
        verbose_name_plural = _("CRM delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error[:40]}"


class CrmContact(models.Model):
    """A CRM contact pushed through the inbound API (portal.crm.inbound): the CRM's key, and the
    invitation it became. A contact never becomes an account: the person accepts the invitation
    or nothing happens."""

    external_id = models.CharField(_("CRM external id"), max_length=100, unique=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20)
    invitation = models.ForeignKey(
        "portal.Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invitation"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["organisation", "email"]
        verbose_name = _("CRM contact")
        verbose_name_plural = _("CRM contacts")

    def __str__(self) -> str:
        return self.external_id


class InboundWebhook(models.Model):
    """A `webhook-id` the inbound CRM webhook accepted: a second request with the same id is a
    replay and is refused (409), whatever its signature."""

    webhook_id = models.CharField(_("webhook id"), max_length=200, unique=True)
    event_type = models.CharField(_("event type"), max_length=200)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound CRM webhook")
        verbose_name_plural = _("inbound CRM webhooks")

    def __str__(self) -> str:
        return self.webhook_id
