"""Domain errors of the points wing: the ledger, policies, redemptions and idempotency keys."""

from __future__ import annotations

from portal.exceptions import PortalError


class PointsError(PortalError):
    code = "points_error"
    status = 422


class InsufficientPoints(PointsError):  # noqa: N818 - the domain's name for the refusal
    """A hold larger than the available balance (or any hold while it is negative)."""

    code = "insufficient_points"
    # Set by the ledger when it refuses: the balance that was available (may be negative).
    available: int


class IdempotencyConflict(PointsError):  # noqa: N818
    """The idempotency key was already used for a different request."""

    code = "idempotency_conflict"


class PolicyError(PointsError):
    code = "policy_error"


class RedemptionError(PointsError):
    code = "redemption_error"


class RetryWithSavepoint(Exception):  # noqa: N818 - a signal to the caller, not an error
    """A request written straight into its caller's transaction was refused or met its key in
    the ledger, and that transaction can now only be rolled back: the caller rolls it back and
    asks again the usual way (`carbon.points.actions.request_redemption`)."""
