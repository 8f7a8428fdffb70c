"""Domain errors. Each carries a machine code and, where one field is at fault, its name."""

from __future__ import annotations


class PortalError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class PermissionDeniedError(PortalError):
    code = "permission_denied"
    status = 403


class InvitationError(PortalError):
    code = "invitation_invalid"
    status = 400


class MembershipError(PortalError):
    code = "membership_invalid"
    status = 400


class TokenError(PortalError):
    code = "token_invalid"
    status = 400


class ErasureError(PortalError):
    """Erasure refused for now (e.g. the person is an organisation's last admin)."""

    code = "erasure_refused"
    status = 409


class RateLimitedError(PortalError):
    """Too many attempts from one client or at one credential; `retry_after` in seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int = 60, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
