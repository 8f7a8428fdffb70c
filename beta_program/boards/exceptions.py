from __future__ import annotations

from portal.exceptions import PortalError


class BoardError(PortalError):
    """Refused action on a board or idea: the message says why and what to do instead."""

    code = "boards_refused"
    status = 400


class IdeaRefused(BoardError):
    """A field of an idea, vote or comment is not acceptable (the field is named)."""

    code = "validation_error"
    status = 422


class VotingClosed(BoardError):
    """The idea was merged into another or its status is final: no new votes."""

    code = "voting_closed"
    status = 409


class TransitionRefused(BoardError):
    code = "transition_refused"
    status = 409
