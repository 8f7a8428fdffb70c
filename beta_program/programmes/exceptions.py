from __future__ import annotations

from portal.exceptions import PortalError


class BetaError(PortalError):
    """Refused beta-programme action: the message says why and what to do instead."""

    code = "beta_refused"
    status = 400


class NotEligible(BetaError):
    code = "not_eligible"
    status = 403


class ApplicationRefused(BetaError):
    """The application cannot be made now (not recruiting, already applied, a bad answer)."""

    code = "application_refused"
    status = 409


class InvalidAnswer(BetaError):
    code = "validation_error"
    status = 422


class TransitionRefused(BetaError):
    code = "transition_refused"
    status = 409


class CapacityFull(BetaError):
    code = "capacity_full"
    status = 409
