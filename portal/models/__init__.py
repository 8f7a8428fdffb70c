from .audit import AuditEvent
from .crm import ConnectorKind, CrmEndpoint, Delivery, DeliveryAttempt, DeliveryState
from .events import OutboxEvent
from .health import AccountHealth
from .idempotency import IdempotencyRecord
from .organisations import Invitation, Membership, Organisation, Role, Site, Tier
from .tokens import ApiToken
from .users import User

__all__ = [
    "AccountHealth",
    "ApiToken",
    "AuditEvent",
    "ConnectorKind",
    "CrmEndpoint",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryState",
    "IdempotencyRecord",
    "Invitation",
    "Membership",
    "Organisation",
    "OutboxEvent",
    "Role",
    "Site",
    "Tier",
    "User",
]
