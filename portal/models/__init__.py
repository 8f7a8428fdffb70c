from .audit import AuditEvent
from .events import OutboxEvent
from .health import AccountHealth
from .organisations import Invitation, Membership, Organisation, Role, Site, Tier
from .tokens import ApiToken
from .users import User

__all__ = [
    "AccountHealth",
    "ApiToken",
    "AuditEvent",
    "Invitation",
    "Membership",
    "Organisation",
    "OutboxEvent",
    "Role",
    "Site",
    "Tier",
    "User",
]
