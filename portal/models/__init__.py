from .audit import AuditEvent
from .crm import (
    ConnectorKind,
    CrmContact,
    CrmEndpoint,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    InboundWebhook,
)
from .events import OutboxEvent
from .health import AccountHealth
from .idempotency import IdempotencyRecord
from .notifications import Notification
from .organisations import Invitation, Membership, Organisation, Role, Site, Tier
from .tokens import ApiToken
from .users import User

__all__ = [
    "AccountHealth",
    "ApiToken",
    "AuditEvent",
    "ConnectorKind",
    "CrmContact",
    "CrmEndpoint",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryState",
    "IdempotencyRecord",
    "InboundWebhook",
    "Invitation",
    "Membership",
    "Notification",
    "Organisation",
    "OutboxEvent",
    "Role",
    "Site",
    "Tier",
    "User",
]
