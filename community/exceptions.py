from __future__ import annotations

from portal.exceptions import PortalError


class CommunityError(PortalError):
    """Refused community action: the message says what to do instead."""

    code = "community_refused"
    status = 400


class NotVisible(CommunityError):
    """The space, topic or post does not exist for this person (pages answer 404)."""

    code = "not_found"
    status = 404


class PostingRefused(CommunityError):
    code = "posting_refused"
    status = 403


class RateLimited(CommunityError):
    code = "rate_limited"
    status = 429
